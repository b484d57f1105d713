import assert from "node:assert/strict";
import { test } from "node:test";
import { seededRandom } from "../platform/clock.ts";
import { defaultHealthOptions, GatewayHealth, TrendForecaster } from "./health.ts";

test("Holt's forecaster extrapolates a linear trend", () => {
  const f = new TrendForecaster(0.5, 0.5);
  for (let x = 0; x < 50; x++) f.observe(10 + 2 * x);
  const forecast = f.forecast(10) ?? 0;
  // The next ten values of 10 + 2x continue from 108: 128 at x = 59.
  assert.ok(Math.abs(forecast - 128) < 2, `forecast ${forecast}`);
});

test("predictive failover: a rising latency trend demotes the gateway before any call breaches the timeout", () => {
  const timeoutMs = 1_000;
  const health = new GatewayHealth();
  const random = seededRandom(11);
  let demotedAtLatency: number | undefined;
  // Latency drifts up 12 ms per call with noise, from 100 ms towards the 1 s timeout.
  for (let i = 0; i < 80; i++) {
    const latency = 100 + 12 * i + (random.next() - 0.5) * 30;
    health.record(true, latency);
    if (demotedAtLatency === undefined && health.snapshot(timeoutMs).demoted) demotedAtLatency = latency;
  }
  assert.ok(demotedAtLatency !== undefined, "demoted");
  assert.ok(demotedAtLatency < timeoutMs * 0.8, `demoted at ${demotedAtLatency} ms, before the breach`);
  assert.match(health.snapshot(timeoutMs).demotedBecause ?? "", /latency trend/);
});

test("a noisy but flat gateway is not demoted", () => {
  const health = new GatewayHealth();
  const random = seededRandom(5);
  for (let i = 0; i < 500; i++) {
    health.record(random.next() > 0.02, 200 + (random.next() - 0.5) * 200);
    assert.equal(health.snapshot(1_000).demoted, false, `call ${i}`);
  }
});

test("a rising error trend demotes before the breaker's 50% failure rate is reached", () => {
  const health = new GatewayHealth();
  const random = seededRandom(9);
  let demotedAtRate: number | undefined;
  for (let i = 0; i < 200; i++) {
    const failureRate = i / 400; // 0 → 50%
    health.record(random.next() >= failureRate, 50);
    if (demotedAtRate === undefined && health.snapshot(1_000).demoted) demotedAtRate = failureRate;
  }
  assert.ok(demotedAtRate !== undefined && demotedAtRate < 0.5, `demoted at ${demotedAtRate}`);
});

test("success rate is rolling over the window", () => {
  const health = new GatewayHealth({ ...defaultHealthOptions, windowSize: 4 });
  for (const ok of [false, false, true, true, true, true]) health.record(ok, 10);
  assert.equal(health.snapshot(100).successRate, 1);
  health.reset();
  assert.equal(health.snapshot(100).successRate, undefined);
});
