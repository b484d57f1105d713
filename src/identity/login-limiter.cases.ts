import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { Clock } from "../platform/clock.ts";
import { manualClock } from "../platform/clock.ts";
import type { LimitKey, LimitRules, LoginLimiter } from "./login-limiter.ts";
import { loginLimitKeys } from "./login-limiter.ts";

/**
 * The behaviour every LoginLimiter adapter must have, run against each of them (memory in the unit
 * tests, Redis in its integration tests) so the adapters cannot drift apart.
 */
export const limiterTestRules: LimitRules = {
  client: { kind: "block", attemptsMax: 5, windowMs: 120_000 },
  userClient: { kind: "block", attemptsMax: 3, windowMs: 60_000 },
  username: {
    kind: "delay",
    attemptsUndelayedMax: 4,
    delayBaseMs: 1_000,
    delayMaxMs: 5_000,
    windowMs: 600_000,
  },
  device: { kind: "block", attemptsMax: 3, windowMs: 60_000 },
  registration: { kind: "block", attemptsMax: 2, windowMs: 3_600_000 },
};

/** Makes a limiter with no attempts counted yet. */
export type LimiterFactory = (clock: Clock, rules: LimitRules) => Promise<LoginLimiter>;

const alice: LimitKey = { scope: "userClient", id: "alice@192.0.2.1" };
const ip: LimitKey = { scope: "client", id: "192.0.2.1" };
const aliceEverywhere: LimitKey = { scope: "username", id: "alice" };

async function admitted(limiter: LoginLimiter, keys: readonly LimitKey[], times: number): Promise<number> {
  let admittedCount = 0;
  for (let i = 0; i < times; i += 1) if ((await limiter.admit(keys)) === 0) admittedCount += 1;
  return admittedCount;
}

export function describeLoginLimiterSemantics(name: string, create: LimiterFactory): void {
  describe(name, () => {
    test("block: admits attemptsMax attempts per window, then reports the time left in the window", async () => {
      const clock = manualClock();
      const limiter = await create(clock, limiterTestRules);
      for (let i = 0; i < 3; i += 1) assert.equal(await limiter.admit([alice]), 0);
      clock.advance(10_500);
      assert.equal(await limiter.admit([alice]), 50); // 49.5 s rounded up
      clock.advance(49_500);
      assert.equal(await limiter.admit([alice]), 0);
    });

    test("a refusing key refuses the attempt and nothing is counted against the other keys", async () => {
      const clock = manualClock();
      const limiter = await create(clock, limiterTestRules);
      for (let i = 0; i < 3; i += 1) await limiter.admit([alice, ip]);
      for (let i = 0; i < 10; i += 1) assert.ok((await limiter.admit([alice, ip])) > 0);
      const bob: LimitKey = { scope: "userClient", id: "bob@192.0.2.1" };
      assert.equal(await limiter.admit([bob, ip]), 0);
      assert.equal(await limiter.admit([bob, ip]), 0);
      assert.equal(await limiter.admit([{ scope: "userClient", id: "carol" }, ip]), 120); // ip: 5 used
    });

    test("forgive takes an attempt back, never below zero", async () => {
      const clock = manualClock();
      const limiter = await create(clock, limiterTestRules);
      for (let i = 0; i < 10; i += 1) {
        assert.equal(await limiter.admit([alice]), 0);
        await limiter.forgive([alice]);
      }
      await limiter.forgive([alice]);
      for (let i = 0; i < 3; i += 1) assert.equal(await limiter.admit([alice]), 0);
      assert.ok((await limiter.admit([alice])) > 0);
    });

    test("delay: free attempts, then a wait that doubles up to its maximum, never a block", async () => {
      const clock = manualClock();
      const limiter = await create(clock, limiterTestRules);
      for (let i = 0; i < 4; i += 1) assert.equal(await limiter.admit([aliceEverywhere]), 0);
      // 4 used: the 5th waits 1 s after the 4th, the 6th 2 s after the 5th, then 4 s, then 5 s (max).
      for (const delayMs of [1_000, 2_000, 4_000, 5_000, 5_000]) {
        assert.equal(await limiter.admit([aliceEverywhere]), Math.ceil(delayMs / 1000));
        clock.advance(delayMs - 1);
        assert.ok((await limiter.admit([aliceEverywhere])) > 0, `still waiting at ${delayMs - 1} ms`);
        clock.advance(1);
        assert.equal(await limiter.admit([aliceEverywhere]), 0, `admitted after ${delayMs} ms`);
      }
    });

    test("delay: forgiven attempts shorten it; quiet for windowMs resets it", async () => {
      const clock = manualClock();
      const limiter = await create(clock, limiterTestRules);
      for (let i = 0; i < 6; i += 1) {
        await limiter.admit([aliceEverywhere]);
        clock.advance(10_000);
      }
      await limiter.forgive([aliceEverywhere]); // 5 left: the next waits 2 s after the last attempt
      assert.equal(await limiter.admit([aliceEverywhere]), 0);
      assert.equal(await limiter.admit([aliceEverywhere]), 4); // 6 again: 4 s
      clock.advance(600_000);
      assert.equal(await admitted(limiter, [aliceEverywhere], 4), 4);
    });

    test("1000 attempts from one client at one username count only until that pair blocks", async () => {
      const clock = manualClock();
      const limiter = await create(clock, limiterTestRules);
      const fromA = loginLimitKeys({ username: "alice", client: "198.51.100.1" });
      assert.equal(await admitted(limiter, fromA, 1000), 3);
      // The username has 3 attempts (below 4): another client is not even slowed down.
      assert.equal(await limiter.admit(loginLimitKeys({ username: "alice", client: "203.0.113.7" })), 0);
      // A trusted device is counted on its own cookie only, even at the attacker's address.
      const device = loginLimitKeys({ username: "alice", client: "198.51.100.1", deviceId: "d1" });
      assert.equal(await admitted(limiter, device, 5), 3);
      assert.ok((await limiter.admit(device)) > 0, "the device cookie locks out on its own");
      // The username now has its 4 free attempts used: the next untrusted client is slowed, not blocked.
      const fromC = loginLimitKeys({ username: "alice", client: "203.0.113.8" });
      assert.equal(await limiter.admit(fromC), 1);
      clock.advance(1_000);
      assert.equal(await limiter.admit(fromC), 0);
    });

    test("keys of different scopes with the same id are separate", async () => {
      const clock = manualClock();
      const limiter = await create(clock, limiterTestRules);
      const registration: LimitKey = { scope: "registration", id: "192.0.2.1" };
      assert.equal(await admitted(limiter, [registration], 5), 2);
      assert.equal(await limiter.admit([ip]), 0);
    });
  });
}
