/**
 * GraphQL end to end: the real platform (embedded PostgreSQL, log, handler, notifier) with the
 * GraphQL plugin, over real HTTP and real WebSockets (graphql-ws client on `ws`).
 */
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { after, before, describe, test } from "node:test";
import type { GraphQLFormattedError } from "graphql";
import { type Client, createClient, type FormattedExecutionResult } from "graphql-ws";
import { SignJWT } from "jose";
import WebSocket from "ws";
import {
  apiClient,
  startTestPlatform,
  type TestPlatform,
  testAdmin,
  testJwtSecret,
} from "../../../test/support/platform.ts";
import { createGraphqlPlugin } from "./plugin.ts";

const operationsPerSocketMax = 20;

let platform: TestPlatform;
let api: ReturnType<typeof apiClient>;
let alice: string;
let bob: string;
let admin: string;
let aliceIban: string;
let aliceToken: string;
let bobIban: string;
/** Live `onBalanceChanged` registrations on the platform's real LedgerNotifications. */
let balanceListeners = 0;
const clients: Client[] = [];
let stopped = false;

before(async () => {
  platform = await startTestPlatform({}, { plugins: [createGraphqlPlugin({ operationsPerSocketMax })] });
  countBalanceListeners();
  api = apiClient(platform.url);
  alice = await api.signUp("alice");
  bob = await api.signUp("bob");
  admin = await api.signIn(testAdmin.username, testAdmin.password);
  const aliceAccount = await createAccount(alice);
  aliceIban = aliceAccount.iban;
  aliceToken = aliceAccount.token;
  bobIban = (await createAccount(bob)).iban;
  await deposit(aliceIban, "100000");
  await deposit(bobIban, "100000");
});

after(async () => {
  for (const client of clients) await client.dispose();
  if (!stopped) await platform?.stop();
});

describe("queries and mutations over HTTP", () => {
  test("createAccount waits for the IBAN and returns the token; a replay the same without the token", async () => {
    const id = randomUUID();
    const mutation = `mutation($id: ID!) { createAccount(id: $id, asset: "EUR", waitSeconds: 10) {
      id status reason iban token } }`;
    const first = await gql(alice, mutation, { id });
    assert.equal(first.status, 200);
    const created = first.body.data.createAccount;
    assert.equal(created.status, "CONFIRMED");
    assert.match(created.iban, /^NL\d{2}OPEN\d{10}$/);
    assert.ok(created.token.length >= 32);
    const replay = await gql(alice, mutation, { id });
    assert.deepEqual(replay.body.data.createAccount, { ...created, token: null });
    // Anyone else under the same id: a conflict, and no token.
    const taken = await gql(bob, mutation, { id });
    assert.equal(taken.body.data, null);
    assert.equal(taken.body.errors[0].extensions.code, "conflict");

    const conflict = await gql(alice, `mutation($id: ID!) { createAccount(id: $id, asset: "USD") { id } }`, {
      id,
    });
    assert.equal(conflict.body.data, null);
    assert.equal(conflict.body.errors[0].extensions.code, "conflict");
  });

  test("account, accounts and transactionsByIban page through history", async () => {
    const mine = await gql(alice, "{ accounts { iban asset balance availableBalance overdraftLimit } }");
    assert.ok(mine.body.data.accounts.some((a: { iban: string }) => a.iban === aliceIban));

    const one = await gql(alice, `query($iban: String!) { account(iban: $iban) { iban asset balance } }`, {
      iban: aliceIban,
    });
    assert.equal(one.body.data.account.iban, aliceIban);
    assert.equal(one.body.data.account.asset, "EUR");

    for (const amount of ["11", "22"]) {
      const transfer = await moneyTransfer(alice, { from: aliceIban, to: bobIban, amount, waitSeconds: 10 });
      assert.equal(transfer.body.data.moneyTransfer.status, "CONFIRMED");
    }
    const page = `query($iban: String!, $after: String) { transactionsByIban(iban: $iban, first: 1, after: $after) {
      items { id amount asset counterparty description balanceAfter at } nextCursor } }`;
    const newest = (await gql(alice, page, { iban: aliceIban })).body.data.transactionsByIban;
    assert.equal(newest.items.length, 1);
    assert.equal(newest.items[0].amount, "-22");
    assert.equal(newest.items[0].counterparty, bobIban);
    assert.ok(!Number.isNaN(Date.parse(newest.items[0].at)));
    assert.ok(newest.nextCursor);
    const older = (await gql(alice, page, { iban: aliceIban, after: newest.nextCursor })).body.data
      .transactionsByIban;
    assert.equal(older.items[0].amount, "-11");
    assert.equal(BigInt(older.items[0].balanceAfter) - 22n, BigInt(newest.items[0].balanceAfter));
  });

  test("GET serves queries but not mutations", async () => {
    const query = encodeURIComponent("{ accounts { iban } }");
    const get = await fetch(`${platform.url}/graphql?query=${query}`, { headers: bearer(alice) });
    assert.equal(get.status, 200);
    assert.ok(((await get.json()) as { data: { accounts: unknown[] } }).data.accounts.length >= 1);
    const mutation = encodeURIComponent('mutation { createAccount(id: "x", asset: "EUR") { id } }');
    const refused = await fetch(`${platform.url}/graphql?query=${mutation}`, { headers: bearer(alice) });
    assert.equal(refused.status, 405);
    const sdl = await fetch(`${platform.url}/graphql/schema.graphql`);
    assert.equal(sdl.status, 200);
    assert.match(
      await sdl.text(),
      /balanceChanged\(iban: String!, minAmount: String, direction: Direction = ANY\)/,
    );
  });

  test("an auditor changes nothing: createAccount and moneyTransfer (even with the account's token) are forbidden", async () => {
    await api.signUp("gql-auditor");
    const found = await api.as(admin).get("/v1/admin/users?search=gql-auditor");
    const id = found.body.items[0].id as string;
    assert.equal((await api.as(admin).call("PUT", `/v1/admin/users/${id}/roles/auditor`)).status, 200);
    assert.equal((await api.as(admin).call("DELETE", `/v1/admin/users/${id}/roles/customer`)).status, 200);
    const auditor = await api.signIn("gql-auditor", "correct horse battery staple");
    const opened = await gql(auditor, `mutation($id: ID!) { createAccount(id: $id, asset: "EUR") { id } }`, {
      id: randomUUID(),
    });
    assert.equal(opened.body.errors?.[0]?.extensions?.code, "forbidden", JSON.stringify(opened.body));
    const before = (await api.as(alice).get(`/v1/accounts/${aliceIban}`)).body.balance;
    const moved = await moneyTransfer(auditor, {
      from: aliceIban,
      to: bobIban,
      amount: "1",
      token: aliceToken,
    });
    assert.equal(moved.body.errors?.[0]?.extensions?.code, "forbidden", JSON.stringify(moved.body));
    assert.equal((await api.as(alice).get(`/v1/accounts/${aliceIban}`)).body.balance, before);
  });

  test("moneyTransfer rejections are FAILED with the reason; the command query shows them", async () => {
    const poor = await moneyTransfer(alice, {
      from: aliceIban,
      to: bobIban,
      amount: "999999999",
      waitSeconds: 10,
    });
    const failed = poor.body.data.moneyTransfer;
    assert.deepEqual([failed.status, failed.reason], ["FAILED", "insufficient_funds"]);

    const wrongToken = await moneyTransfer(bob, {
      from: aliceIban,
      to: bobIban,
      amount: "1",
      token: "not-the-token",
      waitSeconds: 10,
    });
    // Bob is not the owner: a wrong token looks like a missing account to him.
    assert.equal(wrongToken.body.data.moneyTransfer.reason, "unknown_account");

    const withToken = await moneyTransfer(bob, {
      from: aliceIban,
      to: bobIban,
      amount: "1",
      token: aliceToken,
      waitSeconds: 10,
    });
    assert.equal(withToken.body.data.moneyTransfer.status, "CONFIRMED");

    const status = await gql(alice, `query($id: ID!) { command(id: $id) { id status reason } }`, {
      id: failed.id,
    });
    assert.deepEqual(status.body.data.command, {
      id: failed.id,
      status: "FAILED",
      reason: "insufficient_funds",
    });
    const hidden = await gql(bob, `query($id: ID!) { command(id: $id) { id } }`, { id: failed.id });
    assert.equal(hidden.body.data.command, null);
    assert.equal(hidden.body.errors[0].extensions.code, "not_found");
  });

  test("the same transfer id with another amount is a conflict", async () => {
    const id = randomUUID();
    const first = await moneyTransfer(alice, {
      id,
      from: aliceIban,
      to: bobIban,
      amount: "5",
      waitSeconds: 10,
    });
    assert.equal(first.body.data.moneyTransfer.status, "CONFIRMED");
    const again = await moneyTransfer(alice, {
      id,
      from: aliceIban,
      to: bobIban,
      amount: "5",
      waitSeconds: 10,
    });
    assert.deepEqual(again.body.data.moneyTransfer, first.body.data.moneyTransfer);
    const other = await moneyTransfer(alice, { id, from: aliceIban, to: bobIban, amount: "6" });
    assert.equal(other.body.errors[0].extensions.code, "conflict");
  });

  test("another user's account is invisible and cannot be debited without its token", async () => {
    const account = await gql(bob, `query($iban: String!) { account(iban: $iban) { iban balance } }`, {
      iban: aliceIban,
    });
    assert.equal(account.body.data.account, null);
    assert.equal(account.body.errors[0].extensions.code, "not_found");
    const missing = await gql(bob, `{ account(iban: "NL91ABNA0417164300") { iban } }`);
    assert.deepEqual(missing.body.errors[0].extensions, account.body.errors[0].extensions);

    const history = await gql(
      bob,
      `query($iban: String!) { transactionsByIban(iban: $iban) { nextCursor } }`,
      {
        iban: aliceIban,
      },
    );
    assert.equal(history.body.errors[0].extensions.code, "not_found");

    const steal = await moneyTransfer(bob, { from: aliceIban, to: bobIban, amount: "1", waitSeconds: 10 });
    assert.equal(steal.body.data, null);
    assert.deepEqual(steal.body.errors[0].extensions, { code: "not_found", field: "from" });
  });

  test("allLastTransactions is for admins", async () => {
    const query = "{ allLastTransactions(first: 5) { id kind phase from to amount asset description at } }";
    const forbidden = await gql(alice, query);
    assert.equal(forbidden.body.errors[0].extensions.code, "forbidden");
    const latest = await gql(admin, query);
    assert.equal(latest.body.data.allLastTransactions.length, 5);
    assert.match(latest.body.data.allLastTransactions[0].amount, /^[1-9][0-9]*$/);
  });

  test("authentication is required and checked", async () => {
    const anonymous = await fetch(`${platform.url}/graphql`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ query: "{ accounts { iban } }" }),
    });
    assert.equal(anonymous.status, 401);
    assert.match(anonymous.headers.get("www-authenticate") ?? "", /^Bearer/);
    const body = (await anonymous.json()) as { errors: { extensions: { code: string } }[] };
    assert.equal(body.errors[0]?.extensions.code, "unauthenticated");

    const forged = await gql(`${alice.slice(0, -4)}AAAA`, "{ accounts { iban } }");
    assert.equal(forged.status, 401);
    assert.equal(forged.body.errors[0].extensions.code, "unauthenticated");
  });

  test("malformed input names the field and writes nothing", async () => {
    const cases: [Record<string, unknown>, string][] = [
      [{ amount: "-5" }, "amount"],
      [{ amount: "0" }, "amount"],
      [{ amount: "1.50" }, "amount"],
      [{ amount: "1".repeat(40) }, "amount"],
      [{ amount: 5 }, "amount"],
      [{ from: "NL00 NOPE" }, "from"],
      [{ to: "'; DROP TABLE ledger_accounts; --" }, "to"],
      [{ asset: "XXX" }, "asset"],
      [{ id: "not-a-uuid" }, "id"],
      [{ description: "é".repeat(141) }, "description"],
      [{ waitSeconds: -1 }, "waitSeconds"],
    ];
    for (const [change, field] of cases) {
      const id = randomUUID();
      const answer = await moneyTransfer(alice, { id, from: aliceIban, to: bobIban, amount: "1", ...change });
      const error = answer.body.errors?.[0];
      assert.equal(error?.extensions.code, "validation_failed", JSON.stringify(change));
      assert.equal(error?.extensions.field, field, JSON.stringify(change));
      assert.equal(JSON.stringify(answer.body).includes("    at "), false, "no stack trace");
      const stored = await gql(alice, `query($id: ID!) { command(id: $id) { id } }`, { id });
      assert.equal(stored.body.errors[0].extensions.code, "not_found", "nothing was submitted");
    }

    // Amount variables sent as JSON numbers of any spelling are refused, never rounded.
    for (const literal of ["0.99999999999999999", "1e3", "12.000", "25"]) {
      const query = `mutation($amount: String!) { moneyTransfer(id: "${randomUUID()}", from: "${aliceIban}",
        to: "${bobIban}", amount: $amount, asset: "EUR") { status } }`;
      const response = await fetch(`${platform.url}/graphql`, {
        method: "POST",
        headers: { "content-type": "application/json", ...bearer(alice) },
        body: `{"query":${JSON.stringify(query)},"variables":{"amount":${literal}}}`,
      });
      const body = (await response.json()) as { data?: unknown; errors?: { extensions: { code: string } }[] };
      assert.equal(
        body.errors?.[0]?.extensions.code,
        "validation_failed",
        `${literal}: ${JSON.stringify(body)}`,
      );
    }

    const inline = await gql(alice, `{ transactionsByIban(iban: "${aliceIban}", first: 0) { nextCursor } }`);
    assert.deepEqual(inline.body.errors[0].extensions, { code: "validation_failed", field: "first" });
    const unknownField = await gql(alice, "{ accounts { iban secret } }");
    assert.equal(unknownField.body.errors[0].extensions.code, "validation_failed");
    const syntax = await gql(alice, "{ accounts { iban ");
    assert.equal(syntax.body.errors[0].extensions.code, "validation_failed");
  });

  test("documents beyond the size, depth and breadth limits are refused before running", async () => {
    const long = await gql(alice, `{ accounts { iban } }${" ".repeat(17 * 1024)}`);
    assert.deepEqual(long.body.errors[0].extensions, { code: "validation_failed", field: "query" });

    const deep = await gql(
      alice,
      `{ a: accounts { iban } ...F } fragment F on Query { ...G } fragment G on Query {
        __typename, x: __type(name: "Query") { fields { type { ofType { ofType { ofType { ofType { ofType {
        ofType { ofType { ofType { ofType { ofType { ofType { ofType { ofType { ofType { name
        } } } } } } } } } } } } } } } } } }`,
    );
    assert.match(deep.body.errors[0].message, /nests deeper/);

    const aliases = Array.from({ length: 17 }, (_, i) => `a${i}: accounts { iban }`).join(" ");
    const wide = await gql(alice, `{ ${aliases} }`);
    assert.match(wide.body.errors[0].message, /more than 16 top-level fields/);
    assert.equal(wide.body.data, undefined, "nothing executed");
  });
});

describe("subscriptions over WebSocket", () => {
  test("balanceChanged follows REST transfers, filtered by minAmount and direction", async () => {
    const client = wsClient(alice);
    const query = `subscription($iban: String!, $min: String, $dir: Direction) {
      balanceChanged(iban: $iban, minAmount: $min, direction: $dir) {
        commandId iban asset newBalance changedBy direction counterparty description at } }`;
    const all = subscribe(client, query, { iban: aliceIban });
    const bigIn = subscribe(client, query, { iban: aliceIban, min: "500", dir: "IN" });
    const out = subscribe(client, query, { iban: aliceIban, dir: "OUT" });
    await eventually(() => balanceListeners === 3, "three balance listeners");

    const rest = api.as(alice);
    const restBob = api.as(bob);
    const moves: [ReturnType<typeof api.as>, string, string, string][] = [
      [rest, aliceIban, bobIban, "100"],
      [restBob, bobIban, aliceIban, "700"],
      [restBob, bobIban, aliceIban, "200"],
      [rest, aliceIban, bobIban, "50"],
      [restBob, bobIban, aliceIban, "900"],
    ];
    for (const [as, from, to, amount] of moves) {
      const answer = await as.post("/v1/transfers", { id: randomUUID(), from, to, amount, asset: "EUR" });
      assert.equal(answer.status, 201);
    }
    const changes = (s: Subscription) =>
      s.results.map((r) => dataOf<{ changedBy: string }>(r, "balanceChanged").changedBy);
    await eventually(() => all.results.length >= 5, "five changes for the unfiltered subscriber");
    await eventually(() => bigIn.results.length >= 2 && out.results.length >= 2, "filtered changes");
    await new Promise((resolve) => setTimeout(resolve, 200));
    assert.deepEqual(changes(all), ["-100", "700", "200", "-50", "900"]);
    assert.deepEqual(changes(bigIn), ["700", "900"]);
    assert.deepEqual(changes(out), ["-100", "-50"]);
    const first = dataOf<Record<string, string>>(all.results[0], "balanceChanged");
    assert.equal(first.direction, "OUT");
    assert.equal(first.counterparty, bobIban);
    assert.equal(first.asset, "EUR");
    for (const s of [all, bigIn, out]) s.unsubscribe();
    await eventually(() => balanceListeners === 0, "listeners released on complete");
  });

  test("balanceChanged refuses accounts the subscriber may not see and bad filters", async () => {
    const client = wsClient(bob);
    const query = `subscription($iban: String!, $min: String) {
      balanceChanged(iban: $iban, minAmount: $min) { changedBy } }`;
    const others = subscribe(client, query, { iban: aliceIban });
    await eventually(() => others.completed, "the refused subscription completes");
    assert.equal(others.results[0]?.errors?.[0]?.extensions?.code, "not_found");
    const badMin = subscribe(client, query, { iban: bobIban, min: "-1" });
    await eventually(() => badMin.completed, "the refused subscription completes");
    assert.deepEqual(badMin.results[0]?.errors?.[0]?.extensions, {
      code: "validation_failed",
      field: "minAmount",
    });
    assert.equal(balanceListeners, 0);
  });

  test("commandOutcome emits once when decided, then completes; at once if already decided", async () => {
    const client = wsClient(alice);
    const query = "subscription($id: ID!) { commandOutcome(id: $id) { id status reason iban token } }";
    const id = randomUUID();
    const waiting = subscribe(client, query, { id });
    await eventually(() => platform.platform.notifications.waitingCount === 1, "the subscriber waits");
    const accepted = await api
      .as(alice)
      .post("/v1/transfers", { id, from: aliceIban, to: bobIban, amount: "3", asset: "EUR" }, false);
    assert.equal(accepted.status, 202);
    await eventually(() => waiting.completed, "completes after the outcome");
    assert.deepEqual(
      waiting.results.map((r) => r.data?.commandOutcome),
      [{ id, status: "CONFIRMED", reason: null, iban: null, token: null }],
    );

    const decided = subscribe(client, query, { id });
    await eventually(() => decided.completed, "an already decided command answers at once");
    assert.equal(decided.results.length, 1);

    const failedId = randomUUID();
    const failing = subscribe(client, query, { id: failedId });
    await eventually(() => platform.platform.notifications.waitingCount === 1, "the subscriber waits");
    await moneyTransfer(alice, { id: failedId, from: aliceIban, to: bobIban, amount: "999999999" });
    await eventually(() => failing.completed, "completes after the rejection");
    assert.deepEqual(failing.results[0]?.data?.commandOutcome, {
      id: failedId,
      status: "FAILED",
      reason: "insufficient_funds",
      iban: null,
      token: null,
    });

    const snoop = subscribe(wsClient(bob), query, { id });
    await eventually(() => snoop.error !== undefined, "another user's command is refused");
    assert.equal(codeOf(snoop.error), "not_found");
    assert.equal(platform.platform.notifications.waitingCount, 0);
  });

  test("unsubscribing and disconnecting release every listener", async () => {
    const client = wsClient(alice);
    const balance = `subscription($iban: String!) { balanceChanged(iban: $iban) { changedBy } }`;
    const outcome = "subscription($id: ID!) { commandOutcome(id: $id) { status } }";
    const subs = Array.from({ length: 5 }, () => subscribe(client, balance, { iban: aliceIban }));
    const outcomes = Array.from({ length: 5 }, () => subscribe(client, outcome, { id: randomUUID() }));
    const notifications = platform.platform.notifications;
    await eventually(() => balanceListeners === 5 && notifications.waitingCount === 5, "ten listeners");
    subs[0]?.unsubscribe();
    subs[1]?.unsubscribe();
    outcomes[0]?.unsubscribe();
    await eventually(() => balanceListeners === 3 && notifications.waitingCount === 4, "three released");
    await client.dispose();
    await eventually(() => balanceListeners === 0 && notifications.waitingCount === 0, "all released");

    // An abrupt disconnect (no close handshake) releases them too.
    const raw = await rawSocket(alice);
    raw.send(
      JSON.stringify({
        id: "1",
        type: "subscribe",
        payload: { query: balance, variables: { iban: aliceIban } },
      }),
    );
    raw.send(
      JSON.stringify({
        id: "2",
        type: "subscribe",
        payload: { query: outcome, variables: { id: randomUUID() } },
      }),
    );
    await eventually(
      () => balanceListeners === 1 && notifications.waitingCount === 1,
      "raw socket listening",
    );
    raw.terminate();
    await eventually(
      () => balanceListeners === 0 && notifications.waitingCount === 0,
      "released on abrupt close",
    );
  });

  test(`a socket runs at most ${operationsPerSocketMax} operations at once`, async () => {
    const client = wsClient(alice);
    const query = "subscription($id: ID!) { commandOutcome(id: $id) { status } }";
    const notifications = platform.platform.notifications;
    const open = Array.from({ length: operationsPerSocketMax }, () =>
      subscribe(client, query, { id: randomUUID() }),
    );
    await eventually(() => notifications.waitingCount === operationsPerSocketMax, "all subscribed");
    const extra = subscribe(client, query, { id: randomUUID() });
    await eventually(() => extra.error !== undefined, "the extra one is refused");
    assert.equal(codeOf(extra.error), "rate_limited");
    for (const s of open) s.unsubscribe();
    await eventually(() => notifications.waitingCount === 0, "released");
  });

  test("a socket without a valid token is closed with 4401", async () => {
    for (const connectionParams of [{}, { authorization: "Bearer nope" }]) {
      const client = createClient({
        url: wsUrl(),
        webSocketImpl: WebSocket,
        connectionParams,
        retryAttempts: 0,
      });
      clients.push(client);
      const refused = subscribe(client, 'subscription { commandOutcome(id: "x") { status } }');
      await eventually(() => refused.error !== undefined, "refused");
      assert.equal((refused.error as { code: number }).code, 4401);
    }
  });

  test("a socket does not outlive its access token: it closes with 4401 when the token expires", async () => {
    // A token of Alice's that expires in 2 s, signed as the platform signs (the test platform's secret).
    const claims = JSON.parse(Buffer.from(alice.split(".")[1] ?? "", "base64url").toString());
    const nowS = Math.floor(Date.now() / 1000);
    const shortLived = await new SignJWT({ username: claims.username, roles: claims.roles })
      .setProtectedHeader({ alg: "HS256", typ: "JWT" })
      .setSubject(claims.sub)
      .setIssuer(claims.iss)
      .setAudience(claims.aud)
      .setIssuedAt(nowS)
      .setExpirationTime(nowS + 2)
      .sign(new TextEncoder().encode(testJwtSecret));
    const startedMs = Date.now();
    const live = subscribe(
      wsClient(shortLived),
      `subscription($iban: String!) { balanceChanged(iban: $iban) { iban } }`,
      {
        iban: aliceIban,
      },
    );
    await eventually(() => live.error !== undefined, "closed at expiry", 15_000);
    assert.equal((live.error as { code: number }).code, 4401);
    const elapsedMs = Date.now() - startedMs;
    assert.ok(elapsedMs >= 500 && elapsedMs < 4_000, `closed after ${elapsedMs} ms`);
  });

  test("the token may come in the upgrade request's Authorization header", async () => {
    const token = alice;
    class WebSocketWithAuthorization extends WebSocket {
      constructor(url: string, protocols?: string | string[]) {
        super(url, protocols, { headers: { authorization: `Bearer ${token}` } });
      }
    }
    const client = createClient({
      url: wsUrl(),
      webSocketImpl: WebSocketWithAuthorization,
      retryAttempts: 0,
    });
    clients.push(client);
    const result = subscribe(client, "{ accounts { iban } }");
    await eventually(() => result.completed, "the query answers");
    assert.ok(dataOf<unknown[]>(result.results[0], "accounts").length >= 1);
  });

  test("stopping the platform closes open sockets promptly", async () => {
    const raw = await rawSocket(alice);
    const closed = new Promise<number>((resolve) => raw.once("close", (code) => resolve(code)));
    const startedMs = Date.now();
    stopped = true;
    await platform.stop();
    assert.equal(await closed, 1001);
    assert.ok(Date.now() - startedMs < 10_000, `stopped in ${Date.now() - startedMs} ms`);
  });
});

async function gql(token: string, query: string, variables: Record<string, unknown> = {}) {
  const response = await fetch(`${platform.url}/graphql`, {
    method: "POST",
    headers: { "content-type": "application/json", ...bearer(token) },
    body: JSON.stringify({ query, variables }),
  });
  // biome-ignore lint/suspicious/noExplicitAny: test assertions walk arbitrary response shapes.
  return { status: response.status, body: (await response.json()) as Record<string, any> };
}

function moneyTransfer(token: string, args: Record<string, unknown>) {
  return gql(
    token,
    `mutation($id: ID!, $from: String!, $to: String!, $amount: String!, $asset: String!, $description: String,
      $token: String, $waitSeconds: Int) {
      moneyTransfer(id: $id, from: $from, to: $to, amount: $amount, asset: $asset, description: $description,
        token: $token, waitSeconds: $waitSeconds) { id status reason } }`,
    { id: randomUUID(), asset: "EUR", ...args },
  );
}

/** The code of the first GraphQL error of a graphql-ws `error` message. */
function codeOf(errors: unknown): unknown {
  return (errors as readonly GraphQLFormattedError[] | undefined)?.[0]?.extensions?.code;
}

function bearer(token: string): Record<string, string> {
  return { authorization: `Bearer ${token}` };
}

async function createAccount(token: string): Promise<{ iban: string; token: string }> {
  const answer = await api.as(token).post("/v1/accounts", { id: randomUUID(), asset: "EUR" });
  assert.equal(answer.status, 201);
  return { iban: answer.body.iban, token: answer.body.token };
}

async function deposit(iban: string, amount: string): Promise<void> {
  const answer = await api
    .as(admin)
    .post("/v1/operations", { id: randomUUID(), type: "deposit", iban, amount, branch: "test-branch" });
  assert.equal(answer.status, 201, JSON.stringify(answer.body));
}

/** Counts live registrations on the real notifications, to prove subscriptions release them. */
function countBalanceListeners(): void {
  const notifications = platform.platform.notifications;
  const register = notifications.onBalanceChanged.bind(notifications);
  notifications.onBalanceChanged = (listener) => {
    const unregister = register(listener);
    balanceListeners += 1;
    let registered = true;
    return () => {
      if (registered) balanceListeners -= 1;
      registered = false;
      unregister();
    };
  };
}

function wsUrl(): string {
  return `${platform.url.replace(/^http/, "ws")}/graphql`;
}

function wsClient(token: string): Client {
  const client = createClient({
    url: wsUrl(),
    webSocketImpl: WebSocket,
    connectionParams: { authorization: `Bearer ${token}` },
    retryAttempts: 0,
  });
  clients.push(client);
  return client;
}

type Result = FormattedExecutionResult<Record<string, unknown>, unknown>;

function dataOf<T>(result: Result | undefined, field: string): T {
  const value = result?.data?.[field];
  assert.ok(value !== undefined && value !== null, `no ${field} in ${JSON.stringify(result)}`);
  return value as T;
}

interface Subscription {
  readonly results: Result[];
  readonly error: unknown;
  readonly completed: boolean;
  unsubscribe(): void;
}

function subscribe(client: Client, query: string, variables: Record<string, unknown> = {}): Subscription {
  const results: Result[] = [];
  let error: unknown;
  let completed = false;
  const unsubscribe = client.subscribe(
    { query, variables },
    {
      next: (result) => void results.push(result),
      error: (e) => {
        error = e;
      },
      complete: () => {
        completed = true;
      },
    },
  );
  return {
    results,
    unsubscribe,
    get error() {
      return error;
    },
    get completed() {
      return completed;
    },
  };
}

/** A bare graphql-transport-ws connection, acknowledged, for tests that need the raw socket. */
async function rawSocket(token: string): Promise<WebSocket> {
  const socket = new WebSocket(wsUrl(), "graphql-transport-ws");
  await new Promise((resolve, reject) => {
    socket.once("open", resolve);
    socket.once("error", reject);
  });
  socket.send(JSON.stringify({ type: "connection_init", payload: { authorization: `Bearer ${token}` } }));
  await new Promise<void>((resolve, reject) => {
    socket.once("message", (data) => {
      if (JSON.parse(String(data)).type === "connection_ack") resolve();
      else reject(new Error(`expected connection_ack, got ${String(data)}`));
    });
  });
  return socket;
}

async function eventually(check: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
