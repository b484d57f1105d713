import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { manualClock } from "../platform/clock.ts";
import type { LimitKey } from "./login-limiter.ts";
import { createMemoryLoginLimiter } from "./login-limiter.ts";

const rules = {
  username: { failuresMax: 3, windowMs: 60_000 },
  ip: { failuresMax: 5, windowMs: 120_000 },
};
const alice: LimitKey = { scope: "username", id: "alice" };
const ip: LimitKey = { scope: "ip", id: "192.0.2.1" };

describe("memory login limiter", () => {
  test("admits failuresMax attempts per window, then reports the time left in the window", async () => {
    const clock = manualClock();
    const limiter = createMemoryLoginLimiter(clock, { rules });
    for (let i = 0; i < 3; i += 1) assert.equal(await limiter.admit([alice]), 0);
    clock.advance(10_500);
    assert.equal(await limiter.admit([alice]), 50); // 49.5 s rounded up
    clock.advance(49_500);
    assert.equal(await limiter.admit([alice]), 0);
  });

  test("a blocked key blocks the attempt and nothing is counted against the other keys", async () => {
    const clock = manualClock();
    const limiter = createMemoryLoginLimiter(clock, { rules });
    for (let i = 0; i < 3; i += 1) await limiter.admit([alice, ip]);
    for (let i = 0; i < 10; i += 1) assert.ok((await limiter.admit([alice, ip])) > 0);
    const bob: LimitKey = { scope: "username", id: "bob" };
    assert.equal(await limiter.admit([bob, ip]), 0);
    assert.equal(await limiter.admit([bob, ip]), 0);
    assert.equal(await limiter.admit([{ scope: "username", id: "carol" }, ip]), 120); // ip: 5 used
  });

  test("forgive takes an attempt back", async () => {
    const clock = manualClock();
    const limiter = createMemoryLoginLimiter(clock, { rules });
    for (let i = 0; i < 10; i += 1) {
      assert.equal(await limiter.admit([alice]), 0);
      await limiter.forgive([alice]);
    }
    await limiter.forgive([alice]); // never below zero
    for (let i = 0; i < 3; i += 1) assert.equal(await limiter.admit([alice]), 0);
    assert.ok((await limiter.admit([alice])) > 0);
  });

  test("tracks at most keysMax keys, forgetting the oldest window first", async () => {
    const clock = manualClock();
    const limiter = createMemoryLoginLimiter(clock, { rules, keysMax: 2 });
    const key = (id: string): LimitKey => ({ scope: "username", id });
    for (let i = 0; i < 3; i += 1) await limiter.admit([key("a")]);
    clock.advance(1);
    for (let i = 0; i < 3; i += 1) await limiter.admit([key("b")]);
    assert.ok((await limiter.admit([key("a")])) > 0);
    clock.advance(1);
    await limiter.admit([key("c")]); // evicts "a", the oldest window
    assert.ok((await limiter.admit([key("b")])) > 0, "b is still tracked");
    assert.equal(await limiter.admit([key("a")]), 0, "a was forgotten");
  });
});
