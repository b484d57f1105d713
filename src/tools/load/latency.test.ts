import assert from "node:assert/strict";
import { test } from "node:test";
import { isLoopbackUrl } from "./http.ts";
import { formatMs, LatencySamples } from "./latency.ts";

test("nearest-rank percentiles", () => {
  const samples = new LatencySamples();
  for (let ms = 100; ms >= 1; ms -= 1) samples.record(ms);
  assert.equal(samples.percentile(0.5), 50);
  assert.equal(samples.percentile(0.99), 99);
  assert.equal(samples.max(), 100);
  assert.equal(samples.percentile(0), 1);
});

test("no samples is NaN, negative samples count as zero, drain empties", () => {
  const samples = new LatencySamples();
  assert.ok(Number.isNaN(samples.percentile(0.5)));
  samples.record(-3);
  samples.record(7);
  const taken = samples.drain();
  assert.equal(samples.count, 0);
  assert.equal(taken.count, 2);
  assert.equal(taken.percentile(0.5), 0);
  assert.equal(formatMs(Number.NaN), "-");
  assert.equal(formatMs(3.14), "3.1");
  assert.equal(formatMs(31.4), "31");
});

test("only loopback URLs count as local", () => {
  assert.ok(isLoopbackUrl("http://localhost:8080"));
  assert.ok(isLoopbackUrl("http://127.0.0.1:1"));
  assert.ok(isLoopbackUrl("http://[::1]:8080"));
  assert.ok(!isLoopbackUrl("http://example.com"));
  assert.ok(!isLoopbackUrl("http://10.0.0.1:8080"));
  assert.ok(!isLoopbackUrl("not a url"));
});
