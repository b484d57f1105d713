import assert from "node:assert/strict";
import { test } from "node:test";
import { decideGoAvailable, decideStop, isAvailable } from "./availability.ts";
import { testRules } from "./testing-rules.ts";

test("going available opens the default 15-minute window, which closes by itself", () => {
  const decision = decideGoAvailable(testRules, "o1", 1_000, undefined);
  assert.equal(decision.kind, "available");
  if (decision.kind !== "available") return;
  assert.equal(decision.availability.untilMs, 1_000 + 15 * 60_000);
  assert.equal(isAvailable(decision.availability, 1_000 + 15 * 60_000 - 1), true);
  assert.equal(isAvailable(decision.availability, 1_000 + 15 * 60_000), false);
});

test("a window may be configured per request, up to the maximum", () => {
  const ok = decideGoAvailable(testRules, "o1", 0, 60_000);
  assert.equal(ok.kind === "available" && ok.availability.untilMs, 60_000);
  for (const windowMs of [0, -1, 1.5, testRules.availabilityWindowMsMax + 1, Number.NaN])
    assert.deepEqual(decideGoAvailable(testRules, "o1", 0, windowMs), {
      kind: "rejected",
      code: "invalid_window",
      field: "windowMs",
    });
});

test("stopping closes the window now; stopping when not available changes nothing", () => {
  const open = { officerId: "o1", sinceMs: 0, untilMs: 1_000 };
  assert.deepEqual(decideStop(open, 400), { officerId: "o1", sinceMs: 0, untilMs: 400 });
  assert.equal(isAvailable(decideStop(open, 400), 400), false);
  assert.equal(decideStop(open, 1_000), undefined);
  assert.equal(decideStop(undefined, 5), undefined);
});
