/**
 * The community store on a real PostgreSQL: decisions race safely under the pair lock (two accepts
 * of one request make one connection; two requests of one pair at once store one), and a refused
 * decision stores nothing.
 */
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { after, before, test } from "node:test";
import { startTestDatabase, type TestDatabase } from "../../test/support/postgres.ts";
import { createTopicCodec } from "../platform/log/topic-codecs.ts";
import { createPostgresSchemaRegistry } from "../platform/schema-registry/postgres.ts";
import { decideRequest, pointsFor, type RequestFacts } from "./domain/requests.ts";
import { testRules } from "./domain/testing-rules.ts";
import { connectionIdOf } from "./service.ts";
import { type CommunityStore, createCommunityStore } from "./store.ts";
import { communityTopics } from "./topics.ts";

let db: TestDatabase;
let store: CommunityStore;
before(async () => {
  db = await startTestDatabase();
  const codec = await createTopicCodec(
    createPostgresSchemaRegistry(db.pool),
    communityTopics.communityEvents,
  );
  store = createCommunityStore({ pool: db.pool, rules: testRules, codec });
});
after(() => db?.close());

const here = { point: { lat: 52.37, lon: 4.89 }, accuracyM: 5, atMs: 0 };

function ask(citizenId: string, officerId: string, nowMs: number) {
  const facts: Omit<RequestFacts, "recentRequestsCount" | "pendingRequest" | "lastPairRewardAtMs"> = {
    requestId: randomUUID(),
    citizenId,
    citizenRoles: ["citizen"],
    officerId,
    officerAvailable: true,
    virtual: false,
    citizenAt: here,
    officerAt: here,
    cell: "871969c9bffffff",
    nowMs,
  };
  return store.request(citizenId, officerId, nowMs, (stored) =>
    decideRequest(testRules, { ...facts, ...stored }),
  );
}

const count = async (table: string) =>
  Number((await db.pool.query(`SELECT count(*) AS n FROM ${table}`)).rows[0].n);

test("two requests of one pair at once: one is stored, the other is refused as pending", async () => {
  // Many pairs at once, so that without the pair lock some pair's two requests would interleave.
  const pairs = Array.from({ length: 20 }, () => [randomUUID(), randomUUID()] as const);
  const decisions = await Promise.all(
    pairs.map(([citizen, officer]) =>
      Promise.all([ask(citizen, officer, 1_000), ask(citizen, officer, 1_000)]),
    ),
  );
  for (const pair of decisions)
    assert.deepEqual(pair.map((d) => (d.kind === "rejected" ? d.code : d.kind)).sort(), [
      "request_pending",
      "requested",
    ]);
  const { rows } = await db.pool.query(
    "SELECT count(*)::int AS n FROM community_requests WHERE citizen_id = ANY($1::uuid[])",
    [pairs.map(([citizen]) => citizen)],
  );
  assert.equal(rows[0].n, pairs.length);
});

test("two accepts of one request at once make one connection, one event batch, and one trophy each", async () => {
  const [citizen, officer] = [randomUUID(), randomUUID()];
  const asked = await ask(citizen, officer, 2_000);
  assert.equal(asked.kind, "requested");
  const requestId = asked.kind === "requested" ? asked.request.id : "";
  const [connections, outbox, trophies] = [
    await count("community_connections"),
    await count("community_outbox"),
    await count("community_trophies"),
  ];
  const accept = () =>
    store.answer({
      requestId,
      officerId: officer,
      action: "accept",
      connectionIdOf,
      pointsOf: (request) => pointsFor(testRules, request.kind),
      nowMs: 3_000,
    });
  const results = await Promise.all([accept(), accept(), accept()]);
  assert.deepEqual(results.map((r) => r.decision.kind).sort(), ["accepted", "replayed", "replayed"]);
  assert.equal(results[0]?.connection?.id, connectionIdOf(requestId));
  assert.equal(results[1]?.connection?.id, connectionIdOf(requestId));
  assert.equal(await count("community_connections"), connections + 1);
  assert.equal(await count("community_outbox"), outbox + 1);
  assert.equal(await count("community_trophies"), trophies + 2, "first_connection for each");
  // Another officer answering it is refused as not found, and changes nothing.
  const stranger = await store.answer({
    requestId,
    officerId: randomUUID(),
    action: "decline",
    connectionIdOf,
    pointsOf: () => 10n,
    nowMs: 3_000,
  });
  assert.deepEqual(stranger.decision, { kind: "rejected", code: "request_not_found" });
  assert.equal(await count("community_connections"), connections + 1);
});

test("requests left unanswered are marked expired exactly once, by concurrent sweeps and timers; due ones only", async () => {
  const atMs = 10_000_000;
  await store.expireDue(atMs, 10_000); // the earlier tests' requests, long due
  const asked = [];
  for (let i = 0; i < 12; i++) asked.push(await ask(randomUUID(), randomUUID(), atMs));
  const ids = asked.map((d) => (d.kind === "requested" ? d.request.id : ""));
  const [answeredId, ...unanswered] = ids;
  await store.answer({
    ...{ requestId: answeredId as string, action: "decline", connectionIdOf, pointsOf: () => 10n },
    officerId: (asked[0] as { request: { officerId: string } }).request.officerId,
    nowMs: atMs + 1,
  });
  const dueMs = atMs + testRules.requestTtlMs;
  assert.deepEqual(await store.expireDue(dueMs - 1, 100), [], "none due a millisecond early");
  assert.equal(await store.expireRequest(unanswered[0] as string, dueMs - 1), undefined);
  const marked = await Promise.all([
    store.expireDue(dueMs, 5),
    store.expireDue(dueMs, 5),
    store.expireDue(dueMs, 5),
    ...ids.map(async (id) => [await store.expireRequest(id as string, dueMs)]),
  ]);
  const expired = marked.flat().filter((r) => r !== undefined);
  assert.deepEqual(expired.map((r) => r.id).sort(), [...unanswered].sort(), "each unanswered one, once");
  assert.ok(expired.every((r) => r.status === "expired"));
  assert.deepEqual(await store.expireDue(dueMs + 1_000, 100), [], "nothing twice");
  const { rows } = await db.pool.query("SELECT status FROM community_requests WHERE id = $1", [answeredId]);
  assert.equal(rows[0].status, "declined", "an answered request stays answered");
});

test("an accept racing the expiry: either a connection or the expiry, never both", async () => {
  const atMs = 20_000_000;
  const dueMs = atMs + testRules.requestTtlMs;
  const outcomes = await Promise.all(
    Array.from({ length: 25 }, async () => {
      const asked = await ask(randomUUID(), randomUUID(), atMs);
      if (asked.kind !== "requested") throw new Error("not requested");
      const { id, officerId } = asked.request;
      // The accept's clock says just in time; the sweep's, just due (processes' clocks differ).
      const [answer, expired] = await Promise.all([
        store.answer({
          requestId: id,
          officerId,
          action: "accept",
          connectionIdOf,
          pointsOf: () => 10n,
          nowMs: dueMs - 1,
        }),
        store.expireRequest(id, dueMs),
      ]);
      const { rows } = await db.pool.query("SELECT status FROM community_requests WHERE id = $1", [id]);
      return [answer.decision.kind, expired === undefined ? "-" : "expired", rows[0].status].join(",");
    }),
  );
  for (const outcome of outcomes)
    assert.ok(["accepted,-,accepted", "rejected,expired,expired"].includes(outcome), outcome);
});
