import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { manualClock } from "../platform/clock.ts";
import { describeLoginLimiterSemantics, limiterTestRules } from "./login-limiter.cases.ts";
import type { LimitKey } from "./login-limiter.ts";
import { createMemoryLoginLimiter } from "./login-limiter.ts";

describeLoginLimiterSemantics("memory login limiter", async (clock, rules) =>
  createMemoryLoginLimiter(clock, { rules }),
);

// Memory only: Redis bounds its memory by expiring each window, not by counting keys.
describe("memory login limiter key bound", () => {
  test("tracks at most keysMax keys, forgetting the oldest window first", async () => {
    const clock = manualClock();
    const limiter = createMemoryLoginLimiter(clock, { rules: limiterTestRules, keysMax: 2 });
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
