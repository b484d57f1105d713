import assert from "node:assert/strict";
import { test } from "node:test";
import { seededRandom } from "../../platform/clock.ts";
import { sampleLatencyMs } from "./latency.ts";

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? Number.NaN;
}

test("a lognormal fitted to p50/p99 reproduces them", () => {
  const random = seededRandom(7);
  const distribution = { distribution: "lognormal", p50Ms: 40, p99Ms: 200, capMs: 100_000 } as const;
  const samples = Array.from({ length: 50_000 }, () => sampleLatencyMs(distribution, random)).sort(
    (a, b) => a - b,
  );
  assert.ok(Math.abs(percentile(samples, 0.5) - 40) <= 2, `p50 ${percentile(samples, 0.5)}`);
  assert.ok(Math.abs(percentile(samples, 0.99) - 200) <= 20, `p99 ${percentile(samples, 0.99)}`);
  assert.ok(samples.every((ms) => Number.isInteger(ms) && ms >= 0));
});

test("samples are clamped to the cap, which defaults to ten times p99", () => {
  const random = seededRandom(1);
  const capped = Array.from({ length: 20_000 }, () =>
    sampleLatencyMs({ distribution: "lognormal", p50Ms: 10, p99Ms: 1_000, capMs: 50 }, random),
  );
  assert.equal(Math.max(...capped), 50);
  const byDefault = Array.from({ length: 20_000 }, () =>
    sampleLatencyMs({ distribution: "lognormal", p50Ms: 1, p99Ms: 100 }, random),
  );
  assert.ok(Math.max(...byDefault) <= 1_000);
});

test("constant and zero latencies", () => {
  const random = seededRandom(3);
  assert.equal(sampleLatencyMs({ distribution: "constant", ms: 25 }, random), 25);
  assert.equal(sampleLatencyMs({ distribution: "lognormal", p50Ms: 0, p99Ms: 0 }, random), 0);
});

test("the same seed gives the same sequence, and every call uses two draws whatever the distribution", () => {
  const a = seededRandom(11);
  const b = seededRandom(11);
  sampleLatencyMs({ distribution: "constant", ms: 5 }, a);
  sampleLatencyMs({ distribution: "lognormal", p50Ms: 30, p99Ms: 90 }, b);
  const next = { distribution: "lognormal", p50Ms: 30, p99Ms: 90 } as const;
  assert.deepEqual(
    Array.from({ length: 10 }, () => sampleLatencyMs(next, a)),
    Array.from({ length: 10 }, () => sampleLatencyMs(next, b)),
  );
});
