/**
 * The sharing store on a real PostgreSQL: two agreements racing make one share and one posting
 * per target; a posting is claimed by one poster at a time; after its lease ends (a poster died)
 * it is claimed again, and the dead claim's late outcome is ignored (the attempts count fences it).
 */
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { after, before, test } from "node:test";
import { startTestDatabase, type TestDatabase } from "../../../test/support/postgres.ts";
import { createShareStore, type ShareStore } from "./store.ts";

let db: TestDatabase;
let store: ShareStore;
before(async () => {
  db = await startTestDatabase();
  store = createShareStore(db.pool);
});
after(() => db?.close());

async function connection(): Promise<string> {
  const requestId = randomUUID();
  const id = randomUUID();
  await db.pool.query(
    `INSERT INTO community_requests (id, citizen_id, officer_id, kind, cell, created_at_ms, expires_at_ms, status, connection_id)
     VALUES ($1, $2, $3, 'virtual', '', 0, 1, 'accepted', $4)`,
    [requestId, randomUUID(), randomUUID(), id],
  );
  await db.pool.query(
    `INSERT INTO community_connections (id, request_id, officer_id, citizen_id, kind, rewarded, points_each, cell, at_ms)
     VALUES ($1, $2, $3, $4, 'virtual', true, 3, '', 0)`,
    [id, requestId, randomUUID(), randomUUID()],
  );
  return id;
}

const postings = [
  { target: "t1", targetLabel: "one.example", body: "{}" },
  { target: "t2", targetLabel: "two.example", body: "{}" },
];

test("both sides agreeing at once share it once, with one posting per target", async () => {
  const id = await connection();
  const decisions = await Promise.all([
    store.decide(id, { kind: "agree", side: "officer", nowMs: 10 }, postings),
    store.decide(id, { kind: "agree", side: "citizen", nowMs: 10 }, postings),
    store.decide(id, { kind: "agree", side: "citizen", nowMs: 11 }, postings),
  ]);
  assert.equal(decisions.filter((d) => d.kind === "changed" && d.shared).length, 1);
  const { rows } = await db.pool.query(
    "SELECT count(*)::int AS n FROM community_share_posts WHERE connection_id = $1",
    [id],
  );
  assert.equal(rows[0].n, 2);
  assert.deepEqual(
    (await store.postings(id)).map((p) => [p.target, p.status, p.attempts]),
    [
      ["one.example", "pending", 0],
      ["two.example", "pending", 0],
    ],
  );
});

test("a posting is claimed once per lease; a dead claim's late outcome is ignored", async () => {
  await db.pool.query("UPDATE community_share_posts SET status = 'delivered'");
  const id = await connection();
  await store.decide(id, { kind: "agree", side: "officer", nowMs: 100 }, postings.slice(0, 1));
  await store.decide(id, { kind: "agree", side: "citizen", nowMs: 100 }, postings.slice(0, 1));
  const [first, second] = await Promise.all([store.claimDue(100, 1_000, 10), store.claimDue(100, 1_000, 10)]);
  assert.equal((first?.length ?? 0) + (second?.length ?? 0), 1, "one poster holds it");
  assert.deepEqual(await store.claimDue(1_099, 1_000, 10), [], "not due while leased");
  const dead = [...(first ?? []), ...(second ?? [])][0];
  assert.ok(dead);
  const [again] = await store.claimDue(1_100, 1_000, 10);
  assert.equal(again?.attempts, 2, "claimed again when the lease ended");
  await store.delivered(dead, 1_200);
  assert.equal((await store.postings(id))[0]?.status, "pending", "the dead claim's outcome is ignored");
  await store.attemptFailed(again as NonNullable<typeof again>, "HTTP 500", undefined);
  assert.deepEqual(
    (await store.postings(id)).map((p) => [p.status, p.attempts, p.lastError]),
    [["failed", 2, "HTTP 500"]],
  );
  assert.deepEqual(await store.claimDue(10_000, 1_000, 10), [], "a failed posting is not retried");
});
