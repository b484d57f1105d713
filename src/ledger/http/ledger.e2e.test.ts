/**
 * The REST contract of the ledger (issue 2, "Public API") over real HTTP against the whole platform:
 * embedded PostgreSQL, the PostgreSQL log, the handler, the relay and the API.
 */
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { after, before, describe, test } from "node:test";
import {
  apiClient,
  startTestPlatform,
  type TestPlatform,
  testAdmin,
} from "../../../test/support/platform.ts";
import { ibanFor, isValidIban } from "../domain/iban.ts";

let tp: TestPlatform;
let api: ReturnType<typeof apiClient>;
let alice: ReturnType<ReturnType<typeof apiClient>["as"]>;
let bob: ReturnType<ReturnType<typeof apiClient>["as"]>;
let admin: ReturnType<ReturnType<typeof apiClient>["as"]>;
let aliceToken: string;
/** Alice's funded EUR account, her second EUR account, Bob's EUR and USD accounts. */
let aliceEur: { iban: string; token: string };
let aliceEur2: { iban: string; token: string };
let bobEur: { iban: string; token: string };
let bobUsd: { iban: string; token: string };

const unknownIban = ibanFor({ country: "NL", bankCode: "OPEN" }, 9_999_999_999n);
const stackTrace = /\n\s+at |node:internal|\.ts:\d+:\d+|DatabaseError|ZodError/;

/** A POST as Alice with extra headers (the test client's `as` only knows `Prefer: wait=10`). */
const alicePost = (path: string, body: unknown, headers: Record<string, string> = {}) =>
  api.call("POST", path, body, { authorization: `Bearer ${aliceToken}`, ...headers });

/** Every answer must be free of stack traces and internals. */
function assertClean(response: { status: number; body: unknown }): void {
  const text = typeof response.body === "string" ? response.body : JSON.stringify(response.body ?? "");
  assert.doesNotMatch(text, stackTrace, "no stack trace or internals in a response");
}

async function openAccount(as: typeof alice, asset = "EUR") {
  const id = randomUUID();
  const response = await as.post("/v1/accounts", { id, asset });
  assert.equal(response.status, 201, JSON.stringify(response.body));
  return response.body as {
    id: string;
    iban: string;
    token: string;
    asset: string;
    balance: string;
    status: string;
  };
}

async function deposit(iban: string, amount: string) {
  const response = await admin.post("/v1/operations", {
    id: randomUUID(),
    type: "deposit",
    iban,
    amount,
    branch: "amsterdam-centraal",
  });
  assert.equal(response.status, 201, JSON.stringify(response.body));
}

async function balance(as: typeof alice, iban: string): Promise<bigint> {
  const response = await as.get(`/v1/accounts/${iban}`);
  assert.equal(response.status, 200);
  return BigInt(response.body.balance as string);
}

async function endOffsetsTotal(): Promise<bigint> {
  const ends = await tp.platform.log.admin().endOffsets("ledger.commands");
  return ends.reduce((a, b) => a + b, 0n);
}

async function commandsCount(): Promise<number> {
  const { rows } = await tp.platform.pool.query("SELECT count(*)::int AS n FROM ledger_commands");
  return rows[0].n as number;
}

before(async () => {
  tp = await startTestPlatform();
  api = apiClient(tp.url);
  aliceToken = await api.signUp("alice");
  alice = api.as(aliceToken);
  bob = api.as(await api.signUp("bob"));
  admin = api.as(await api.signIn(testAdmin.username, testAdmin.password));
  aliceEur = await openAccount(alice);
  aliceEur2 = await openAccount(alice);
  bobEur = await openAccount(bob);
  bobUsd = await openAccount(bob, "USD");
  await deposit(aliceEur.iban, "100000000");
});

after(async () => {
  await tp?.stop();
});

describe("identity", () => {
  test("register answers 201 with the user; login 200 with a bearer token; wrong password 401", async () => {
    const registered = await api.call("POST", "/v1/auth/register", {
      username: "carol",
      password: "correct horse battery staple",
    });
    assert.equal(registered.status, 201);
    assert.equal(registered.body.username, "carol");
    assert.deepEqual(registered.body.roles, ["customer"]);
    const login = await api.call("POST", "/v1/auth/login", {
      username: "carol",
      password: "correct horse battery staple",
    });
    assert.equal(login.status, 200);
    assert.equal(typeof login.body.accessToken, "string");
    assert.ok(Number.isInteger(login.body.expiresIn) && login.body.expiresIn > 0);
    const wrong = await api.call("POST", "/v1/auth/login", {
      username: "carol",
      password: "not the password",
    });
    assert.equal(wrong.status, 401);
    assert.equal(wrong.body.code, "invalid_credentials");
    const taken = await api.call("POST", "/v1/auth/register", {
      username: "carol",
      password: "another password!",
    });
    assert.equal(taken.status, 409);
  });

  test("without a bearer token the ledger answers 401 problem details", async () => {
    const response = await api.call("GET", "/v1/accounts");
    assert.equal(response.status, 401);
    assert.equal(response.body.code, "unauthenticated");
    assert.match(response.headers.get("content-type") ?? "", /application\/problem\+json/);
  });
});

describe("accounts", () => {
  test("POST /v1/accounts without Prefer: 202, then GET /v1/commands/{id} goes PENDING → CONFIRMED", async () => {
    const id = randomUUID();
    const accepted = await alice.post("/v1/accounts", { id, asset: "EUR" }, false);
    assert.equal(accepted.status, 202);
    assert.equal(accepted.body.id, id);
    assert.equal(accepted.body.status, "PENDING");
    const seen: string[] = [];
    for (let i = 0; i < 200; i++) {
      const status = await alice.get(`/v1/commands/${id}`);
      assert.equal(status.status, 200);
      seen.push(status.body.status as string);
      if (status.body.status === "CONFIRMED") {
        assert.ok(isValidIban(status.body.iban as string));
        break;
      }
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    assert.equal(seen.at(-1), "CONFIRMED");
    assert.ok(
      seen.every((s) => s === "PENDING" || s === "CONFIRMED"),
      seen.join(),
    );
    // Someone else's command is not theirs to see.
    assert.equal((await bob.get(`/v1/commands/${id}`)).status, 404);
  });

  test("waited: 201 {id, iban, asset, balance, token, status}; the IBAN is valid mod-97, NLkk OPEN …", async () => {
    const id = randomUUID();
    const created = await alice.post("/v1/accounts", { id, asset: "EUR" });
    assert.equal(created.status, 201);
    const body = created.body;
    assert.equal(body.id, id);
    assert.equal(body.asset, "EUR");
    assert.equal(body.balance, "0");
    assert.equal(body.status, "CONFIRMED");
    assert.equal(typeof body.token, "string");
    assert.ok((body.token as string).length >= 16);
    assert.match(body.iban as string, /^NL[0-9]{2}OPEN[0-9]{10}$/);
    assert.ok(isValidIban(body.iban as string));
    // The same request again: the same account, nothing opened twice; the token was returned once.
    const again = await alice.post("/v1/accounts", { id, asset: "EUR" });
    assert.equal(again.status, 201);
    const { token: _, ...withoutToken } = body;
    assert.deepEqual(again.body, withoutToken);
    // The same id with another asset is a conflict.
    const conflict = await alice.post("/v1/accounts", { id, asset: "USD" });
    assert.equal(conflict.status, 409);
    assert.equal(conflict.body.code, "conflict");
  });

  test("GET /v1/accounts lists only mine; GET /v1/accounts/{iban} of someone else is 404", async () => {
    const mine = await bob.get("/v1/accounts");
    assert.equal(mine.status, 200);
    const ibans = (mine.body.items as { iban: string }[]).map((a) => a.iban);
    assert.ok(ibans.includes(bobEur.iban) && ibans.includes(bobUsd.iban));
    assert.ok(!ibans.includes(aliceEur.iban));
    const own = await bob.get(`/v1/accounts/${bobEur.iban}`);
    assert.equal(own.status, 200);
    assert.equal(own.body.iban, bobEur.iban);
    assert.equal(own.body.asset, "EUR");
    const others = await bob.get(`/v1/accounts/${aliceEur.iban}`);
    const missing = await bob.get(`/v1/accounts/${unknownIban}`);
    assert.equal(others.status, 404);
    assert.equal(missing.status, 404);
    // Not leaked: someone else's account looks exactly like a missing one.
    assert.deepEqual(others.body, missing.body);
    assert.equal((await bob.get(`/v1/accounts/${aliceEur.iban}/transactions`)).status, 404);
    const malformed = await bob.get("/v1/accounts/NL00OPEN0000000001");
    assert.equal(malformed.status, 400);
    assert.equal(malformed.body.field, "iban");
  });

  test("transactions: cursor pagination, pages do not overlap, nextCursor null at the end", async () => {
    const from = await openAccount(alice);
    const to = await openAccount(bob);
    await deposit(from.iban, "1000");
    const count = 12;
    for (let i = 1; i <= count; i++) {
      const response = await alice.post("/v1/transfers", {
        id: randomUUID(),
        from: from.iban,
        to: to.iban,
        amount: String(i),
        asset: "EUR",
        description: `payment ${i}`,
      });
      assert.equal(response.status, 201);
    }
    const items: Record<string, unknown>[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const page = await alice.get(
        `/v1/accounts/${from.iban}/transactions?limit=5${cursor === null ? "" : `&cursor=${cursor}`}`,
      );
      assert.equal(page.status, 200, JSON.stringify(page.body));
      items.push(...(page.body.items as Record<string, unknown>[]));
      cursor = page.body.nextCursor as string | null;
      pages += 1;
    } while (cursor !== null && pages < 10);
    assert.equal(pages, 3);
    assert.equal(items.length, count + 1, "12 payments and the deposit");
    assert.equal(new Set(items.map((i) => i.id)).size, items.length, "pages do not overlap");
    // Newest first: payment 12 … payment 1, then the deposit.
    const newest = items[0] ?? {};
    assert.deepEqual(Object.keys(newest).sort(), [
      "amount",
      "asset",
      "at",
      "balanceAfter",
      "counterparty",
      "description",
      "id",
      "receiptId",
    ]);
    // A single-phase transfer's receipt is its own id (its command completed it).
    assert.equal(newest.receiptId, newest.id);
    assert.equal(newest.amount, "-12");
    assert.equal(newest.counterparty, to.iban);
    assert.equal(newest.description, "payment 12");
    assert.equal(newest.balanceAfter, String(1000 - (count * (count + 1)) / 2));
    assert.ok(!Number.isNaN(Date.parse(newest.at as string)));
    const deposit0 = items.at(-1) ?? {};
    assert.equal(deposit0.amount, "1000");
    assert.equal(deposit0.balanceAfter, "1000");
    // Running balances are consistent down the pages.
    for (let i = 0; i + 1 < items.length; i++) {
      const newer = items[i] ?? {};
      const older = items[i + 1] ?? {};
      assert.equal(
        BigInt(older.balanceAfter as string) + BigInt(newer.amount as string),
        BigInt(newer.balanceAfter as string),
      );
    }
    // The receiving side sees positive amounts.
    const received = await bob.get(`/v1/accounts/${to.iban}/transactions?limit=1`);
    assert.equal(received.body.items[0].amount, "12");
    assert.equal(received.body.items[0].counterparty, from.iban);
  });
});

describe("transfers", () => {
  const transfer = (over: Record<string, unknown> = {}) => ({
    id: randomUUID(),
    from: aliceEur.iban,
    to: bobEur.iban,
    amount: "100",
    asset: "EUR",
    ...over,
  });

  test("without Prefer: 202 {id, status: PENDING}, later CONFIRMED", async () => {
    const body = transfer();
    const accepted = await alice.post("/v1/transfers", body, false);
    assert.equal(accepted.status, 202);
    assert.deepEqual(accepted.body, { id: body.id, status: "PENDING" });
    let status = "PENDING";
    for (let i = 0; i < 200 && status === "PENDING"; i++) {
      await new Promise((resolve) => setTimeout(resolve, 10));
      status = (await alice.get(`/v1/commands/${body.id}`)).body.status as string;
    }
    assert.equal(status, "CONFIRMED");
  });

  test("waited: 201 CONFIRMED and the money moved once", async () => {
    const before = [await balance(alice, aliceEur.iban), await balance(bob, bobEur.iban)];
    const response = await alice.post("/v1/transfers", transfer({ amount: "250" }));
    assert.equal(response.status, 201);
    assert.equal(response.body.status, "CONFIRMED");
    assert.equal(await balance(alice, aliceEur.iban), (before[0] ?? 0n) - 250n);
    assert.equal(await balance(bob, bobEur.iban), (before[1] ?? 0n) + 250n);
  });

  test("rejections are 422 problems with the reason as code and status FAILED", async () => {
    const cases: [string, typeof alice, Record<string, unknown>][] = [
      ["insufficient_funds", bob, transfer({ from: bobEur.iban, to: aliceEur.iban, amount: "999999999999" })],
      ["same_account", alice, transfer({ to: aliceEur.iban })],
      // To anyone but the owner a wrong token looks like a missing account.
      ["unknown_account", bob, transfer({ token: "not-the-token" })],
      ["unknown_account", bob, transfer({ from: unknownIban, token: "not-the-token" })],
      ["invalid_token", alice, transfer({ token: "not-the-token" })],
      ["unknown_account", alice, transfer({ to: unknownIban })],
      ["asset_mismatch", alice, transfer({ to: bobUsd.iban })],
    ];
    const before = await balance(alice, aliceEur.iban);
    for (const [reason, as, body] of cases) {
      const response = await as.post("/v1/transfers", body);
      assert.equal(response.status, 422, `${reason}: ${JSON.stringify(response.body)}`);
      assert.equal(response.body.code, reason);
      assert.equal(response.body.status, "FAILED");
      assert.match(response.headers.get("content-type") ?? "", /application\/problem\+json/);
      assertClean(response);
      const command = await as.get(`/v1/commands/${body.id}`);
      assert.deepEqual([command.body.status, command.body.reason], ["FAILED", reason]);
    }
    assert.equal(await balance(alice, aliceEur.iban), before);
  });

  test("without a token, someone else's account is not found (never moved)", async () => {
    const response = await bob.post("/v1/transfers", transfer());
    assert.equal(response.status, 404);
    assert.equal(response.body.field, "from");
  });

  test("the account token lets a non-owner move money", async () => {
    const before = await balance(alice, aliceEur.iban);
    const response = await bob.post("/v1/transfers", transfer({ amount: "7", token: aliceEur.token }));
    assert.equal(response.status, 201, JSON.stringify(response.body));
    assert.equal(await balance(alice, aliceEur.iban), before - 7n);
  });

  test("same id + same payload → the first outcome, nothing applied twice; other payload → 409", async () => {
    const body = transfer({ amount: "33", description: "once" });
    const first = await alice.post("/v1/transfers", body);
    assert.equal(first.status, 201);
    const afterFirst = await balance(alice, aliceEur.iban);
    const again = await alice.post("/v1/transfers", body);
    const againNoWait = await alice.post("/v1/transfers", body, false);
    assert.equal(again.status, 201);
    assert.deepEqual(again.body, first.body);
    assert.equal(againNoWait.status, 201, "a decided id answers its outcome at once");
    const conflict = await alice.post("/v1/transfers", { ...body, amount: "34" });
    assert.equal(conflict.status, 409);
    assert.equal(conflict.body.code, "conflict");
    await new Promise((resolve) => setTimeout(resolve, 200));
    assert.equal(await balance(alice, aliceEur.iban), afterFirst);
    const failed = transfer({ to: aliceEur.iban });
    const f1 = await alice.post("/v1/transfers", failed);
    const f2 = await alice.post("/v1/transfers", failed);
    assert.deepEqual([f1.status, f2.status], [422, 422]);
    assert.deepEqual(f2.body, f1.body);
  });

  test("concurrent submissions of one id apply once", async () => {
    const body = transfer({ amount: "11" });
    const before = await balance(alice, aliceEur.iban);
    const answers = await Promise.all(Array.from({ length: 10 }, () => alice.post("/v1/transfers", body)));
    assert.ok(
      answers.every((a) => a.status === 201 || a.status === 202),
      answers.map((a) => a.status).join(),
    );
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.equal(await balance(alice, aliceEur.iban), before - 11n);
  });

  test("unicode and SQL-like descriptions are accepted and stored verbatim", async () => {
    const descriptions = [
      "Grüße 🚀 — 日本語 ✓ ﷽",
      "'; DROP TABLE ledger_accounts; --",
      "Robert'); DELETE FROM ledger_entries WHERE '1'='1",
      `<script>alert(1)</script> \\ " %s %n $\{x} \u202e`,
    ];
    for (const description of descriptions) {
      const body = transfer({ amount: "1", description, to: aliceEur2.iban });
      const response = await alice.post("/v1/transfers", body);
      assert.equal(response.status, 201, JSON.stringify(response.body));
      const history = await alice.get(`/v1/accounts/${aliceEur2.iban}/transactions?limit=1`);
      assert.equal(history.body.items[0].description, description);
    }
  });
});

describe("batch transfers", () => {
  test("8,000 transfers in one request, each with its own outcome", async () => {
    const from = await openAccount(alice);
    await deposit(from.iban, "4000");
    const reasons = ["CONFIRMED", "same_account", "unknown_account", "invalid_token", "asset_mismatch"];
    const transfers = Array.from({ length: 8_000 }, (_, i) => {
      const base = { id: randomUUID(), from: from.iban, to: bobEur.iban, amount: "1", asset: "EUR" };
      switch (reasons[i % reasons.length]) {
        case "same_account":
          return { ...base, to: from.iban };
        case "unknown_account":
          return { ...base, to: unknownIban };
        case "invalid_token":
          return { ...base, token: "wrong" };
        case "asset_mismatch":
          return { ...base, to: bobUsd.iban };
        default:
          return base;
      }
    });
    const bobBefore = await balance(bob, bobEur.iban);
    const response = await alicePost("/v1/transfers/batch", { transfers }, { prefer: "wait=30" });
    assert.equal(response.status, 200, JSON.stringify(response.body).slice(0, 500));
    const results = response.body.results as { id: string; status: string; reason?: string }[];
    assert.equal(results.length, 8_000);
    results.forEach((result, i) => {
      assert.equal(result.id, transfers[i]?.id);
      const expected = reasons[i % reasons.length];
      if (expected === "CONFIRMED") assert.equal(result.status, "CONFIRMED", JSON.stringify(result));
      else assert.deepEqual([result.status, result.reason], ["FAILED", expected]);
    });
    // 1,600 successes of 1 each.
    assert.equal(await balance(alice, from.iban), 4000n - 1600n);
    assert.equal(await balance(bob, bobEur.iban), bobBefore + 1600n);
    // Re-sending the batch answers the same outcomes and moves nothing.
    const again = await alicePost("/v1/transfers/batch", { transfers }, { prefer: "wait=30" });
    assert.deepEqual(again.body.results, results);
    assert.equal(await balance(alice, from.iban), 2400n);
  });

  test("without Prefer the batch is accepted with 202 and PENDING results", async () => {
    const transfers = Array.from({ length: 3 }, () => ({
      id: randomUUID(),
      from: aliceEur.iban,
      to: bobEur.iban,
      amount: "1",
      asset: "EUR",
    }));
    const response = await alicePost("/v1/transfers/batch", { transfers }, {});
    assert.equal(response.status, 202);
    assert.deepEqual(
      (response.body.results as { status: string }[]).map((r) => r.status),
      ["PENDING", "PENDING", "PENDING"],
    );
    for (const { id } of transfers) {
      let status = "PENDING";
      for (let i = 0; i < 300 && status === "PENDING"; i++) {
        status = (await alice.get(`/v1/commands/${id}`)).body.status as string;
        if (status === "PENDING") await new Promise((resolve) => setTimeout(resolve, 10));
      }
      assert.equal(status, "CONFIRMED");
    }
  });

  test("one malformed item rejects the whole batch with 400 naming transfers/N/field; nothing written", async () => {
    const offsets = await endOffsetsTotal();
    const decided = await commandsCount();
    const good = () => ({
      id: randomUUID(),
      from: aliceEur.iban,
      to: bobEur.iban,
      amount: "1",
      asset: "EUR",
    });
    const cases: [Record<string, unknown>, string][] = [
      [{ ...good(), amount: "-1" }, "transfers/3/amount"],
      [{ ...good(), to: "NL00OPEN0000000001" }, "transfers/3/to"],
      [{ ...good(), extra: true }, "transfers/3/extra"],
      [{ ...good(), id: "not-a-uuid" }, "transfers/3/id"],
    ];
    for (const [bad, field] of cases) {
      const transfers = [good(), good(), good(), bad, good()];
      const response = await alicePost("/v1/transfers/batch", { transfers }, { prefer: "wait=5" });
      assert.equal(response.status, 400, JSON.stringify(response.body));
      assert.equal(response.body.field, field);
      assertClean(response);
    }
    const tooMany = await alicePost("/v1/transfers/batch", {
      transfers: Array.from({ length: 8_001 }, good),
    });
    assert.equal(tooMany.status, 400);
    assert.equal((await alicePost("/v1/transfers/batch", { transfers: [] })).status, 400);
    assert.equal(await endOffsetsTotal(), offsets, "no command reached the log");
    assert.equal(await commandsCount(), decided);
  });
});

describe("operations and admin views", () => {
  test("deposit and withdrawal by an admin post against the branch's cash account", async () => {
    const account = await openAccount(bob);
    const op = (type: string, amount: string) => ({
      id: randomUUID(),
      type,
      iban: account.iban,
      amount,
      branch: "utrecht",
    });
    const deposited = await admin.post("/v1/operations", op("deposit", "5000"));
    assert.equal(deposited.status, 201, JSON.stringify(deposited.body));
    const withdrawn = await admin.post("/v1/operations", op("withdrawal", "1500"));
    assert.equal(withdrawn.status, 201);
    assert.equal(await balance(bob, account.iban), 3500n);
    const overdrawn = await admin.post("/v1/operations", op("withdrawal", "3501"));
    assert.equal(overdrawn.status, 422);
    assert.equal(overdrawn.body.code, "insufficient_funds");
    const history = await bob.get(`/v1/accounts/${account.iban}/transactions`);
    assert.deepEqual(
      (history.body.items as { amount: string; description: string }[]).map((i) => [i.amount, i.description]),
      [
        ["-1500", "Cash withdrawal at utrecht"],
        ["5000", "Cash deposit at utrecht"],
      ],
    );
  });

  test("a branch is named as the teller types it, and its name in another case is the same branch", async () => {
    const account = await openAccount(bob);
    const op = (type: string, amount: string, branch: string) => ({
      id: randomUUID(),
      ...{ type, iban: account.iban, amount, branch },
    });
    const deposited = await admin.post("/v1/operations", op("deposit", "5000", "Amsterdam Zuid"));
    assert.equal(deposited.status, 201, JSON.stringify(deposited.body));
    const withdrawn = await admin.post("/v1/operations", op("withdrawal", "1500", "AMSTERDAM zuid"));
    assert.equal(withdrawn.status, 201, JSON.stringify(withdrawn.body));
    assert.equal((await admin.post("/v1/operations", op("deposit", "1", "Utrecht"))).status, 201);
    const history = await bob.get(`/v1/accounts/${account.iban}/transactions`);
    const items = history.body.items as { counterparty: string; description: string }[];
    assert.deepEqual(
      items.map((i) => i.description),
      ["Cash deposit at Utrecht", "Cash withdrawal at AMSTERDAM zuid", "Cash deposit at Amsterdam Zuid"],
    );
    // One branch, one cash account: both operations moved money against the same IBAN.
    assert.equal(items[1]?.counterparty, items[2]?.counterparty);
    assert.notEqual(items[0]?.counterparty, items[1]?.counterparty);
  });

  test("a customer may not do cash operations (403) and nothing is written", async () => {
    const offsets = await endOffsetsTotal();
    const response = await alice.post("/v1/operations", {
      id: randomUUID(),
      type: "deposit",
      iban: aliceEur.iban,
      amount: "1000000",
      branch: "utrecht",
    });
    assert.equal(response.status, 403);
    assert.equal(response.body.code, "forbidden");
    assert.equal(await endOffsetsTotal(), offsets);
  });

  test("GET /v1/transactions/latest is for admins only", async () => {
    const latest = await admin.get("/v1/transactions/latest?limit=5");
    assert.equal(latest.status, 200);
    const items = latest.body.items as Record<string, unknown>[];
    assert.equal(items.length, 5);
    for (const key of ["id", "from", "to", "amount", "asset", "at"]) assert.ok(key in (items[0] ?? {}), key);
    assert.equal((await alice.get("/v1/transactions/latest")).status, 403);
    assert.equal((await api.call("GET", "/v1/transactions/latest")).status, 401);
  });
});

describe("bad input", () => {
  const base = (): Record<string, unknown> => ({
    id: randomUUID(),
    from: aliceEur.iban,
    to: bobEur.iban,
    amount: "1",
    asset: "EUR",
  });
  const without = (key: string) => {
    const body: Record<string, unknown> = base();
    delete body[key];
    return body;
  };
  const matrix = (): [string, Record<string, unknown>, string][] => [
    ["negative amount", { ...base(), amount: "-5" }, "amount"],
    ["zero amount", { ...base(), amount: "0" }, "amount"],
    ["fractional string", { ...base(), amount: "1.5" }, "amount"],
    ["fractional number", { ...base(), amount: 1.5 }, "amount"],
    ["negative number", { ...base(), amount: -3 }, "amount"],
    ["40 digits", { ...base(), amount: "1234567890123456789012345678901234567890" }, "amount"],
    ["2^63", { ...base(), amount: "9223372036854775808" }, "amount"],
    ["exponent", { ...base(), amount: "1e3" }, "amount"],
    ["leading zero", { ...base(), amount: "007" }, "amount"],
    ["spaces", { ...base(), amount: " 10" }, "amount"],
    ["empty amount", { ...base(), amount: "" }, "amount"],
    // The number form stops at 2^53 - 1 (larger amounts go as strings).
    ["integer number above 2^63", { ...base(), amount: 2 ** 64 }, "amount"],
    ["integer number 2^53", { ...base(), amount: 2 ** 53 }, "amount"],
    ["amount object", { ...base(), amount: { value: 1 } }, "amount"],
    ["malformed from IBAN", { ...base(), from: "NL00OPEN0000000001" }, "from"],
    ["garbage to IBAN", { ...base(), to: "hello" }, "to"],
    ["unknown field", { ...base(), memo: "x" }, "memo"],
    ["missing amount", without("amount"), "amount"],
    ["missing to", without("to"), "to"],
    ["missing id", without("id"), "id"],
    ["unknown asset", { ...base(), asset: "XXX" }, "asset"],
    ["long description", { ...base(), description: "x".repeat(141) }, "description"],
    ["SQL-like id", { ...base(), id: "'; DROP TABLE ledger_commands; --" }, "id"],
    ["unicode id", { ...base(), id: "ünïcødé-🚀" }, "id"],
    ["numeric id", { ...base(), id: 42 }, "id"],
  ];

  test("malformed transfers are 400 naming the field; nothing reaches the log", async () => {
    const offsets = await endOffsetsTotal();
    const decided = await commandsCount();
    for (const [name, body, field] of matrix()) {
      const response = await alice.post("/v1/transfers", body);
      assert.equal(response.status, 400, `${name}: ${response.status} ${JSON.stringify(response.body)}`);
      assert.equal(response.body.code, "validation_failed", name);
      assert.equal(response.body.field, field, `${name}: ${JSON.stringify(response.body)}`);
      assertClean(response);
    }
    assert.equal(await endOffsetsTotal(), offsets);
    assert.equal(await commandsCount(), decided);
  });

  test("amount as a safe JSON integer is accepted", async () => {
    const response = await alice.post("/v1/transfers", { ...base(), amount: 1e3 });
    assert.equal(response.status, 201, JSON.stringify(response.body));
  });

  test("an amount sent as a JSON number is taken literally: anything but a plain integer is 400, never rounded", async () => {
    const rawPost = async (path: string, text: string, as = aliceToken) => {
      const response = await fetch(`${tp.url}${path}`, {
        method: "POST",
        headers: { authorization: `Bearer ${as}`, "content-type": "application/json", prefer: "wait=10" },
        body: text,
      });
      return { status: response.status, body: await response.json() };
    };
    const offsets = await endOffsetsTotal();
    const transferWith = (literal: string) =>
      JSON.stringify({ ...base(), amount: "AMOUNT" }).replace('"AMOUNT"', literal);
    for (const literal of [
      "0.99999999999999999",
      "1e3",
      "1E3",
      "12.000",
      "1.0",
      "-0",
      "1e-7",
      "9007199254740993.5",
    ]) {
      const single = await rawPost("/v1/transfers", transferWith(literal));
      assert.equal(single.status, 400, `${literal}: ${JSON.stringify(single.body)}`);
      assert.deepEqual([single.body.code, single.body.field], ["validation_failed", "amount"], literal);
      const batch = await rawPost("/v1/transfers/batch", `{"transfers":[${transferWith(literal)}]}`);
      assert.equal(batch.status, 400, `batch ${literal}: ${JSON.stringify(batch.body)}`);
      assert.equal(batch.body.field, "transfers/0/amount");
    }
    const adminToken = await apiClient(tp.url).signIn(testAdmin.username, testAdmin.password);
    const deposit = `{"id":"${randomUUID()}","type":"deposit","iban":"${aliceEur.iban}","amount":1e3,"branch":"x"}`;
    const operation = await rawPost("/v1/operations", deposit, adminToken);
    assert.deepEqual([operation.status, operation.body.field], [400, "amount"]);
    assert.equal(await endOffsetsTotal(), offsets, "nothing reached the log");

    // A plain integer literal is exact up to 2^53 - 1; beyond, only the string form is accepted
    // (as a double 9007199254740993 would be …992).
    const fresh = await openAccount(alice);
    const bigOperation = (amount: string) =>
      `{"id":"${randomUUID()}","type":"deposit","iban":"${fresh.iban}","amount":${amount},"branch":"x"}`;
    const refused = await rawPost("/v1/operations", bigOperation("9007199254740993"), adminToken);
    assert.deepEqual([refused.status, refused.body.field], [400, "amount"]);
    const safe = await rawPost("/v1/operations", bigOperation("9007199254740991"), adminToken);
    assert.equal(safe.status, 201, JSON.stringify(safe.body));
    const credited = await rawPost("/v1/operations", bigOperation('"9007199254740993"'), adminToken);
    assert.equal(credited.status, 201, JSON.stringify(credited.body));
    assert.equal(await balance(alice, fresh.iban), 9007199254740991n + 9007199254740993n);
    const accepted = await rawPost("/v1/transfers", transferWith("25"));
    assert.equal(accepted.status, 201, JSON.stringify(accepted.body));
    assert.equal(accepted.body.amount, "25");
  });

  test("malformed account and operation requests are 400 naming the field", async () => {
    const cases: [typeof alice, string, Record<string, unknown>, string][] = [
      [alice, "/v1/accounts", { id: "nope", asset: "EUR" }, "id"],
      [alice, "/v1/accounts", { id: randomUUID(), asset: "DOGE" }, "asset"],
      [alice, "/v1/accounts", { id: randomUUID() }, "asset"],
      [alice, "/v1/accounts", { id: randomUUID(), asset: "EUR", owner: "bob" }, "owner"],
      [
        admin,
        "/v1/operations",
        { id: randomUUID(), type: "deposit", iban: aliceEur.iban, amount: "0", branch: "x" },
        "amount",
      ],
      [
        admin,
        "/v1/operations",
        { id: randomUUID(), type: "gift", iban: aliceEur.iban, amount: "1", branch: "x" },
        "type",
      ],
      [
        admin,
        "/v1/operations",
        { id: randomUUID(), type: "deposit", iban: "NL00", amount: "1", branch: "x" },
        "iban",
      ],
      [
        admin,
        "/v1/operations",
        { id: randomUUID(), type: "deposit", iban: aliceEur.iban, amount: "1", branch: "'; DROP--" },
        "branch",
      ],
    ];
    for (const [as, path, body, field] of cases) {
      const response = await as.post(path, body);
      assert.equal(response.status, 400, `${path} ${JSON.stringify(body)}: ${JSON.stringify(response.body)}`);
      assert.equal(response.body.field, field, JSON.stringify(response.body));
      assertClean(response);
    }
    const badCommandId = await alice.get("/v1/commands/not-a-uuid");
    assert.equal(badCommandId.status, 400);
    const badCursor = await alice.get(`/v1/accounts/${aliceEur.iban}/transactions?cursor=abc`);
    assert.equal(badCursor.status, 400);
    const badLimit = await alice.get(`/v1/accounts/${aliceEur.iban}/transactions?limit=100000`);
    assert.equal(badLimit.status, 400);
  });

  test("body-level failures: 10 MB → 413, wrong content type → 415, invalid JSON → 400", async () => {
    const token = await api.signIn("alice", "correct horse battery staple");
    const raw = (body: string, contentType: string | undefined) =>
      fetch(`${tp.url}/v1/transfers`, {
        method: "POST",
        headers: {
          authorization: `Bearer ${token}`,
          ...(contentType === undefined ? {} : { "content-type": contentType }),
        },
        body,
      });
    const huge = JSON.stringify({ ...base(), description: "x".repeat(10 * 1024 * 1024) });
    const cases: [string, Response][] = [
      ["413", await raw(huge, "application/json")],
      ["415", await raw(JSON.stringify(base()), "text/plain")],
      ["415", await raw("<xml/>", "application/xml")],
      ["400", await raw("{not json", "application/json")],
      ["400", await raw("", "application/json")],
      ["422", await raw('{"__proto__": {"admin": true}}', "application/json")],
      ["422", await raw('{"a": {"constructor": {"prototype": {"admin": true}}}}', "application/json")],
      ["400", await raw("[]", "application/json")],
      ["400", await raw("null", "application/json")],
    ];
    for (const [expected, response] of cases) {
      const text = await response.text();
      assert.equal(String(response.status), expected, text.slice(0, 200));
      assert.doesNotMatch(text, stackTrace);
      assert.match(response.headers.get("content-type") ?? "", /application\/problem\+json/);
    }
  });
});

describe("platform endpoints", () => {
  test("/openapi.json is OpenAPI 3.1 listing the contract's paths", async () => {
    const response = await api.call("GET", "/openapi.json");
    assert.equal(response.status, 200);
    assert.match(response.body.openapi as string, /^3\.1\./);
    assert.equal(typeof response.body.info?.title, "string");
    const paths = Object.keys(response.body.paths as object);
    for (const path of [
      "/v1/auth/register",
      "/v1/auth/login",
      "/v1/accounts",
      "/v1/accounts/{iban}",
      "/v1/accounts/{iban}/transactions",
      "/v1/transfers",
      "/v1/transfers/batch",
      "/v1/operations",
      "/v1/commands/{id}",
      "/v1/transactions/latest",
    ]) {
      assert.ok(paths.includes(path), `${path} in ${paths.join(", ")}`);
    }
    assert.ok(response.body.paths["/v1/transfers"].post, "POST /v1/transfers documented");
    assert.ok(response.body.components?.securitySchemes?.bearer, "bearer auth documented");
  });

  test("/healthz and /readyz answer 200; /docs serves HTML", async () => {
    assert.equal((await api.call("GET", "/healthz")).status, 200);
    assert.equal((await api.call("GET", "/readyz")).status, 200);
    const docs = await fetch(`${tp.url}/docs`);
    assert.equal(docs.status, 200);
    assert.match(docs.headers.get("content-type") ?? "", /text\/html/);
    assert.match(await docs.text(), /<html/i);
  });

  test("unknown API routes are 404 problems", async () => {
    const response = await alice.get("/v1/nothing-here");
    assert.equal(response.status, 404);
    assert.equal(response.body.code, "not_found");
  });
});

// Last, because the poison record it sends stalls the handler through its retries.
describe("poison input", () => {
  test("a NUL character in the description is refused at the edge (400), never poisons the handler", async () => {
    const id = randomUUID();
    const body = {
      id,
      from: aliceEur.iban,
      to: aliceEur2.iban,
      amount: "1",
      asset: "EUR",
      description: "a\u0000b",
    };
    const response = await alicePost("/v1/transfers", body, { prefer: "wait=1" });
    assert.equal(response.status, 400, `${response.status} ${JSON.stringify(response.body)}`);
    assert.equal(response.body.field, "description");
    // Today the command is accepted, then dead-lettered: it never gets an outcome.
    assert.notEqual((await alice.get(`/v1/commands/${id}`)).body.status, "PENDING");
  });
});
