/**
 * The authorization matrix: every route the API documents × every caller kind (anonymous, customer,
 * teller, compliance, auditor, admin). Each route declares who may call it beside its handler
 * (`config.access`, src/platform/http/access.ts), published in the OpenAPI document as
 * `x-ledgerflow-access`; this test checks the declaration is what the server does, and fails on a
 * route that declares nothing unless it is listed in authorization-matrix.known.txt (routes written
 * before the matrix; the list may only shrink). Ownership (`owner: true`) is checked per route by the
 * route's own tests (e.g. another user's session: 404), since what "own" means is the context's.
 */
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { apiClient, startTestPlatform, type TestPlatform, testAdmin } from "../../test/support/platform.ts";
import type { RouteAccess } from "../platform/http/access.ts";

const callers = ["anonymous", "customer", "teller", "compliance", "auditor", "admin"] as const;
type Caller = (typeof callers)[number];
const knownFile = join(import.meta.dirname, "authorization-matrix.known.txt");
/** A placeholder for every path parameter: well formed, names nothing that exists. */
const placeholders: Record<string, string> = {
  role: "auditor",
  topic: "ledger.commands",
  partition: "0",
  offset: "0",
};
const placeholderId = "00000000-0000-4000-8000-000000000000";

let running: TestPlatform;
const tokens = new Map<Caller, string>();

before(async () => {
  running = await startTestPlatform();
  const api = apiClient(running.url);
  const admin = await api.signIn(testAdmin.username, testAdmin.password);
  tokens.set("admin", admin);
  tokens.set("customer", await api.signUp("matrix-customer"));
  for (const role of ["teller", "compliance", "auditor"] as const) {
    const username = `matrix-${role}`;
    await api.signUp(username);
    const user = await api.as(admin).get(`/v1/admin/users?search=${username}`);
    const id = user.body.items[0].id as string;
    assert.equal((await api.as(admin).call("PUT", `/v1/admin/users/${id}/roles/${role}`)).status, 200);
    assert.equal((await api.as(admin).call("DELETE", `/v1/admin/users/${id}/roles/customer`)).status, 200);
    tokens.set(role, await api.signIn(username, "correct horse battery staple"));
  }
});
after(() => running?.stop());

interface Operation {
  readonly method: string;
  readonly path: string;
  readonly access: RouteAccess | undefined;
}

async function operations(): Promise<Operation[]> {
  const document = (await (await fetch(`${running.url}/openapi.json`)).json()) as {
    paths: Record<string, Record<string, { "x-ledgerflow-access"?: RouteAccess }>>;
  };
  const found: Operation[] = [];
  for (const [path, methods] of Object.entries(document.paths))
    for (const [method, operation] of Object.entries(methods))
      found.push({ method: method.toUpperCase(), path, access: operation["x-ledgerflow-access"] });
  // Signing out ends the caller's session: last, so every other call still has a live token.
  return found.sort((a, b) => Number(a.path === "/v1/auth/logout") - Number(b.path === "/v1/auth/logout"));
}

function allowed(access: RouteAccess, caller: Caller): boolean {
  if (access.anonymous) return true;
  if (caller === "anonymous" || access.roles === undefined) return false;
  return access.roles === "any" || access.roles.includes(caller);
}

test("every documented route declares who may call it (or is a known, older exception)", async () => {
  const known = readFileSync(knownFile, "utf8")
    .split("\n")
    .map((line) => line.trim())
    .filter((line) => line && !line.startsWith("#"));
  const ops = await operations();
  const undeclared = ops.filter((op) => op.access === undefined).map((op) => `${op.method} ${op.path}`);
  const newlyUndeclared = undeclared.filter((route) => !known.includes(route));
  assert.deepEqual(newlyUndeclared, [], "declare config.access on these routes");
  const stale = known.filter((route) => !undeclared.includes(route));
  assert.deepEqual(stale, [], `remove these from ${knownFile}: they declare their access now (or are gone)`);
});

test("each declared route × caller: allowed callers get through, others 401/403 (or 400 before auth), never 5xx", async () => {
  const failures: string[] = [];
  for (const op of await operations()) {
    if (op.access === undefined) continue;
    const url = op.path.replace(/\{(\w+)\}/g, (_m, name: string) =>
      encodeURIComponent(placeholders[name] ?? placeholderId),
    );
    for (const caller of callers) {
      const token = tokens.get(caller);
      const response = await fetch(`${running.url}${url}`, {
        method: op.method,
        headers: {
          ...(token ? { authorization: `Bearer ${token}` } : {}),
          ...(op.method === "GET" || op.method === "DELETE" ? {} : { "content-type": "application/json" }),
        },
        ...(op.method === "GET" || op.method === "DELETE" ? {} : { body: "{}" }),
      });
      const text = await response.text();
      const status = response.status;
      // A refusal of the caller, as opposed to e.g. a refresh token that is wrong (also 401).
      const code =
        status === 401 || status === 403 ? (JSON.parse(text) as { code?: string }).code : undefined;
      const refusal = caller === "anonymous" ? "unauthenticated" : "forbidden";
      const ok = allowed(op.access, caller)
        ? code !== "unauthenticated" && code !== "forbidden" && status < 500
        : code === refusal || status === 400;
      if (!ok)
        failures.push(
          `${op.method} ${op.path} as ${caller}: ${status} (access ${JSON.stringify(op.access)})`,
        );
    }
  }
  assert.deepEqual(failures, []);
});

test("staff who change nothing (auditor, compliance) cannot open accounts or move money, even with an account's token; auditors read any account", async () => {
  const api = apiClient(running.url);
  // Fresh sign-ins: the walk above signed every caller out (POST /v1/auth/logout).
  const signIn = (caller: Caller) =>
    caller === "admin"
      ? api.signIn(testAdmin.username, testAdmin.password)
      : api.signIn(`matrix-${caller}`, "correct horse battery staple");
  const customer = api.as(await signIn("customer"));
  const opened = await Promise.all(
    [0, 1].map(() => customer.post("/v1/accounts", { id: randomUUID(), asset: "EUR" })),
  );
  for (const account of opened) assert.equal(account.status, 201, JSON.stringify(account.body));
  const [from, to] = opened.map((account) => account.body as { iban: string; token: string });
  const deposit = await api.as(await signIn("admin")).post("/v1/operations", {
    id: randomUUID(),
    type: "deposit",
    iban: from?.iban,
    amount: "500",
    branch: "matrix",
  });
  assert.equal(deposit.status, 201, JSON.stringify(deposit.body));
  for (const caller of ["auditor", "compliance"] as const) {
    const staff = api.as(await signIn(caller));
    const writes = {
      "POST /v1/accounts": await staff.post("/v1/accounts", { id: randomUUID(), asset: "EUR" }),
      "POST /v1/transfers": await staff.post("/v1/transfers", {
        id: randomUUID(),
        from: from?.iban,
        to: to?.iban,
        amount: "100",
        asset: "EUR",
        token: from?.token,
      }),
      "POST /v1/holds": await staff.post("/v1/holds", {
        id: randomUUID(),
        from: from?.iban,
        to: to?.iban,
        amount: "100",
        asset: "EUR",
        token: from?.token,
        timeoutMs: 60_000,
      }),
      "POST /v1/withdrawals": await staff.post("/v1/withdrawals", {
        id: randomUUID(),
        iban: from?.iban,
        amount: "100",
        asset: "EUR",
      }),
    };
    for (const [route, answer] of Object.entries(writes))
      assert.deepEqual([route, caller, answer.status, answer.body.code], [route, caller, 403, "forbidden"]);
  }
  const balance = await customer.get(`/v1/accounts/${from?.iban}`);
  assert.equal(balance.body.balance, "500", "nothing moved");
  // Auditors read what staff read: any client's account and its postings.
  const auditor = api.as(await signIn("auditor"));
  assert.equal((await auditor.get(`/v1/accounts/${from?.iban}`)).body.balance, "500");
  assert.equal((await auditor.get(`/v1/accounts/${from?.iban}/transactions`)).status, 200);
  assert.equal((await auditor.get(`/v1/commands/${deposit.body.id}`)).body.status, "CONFIRMED");
});
