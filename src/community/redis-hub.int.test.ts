import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { redisSkip, startTestRedis, type TestRedis } from "../../test/support/redis.ts";
import { createHub, type Push } from "./hub.ts";
import { createRedisHub, type RedisHub } from "./redis-hub.ts";

// Subscriptions settle asynchronously (best effort, as the hub documents): tests wait for them.
async function eventually(check: () => boolean, what: string, timeoutMs = 3_000) {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

describe("community pushes across API processes (Redis pub/sub)", { skip: redisSkip("Redis hub") }, () => {
  let redis: TestRedis;
  let a: RedisHub;
  let b: RedisHub;

  before(async () => {
    redis = await startTestRedis();
    a = createRedisHub(createHub(), { url: redis.url, instanceId: "api-a" });
    b = createRedisHub(createHub(), { url: redis.url, instanceId: "api-b" });
    await Promise.all([a.ready, b.ready]);
  });
  after(async () => {
    await Promise.allSettled([a?.close(), b?.close()]);
    await redis?.stop();
  });

  test("a push sent on one process reaches the user's socket on another, once; others hear nothing", async () => {
    const onB: Push[] = [];
    const strangerOnB: Push[] = [];
    const leave = b.join("officer-1", (push) => onB.push(push));
    b.join("stranger", (push) => strangerOnB.push(push));
    await sleep(100); // the subscription is made
    assert.equal(a.send("officer-1", { type: "request", requestId: "r1" }), false, "not connected on a");
    await eventually(() => onB.length === 1, "the push on b");
    await sleep(100);
    assert.deepEqual(onB, [{ type: "request", requestId: "r1" }]);
    assert.deepEqual(strangerOnB, [], "only the user concerned");
    leave();
    await sleep(100);
    a.send("officer-1", { type: "request", requestId: "r2" });
    await sleep(200);
    assert.equal(onB.length, 1, "after the last socket left, nothing arrives");
  });

  test("a user with sockets on both processes gets each push once on each socket", async () => {
    const onA: Push[] = [];
    const onB: Push[] = [];
    a.join("citizen-1", (push) => onA.push(push));
    b.join("citizen-1", (push) => onB.push(push));
    await sleep(100);
    assert.equal(a.send("citizen-1", { type: "connection", id: "c1" }), true, "delivered here at once");
    await eventually(() => onB.length === 1, "the push on b");
    await sleep(150);
    assert.equal(onA.length, 1, "its own publication is skipped on a");
    assert.equal(onB.length, 1);
  });
});
