import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { manualClock } from "../platform/clock.ts";
import { describeLoginLimiterSemantics, limiterTestRules } from "./login-limiter.cases.ts";
import type { LimitKey } from "./login-limiter.ts";
import {
  createMemoryLoginLimiter,
  defaultLimitRules,
  loginLimitKeys,
  requiredDelayMs,
} from "./login-limiter.ts";

describeLoginLimiterSemantics("memory login limiter", async (clock, rules) =>
  createMemoryLoginLimiter(clock, { rules }),
);

// Memory only: Redis bounds its memory by expiring each window, not by counting keys.
describe("memory login limiter key bound", () => {
  test("tracks at most keysMax keys, forgetting the one touched longest ago first", async () => {
    const clock = manualClock();
    const limiter = createMemoryLoginLimiter(clock, { rules: limiterTestRules, keysMax: 2 });
    const key = (id: string): LimitKey => ({ scope: "userClient", id });
    for (let i = 0; i < 3; i += 1) await limiter.admit([key("a")]);
    clock.advance(1);
    for (let i = 0; i < 3; i += 1) await limiter.admit([key("b")]);
    assert.ok((await limiter.admit([key("a")])) > 0);
    clock.advance(1);
    await limiter.admit([key("c")]); // evicts "a", the oldest
    assert.ok((await limiter.admit([key("b")])) > 0, "b is still tracked");
    assert.equal(await limiter.admit([key("a")]), 0, "a was forgotten");
  });
});

describe("login limit policy", () => {
  test("untrusted attempts count per client, per (username, client) and per username", () => {
    assert.deepEqual(loginLimitKeys({ username: "a b", client: "c" }), [
      { scope: "client", id: "c" },
      { scope: "userClient", id: "3:a b:c" },
      { scope: "username", id: "a b" },
    ]);
    // Length-prefixed, so no two (username, client) pairs share a key.
    assert.notDeepEqual(
      loginLimitKeys({ username: "a", client: "b:c" })[1],
      loginLimitKeys({ username: "a:b", client: "c" })[1],
    );
  });

  test("a trusted device counts only against its own cookie", () => {
    assert.deepEqual(loginLimitKeys({ username: "alice", client: "192.0.2.1", deviceId: "n1" }), [
      { scope: "device", id: "n1" },
    ]);
  });

  test("the default username delay never blocks for longer than a minute", () => {
    const rule = defaultLimitRules.username;
    assert.ok(rule.kind === "delay");
    assert.equal(requiredDelayMs(rule, 9), 0);
    assert.equal(requiredDelayMs(rule, 10), 1_000);
    assert.equal(requiredDelayMs(rule, 13), 8_000);
    assert.equal(requiredDelayMs(rule, 1_000_000), 60_000);
  });
});
