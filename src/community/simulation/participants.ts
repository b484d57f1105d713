/**
 * The simulation's users, over the public HTTP API only: `<prefix>-officer-<i>` and
 * `<prefix>-citizen-<i>`, found by the admin's user search or registered, given their role by the
 * admin (PUT /v1/admin/users/{id}/roles/{role}) and signed in. A second run reuses them, so only new
 * users count against the platform's registrations-per-client limit
 * (LEDGERFLOW_REGISTRATIONS_PER_CLIENT_MAX, 10 per hour by default).
 */
import { createHmac } from "node:crypto";
import type { HttpAnswer, JsonClient } from "../../tools/load/http.ts";
import { forEachConcurrently, LoadSetupError } from "../../tools/load/setup.ts";

export type SimRole = "officer" | "citizen";

export interface SimUser {
  readonly username: string;
  readonly role: SimRole;
  readonly id: string;
  accessToken: string;
}

interface Listed {
  readonly id: string;
  readonly username: string;
  readonly roles: readonly string[];
}

const setupConcurrency = 4;
/** How often a 503 busy (the password hashing queue is full) is retried before giving up. */
const busyRetriesMax = 50;

/**
 * The simulated users' password: derived from the admin password and the prefix, so a later run
 * can sign them in again without storing a secret of its own.
 */
export function simulationPassword(adminPassword: string, prefix: string): string {
  return createHmac("sha256", adminPassword)
    .update(`ledgerflow community simulate ${prefix}`)
    .digest("base64url");
}

function describe(answer: HttpAnswer): string {
  return `${answer.status} ${JSON.stringify(answer.body).slice(0, 300)}`;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A request that waits and retries while the server answers 503 busy (argon2 queue full). */
async function patiently(send: () => Promise<HttpAnswer>): Promise<HttpAnswer> {
  for (let attempt = 0; ; attempt++) {
    const answer = await send();
    if (answer.status !== 503 || attempt >= busyRetriesMax) return answer;
    await sleep(250 + attempt * 50);
  }
}

export async function signInAs(client: JsonClient, username: string, password: string): Promise<string> {
  const answer = await patiently(() => client.request("POST", "/v1/auth/login", { username, password }));
  const token = (answer.body as { accessToken?: unknown } | undefined)?.accessToken;
  if (answer.status !== 200 || typeof token !== "string")
    throw new LoadSetupError(`cannot sign in as ${username}: ${describe(answer)}`);
  return token;
}

/** Every user whose username starts with `prefix-`, by username (the admin's search, paged). */
async function existingUsers(client: JsonClient, adminToken: string, prefix: string) {
  const found = new Map<string, Listed>();
  let cursor: string | null = null;
  do {
    const query = `search=${encodeURIComponent(`${prefix}-`)}&limit=200${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`;
    const answer = await client.request("GET", `/v1/admin/users?${query}`, undefined, {
      authorization: `Bearer ${adminToken}`,
    });
    if (answer.status !== 200) throw new LoadSetupError(`cannot list users: ${describe(answer)}`);
    const page = answer.body as { items: Listed[]; nextCursor: string | null };
    for (const user of page.items) found.set(user.username, user);
    cursor = page.nextCursor;
  } while (cursor);
  return found;
}

async function register(client: JsonClient, username: string, password: string): Promise<string> {
  const answer = await patiently(() => client.request("POST", "/v1/auth/register", { username, password }));
  if (answer.status === 429)
    throw new LoadSetupError(
      `registration of ${username} refused (429 rate_limited): the platform allows few registrations per client; raise LEDGERFLOW_REGISTRATIONS_PER_CLIENT_MAX on it for the simulation, or simulate fewer new users (existing ones are reused)`,
    );
  const id = (answer.body as { id?: unknown } | undefined)?.id;
  if (answer.status !== 201 || typeof id !== "string")
    throw new LoadSetupError(`cannot register ${username}: ${describe(answer)}`);
  return id;
}

async function grantRole(client: JsonClient, adminToken: string, id: string, role: SimRole) {
  const answer = await client.request("PUT", `/v1/admin/users/${id}/roles/${role}`, undefined, {
    authorization: `Bearer ${adminToken}`,
  });
  if (answer.status !== 200 && answer.status !== 204)
    throw new LoadSetupError(`cannot grant ${role} to ${id}: ${describe(answer)}`);
}

export interface ParticipantsPlan {
  readonly prefix: string;
  readonly officers: number;
  readonly citizens: number;
  readonly password: string;
  readonly adminToken: string;
}

/** The run's users, registered or reused, each with its role and a fresh access token. */
export async function prepareParticipants(
  client: JsonClient,
  plan: ParticipantsPlan,
  onProgress: (text: string) => void,
): Promise<{ users: SimUser[]; registered: number }> {
  const existing = await existingUsers(client, plan.adminToken, plan.prefix);
  const wanted = [
    ...Array.from({ length: plan.officers }, (_, i) => ({ role: "officer" as const, i })),
    ...Array.from({ length: plan.citizens }, (_, i) => ({ role: "citizen" as const, i })),
  ].map(({ role, i }) => ({ role, username: `${plan.prefix}-${role}-${i + 1}` }));
  const users: SimUser[] = new Array(wanted.length);
  let registered = 0;
  let ready = 0;
  await forEachConcurrently(wanted, setupConcurrency, async ({ role, username }, index) => {
    const known = existing.get(username);
    const id = known?.id ?? (await register(client, username, plan.password));
    if (!known) registered++;
    if (!known?.roles.includes(role)) await grantRole(client, plan.adminToken, id, role);
    // Signed in after the grant: the token carries the role.
    const accessToken = await signInAs(client, username, plan.password);
    users[index] = { username, role, id, accessToken };
    if (++ready % 10 === 0 || ready === wanted.length)
      onProgress(`users ready ${ready}/${wanted.length} (${registered} registered)`);
  });
  return { users, registered };
}
