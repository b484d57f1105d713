import assert from "node:assert/strict";
import { test } from "node:test";
import type { LogRecord } from "./port.ts";
import { TailCache } from "./tail-cache.ts";

const records = (base: number, count: number): LogRecord[] =>
  Array.from({ length: count }, (_, i) => ({
    topic: "t",
    partition: 0,
    offset: BigInt(base + i),
    key: "k",
    value: new Uint8Array(),
    headers: {},
    timestampMs: 0,
  }));
const offsets = (rs: readonly LogRecord[] | undefined) => rs?.map((r) => Number(r.offset));

test("serves contiguous runs from the asked offset, across segments", () => {
  const cache = new TailCache(100);
  cache.add("t", 0, 0n, records(0, 3));
  cache.add("t", 0, 3n, records(3, 2));
  assert.deepEqual(offsets(cache.read("t", 0, 1n, 10)), [1, 2, 3, 4]);
  assert.deepEqual(offsets(cache.read("t", 0, 2n, 2)), [2, 3]);
  assert.equal(cache.read("t", 0, 5n, 10), undefined, "past the end");
  assert.equal(cache.read("t", 1, 0n, 10), undefined, "another partition");
});

test("stops at a gap left by an append not reported yet, and fills it when it arrives", () => {
  const cache = new TailCache(100);
  cache.add("t", 0, 0n, records(0, 2));
  cache.add("t", 0, 4n, records(4, 2));
  assert.deepEqual(offsets(cache.read("t", 0, 0n, 10)), [0, 1]);
  assert.equal(cache.read("t", 0, 2n, 10), undefined);
  cache.add("t", 0, 2n, records(2, 2));
  assert.deepEqual(offsets(cache.read("t", 0, 0n, 10)), [0, 1, 2, 3, 4, 5]);
});

test("evicts the oldest segments beyond its size and forgets deleted topics", () => {
  const cache = new TailCache(4);
  cache.add("t", 0, 0n, records(0, 3));
  cache.add("t", 0, 3n, records(3, 3));
  assert.equal(cache.read("t", 0, 0n, 10), undefined);
  assert.deepEqual(offsets(cache.read("t", 0, 3n, 10)), [3, 4, 5]);
  cache.forgetTopic("t");
  assert.equal(cache.read("t", 0, 3n, 10), undefined);
});
