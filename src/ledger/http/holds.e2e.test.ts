/**
 * Holds (two-phase transfers) for clients, over real HTTP and GraphQL (HTTP and WebSocket) against
 * the whole platform: create, post in full or in part, void, expiry, idempotency, authorization,
 * outcomes and subscriptions.
 */
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { after, before, describe, test } from "node:test";
import { type Client, createClient } from "graphql-ws";
import WebSocket from "ws";
import {
  apiClient,
  startTestPlatform,
  type TestPlatform,
  testAdmin,
} from "../../../test/support/platform.ts";

type As = ReturnType<ReturnType<typeof apiClient>["as"]>;

let tp: TestPlatform;
let api: ReturnType<typeof apiClient>;
let aliceJwt: string;
let alice: As;
let bob: As;
let mallory: As;
let aliceEur: { iban: string; token: string };
let bobEur: { iban: string; token: string };
const clients: Client[] = [];

async function openAccount(as: As) {
  const response = await as.post("/v1/accounts", { id: randomUUID(), asset: "EUR" });
  assert.equal(response.status, 201, JSON.stringify(response.body));
  return { iban: response.body.iban as string, token: response.body.token as string };
}

async function account(as: As, iban: string) {
  const response = await as.get(`/v1/accounts/${iban}`);
  assert.equal(response.status, 200);
  return { balance: response.body.balance as string, available: response.body.availableBalance as string };
}

async function hold(as: As, amount: string, extra: Record<string, unknown> = {}) {
  const id = randomUUID();
  const body = {
    id,
    from: aliceEur.iban,
    to: bobEur.iban,
    amount,
    asset: "EUR",
    timeoutMs: 60_000,
    ...extra,
  };
  const response = await as.post("/v1/holds", body);
  return { id, body, response };
}

before(async () => {
  tp = await startTestPlatform();
  api = apiClient(tp.url);
  aliceJwt = await api.signUp("alice");
  alice = api.as(aliceJwt);
  bob = api.as(await api.signUp("bob"));
  mallory = api.as(await api.signUp("mallory"));
  const admin = api.as(await api.signIn(testAdmin.username, testAdmin.password));
  aliceEur = await openAccount(alice);
  bobEur = await openAccount(bob);
  const deposit = { id: randomUUID(), type: "deposit", iban: aliceEur.iban, amount: "10000", branch: "b1" };
  assert.equal((await admin.post("/v1/operations", deposit)).status, 201);
});

after(async () => {
  for (const client of clients) await client.dispose();
  await tp?.stop();
});

describe("REST", () => {
  test("a hold reserves; a partial post moves that much and releases the rest; the hold tells", async () => {
    const before = await account(alice, aliceEur.iban);
    const created = await hold(alice, "1000", { description: "hotel deposit" });
    assert.equal(created.response.status, 201, JSON.stringify(created.response.body));
    assert.equal(created.response.body.status, "CONFIRMED");
    assert.equal(created.response.body.holdStatus, "PENDING");
    const held = await account(alice, aliceEur.iban);
    assert.equal(held.balance, before.balance);
    assert.equal(BigInt(held.available), BigInt(before.available) - 1000n);

    const view = await alice.get(`/v1/holds/${created.id}`);
    assert.equal(view.status, 200);
    assert.equal(view.body.status, "PENDING");
    assert.equal(view.body.amount, "1000");
    assert.equal(view.body.postedAmount, "0");
    assert.equal(view.body.description, "hotel deposit");
    // The credited party sees it too; a stranger gets 404 as for a missing hold.
    assert.equal((await bob.get(`/v1/holds/${created.id}`)).status, 200);
    assert.equal((await mallory.get(`/v1/holds/${created.id}`)).status, 404);

    const postId = randomUUID();
    const posted = await alice.post(`/v1/holds/${created.id}/post`, { id: postId, amount: "400" });
    assert.equal(posted.status, 201, JSON.stringify(posted.body));
    assert.deepEqual(posted.body, {
      id: postId,
      status: "CONFIRMED",
      holdId: created.id,
      holdStatus: "POSTED",
    });
    const after = await account(alice, aliceEur.iban);
    assert.equal(BigInt(after.balance), BigInt(before.balance) - 400n);
    assert.equal(after.available, after.balance, "the rest of the reservation is released");
    const finalView = await alice.get(`/v1/holds/${created.id}`);
    assert.equal(finalView.body.status, "POSTED");
    assert.equal(finalView.body.postedAmount, "400");
    assert.ok(finalView.body.completedAt);

    // The outcome is a command like any other.
    const status = await alice.get(`/v1/commands/${postId}`);
    assert.equal(status.body.status, "CONFIRMED");
    assert.equal(status.body.phase, "posted");
    // Posting again is a business rejection.
    const again = await alice.post(`/v1/holds/${created.id}/post`, { id: randomUUID() });
    assert.equal(again.status, 422);
    assert.equal(again.body.code, "pending_transfer_already_posted");
    assert.equal(again.headers.get("content-type"), "application/problem+json; charset=utf-8");
  });

  test("idempotency: same id and payload answers the first outcome; another payload is 409", async () => {
    const created = await hold(alice, "50");
    assert.equal(created.response.status, 201);
    const replay = await alice.post("/v1/holds", created.body);
    assert.equal(replay.status, 201);
    assert.equal(replay.body.id, created.id);
    const other = await alice.post("/v1/holds", { ...created.body, timeoutMs: 30_000 });
    assert.equal(other.status, 409);
    assert.equal(other.body.code, "conflict");
    // A transfer under a hold's id is another payload too.
    const { timeoutMs: _, ...transfer } = created.body;
    assert.equal((await alice.post("/v1/transfers", transfer)).status, 409);

    const voidId = randomUUID();
    const voided = await alice.post(`/v1/holds/${created.id}/void`, { id: voidId });
    assert.equal(voided.status, 201);
    assert.equal(voided.body.holdStatus, "VOIDED");
    assert.deepEqual((await alice.post(`/v1/holds/${created.id}/void`, { id: voidId })).body, voided.body);
    const reused = await alice.post(`/v1/holds/${created.id}/post`, { id: voidId });
    assert.equal(reused.status, 409);
  });

  test("without waiting: 202, then GET /v1/commands/{id} tells the outcome", async () => {
    const id = randomUUID();
    const body = { id, from: aliceEur.iban, to: bobEur.iban, amount: "5", asset: "EUR", timeoutMs: 60_000 };
    const accepted = await alice.post("/v1/holds", body, false);
    assert.equal(accepted.status, 202);
    assert.deepEqual(accepted.body, { id, status: "PENDING" });
    let status = await alice.get(`/v1/commands/${id}`);
    for (let i = 0; i < 100 && status.body.status === "PENDING"; i++) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      status = await alice.get(`/v1/commands/${id}`);
    }
    assert.equal(status.body.status, "CONFIRMED");
    assert.equal(status.body.phase, "pending");
    const voided = await alice.post(`/v1/holds/${id}/void`, { id: randomUUID() }, false);
    assert.equal(voided.status, 202);
    assert.equal(voided.body.holdId, id);
  });

  test("authorization as for transfers: the owner, or whoever has the account token", async () => {
    assert.equal((await hold(mallory, "10")).response.status, 404, "a stranger's hold on alice's account");
    const created = await hold(alice, "300");
    // Bob is credited but may not post or void without alice's token: the hold is unknown to him.
    const bobPost = await bob.post(`/v1/holds/${created.id}/post`, { id: randomUUID() });
    assert.equal(bobPost.status, 404);
    assert.equal((await mallory.post(`/v1/holds/${created.id}/void`, { id: randomUUID() })).status, 404);
    const wrongToken = await bob.post(`/v1/holds/${created.id}/post`, {
      id: randomUUID(),
      token: "x".repeat(43),
    });
    assert.equal(wrongToken.status, 422);
    assert.equal(wrongToken.body.code, "pending_transfer_not_found");
    const withToken = await bob.post(`/v1/holds/${created.id}/post`, {
      id: randomUUID(),
      amount: "300",
      token: aliceEur.token,
    });
    assert.equal(withToken.status, 201, JSON.stringify(withToken.body));
    // A token-holder's hold: mallory with alice's token may create one.
    const tokenHold = await hold(mallory, "1", { token: aliceEur.token });
    assert.equal(tokenHold.response.status, 201);
  });

  test("business rejections and bad input are problem details naming the code and field", async () => {
    const tooMuch = await hold(alice, "99999999");
    assert.equal(tooMuch.response.status, 422);
    assert.equal(tooMuch.response.body.code, "insufficient_funds");
    const created = await hold(alice, "100");
    const over = await alice.post(`/v1/holds/${created.id}/post`, { id: randomUUID(), amount: "101" });
    assert.equal(over.status, 422);
    assert.equal(over.body.code, "amount_exceeds_pending");
    assert.equal(over.body.status, "FAILED");
    const unknown = await alice.post(`/v1/holds/${randomUUID()}/post`, { id: randomUUID() });
    assert.equal(unknown.body.code, "pending_transfer_not_found");
    for (const [body, field] of [
      [{ ...created.body, id: randomUUID(), timeoutMs: 0 }, "timeoutMs"],
      [{ ...created.body, id: randomUUID(), timeoutMs: 1.5 }, "timeoutMs"],
      [{ ...created.body, id: randomUUID(), timeoutMs: 2_592_000_001 }, "timeoutMs"],
      [{ ...created.body, id: "not-a-uuid" }, "id"],
    ] as const) {
      const response = await alice.post("/v1/holds", body);
      assert.equal(response.status, 400, JSON.stringify(body));
      assert.equal(response.body.field, field);
    }
    const badAmount = await alice.post(`/v1/holds/${created.id}/post`, { id: randomUUID(), amount: "-1" });
    assert.deepEqual([badAmount.status, badAmount.body.field], [400, "amount"]);
    const extra = await alice.post(`/v1/holds/${created.id}/void`, { id: randomUUID(), amount: "1" });
    assert.equal(extra.status, 400);
    assert.equal((await alice.get("/v1/holds/nope")).status, 400);
    assert.equal((await api.call("POST", `/v1/holds/${created.id}/void`, { id: randomUUID() })).status, 401);
  });

  test("a hold not completed in time expires: the reservation is released and posting is refused", async () => {
    const created = await hold(alice, "70", { timeoutMs: 1 });
    assert.equal(created.response.status, 201);
    let view = await alice.get(`/v1/holds/${created.id}`);
    for (let i = 0; i < 100 && view.body.status === "PENDING"; i++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      view = await alice.get(`/v1/holds/${created.id}`);
    }
    assert.equal(view.body.status, "EXPIRED");
    const late = await alice.post(`/v1/holds/${created.id}/post`, { id: randomUUID() });
    assert.equal(late.body.code, "pending_transfer_expired");
  });

  test("the OpenAPI document describes the hold endpoints", async () => {
    const spec = await api.call("GET", "/openapi.json");
    for (const path of ["/v1/holds", "/v1/holds/{id}", "/v1/holds/{id}/post", "/v1/holds/{id}/void"])
      assert.ok(spec.body.paths[path], path);
  });
});

describe("GraphQL", () => {
  test("createHold, postHold in part, voidHold and the hold query answer as REST does", async () => {
    const id = randomUUID();
    const vars = { id, from: aliceEur.iban, to: bobEur.iban, amount: "200", asset: "EUR", timeoutMs: 60_000 };
    const createHold = `mutation($id: ID!, $from: String!, $to: String!, $amount: String!, $asset: String!,
      $timeoutMs: Int!) { createHold(id: $id, from: $from, to: $to, amount: $amount, asset: $asset,
      timeoutMs: $timeoutMs, waitSeconds: 10) { id status reason phase } }`;
    const created = await gql(aliceJwt, createHold, vars);
    assert.deepEqual(created.data.createHold, { id, status: "CONFIRMED", reason: null, phase: "pending" });
    assert.deepEqual((await gql(aliceJwt, createHold, vars)).data.createHold, created.data.createHold);
    const conflict = await gql(aliceJwt, createHold, { ...vars, amount: "201" });
    assert.equal(conflict.errors[0].extensions.code, "conflict");

    const postHold = `mutation($id: ID!, $holdId: ID!, $amount: String) {
      postHold(id: $id, holdId: $holdId, amount: $amount, waitSeconds: 10) { id status reason phase } }`;
    const over = await gql(aliceJwt, postHold, { id: randomUUID(), holdId: id, amount: "201" });
    assert.equal(over.data.postHold.reason, "amount_exceeds_pending");
    const posted = await gql(aliceJwt, postHold, { id: randomUUID(), holdId: id, amount: "150" });
    assert.equal(posted.data.postHold.phase, "posted");
    const view = await gql(aliceJwt, `query($id: ID!) { hold(id: $id) { status amount postedAmount } }`, {
      id,
    });
    assert.deepEqual(view.data.hold, { status: "POSTED", amount: "200", postedAmount: "150" });

    const second = randomUUID();
    await gql(aliceJwt, createHold, { ...vars, id: second });
    const voidHold = `mutation($id: ID!, $holdId: ID!) { voidHold(id: $id, holdId: $holdId, waitSeconds: 10) {
      status phase } }`;
    const voided = await gql(aliceJwt, voidHold, { id: randomUUID(), holdId: second });
    assert.deepEqual(voided.data.voidHold, { status: "CONFIRMED", phase: "voided" });
    const bad = await gql(aliceJwt, voidHold, { id: randomUUID(), holdId: "nope" });
    assert.equal(bad.errors[0].extensions.field, "holdId");
  });

  test("commandOutcome and balanceChanged subscriptions report a hold's post", async () => {
    const id = randomUUID();
    const created = await hold(alice, "25");
    assert.equal(created.response.status, 201);
    const client = createClient({
      url: `${tp.url.replace(/^http/, "ws")}/graphql`,
      webSocketImpl: WebSocket,
      connectionParams: { authorization: `Bearer ${aliceJwt}` },
      retryAttempts: 0,
    });
    clients.push(client);
    const outcome = next(client, `subscription($id: ID!) { commandOutcome(id: $id) { id status phase } }`, {
      id,
    });
    const balance = next(
      client,
      `subscription($iban: String!) { balanceChanged(iban: $iban) { commandId changedBy } }`,
      { iban: aliceEur.iban },
    );
    await new Promise((resolve) => setTimeout(resolve, 300));
    const posted = await alice.post(`/v1/holds/${created.id}/post`, { id, amount: "20" }, false);
    assert.equal(posted.status, 202);
    assert.deepEqual(await outcome, { commandOutcome: { id, status: "CONFIRMED", phase: "posted" } });
    assert.deepEqual(await balance, { balanceChanged: { commandId: id, changedBy: "-20" } });
  });
});

// biome-ignore lint/suspicious/noExplicitAny: test assertions walk arbitrary response shapes.
async function gql(token: string, query: string, variables: Record<string, unknown>): Promise<any> {
  const response = await fetch(`${tp.url}/graphql`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
    body: JSON.stringify({ query, variables }),
  });
  assert.equal(response.status, 200);
  return response.json();
}

/** The first result of a subscription. */
function next(client: Client, query: string, variables: Record<string, unknown>): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const unsubscribe = client.subscribe(
      { query, variables },
      {
        next: (result) => {
          unsubscribe();
          if (result.errors) reject(new Error(JSON.stringify(result.errors)));
          else resolve(result.data);
        },
        error: reject,
        complete: () => {},
      },
    );
  });
}
