/**
 * Two API processes' community services on one real Redis (distributed mode), no PostgreSQL: an
 * officer moving on process A reaches a citizen connected to process B (citizens index in Redis
 * GEO, pushes through the Redis hub), once; a citizen who reconnects to process B is still checked
 * for an impossible jump against the report they made on process A (last reports in Redis).
 */
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { after, before, describe, test } from "node:test";
import { redisSkip, startTestRedis, type TestRedis } from "../../test/support/redis.ts";
import { manualClock, systemIds } from "../platform/clock.ts";
import type { Principal } from "../platform/http/auth.ts";
import { testRules, testServiceLimits } from "./domain/testing-rules.ts";
import { createRedisGeoIndex } from "./geo/adapters/redis-geo-index.ts";
import { createRedisLastReports } from "./geo/adapters/redis-last-reports.ts";
import { createHub, type Push } from "./hub.ts";
import { createRedisHub, type RedisHub } from "./redis-hub.ts";
import { CommunityError, createCommunityService } from "./service.ts";
import type { CommunityStore } from "./store.ts";

const limits = testServiceLimits;

describe("community across two processes on one Redis", { skip: redisSkip("distributed community") }, () => {
  let redis: TestRedis;
  const closers: (() => Promise<unknown>)[] = [];
  const clock = manualClock(1_800_000_000_000);
  before(async () => {
    redis = await startTestRedis();
  });
  after(async () => {
    for (const close of closers.reverse()) await close();
    await redis?.stop();
  });

  /** One API process: its hub (fanned out through Redis) and its service, on shared Redis keys. */
  async function apiProcess(name: string, prefix: string) {
    const hub: RedisHub = createRedisHub(createHub(), { url: redis.url, instanceId: name });
    await hub.ready;
    const index = createRedisGeoIndex({ url: redis.url, keyPrefix: `${prefix}geo:` });
    const citizens = createRedisGeoIndex({ url: redis.url, keyPrefix: `${prefix}citizens:` });
    const lastReports = createRedisLastReports({ url: redis.url, keyPrefix: prefix });
    const service = createCommunityService({
      rules: { ...testRules, ...limits },
      ...{ index, citizens, lastReports, hub, clock, ids: systemIds },
      store: {} as CommunityStore,
      expiry: { schedule() {}, cancel() {}, expireNow: async () => {} },
      onError: (error) => assert.fail(`nothing fails here: ${String(error)}`),
      participants: async (ids) =>
        new Map(
          ids.map((id) => [
            id,
            { userId: id, displayName: id, avatarUrl: null, agency: null, verified: false },
          ]),
        ),
    });
    closers.push(
      () => hub.close(),
      () => index.close(),
      () => citizens.close(),
      () => lastReports.close(),
    );
    return { hub, service };
  }

  const principal = (role: "officer" | "citizen"): Principal => ({
    userId: randomUUID(),
    username: role,
    roles: [role],
  });
  const here = { lat: 52.37, lon: 4.89, accuracyM: 5 };
  const south = (metres: number) => ({ ...here, lat: here.lat - metres / 111_195 });

  test("an officer moving on process A tells a citizen connected to process B, once", async () => {
    const prefix = `test:${randomUUID()}:`;
    const [a, b] = [await apiProcess("a", prefix), await apiProcess("b", prefix)];
    const officer = principal("officer");
    const citizen = principal("citizen");
    const pushes: Push[] = [];
    b.hub.join(citizen.userId, (push) => pushes.push(push));
    await new Promise((resolve) => setTimeout(resolve, 200)); // B's subscription reaches Redis
    assert.deepEqual(await b.service.reportLocation(citizen, here), { as: "citizen", officers: [] });
    await a.service.goAvailable(officer, south(400));
    for (const metres of [300, 200, 90, 60, 30]) {
      clock.advance(5_000);
      await a.service.reportLocation(officer, south(metres));
    }
    await new Promise((resolve) => setTimeout(resolve, 300));
    const told = pushes.filter((p) => p.type === "officer_nearby");
    assert.equal(told.length, 1, JSON.stringify(pushes));
    assert.equal((told[0]?.officer as { distanceM: number } | undefined)?.distanceM, 90);
    // The citizen's app closes on B: they leave the citizens index, for A too.
    await b.service.forget(citizen.userId);
    await a.service.stop(officer);
    await a.service.goAvailable(officer, south(30));
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.equal(pushes.filter((p) => p.type === "officer_nearby").length, 1, "not sharing: not told");
  });

  test("a citizen reconnecting to process B is checked against their report on process A", async () => {
    const prefix = `test:${randomUUID()}:`;
    const [a, b] = [await apiProcess("a2", prefix), await apiProcess("b2", prefix)];
    const citizen = principal("citizen");
    await a.service.reportLocation(citizen, here);
    await a.service.forget(citizen.userId); // the app closed on A
    clock.advance(10_000);
    await assert.rejects(
      b.service.reportLocation(citizen, south(50_000)),
      (error: unknown) => error instanceof CommunityError && error.code === "impossible_jump",
    );
    // Once the last report's TTL is over there is nothing to judge against.
    clock.advance(limits.lastReportTtlMs);
    assert.equal((await b.service.reportLocation(citizen, south(50_000))).as, "citizen");
  });

  test("a new window tells a citizen again, even when the old one was closed by another process", async () => {
    const prefix = `test:${randomUUID()}:`;
    const a = await apiProcess("a3", prefix);
    const officer = principal("officer");
    const citizen = principal("citizen");
    const pushes: Push[] = [];
    a.hub.join(citizen.userId, (push) => pushes.push(push));
    await a.service.reportLocation(citizen, here);
    await a.service.goAvailable(officer, { ...south(50), windowMs: 60_000 });
    assert.equal(pushes.filter((p) => p.type === "officer_nearby").length, 1);
    // The window ends (its timer, on the wall clock, has not fired here: as if another process closed it).
    clock.advance(61_000);
    await a.service.reportLocation(citizen, here);
    await a.service.goAvailable(officer, { ...south(50), windowMs: 60_000 });
    assert.equal(pushes.filter((p) => p.type === "officer_nearby").length, 2);
  });

  test("a window renewed through process B outlives the end of the one opened on process A", async () => {
    const prefix = `test:${randomUUID()}:`;
    const [a, b] = [await apiProcess("a4", prefix), await apiProcess("b4", prefix)];
    const officer = principal("officer");
    const pushes: Push[] = [];
    a.hub.join(officer.userId, (push) => pushes.push(push));
    await a.service.goAvailable(officer, { ...here, windowMs: 100 });
    await b.service.goAvailable(officer, { ...here, windowMs: 60_000 });
    await new Promise((resolve) => setTimeout(resolve, 400)); // A's timer of the first window fires
    assert.deepEqual(
      pushes.filter((p) => p.type === "availability"),
      [],
      "the officer is not told their window ended",
    );
    clock.advance(1_000); // past the first window's end
    const near = await b.service.reportLocation(principal("citizen"), south(50));
    assert.deepEqual(
      near.officers.map((o) => o.officerId),
      [officer.userId],
      "still listed",
    );
    await b.service.stop(officer);
  });
});
