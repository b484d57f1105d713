import assert from "node:assert/strict";
import { test } from "node:test";
import { type PartitionSample, StallDetector } from "./stall-watchdog.ts";

const at = (committed: bigint | undefined, end: bigint, partition = 0): PartitionSample => ({
  groupId: "g",
  topic: "t",
  partition,
  committed,
  end,
});

test("a trailing partition without progress is stalled after stallAfterMs, reported once", () => {
  const detector = new StallDetector(1_000);
  assert.deepEqual(detector.observe(0, [at(5n, 10n)]).stalled, []);
  assert.deepEqual(detector.observe(999, [at(5n, 10n)]).stalled, []);
  const stalled = detector.observe(1_000, [at(5n, 12n)]);
  assert.deepEqual(
    stalled.stalled.map((p) => [p.partition, p.lag, p.stuckForMs]),
    [[0, 7n, 1_000]],
  );
  const again = detector.observe(5_000, [at(5n, 12n)]);
  assert.deepEqual(again.stalled, [], "reported once");
  assert.equal(again.partitions[0]?.stalled, true, "still stalled");
});

test("a partition that keeps committing is never stalled, however far it trails", () => {
  const detector = new StallDetector(1_000);
  for (let i = 0; i < 10; i++) {
    const { partitions } = detector.observe(i * 900, [at(BigInt(i), 1_000n)]);
    assert.equal(partitions[0]?.stalled, false);
  }
});

test("a caught-up partition is never stalled, and a stall ends when the offset moves", () => {
  const detector = new StallDetector(1_000);
  detector.observe(0, [at(10n, 10n)]);
  assert.equal(detector.observe(60_000, [at(10n, 10n)]).partitions[0]?.stalled, false, "idle is fine");
  // Records arrive; nobody commits: the clock runs from the last check that saw it caught up.
  assert.equal(detector.observe(60_999, [at(10n, 20n)]).partitions[0]?.stalled, false);
  assert.equal(detector.observe(61_000, [at(10n, 20n)]).stalled.length, 1);
  const resumed = detector.observe(62_000, [at(15n, 20n)]);
  assert.deepEqual(
    resumed.resumed.map((p) => p.partition),
    [0],
  );
  assert.equal(resumed.partitions[0]?.stalled, false);
});

test("a group that never committed a partition with records counts from offset 0", () => {
  const detector = new StallDetector(1_000);
  detector.observe(0, [at(undefined, 3n), at(undefined, 0n, 1)]);
  const { stalled } = detector.observe(1_000, [at(undefined, 3n), at(undefined, 0n, 1)]);
  assert.deepEqual(
    stalled.map((p) => [p.partition, p.lag]),
    [[0, 3n]],
  );
});
