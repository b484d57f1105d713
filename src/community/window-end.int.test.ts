/**
 * An officer's window ends on a timer, where no caller waits for the result. With Redis gone at that
 * moment, closing it fails: that failure is reported and the process carries on. (The timer's
 * promise was dropped before: its rejection was unhandled, which ends a Node process.)
 */
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { after, before, describe, test } from "node:test";
import { redisSkip, startTestRedis, type TestRedis } from "../../test/support/redis.ts";
import { systemClock, systemIds } from "../platform/clock.ts";
import { UnavailableError } from "../platform/errors.ts";
import type { Principal } from "../platform/http/auth.ts";
import { testRules, testServiceLimits } from "./domain/testing-rules.ts";
import { createRedisGeoIndex } from "./geo/adapters/redis-geo-index.ts";
import { createRedisLastReports } from "./geo/adapters/redis-last-reports.ts";
import { createHub } from "./hub.ts";
import { createCommunityService } from "./service.ts";
import type { CommunityStore } from "./store.ts";

const limits = testServiceLimits;

describe("an officer's window ending while Redis is down", { skip: redisSkip("window end") }, () => {
  let redis: TestRedis;
  const closers: (() => Promise<unknown>)[] = [];
  const unhandled: unknown[] = [];
  const onUnhandled = (reason: unknown) => unhandled.push(reason);
  before(async () => {
    redis = await startTestRedis();
    process.on("unhandledRejection", onUnhandled);
  });
  after(async () => {
    process.off("unhandledRejection", onUnhandled);
    await Promise.allSettled(closers.map((close) => close()));
    await redis?.stop().catch(() => {});
  });

  test("the failure is reported, nothing is left unhandled", async () => {
    const prefix = `test:${randomUUID()}:`;
    const options = { url: redis.url, commandTimeoutMs: 300, connectTimeoutMs: 200 };
    const index = createRedisGeoIndex({ ...options, keyPrefix: `${prefix}geo:` });
    const citizens = createRedisGeoIndex({ ...options, keyPrefix: `${prefix}citizens:` });
    const lastReports = createRedisLastReports({ ...options, keyPrefix: prefix });
    closers.push(
      () => index.close(),
      () => citizens.close(),
      () => lastReports.close(),
    );
    const reported: unknown[] = [];
    const service = createCommunityService({
      rules: { ...testRules, ...limits },
      ...{ index, citizens, lastReports, hub: createHub(), clock: systemClock, ids: systemIds },
      store: {} as CommunityStore,
      expiry: { schedule() {}, cancel() {}, expireNow: async () => {} },
      participants: async () => new Map(),
      onError: (error) => reported.push(error),
    });
    const officer: Principal = { userId: randomUUID(), username: "officer", roles: ["officer"] };
    await service.goAvailable(officer, { lat: 52.37, lon: 4.89, accuracyM: 5, windowMs: 300 });
    await redis.stop();
    const deadlineMs = Date.now() + 5_000;
    while (reported.length === 0 && unhandled.length === 0 && Date.now() < deadlineMs)
      await new Promise((resolve) => setTimeout(resolve, 50));
    assert.deepEqual(unhandled, [], "no rejection left unhandled");
    assert.equal(reported.length, 1, "the failed close is reported once");
    assert.ok(reported[0] instanceof UnavailableError, String(reported[0]));
    service.close();
  });
});
