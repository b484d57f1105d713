import assert from "node:assert/strict";
import { test } from "node:test";
import { murmur2, partitionForKey, toPositive } from "./partitioner.ts";

const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s);

// From Apache Kafka's UtilsTest.testMurmur2 (signed Java ints), plus librdkafka's rdmurmur2 vectors.
const kafkaVectors: readonly (readonly [string, number])[] = [
  ["21", -973932308],
  ["foobar", -790332482],
  ["a-little-bit-long-string", -985981536],
  ["a-little-bit-longer-string", -1486304829],
  ["lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8", -58897971],
  ["abc", 479470107],
  ["", 275646681],
  ["kafka", -798503068],
  ["1234", -1614185708],
  ["234", -406844982],
  ["34", -2026295078],
];

test("murmur2 matches Kafka's published vectors", () => {
  for (const [input, expected] of kafkaVectors) {
    assert.equal(murmur2(utf8(input)), expected, `murmur2(${JSON.stringify(input)})`);
  }
});

test("toPositive clears the sign bit, including for the most negative int", () => {
  assert.equal(toPositive(-1), 0x7fffffff);
  assert.equal(toPositive(-2147483648), 0);
  assert.equal(toPositive(123), 123);
});

test("partitionForKey is toPositive(murmur2) mod partitions, as in Kafka", () => {
  assert.equal(partitionForKey("foobar", 50), 16);
  for (const [input, hash] of kafkaVectors) {
    assert.equal(partitionForKey(input, 12), (hash & 0x7fffffff) % 12);
  }
});

test("partitionForKey hashes the UTF-8 bytes of the key", () => {
  const key = "café-€";
  assert.equal(partitionForKey(key, 1000), toPositive(murmur2(Buffer.from(key, "utf8"))) % 1000);
  assert.notEqual(murmur2(utf8(key)), murmur2(Buffer.from(key, "latin1")));
});
