/** `ledgerflow generate`'s live progress line fits an 80-column terminal whatever the numbers. */
import assert from "node:assert/strict";
import { test } from "node:test";
import { liveLine, liveLineColumnsMax } from "./generate.ts";

test("the live line is at most 80 columns, from a quiet start to every number at its widest", () => {
  const quiet = liveLine({
    elapsedS: 1,
    offeredPerSec: 500,
    achievedPerSec: 498,
    outcomes: new Map([["confirmed", 470]]),
    p50Ms: 7.25,
    p99Ms: 41,
    inFlight: 3,
    dropped: 0,
  });
  assert.equal(quiet, "1s 498/500/s ok 470 fail 0 pend 0 p50 7.3ms p99 41.0ms fly 3");
  const widest = liveLine({
    elapsedS: 3_600,
    offeredPerSec: 20_000,
    achievedPerSec: 19_876,
    outcomes: new Map([
      ["confirmed", 71_234_567],
      ["failed:insufficient_funds", 1_234_567],
      ["failed:unknown_account", 2_345_678],
      ["network_error", 999_999],
      ["pending", 8_765_432],
    ]),
    p50Ms: 12_345,
    p99Ms: 29_999,
    inFlight: 4_096,
    dropped: 987_654,
  });
  assert.ok(widest.length <= liveLineColumnsMax, `${widest.length}: ${widest}`);
  assert.match(widest, /^3600s 20k\/20k\/s ok 71\.2M fail 4\.6M .*p50 12s p99 30s fly 4096 drop 988k$/);
});
