/**
 * The notification inbox end to end: movements made over the REST API reach each party's inbox
 * (projected from the ledger's outcomes), are paged, counted and marked read, pushed live over the
 * GraphQL `notificationAdded` subscription, kept across sign-ins, and private to their user.
 */
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { after, before, test } from "node:test";
import { type Client, createClient } from "graphql-ws";
import WebSocket from "ws";
import { apiClient, startTestPlatform, type TestPlatform, testAdmin } from "../../test/support/platform.ts";

type As = ReturnType<ReturnType<typeof apiClient>["as"]>;
const password = "correct horse battery staple";

let tp: TestPlatform;
let api: ReturnType<typeof apiClient>;
let alice: As;
let bob: As;
let bobJwt: string;
let admin: As;
let aliceIban: string;
let bobIban: string;
const clients: Client[] = [];

interface Page {
  items: { id: string; cursor: string; kind: string; amount: string; counterparty: string; read: boolean }[];
  nextCursor: string | null;
  unread: number;
}

async function openAccount(as: As): Promise<string> {
  const response = await as.post("/v1/accounts", { id: randomUUID(), asset: "EUR" });
  assert.equal(response.status, 201);
  return response.body.iban as string;
}

/** The inbox once it holds at least `count` entries (the projection runs behind the API). */
async function inbox(as: As, count: number, query = ""): Promise<Page> {
  for (let attempt = 0; ; attempt++) {
    const response = await as.get(`/v1/notifications${query}`);
    assert.equal(response.status, 200, JSON.stringify(response.body));
    const page = response.body as Page;
    if (page.items.length >= count || attempt > 100) return page;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

before(async () => {
  tp = await startTestPlatform();
  api = apiClient(tp.url);
  alice = api.as(await api.signUp("alice", password));
  bobJwt = await api.signUp("bob", password);
  bob = api.as(bobJwt);
  admin = api.as(await api.signIn(testAdmin.username, testAdmin.password));
  aliceIban = await openAccount(alice);
  bobIban = await openAccount(bob);
});

after(async () => {
  for (const client of clients) await client.dispose();
  await tp?.stop();
});

test("each party's inbox gets its side of deposits, transfers and holds, newest first", async () => {
  const deposit = { id: randomUUID(), type: "deposit", iban: aliceIban, amount: "10000", branch: "b1" };
  assert.equal((await admin.post("/v1/operations", deposit)).status, 201);
  const transfer = { id: randomUUID(), from: aliceIban, to: bobIban, amount: "2550", asset: "EUR" };
  assert.equal((await alice.post("/v1/transfers", transfer)).status, 201);
  const holdId = randomUUID();
  const hold = { ...transfer, id: holdId, amount: "700", timeoutMs: 60_000 };
  assert.equal((await alice.post("/v1/holds", hold)).status, 201);
  assert.equal((await alice.post(`/v1/holds/${holdId}/void`, { id: randomUUID() })).status, 201);

  const alicePage = await inbox(alice, 4);
  assert.deepEqual(
    alicePage.items.map((n) => [n.kind, n.amount, n.counterparty]),
    [
      ["hold_released", "700", bobIban],
      ["hold_placed", "700", bobIban],
      ["sent", "2550", bobIban],
      ["deposit", "10000", ""],
    ],
  );
  assert.equal(alicePage.unread, 4);
  assert.ok(alicePage.items.every((n) => !n.read));
  const bobPage = await inbox(bob, 1);
  assert.deepEqual(
    bobPage.items.map((n) => [n.kind, n.amount, n.counterparty]),
    [["received", "2550", aliceIban]],
  );
  // The receiver's entry names the transfer's command: its receipt.
  assert.equal((bobPage.items[0] as unknown as { commandId: string }).commandId, transfer.id);
});

test("cursor pages, unread count, mark read by ids and up to a cursor; only one's own", async () => {
  const first = await inbox(alice, 2, "?limit=2");
  assert.equal(first.items.length, 2);
  assert.ok(first.nextCursor);
  const second = await inbox(alice, 2, `?limit=2&before=${first.nextCursor}`);
  assert.deepEqual(
    second.items.map((n) => n.kind),
    ["sent", "deposit"],
  );
  assert.equal(second.nextCursor, null);

  // Bob cannot mark Alice's entries: ids that are not his are ignored.
  const newest = first.items[0]?.id as string;
  const bobMarks = await bob.post("/v1/notifications/read", { ids: [newest] });
  assert.deepEqual(bobMarks.body, { marked: 0, unread: 1 });
  const marked = await alice.post("/v1/notifications/read", { ids: [newest] });
  assert.deepEqual(marked.body, { marked: 1, unread: 3 });
  assert.deepEqual((await alice.get("/v1/notifications/unread")).body, { unread: 3 });
  const upTo = await alice.post("/v1/notifications/read", { upTo: second.items[0]?.cursor });
  assert.deepEqual(upTo.body, { marked: 2, unread: 1 });
  const after = await inbox(alice, 4);
  assert.deepEqual(
    after.items.map((n) => n.read),
    [true, false, true, true],
  );
  // Both forms at once match either; an empty body marks everything (here: Bob's one entry).
  const both = await alice.post("/v1/notifications/read", { ids: [newest], upTo: second.items[0]?.cursor });
  assert.deepEqual(both.body, { marked: 0, unread: 1 });
  assert.deepEqual((await bob.post("/v1/notifications/read", {})).body, { marked: 1, unread: 0 });

  // Signing in again changes nothing: the inbox is on the server.
  const again = api.as(await api.signIn("alice", password));
  assert.deepEqual((await again.get("/v1/notifications")).body, after);
  const mallory = api.as(await api.signUp("mallory", password));
  assert.deepEqual((await mallory.get("/v1/notifications")).body, { items: [], nextCursor: null, unread: 0 });
});

test("bad input is a problem naming the field; no token is 401", async () => {
  for (const body of [{ ids: [] }, { ids: ["x"] }, { upTo: "-1" }, { all: true }]) {
    const response = await alice.post("/v1/notifications/read", body);
    assert.equal(response.status, 400, JSON.stringify(body));
    assert.equal(response.body.code, "validation_failed");
  }
  const tooMany = await alice.post("/v1/notifications/read", {
    ids: Array.from({ length: 101 }, randomUUID),
  });
  assert.equal(tooMany.body.field, "ids");
  assert.equal((await alice.get("/v1/notifications?limit=0")).status, 400);
  assert.equal((await alice.get("/v1/notifications?before=abc")).body.field, "before");
  assert.equal((await api.call("GET", "/v1/notifications")).status, 401);
});

test("new notifications are pushed live over GraphQL, with the ids the inbox keeps", async () => {
  const client = createClient({
    url: `${tp.url.replace(/^http/, "ws")}/graphql`,
    webSocketImpl: WebSocket,
    connectionParams: { authorization: `Bearer ${bobJwt}` },
    retryAttempts: 0,
  });
  clients.push(client);
  const pushed = new Promise<Record<string, string>>((resolve, reject) => {
    const stop = client.subscribe<{ notificationAdded: Record<string, string> }>(
      { query: "subscription { notificationAdded { id kind amount counterparty read } }" },
      {
        next: (result) => {
          stop();
          if (result.data) resolve(result.data.notificationAdded);
          else reject(new Error(JSON.stringify(result.errors)));
        },
        error: reject,
        complete: () => {},
      },
    );
  });
  await new Promise((resolve) => setTimeout(resolve, 300));
  const transfer = { id: randomUUID(), from: aliceIban, to: bobIban, amount: "5", asset: "EUR" };
  assert.equal((await alice.post("/v1/transfers", transfer)).status, 201);
  const entry = await pushed;
  assert.deepEqual(
    { ...entry, id: undefined },
    { id: undefined, kind: "received", amount: "5", counterparty: aliceIban, read: false },
  );
  const page = await inbox(bob, 2);
  assert.equal(page.items[0]?.id, entry.id);
});
