import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { Clock } from "../platform/clock.ts";
import { manualClock } from "../platform/clock.ts";
import type { LimitKey, LimitRules, LoginLimiter } from "./login-limiter.ts";

/**
 * The behaviour every LoginLimiter adapter must have, run against each of them (memory in the unit
 * tests, Redis in its integration tests) so the adapters cannot drift apart.
 */
export const limiterTestRules: LimitRules = {
  username: { failuresMax: 3, windowMs: 60_000 },
  ip: { failuresMax: 5, windowMs: 120_000 },
};

/** Makes a limiter with no attempts counted yet. */
export type LimiterFactory = (clock: Clock, rules: LimitRules) => Promise<LoginLimiter>;

const alice: LimitKey = { scope: "username", id: "alice" };
const ip: LimitKey = { scope: "ip", id: "192.0.2.1" };

export function describeLoginLimiterSemantics(name: string, create: LimiterFactory): void {
  describe(name, () => {
    test("admits failuresMax attempts per window, then reports the time left in the window", async () => {
      const clock = manualClock();
      const limiter = await create(clock, limiterTestRules);
      for (let i = 0; i < 3; i += 1) assert.equal(await limiter.admit([alice]), 0);
      clock.advance(10_500);
      assert.equal(await limiter.admit([alice]), 50); // 49.5 s rounded up
      clock.advance(49_500);
      assert.equal(await limiter.admit([alice]), 0);
    });

    test("a blocked key blocks the attempt and nothing is counted against the other keys", async () => {
      const clock = manualClock();
      const limiter = await create(clock, limiterTestRules);
      for (let i = 0; i < 3; i += 1) await limiter.admit([alice, ip]);
      for (let i = 0; i < 10; i += 1) assert.ok((await limiter.admit([alice, ip])) > 0);
      const bob: LimitKey = { scope: "username", id: "bob" };
      assert.equal(await limiter.admit([bob, ip]), 0);
      assert.equal(await limiter.admit([bob, ip]), 0);
      assert.equal(await limiter.admit([{ scope: "username", id: "carol" }, ip]), 120); // ip: 5 used
    });

    test("forgive takes an attempt back", async () => {
      const clock = manualClock();
      const limiter = await create(clock, limiterTestRules);
      for (let i = 0; i < 10; i += 1) {
        assert.equal(await limiter.admit([alice]), 0);
        await limiter.forgive([alice]);
      }
      await limiter.forgive([alice]); // never below zero
      for (let i = 0; i < 3; i += 1) assert.equal(await limiter.admit([alice]), 0);
      assert.ok((await limiter.admit([alice])) > 0);
    });
  });
}
