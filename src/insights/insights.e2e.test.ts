/**
 * Client insights end to end: transfers and cash operations over REST reach the interactions and
 * branches projections (exact totals), redelivered records change nothing, a rebuild from the log
 * gives the same read models and the live projection carries on after the swap; access (a customer
 * sees only themselves, staff anyone) and bad cursors.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { randomUUID } from "node:crypto";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { promisify } from "node:util";
import { apiClient, startTestPlatform, type TestPlatform, testAdmin } from "../../test/support/platform.ts";
import { applyBatch } from "./projection-store.ts";
import { movementReader } from "./projections.ts";

type As = ReturnType<ReturnType<typeof apiClient>["as"]>;

let tp: TestPlatform;
let api: ReturnType<typeof apiClient>;
const users: Record<string, { as: As; id: string; iban: string }> = {};
let admin: As;

/** A signed-up user of the suite. */
function u(name: string) {
  const user = users[name];
  if (!user) throw new Error(`no user ${name}`);
  return user;
}

const subjectOf = (jwt: string) =>
  JSON.parse(Buffer.from(jwt.split(".")[1] ?? "", "base64url").toString()).sub as string;

async function caughtUp(): Promise<void> {
  for (let attempt = 0; attempt < 200; attempt++) {
    const lag = await tp.platform.insights.lag();
    if (lag.interactions === 0n && lag.branches === 0n) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error("projections did not catch up");
}

async function snapshot(): Promise<unknown[]> {
  const tables = [
    "insights_interactions ORDER BY client_id, counterparty_id, asset",
    "insights_transactions ORDER BY client_id, command_id, iban",
    "insights_client_branches ORDER BY client_id, branch_id",
    "insights_branch_volumes ORDER BY branch_id, asset",
    "insights_operations ORDER BY client_id, command_id",
    "insights_branches ORDER BY key",
  ];
  const rows = [];
  for (const table of tables) rows.push((await tp.platform.pool.query(`SELECT * FROM ${table}`)).rows);
  return rows;
}

const operation = (type: string, iban: string, amount: string, branch: string) =>
  admin.post("/v1/operations", { id: randomUUID(), type, iban, amount, branch });
const transfer = (from: string, to: string, amount: string) =>
  u(from).as.post("/v1/transfers", {
    id: randomUUID(),
    from: u(from).iban,
    to: u(to).iban,
    amount,
    asset: "EUR",
  });

before(async () => {
  tp = await startTestPlatform();
  api = apiClient(tp.url);
  admin = api.as(await api.signIn(testAdmin.username, testAdmin.password));
  for (const name of ["alice", "bob", "carol", "tina"]) {
    const jwt = await api.signUp(name);
    const as = api.as(jwt);
    const opened = await as.post("/v1/accounts", { id: randomUUID(), asset: "EUR" });
    assert.equal(opened.status, 201);
    users[name] = { as, id: subjectOf(jwt), iban: opened.body.iban as string };
  }
  const grant = await admin.call("PUT", `/v1/admin/users/${u("tina").id}/roles/teller`);
  assert.ok(grant.status < 300, JSON.stringify(grant.body));
  // Roles are in the access token: sign in again.
  u("tina").as = api.as(await api.signIn("tina", "correct horse battery staple"));
  assert.equal((await operation("deposit", u("alice").iban ?? "", "10000", "Utrecht")).status, 201);
  assert.equal((await operation("deposit", u("bob").iban ?? "", "5000", "UTRECHT")).status, 201);
  assert.equal((await operation("withdrawal", u("alice").iban ?? "", "1000", "Amsterdam Zuid")).status, 201);
  for (const [from, to, amount] of [
    ["alice", "bob", "2550"],
    ["alice", "bob", "450"],
    ["bob", "alice", "100"],
    ["alice", "carol", "1"],
  ] as const)
    assert.equal((await transfer(from, to, amount)).status, 201);
  await caughtUp();
});

after(async () => {
  await tp?.stop();
});

describe("read models", () => {
  test("interactions: per counterparty, count and exact totals each way", async () => {
    const alice = u("alice");
    const page = await alice.as.get(`/v1/clients/${alice.id}/interactions`);
    assert.equal(page.status, 200, JSON.stringify(page.body));
    const items = page.body.items as Record<string, unknown>[];
    assert.deepEqual(
      items.map((i) => [i.counterpartyUsername, i.count, i.totals, i.counterpartyIban]),
      [
        [
          "carol",
          1,
          [{ asset: "EUR", sentCount: 1, sent: "1", receivedCount: 0, received: "0" }],
          u("carol").iban,
        ],
        [
          "bob",
          3,
          [{ asset: "EUR", sentCount: 2, sent: "3000", receivedCount: 1, received: "100" }],
          u("bob").iban,
        ],
      ],
    );
  });

  test("branches: one branch per name in any case, registered as first typed, volumes exact", async () => {
    const alice = u("alice");
    const mine = await alice.as.get(`/v1/clients/${alice.id}/branches`);
    assert.deepEqual(
      (mine.body.items as Record<string, unknown>[]).map((b) => [b.name, b.deposits, b.withdrawals]),
      [
        ["Amsterdam Zuid", 0, 1],
        ["Utrecht", 1, 0],
      ],
    );
    const list = await admin.get("/v1/branches");
    assert.equal(list.status, 200);
    const utrecht = (list.body.items as Record<string, unknown>[]).find((b) => b.name === "Utrecht");
    assert.deepEqual(utrecht?.volumes, [
      { asset: "EUR", deposits: 2, withdrawals: 0, deposited: "15000", withdrawn: "0" },
    ]);
    assert.equal(utrecht?.clientsCount, 2);
    assert.equal((list.body.items as unknown[]).length, 2);
  });

  test("the overview has profile, accounts and each kind; operations and transactions page by cursor", async () => {
    const alice = u("alice");
    const all = await alice.as.get(`/v1/clients/${alice.id}?limit=2`);
    assert.equal(all.status, 200, JSON.stringify(all.body));
    assert.equal(all.body.client.username, "alice");
    assert.equal(all.body.accounts[0].iban, alice.iban);
    assert.equal(all.body.accounts[0].balance, String(10000 - 1000 - 2550 - 450 + 100 - 1));
    assert.deepEqual(
      (all.body.operations.items as Record<string, unknown>[]).map((o) => [o.type, o.amount, o.branch]),
      [
        ["withdrawal", "1000", "Amsterdam Zuid"],
        ["deposit", "10000", "Utrecht"],
      ],
    );
    const first = all.body.transactions;
    assert.equal(first.items.length, 2);
    const rest = await alice.as.get(
      `/v1/clients/${alice.id}/transactions?limit=2&cursor=${first.nextCursor}`,
    );
    assert.equal(rest.status, 200, JSON.stringify(rest.body));
    assert.equal(rest.body.nextCursor, null);
    const amounts = [...first.items, ...rest.body.items].map((t: Record<string, unknown>) => t.amount);
    assert.deepEqual(amounts, ["-1", "100", "-450", "-2550"]);
  });
});

describe("access", () => {
  test("a customer fetches only themselves: another client and an unknown id are the same 404", async () => {
    const alice = u("alice");
    for (const path of ["", "/interactions", "/transactions", "/operations", "/branches"]) {
      const other = await alice.as.get(`/v1/clients/${u("bob").id}${path}`);
      const unknown = await alice.as.get(`/v1/clients/${randomUUID()}${path}`);
      assert.equal(other.status, 404, path);
      assert.deepEqual(other.body, unknown.body, path);
    }
    assert.equal((await alice.as.get("/v1/branches")).status, 403);
    assert.equal((await api.call("GET", `/v1/clients/${alice.id}`)).status, 401);
  });

  test("a teller and an admin fetch anyone, by id or username; unknown is 404", async () => {
    const tina = u("tina");
    const bob = await tina.as.get(`/v1/clients/${u("bob").id}/interactions`);
    assert.equal(bob.status, 200, JSON.stringify(bob.body));
    assert.equal(bob.body.items.length, 1);
    const byName = await admin.get("/v1/clients/carol");
    assert.equal(byName.status, 200);
    assert.equal(byName.body.client.id, u("carol").id);
    assert.equal((await admin.get(`/v1/clients/${randomUUID()}`)).status, 404);
  });

  test("admins set a branch's address and zip code; a teller may read but not change it", async () => {
    const list = await admin.get("/v1/branches");
    const id = (list.body.items as { id: string; name: string }[]).find((b) => b.name === "Utrecht")?.id;
    const change = { address: "Oudegracht 1, Utrecht", zipCode: "3511 AB" };
    assert.equal((await u("tina").as.call("PATCH", `/v1/branches/${id}`, change)).status, 403);
    const patched = await admin.call("PATCH", `/v1/branches/${id}`, change);
    assert.equal(patched.status, 200, JSON.stringify(patched.body));
    const read = await u("tina").as.get(`/v1/branches/${id}`);
    assert.equal(read.body.address, "Oudegracht 1, Utrecht");
    assert.equal(read.body.zipCode, "3511 AB");
    assert.equal(read.body.clients.length, 2);
    assert.equal((await admin.call("PATCH", `/v1/branches/${randomUUID()}`, change)).status, 404);
    const bad = await admin.call("PATCH", `/v1/branches/${id}`, { zipCode: "!" });
    assert.equal(bad.status, 400);
    assert.equal(bad.body.field, "zipCode");
  });

  test("malformed cursors and limits are 400 naming the field", async () => {
    const alice = u("alice");
    for (const [path, field] of [
      ["/transactions?cursor=abc", "cursor"],
      ["/operations?cursor=1_2", "cursor"],
      ["/interactions?cursor=_", "cursor"],
      ["/branches?cursor=12_not-a-uuid", "cursor"],
      ["/transactions?limit=0", "limit"],
    ]) {
      const response = await alice.as.get(`/v1/clients/${alice.id}${path}`);
      assert.equal(response.status, 400, path);
      assert.equal(response.body.field, field, path);
    }
  });
});

test("each projection's lag is a Prometheus gauge on /metrics (0 once caught up)", async () => {
  await caughtUp();
  const metrics = await admin.get("/metrics");
  assert.equal(metrics.status, 200);
  const text = String(metrics.body);
  assert.match(text, /^ledgerflow_projection_lag_records\{projection="interactions"\} 0$/m);
  assert.match(text, /^ledgerflow_projection_lag_records\{projection="branches"\} 0$/m);
});

describe("GraphQL client(id)", () => {
  const query = `query ($id: ID!, $after: String) {
    client(id: $id) {
      username accounts { iban }
      transactions(first: 2, after: $after) { items { amount counterpartyClientId } nextCursor }
      operations { items { type branch amount } }
      interactions { items { counterpartyUsername count totals { asset sent received } } }
      branches { items { name deposits withdrawals } }
    }
  }`;
  const gql = (as: As, variables: Record<string, unknown>) =>
    as.post("/graphql", { query, variables }, false);

  test("the same fields and cursors as REST", async () => {
    const alice = u("alice");
    const first = await gql(alice.as, { id: alice.id });
    assert.equal(first.status, 200, JSON.stringify(first.body));
    const client = first.body.data.client;
    assert.equal(client.username, "alice");
    assert.deepEqual(client.interactions.items[1], {
      counterpartyUsername: "bob",
      count: 3,
      totals: [{ asset: "EUR", sent: "3000", received: "100" }],
    });
    assert.deepEqual(
      client.branches.items.map((b: Record<string, unknown>) => b.name),
      ["Amsterdam Zuid", "Utrecht"],
    );
    const rest = await alice.as.get(`/v1/clients/${alice.id}/transactions?limit=2`);
    assert.equal(client.transactions.nextCursor, rest.body.nextCursor);
    const second = await gql(alice.as, { id: alice.id, after: client.transactions.nextCursor });
    assert.equal(second.body.data.client.transactions.items.length, 2);
  });

  test("another customer is not_found; a bad cursor is validation_failed on after; staff see anyone", async () => {
    const other = await gql(u("alice").as, { id: u("bob").id });
    assert.equal(other.body.errors[0].extensions.code, "not_found");
    assert.equal(other.body.data.client, null);
    const bad = await gql(u("alice").as, { id: u("alice").id, after: "nope" });
    assert.equal(bad.body.errors[0].extensions.code, "validation_failed");
    assert.equal(bad.body.errors[0].extensions.field, "after");
    const staff = await gql(u("tina").as, { id: "bob" });
    assert.equal(staff.body.data.client.username, "bob");
  });
});

describe("exactly once and rebuild", () => {
  test("redelivered records change nothing", async () => {
    const before = await snapshot();
    const { log, ledger, pool } = tp.platform;
    const topic = ledger.codecs.outcomes.topic;
    const read = movementReader(ledger);
    const ends = await log.admin().endOffsets(topic);
    for (const [partition, end] of ends.entries()) {
      const records = await log.read(topic, partition, 0n, Number(end));
      for (const projection of ["interactions", "branches"] as const)
        assert.equal(await applyBatch(pool, { projection, rebuild: false }, await read(records)), 0);
    }
    assert.deepEqual(await snapshot(), before);
  });

  test("a rebuild from the log gives the same read models, and the live projection carries on", async () => {
    const before = await snapshot();
    await tp.platform.insights.rebuild("interactions");
    await tp.platform.insights.rebuild("branches");
    assert.deepEqual(await snapshot(), before);
    assert.equal((await transfer("carol", "alice", "1")).status, 201);
    await caughtUp();
    const alice = u("alice");
    const page = await alice.as.get(`/v1/clients/${alice.id}/interactions`);
    assert.deepEqual(page.body.items[0].totals, [
      { asset: "EUR", sentCount: 1, sent: "1", receivedCount: 1, received: "1" },
    ]);
  });

  test("`ledgerflow projections rebuild` rebuilds while the platform runs; `lag` says 0; usage errors exit 2", async () => {
    const before = await snapshot();
    const cli = (...args: string[]) =>
      promisify(execFile)(
        process.execPath,
        [join(import.meta.dirname, "..", "..", "bin", "ledgerflow.js"), ...args],
        {
          env: {
            ...process.env,
            LEDGERFLOW_DATA_DIR: tp.platform.config.dataDir,
            LEDGERFLOW_EMBEDDED_PG_PORT: String(tp.platform.config.database.embeddedPort),
            NO_COLOR: "1",
          },
        },
      );
    const rebuilt = await cli("projections", "rebuild", "--projection", "interactions");
    assert.match(rebuilt.stdout, /^interactions: rebuilt from \d+ records in [\d.]+ s and swapped in$/m);
    assert.match(rebuilt.stderr, /interactions: [\d,]+ \/ [\d,]+ records \(100\.0%\)/);
    assert.deepEqual(await snapshot(), before);
    const lag = await cli("projections", "lag", "--json");
    assert.deepEqual(JSON.parse(lag.stdout), { interactions: "0", branches: "0" });
    await assert.rejects(
      cli("projections", "rebuild", "--projection", "accounts"),
      (error: { code: number; stderr: string }) => {
        assert.equal(error.code, 2);
        assert.match(error.stderr, /--projection must be one of interactions, branches/);
        return true;
      },
    );
  });
});
