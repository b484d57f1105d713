import assert from "node:assert/strict";
import { test } from "node:test";
import { LiveStats } from "./live-stats.ts";
import type { CommandResult } from "./notifications.ts";

const outcome = (issuedAtMs: number, reason?: string): CommandResult => ({
  commandId: "c",
  fingerprint: "f",
  status: reason ? "FAILED" : "CONFIRMED",
  ...(reason ? { reason } : {}),
  result: reason ? {} : { transferId: "c", phase: "single" },
  issuedAtMs,
  decidedAtMs: issuedAtMs,
});

test("buckets outcomes per second with latency percentiles and failure reasons", () => {
  const stats = new LiveStats(2);
  for (let i = 1; i <= 100; i++) stats.record(outcome(10_000 - i), 10_000);
  stats.record(outcome(10_500, "insufficient_funds"), 10_900);
  stats.record(outcome(11_000), 11_010);
  const [first, second] = stats.series();
  assert.equal(first?.t, 10_000);
  assert.equal(first?.transfersPerSec, 101);
  assert.equal(first?.outcomes.confirmed, 100);
  assert.deepEqual(first?.outcomes.failed, { insufficient_funds: 1 });
  assert.equal(first?.p50Ms, 51);
  assert.equal(first?.p99Ms, 100, "nearest rank: the 100th of 101 samples");
  assert.equal(second?.p99Ms, 10);
});

test("keeps only the last windowSeconds seconds", () => {
  const stats = new LiveStats(3);
  for (let s = 0; s < 10; s++) stats.record(outcome(s * 1000), s * 1000);
  assert.deepEqual(
    stats.series().map((p) => p.t),
    [7000, 8000, 9000],
  );
});
