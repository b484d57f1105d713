/**
 * Prepares a ledger for load over the public API: users, accounts (waited for, so their IBAN and
 * token are known) and an opening deposit on each by a staff user at a branch.
 */
import type { IdGenerator } from "../../platform/clock.ts";
import type { JsonClient } from "./http.ts";

export interface LoadUser {
  readonly username: string;
  readonly accessToken: string;
}

export interface LoadAccount {
  readonly id: string;
  readonly iban: string;
  /** The account's secret token (Open Bank Mark's), returned once at creation. */
  readonly token: string;
  readonly owner: LoadUser;
}

export class LoadSetupError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "LoadSetupError";
  }
}

const waitHeader = { prefer: "wait=10" };

/** Runs `work` over `items` with at most `concurrency` at once; the first failure rejects. */
export async function forEachConcurrently<T>(
  items: readonly T[],
  concurrency: number,
  work: (item: T, index: number) => Promise<void>,
): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, items.length) }, async () => {
      while (next < items.length) {
        const index = next++;
        await work(items[index] as T, index);
      }
    }),
  );
}

function describe(answer: { status: number; body: unknown }): string {
  return `${answer.status} ${JSON.stringify(answer.body).slice(0, 300)}`;
}

export async function signIn(client: JsonClient, username: string, password: string): Promise<string> {
  const answer = await client.request("POST", "/v1/auth/login", { username, password });
  const token = (answer.body as { accessToken?: unknown } | undefined)?.accessToken;
  if (answer.status !== 200 || typeof token !== "string") {
    throw new LoadSetupError(`cannot sign in as ${username}: ${describe(answer)}`);
  }
  return token;
}

/** Registers `count` fresh customers named after `runId` and signs each in. */
export async function registerUsers(
  client: JsonClient,
  runId: string,
  count: number,
  password: string,
): Promise<LoadUser[]> {
  const users: LoadUser[] = [];
  for (let i = 0; i < count; i += 1) {
    const username = `load-${runId}-${i}`;
    const answer = await client.request("POST", "/v1/auth/register", { username, password });
    if (answer.status !== 201) throw new LoadSetupError(`cannot register ${username}: ${describe(answer)}`);
    users.push({ username, accessToken: await signIn(client, username, password) });
  }
  return users;
}

/** Opens `count` EUR accounts spread round-robin over `users`, waiting for each confirmation. */
export async function createAccounts(
  client: JsonClient,
  ids: IdGenerator,
  users: readonly LoadUser[],
  count: number,
  concurrency: number,
  onProgress: (done: number) => void = () => {},
): Promise<LoadAccount[]> {
  const accounts: LoadAccount[] = [];
  const slots = Array.from({ length: count }, (_, i) => users[i % users.length] as LoadUser);
  await forEachConcurrently(slots, concurrency, async (owner) => {
    const id = ids.uuid();
    const answer = await client.request(
      "POST",
      "/v1/accounts",
      { id, asset: "EUR" },
      { authorization: `Bearer ${owner.accessToken}`, ...waitHeader },
    );
    const body = answer.body as { iban?: unknown; token?: unknown } | undefined;
    if (answer.status !== 201 || typeof body?.iban !== "string" || typeof body.token !== "string") {
      throw new LoadSetupError(`cannot open an account: ${describe(answer)}`);
    }
    accounts.push({ id, iban: body.iban, token: body.token, owner });
    onProgress(accounts.length);
  });
  return accounts;
}

/** Deposits `amount` minor units into each account as cash at a branch (needs a teller or admin). */
export async function fundAccounts(
  client: JsonClient,
  ids: IdGenerator,
  staffAccessToken: string,
  accounts: readonly LoadAccount[],
  amount: bigint,
  concurrency: number,
  onProgress: (done: number) => void = () => {},
): Promise<void> {
  let done = 0;
  await forEachConcurrently(accounts, concurrency, async (account) => {
    const answer = await client.request(
      "POST",
      "/v1/operations",
      {
        id: ids.uuid(),
        type: "deposit",
        iban: account.iban,
        amount: amount.toString(),
        branch: "load-generator",
      },
      { authorization: `Bearer ${staffAccessToken}`, ...waitHeader },
    );
    if (answer.status !== 201) throw new LoadSetupError(`cannot fund ${account.iban}: ${describe(answer)}`);
    onProgress(++done);
  });
}
