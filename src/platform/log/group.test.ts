import assert from "node:assert/strict";
import { test } from "node:test";
import { InfrastructureError } from "../errors.ts";
import { type GroupBackend, GroupCoordinator, type OffsetCommit, realTimers } from "./group.ts";
import type { LogRecord } from "./port.ts";

/** One topic, one partition, records appended by the test; commits wait until the test opens the gate. */
function gatedBackend() {
  const records: LogRecord[] = [];
  const committed: OffsetCommit[][] = [];
  const listeners = new Set<(partition: number) => void>();
  let gate = Promise.withResolvers<void>();
  let failNext = 0;
  const backend: GroupBackend = {
    pollIntervalMs: 1_000,
    failureBackoffMs: 1,
    timers: realTimers,
    partitionCount: async () => 1,
    fetch: async (requests, recordsMax) =>
      requests.map((r) => records.slice(Number(r.fromOffset), Number(r.fromOffset) + recordsMax)),
    endOffset: async () => BigInt(records.length),
    committedOffset: async () => committed.at(-1)?.[0]?.nextOffset,
    async commit(_groupId, offsets) {
      if (offsets[0]?.nextOffset === 0n) return void committed.push([...offsets]);
      await gate.promise;
      if (failNext > 0) {
        failNext -= 1;
        throw new InfrastructureError("unavailable", "database restarting");
      }
      committed.push([...offsets]);
    },
    onAppend(_topic, listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
  return {
    backend,
    committed,
    append(value: string) {
      records.push({
        topic: "t",
        partition: 0,
        offset: BigInt(records.length),
        key: value,
        value: new TextEncoder().encode(value),
        headers: {},
        timestampMs: 0,
      });
      for (const listener of listeners) listener(0);
    },
    openGate() {
      gate.resolve();
    },
    closeGate() {
      gate = Promise.withResolvers<void>();
    },
    failNextCommits(count: number) {
      failNext = count;
    },
  };
}

async function until(condition: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 5_000;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
}

const options = {
  groupId: "g",
  topics: ["t"],
  batchSizeMax: 10,
  fetchWaitMaxMs: 50,
  startFrom: "earliest" as const,
};

test("the next batch is handled while the previous commit is still in flight; commits coalesce", async () => {
  const log = gatedBackend();
  const consumer = new GroupCoordinator(log.backend).consumer(options);
  const handled: string[] = [];
  await consumer.start(
    async (records) => {
      for (const r of records) handled.push(r.key);
    },
    () => ({ stop: true }),
  );
  log.append("a");
  await until(() => handled.length === 1, "the first batch");
  // Its commit is stuck behind the gate; the next records are handled anyway.
  log.append("b");
  await until(() => handled.length === 2, "the second batch");
  log.append("c");
  await until(() => handled.length === 3, "the third batch");
  assert.deepEqual(log.committed.length, 1, "only the start position is committed so far");
  log.openGate();
  await until(() => log.committed.at(-1)?.[0]?.nextOffset === 3n, "everything committed");
  // "a" went alone; "b" and "c", handled while it was in flight, share one commit.
  assert.deepEqual(
    log.committed.slice(1).map((c) => c.map((o) => o.nextOffset)),
    [[1n], [3n]],
  );
  await consumer.stop();
});

test("stopping waits for the last commit; a commit that fails for a while is retried", async () => {
  const log = gatedBackend();
  const consumer = new GroupCoordinator(log.backend).consumer(options);
  let handled = 0;
  await consumer.start(
    async (records) => {
      handled += records.length;
    },
    () => ({ stop: true }),
  );
  log.failNextCommits(2);
  log.openGate();
  log.append("a");
  log.append("b");
  await until(() => log.committed.at(-1)?.[0]?.nextOffset === 2n, "a commit through two failures");
  log.closeGate();
  log.append("c");
  await until(() => handled === 3, "the third record");
  const stopped = consumer.stop();
  let stopDone = false;
  void stopped.then(() => {
    stopDone = true;
  });
  await new Promise((resolve) => setTimeout(resolve, 20));
  assert.equal(stopDone, false, "stop waits for the commit in flight");
  log.openGate();
  await stopped;
  assert.equal(log.committed.at(-1)?.[0]?.nextOffset, 3n);
});
