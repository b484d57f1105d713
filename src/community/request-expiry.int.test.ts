/**
 * Requests left unanswered on a real PostgreSQL: the timer of the process that made a request tells
 * both sides when it expires; a request whose process died is found by the sweep of the processes
 * still running, and told once however many sweep.
 */
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { after, before, test } from "node:test";
import { startTestDatabase, type TestDatabase } from "../../test/support/postgres.ts";
import { systemClock } from "../platform/clock.ts";
import { createTopicCodec } from "../platform/log/topic-codecs.ts";
import { createPostgresSchemaRegistry } from "../platform/schema-registry/postgres.ts";
import type { ConnectionRequest } from "./domain/requests.ts";
import { testRules } from "./domain/testing-rules.ts";
import { createHub, type Push } from "./hub.ts";
import { createRequestExpiry } from "./request-expiry.ts";
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

/** A pending request stored as the request decider would, expiring at `expiresAtMs`. */
async function pendingRequest(expiresAtMs: number): Promise<ConnectionRequest> {
  const request: ConnectionRequest = {
    id: randomUUID(),
    citizenId: randomUUID(),
    officerId: randomUUID(),
    kind: "virtual",
    cell: "",
    createdAtMs: expiresAtMs - testRules.requestTtlMs,
    expiresAtMs,
    status: "pending",
  };
  await store.request(request.citizenId, request.officerId, request.createdAtMs, () => ({
    kind: "requested",
    request,
  }));
  return request;
}

/** One process's hub, recording what reaches the two participants. */
function listening(request: ConnectionRequest) {
  const hub = createHub();
  const received: { to: string; push: Push }[] = [];
  for (const userId of [request.citizenId, request.officerId])
    hub.join(userId, (push) => received.push({ to: userId, push }));
  return { hub, received };
}

const expiryOn = (hub: ReturnType<typeof createHub>, timersMax = 10) =>
  createRequestExpiry({
    ...{ store, hub, clock: systemClock, sweepIntervalMs: 60_000, timersMax },
    onError: (error) => assert.fail(String(error)),
  });

test("the timer of the process that made a request tells the citizen and the officer when it expires", async () => {
  const request = await pendingRequest(Date.now() + 200);
  const { hub, received } = listening(request);
  const expiry = expiryOn(hub);
  try {
    expiry.schedule(request);
    await new Promise((resolve) => setTimeout(resolve, 600));
    assert.deepEqual(received, [
      {
        to: request.citizenId,
        push: { type: "request_expired", requestId: request.id, officerId: request.officerId },
      },
      { to: request.officerId, push: { type: "request_removed", requestId: request.id, reason: "expired" } },
    ]);
  } finally {
    expiry.stop();
  }
});

test("a request whose process died is found by the others' sweeps, and told once", async () => {
  const request = await pendingRequest(Date.now() - 1);
  const processes = [listening(request), listening(request), listening(request)];
  const expiries = processes.map(({ hub }) => expiryOn(hub, 0));
  try {
    for (const expiry of expiries) expiry.start();
    await new Promise((resolve) => setTimeout(resolve, 500));
    const told = processes.flatMap((p) => p.received).filter((r) => r.push.requestId === request.id);
    assert.deepEqual(
      told.map((r) => r.push.type),
      ["request_expired", "request_removed"],
    );
  } finally {
    for (const expiry of expiries) expiry.stop();
  }
});
