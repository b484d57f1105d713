import assert from "node:assert/strict";
import { test } from "node:test";
import { manualClock } from "../../platform/clock.ts";
import { createTokenBucket } from "./rate-limiter.ts";

test("a bucket admits its burst, refuses with the wait until the next token, and refills with time", () => {
  const clock = manualClock();
  const bucket = createTokenBucket(clock, { requestsPerSecond: 10, burst: 3 });
  assert.deepEqual([bucket.take(), bucket.take(), bucket.take()], Array(3).fill({ allowed: true }));
  assert.deepEqual(bucket.take(), { allowed: false, retryAfterMs: 100 });
  clock.advance(40);
  assert.deepEqual(bucket.take(), { allowed: false, retryAfterMs: 60 });
  clock.advance(60);
  assert.deepEqual(bucket.take(), { allowed: true });
  clock.advance(10_000);
  const admitted = Array.from({ length: 10 }, () => bucket.take()).filter((d) => d.allowed).length;
  assert.equal(admitted, 3, "never more than the burst, however long it was idle");
});
