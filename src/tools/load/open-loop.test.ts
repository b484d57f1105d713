import assert from "node:assert/strict";
import { test } from "node:test";
import { startOpenLoop } from "./open-loop.ts";

const now = () => performance.now();
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

test("issues rate × duration requests, spaced by schedule and not by completion", async () => {
  const scheduled: number[] = [];
  const loop = startOpenLoop({
    ratePerSec: 200,
    durationMs: 500,
    concurrencyMax: 100,
    backlogMax: 1_000,
    nowMs: now,
    issue: async (atMs) => {
      scheduled.push(atMs);
      await sleep(50); // slower than the interval: an open loop keeps sending anyway
    },
  });
  const stats = await loop.done;
  assert.equal(stats.scheduled, 100);
  assert.equal(stats.completed, 100);
  assert.equal(stats.dropped, 0);
  const gaps = scheduled.slice(1).map((t, i) => t - (scheduled[i] as number));
  for (const gap of gaps) assert.ok(Math.abs(gap - 5) < 1e-6, `scheduled 5 ms apart, got ${gap}`);
});

test("bounds concurrency and drops the oldest when the backlog overflows", async () => {
  let inFlight = 0;
  let inFlightMax = 0;
  const loop = startOpenLoop({
    ratePerSec: 1_000,
    durationMs: 300,
    concurrencyMax: 3,
    backlogMax: 10,
    nowMs: now,
    issue: async () => {
      inFlight += 1;
      inFlightMax = Math.max(inFlightMax, inFlight);
      await sleep(100);
      inFlight -= 1;
    },
  });
  const stats = await loop.done;
  assert.equal(inFlightMax, 3);
  assert.ok(stats.dropped > 200, `most requests dropped, got ${stats.dropped}`);
  assert.equal(stats.scheduled, stats.completed + stats.dropped);
});

test("counts rejected requests as errors and still finishes", async () => {
  const loop = startOpenLoop({
    ratePerSec: 100,
    durationMs: 100,
    concurrencyMax: 10,
    backlogMax: 100,
    nowMs: now,
    issue: async (_at, index) => {
      if (index % 2 === 0) throw new Error("refused");
    },
  });
  const stats = await loop.done;
  assert.equal(stats.completed, 10);
  assert.equal(stats.errors, 5);
});

test("an abort stops scheduling", async () => {
  const controller = new AbortController();
  setTimeout(() => controller.abort(), 50);
  const loop = startOpenLoop({
    ratePerSec: 100,
    durationMs: 10_000,
    concurrencyMax: 10,
    backlogMax: 100,
    nowMs: now,
    signal: controller.signal,
    issue: async () => {},
  });
  const stats = await loop.done;
  assert.ok(stats.scheduled < 20, `stopped early, scheduled ${stats.scheduled}`);
});
