import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { partitionForKey } from "./partitioner.ts";
import type { ConsumerOptions, Log, LogRecord, OutgoingRecord, TopicSpec } from "./port.ts";

/**
 * The behaviour every `Log` adapter must share, as node:test tests. Adapters call `logContract`
 * from their own test file with a harness that opens logs on one store.
 */
export interface LogContractHarness {
  /** Opens a log on the harness's store; for a durable store, a new log sees what earlier ones wrote. */
  open(): Promise<Log>;
  /** Whether a log opened later sees the records and offsets of a closed one. */
  readonly durable: boolean;
  close(): Promise<void>;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const bytes = (text: string): Uint8Array => encoder.encode(text);
const text = (value: Uint8Array): string => decoder.decode(value);

let topicCounter = 0;
function topicSpec(partitions: number, prefix = "contract"): TopicSpec {
  topicCounter += 1;
  return {
    name: `${prefix}-${topicCounter}-${Math.random().toString(36).slice(2, 8)}`,
    partitions,
    replicationFactor: 1,
    retentionMs: 7 * 24 * 3_600_000,
    cleanupPolicy: "delete",
  };
}

async function waitFor(
  condition: () => boolean | Promise<boolean>,
  what: string,
  timeoutMs = 10_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
const tpKey = (r: { topic: string; partition: number }): string => `${r.topic}/${r.partition}`;

/** What every group of contract tests uses; `log` and `harness` are set before the first test runs. */
interface ContractSuite {
  readonly name: string;
  log: Log;
  harness: LogContractHarness;
}

const consumerOptions = (groupId: string, topics: string[], extra: Partial<ConsumerOptions> = {}) => ({
  groupId,
  topics,
  batchSizeMax: 100,
  fetchWaitMaxMs: 50,
  startFrom: "earliest" as const,
  ...extra,
});
const neverFails = () => ({ stop: true as const });

export function logContract(name: string, createHarness: () => Promise<LogContractHarness>): void {
  const suite = { name } as ContractSuite;

  before(async () => {
    suite.harness = await createHarness();
    suite.log = await suite.harness.open();
  });
  after(async () => {
    await suite.log.close();
    await suite.harness.close();
  });

  producerContract(suite);
  concurrentProducersContract(suite);
  adminAndConsumerContract(suite);
  wakeAndStartContract(suite);
  groupContract(suite);
  failureContract(suite);
  durabilityContract(suite);
}

/** Appends: dense offsets, record contents, the key partitioner. */
function producerContract(suite: ContractSuite): void {
  const { name } = suite;

  test(`${name}: offsets are dense, start at 0 and keep the order of a call per partition`, async () => {
    const spec = topicSpec(1);
    await suite.log.admin().createTopics([spec]);
    const first = await suite.log.producer().send([0, 1, 2].map((i) => record(spec.name, `k${i}`, `v${i}`)));
    const second = await suite.log.producer().send([3, 4].map((i) => record(spec.name, `k${i}`, `v${i}`)));
    assert.deepEqual(
      [...first, ...second].map((p) => p.offset),
      [0n, 1n, 2n, 3n, 4n],
    );
    const read = await suite.log.read(spec.name, 0, 0n, 100);
    assert.deepEqual(
      read.map((r) => [r.offset, r.key, text(r.value)]),
      [0, 1, 2, 3, 4].map((i) => [BigInt(i), `k${i}`, `v${i}`]),
    );
    assert.deepEqual(await suite.log.read(spec.name, 0, 3n, 1).then((rs) => rs.map((r) => r.offset)), [3n]);
    assert.deepEqual(await suite.log.admin().endOffsets(spec.name), [5n]);
  });

  test(`${name}: records keep key, value, headers and get a timestamp`, async () => {
    const spec = topicSpec(1);
    await suite.log.admin().createTopics([spec]);
    const value = Uint8Array.from([0, 255, 1, 128]);
    await suite.log
      .producer()
      .send([{ topic: spec.name, key: "ключ-€", value, headers: { "trace-id": "abc", e: "" } }]);
    const [read] = await suite.log.read(spec.name, 0, 0n, 10);
    assert.ok(read);
    assert.equal(read.key, "ключ-€");
    assert.deepEqual([...read.value], [...value]);
    assert.deepEqual({ ...read.headers }, { "trace-id": "abc", e: "" });
    assert.equal(read.topic, spec.name);
    assert.equal(typeof read.timestampMs, "number");
    assert.ok(read.timestampMs > 0);
  });

  test(`${name}: a key's partition is stable and equals Kafka's murmur2 partitioner`, async () => {
    const spec = topicSpec(7);
    await suite.log.admin().createTopics([spec]);
    const keys = Array.from({ length: 50 }, (_, i) => `account-${i}`);
    const positions = await suite.log.producer().send(keys.map((k) => record(spec.name, k, "x")));
    const again = await suite.log.producer().send(keys.map((k) => record(spec.name, k, "y")));
    positions.forEach((p, i) => {
      assert.equal(p.partition, partitionForKey(keys[i] as string, 7));
      assert.equal(again[i]?.partition, p.partition);
    });
    assert.ok(new Set(positions.map((p) => p.partition)).size > 3, "keys spread over partitions");
    const explicit = await suite.log
      .producer()
      .send([{ ...record(spec.name, "account-1", "z"), partition: 6 }]);
    assert.equal(explicit[0]?.partition, 6);
  });
}

/** Producers appending at once. */
function concurrentProducersContract(suite: ContractSuite): void {
  const { name } = suite;

  test(`${name}: concurrent producers get dense, unique offsets per partition`, async () => {
    const spec = topicSpec(3);
    await suite.log.admin().createTopics([spec]);
    const callers = 40;
    const perCall = 25;
    const results = await Promise.all(
      Array.from({ length: callers }, (_, c) =>
        suite.log
          .producer()
          .send(
            Array.from({ length: perCall }, (_, i) =>
              record(spec.name, `key-${(c * 7 + i) % 11}`, `${c}:${i}`),
            ),
          ),
      ),
    );
    const byPartition = new Map<number, bigint[]>();
    for (const [c, positions] of results.entries()) {
      // Within one call, records of one partition are in increasing offset order.
      const lastOfCall = new Map<number, bigint>();
      for (const p of positions) {
        const previous = lastOfCall.get(p.partition);
        if (previous !== undefined) assert.ok(p.offset > previous, `call ${c} keeps its order`);
        lastOfCall.set(p.partition, p.offset);
        byPartition.set(p.partition, [...(byPartition.get(p.partition) ?? []), p.offset]);
      }
    }
    const ends = await suite.log.admin().endOffsets(spec.name);
    let total = 0;
    for (const [partition, offsets] of byPartition) {
      const sorted = offsets.toSorted((a, b) => (a < b ? -1 : 1));
      assert.deepEqual(
        sorted,
        sorted.map((_, i) => BigInt(i)),
        `partition ${partition} is dense`,
      );
      assert.equal(ends[partition], BigInt(offsets.length));
      total += offsets.length;
    }
    assert.equal(total, callers * perCall);
    // Every value sits at the offset the producer was told.
    for (const [c, positions] of results.entries()) {
      for (const [i, p] of positions.entries()) {
        const [stored] = await suite.log.read(spec.name, p.partition, p.offset, 1);
        assert.equal(stored && text(stored.value), `${c}:${i}`);
      }
    }
  });
}

/** Topic administration, and one consumer reading in order. */
function adminAndConsumerContract(suite: ContractSuite): void {
  const { name } = suite;

  test(`${name}: admin creates topics idempotently, lists and deletes them`, async () => {
    const spec = topicSpec(4);
    await suite.log.admin().createTopics([spec]);
    await suite.log.admin().createTopics([{ ...spec, partitions: 9 }]);
    const listed = (await suite.log.admin().listTopics()).find((t) => t.name === spec.name);
    assert.deepEqual(listed, {
      name: spec.name,
      partitions: 4,
      replicationFactor: 1,
      config: { "retention.ms": String(spec.retentionMs), "cleanup.policy": "delete" },
    });
    await suite.log.producer().send([record(spec.name, "a", "1")]);
    assert.deepEqual(await suite.log.admin().committedOffsets("nobody", spec.name), [
      undefined,
      undefined,
      undefined,
      undefined,
    ]);
    await suite.log.admin().deleteTopics([spec.name]);
    assert.equal(
      (await suite.log.admin().listTopics()).find((t) => t.name === spec.name),
      undefined,
    );
    await assert.rejects(suite.log.producer().send([record(spec.name, "a", "1")]), { code: "unknown_topic" });
    // A topic created again under the same name starts empty.
    await suite.log.admin().createTopics([spec]);
    assert.deepEqual(await suite.log.admin().endOffsets(spec.name), [0n, 0n, 0n, 0n]);
  });

  test(`${name}: a consumer gets every record in order per partition and commits after the batch`, async () => {
    const spec = topicSpec(3);
    await suite.log.admin().createTopics([spec]);
    await suite.log
      .producer()
      .send(Array.from({ length: 250 }, (_, i) => record(spec.name, `k${i % 13}`, `${i}`)));
    const seen: LogRecord[] = [];
    let largestBatch = 0;
    const consumer = suite.log.consumer(consumerOptions("g-order", [spec.name], { batchSizeMax: 40 }));
    await consumer.start(async (records) => {
      largestBatch = Math.max(largestBatch, records.length);
      seen.push(...records);
    }, neverFails);
    assert.equal(consumer.assignment().length, 3);
    await waitFor(() => seen.length >= 250, "all records");
    await consumer.stop();
    assert.equal(seen.length, 250);
    assert.ok(largestBatch <= 40, `batch of ${largestBatch} exceeds batchSizeMax`);
    for (let partition = 0; partition < 3; partition++) {
      const offsets = seen.filter((r) => r.partition === partition).map((r) => r.offset);
      assert.deepEqual(
        offsets,
        offsets.map((_, i) => BigInt(i)),
      );
    }
    assert.deepEqual(
      await suite.log.admin().committedOffsets("g-order", spec.name),
      await suite.log.admin().endOffsets(spec.name),
    );
  });
}

/** How fast an append reaches a consumer, and where a new group starts. */
function wakeAndStartContract(suite: ContractSuite): void {
  const { name } = suite;

  test(`${name}: an append wakes a waiting consumer at once`, async () => {
    const spec = topicSpec(1);
    await suite.log.admin().createTopics([spec]);
    const arrivals: number[] = [];
    const consumer = suite.log.consumer(consumerOptions("g-wake", [spec.name], { fetchWaitMaxMs: 5_000 }));
    await consumer.start(async (records) => {
      for (const _ of records) arrivals.push(Date.now());
    }, neverFails);
    await sleep(30);
    const sentAt = Date.now();
    await suite.log.producer().send([record(spec.name, "k", "v")]);
    await waitFor(() => arrivals.length === 1, "the record", 4_000);
    await consumer.stop();
    assert.ok((arrivals[0] as number) - sentAt < 1_000, `woke after ${(arrivals[0] as number) - sentAt} ms`);
  });

  test(`${name}: startFrom earliest reads history, latest only what comes after joining`, async () => {
    const spec = topicSpec(2);
    await suite.log.admin().createTopics([spec]);
    await suite.log
      .producer()
      .send(Array.from({ length: 10 }, (_, i) => record(spec.name, `k${i}`, `old-${i}`)));
    const earliest: string[] = [];
    const latest: string[] = [];
    const fromEarliest = suite.log.consumer(
      consumerOptions("g-earliest", [spec.name], { startFrom: "earliest" }),
    );
    const fromLatest = suite.log.consumer(consumerOptions("g-latest", [spec.name], { startFrom: "latest" }));
    await fromEarliest.start(async (rs) => void earliest.push(...rs.map((r) => text(r.value))), neverFails);
    await fromLatest.start(async (rs) => void latest.push(...rs.map((r) => text(r.value))), neverFails);
    await suite.log
      .producer()
      .send(Array.from({ length: 4 }, (_, i) => record(spec.name, `k${i}`, `new-${i}`)));
    await waitFor(() => earliest.length === 14 && latest.length === 4, "both groups");
    await Promise.all([fromEarliest.stop(), fromLatest.stop()]);
    assert.deepEqual(latest.toSorted(), ["new-0", "new-1", "new-2", "new-3"]);
    // A committed offset wins over startFrom.
    await suite.log.producer().send([record(spec.name, "k0", "newer")]);
    const rejoined = suite.log.consumer(consumerOptions("g-latest", [spec.name], { startFrom: "earliest" }));
    const afterRejoin: string[] = [];
    await rejoined.start(async (rs) => void afterRejoin.push(...rs.map((r) => text(r.value))), neverFails);
    await waitFor(() => afterRejoin.length >= 1, "the newer record");
    await sleep(30);
    await rejoined.stop();
    assert.deepEqual(afterRejoin, ["newer"]);
  });
}

/** Consumer groups sharing partitions across a rebalance. */
function groupContract(suite: ContractSuite): void {
  const { name } = suite;

  test(`${name}: a group shares partitions and rebalances without losing or doubling records`, async () => {
    const spec = topicSpec(6);
    await suite.log.admin().createTopics([spec]);
    const handled = new Map<string, number>();
    const busy = new Set<string>();
    let overlaps = 0;
    const member = (id: string) => {
      const consumer = suite.log.consumer(consumerOptions("g-share", [spec.name], { batchSizeMax: 7 }));
      const start = () =>
        consumer.start(async (records) => {
          const partitions = new Set(records.map(tpKey));
          for (const p of partitions) {
            if (busy.has(p)) overlaps += 1;
            busy.add(p);
          }
          await sleep(2);
          for (const r of records) {
            const key = `${r.partition}:${r.offset}`;
            handled.set(key, (handled.get(key) ?? 0) + 1);
          }
          for (const p of partitions) busy.delete(p);
        }, neverFails);
      return { id, consumer, start };
    };
    let produced = 0;
    const produce = async (count: number) => {
      const batch = Array.from({ length: count }, (_, i) => record(spec.name, `key-${produced + i}`, "v"));
      produced += count;
      await suite.log.producer().send(batch);
    };
    const a = member("a");
    const b = member("b");
    const c = member("c");
    await produce(120);
    await a.start();
    assert.equal(a.consumer.assignment().length, 6);
    await produce(120);
    await b.start();
    await produce(120);
    assert.equal(a.consumer.assignment().length + b.consumer.assignment().length, 6);
    await c.start();
    await produce(120);
    await waitFor(
      () => [a, b, c].every((m) => m.consumer.assignment().length === 2),
      "an even spread over three members",
    );
    const owned = [a, b, c].flatMap((m) => m.consumer.assignment().map(tpKey));
    assert.equal(new Set(owned).size, 6, "each partition has one owner");
    await a.consumer.stop();
    await produce(120);
    await waitFor(
      () => b.consumer.assignment().length + c.consumer.assignment().length === 6,
      "a's partitions",
    );
    await produce(120);
    await waitFor(() => handled.size === produced, "every record");
    await Promise.all([b.consumer.stop(), c.consumer.stop()]);
    assert.equal(overlaps, 0, "no partition was handled by two members at once");
    const doubles = [...handled].filter(([, count]) => count > 1);
    assert.deepEqual(doubles, [], "no record was handled twice");
    assert.equal(handled.size, produced);
    assert.deepEqual(
      await suite.log.admin().committedOffsets("g-share", spec.name),
      await suite.log.admin().endOffsets(spec.name),
    );
  });
}

/** Failed batches: redelivery after backoff, stopping without committing. */
function failureContract(suite: ContractSuite): void {
  const { name } = suite;

  test(`${name}: a failed batch is redelivered after the backoff and nothing is committed before`, async () => {
    const spec = topicSpec(1);
    await suite.log.admin().createTopics([spec]);
    await suite.log.producer().send([1, 2, 3].map((i) => record(spec.name, "k", `${i}`)));
    const deliveries: string[][] = [];
    const attempts: number[] = [];
    let committedDuringRetry: readonly (bigint | undefined)[] = [];
    const consumer = suite.log.consumer(consumerOptions("g-retry", [spec.name]));
    await consumer.start(
      async (records) => {
        deliveries.push(records.map((r) => text(r.value)));
        if (deliveries.length === 2)
          committedDuringRetry = await suite.log.admin().committedOffsets("g-retry", spec.name);
        if (deliveries.length < 3) throw new Error("transient");
      },
      (_error, attempt) => {
        attempts.push(attempt);
        return { retryAfterMs: 20 };
      },
    );
    await waitFor(() => deliveries.length >= 3, "a successful delivery");
    await waitFor(
      async () => (await suite.log.admin().committedOffsets("g-retry", spec.name))[0] === 3n,
      "the commit",
    );
    await consumer.stop();
    assert.deepEqual(deliveries, [
      ["1", "2", "3"],
      ["1", "2", "3"],
      ["1", "2", "3"],
    ]);
    assert.deepEqual(attempts, [1, 2]);
    assert.deepEqual(committedDuringRetry, [0n]);
  });

  test(`${name}: stopping on error commits nothing and leaves the group`, async () => {
    const spec = topicSpec(1);
    await suite.log.admin().createTopics([spec]);
    await suite.log.producer().send([record(spec.name, "k", "poison")]);
    let calls = 0;
    const consumer = suite.log.consumer(consumerOptions("g-stop", [spec.name]));
    await consumer.start(
      async () => {
        calls += 1;
        throw new Error("broken");
      },
      () => ({ stop: true }),
    );
    await waitFor(() => calls === 1 && consumer.assignment().length === 0, "the consumer to stop");
    await consumer.stop();
    await sleep(50);
    assert.equal(calls, 1);
    assert.deepEqual(await suite.log.admin().committedOffsets("g-stop", spec.name), [0n]);
    // Another member of the group gets the record again.
    const next = suite.log.consumer(consumerOptions("g-stop", [spec.name]));
    const values: string[] = [];
    await next.start(async (records) => void values.push(...records.map((r) => text(r.value))), neverFails);
    await waitFor(() => values.length === 1, "redelivery to the next member");
    await next.stop();
    assert.deepEqual(values, ["poison"]);
  });
}

/** What survives closing and reopening the log. */
function durabilityContract(suite: ContractSuite): void {
  const { name } = suite;

  test(`${name}: records and committed offsets survive closing and reopening the log`, async (t) => {
    if (!suite.harness.durable) {
      t.skip("adapter is not durable");
      return;
    }
    const spec = topicSpec(2);
    const first = await suite.harness.open();
    await first.admin().createTopics([spec]);
    await first.producer().send(Array.from({ length: 20 }, (_, i) => record(spec.name, `k${i}`, `${i}`)));
    const handledBefore: string[] = [];
    const consumer = first.consumer(consumerOptions("g-durable", [spec.name], { batchSizeMax: 5 }));
    await consumer.start(async (rs) => {
      handledBefore.push(...rs.map((r) => text(r.value)));
    }, neverFails);
    await waitFor(() => handledBefore.length === 20, "the first twenty records");
    await consumer.stop();
    await first.close();

    const second = await suite.harness.open();
    try {
      assert.deepEqual(
        await second.admin().committedOffsets("g-durable", spec.name),
        await second.admin().endOffsets(spec.name),
      );
      const stored = [
        ...(await second.read(spec.name, 0, 0n, 100)),
        ...(await second.read(spec.name, 1, 0n, 100)),
      ];
      assert.deepEqual(stored.map((r) => text(r.value)).toSorted(), handledBefore.toSorted());
      await second.producer().send([record(spec.name, "k0", "after-restart")]);
      const handledAfter: string[] = [];
      const resumed = second.consumer(consumerOptions("g-durable", [spec.name]));
      await resumed.start(async (rs) => void handledAfter.push(...rs.map((r) => text(r.value))), neverFails);
      await waitFor(() => handledAfter.length >= 1, "the record sent after the restart");
      await sleep(30);
      await resumed.stop();
      assert.deepEqual(handledAfter, ["after-restart"]);
    } finally {
      await second.close();
    }
  });
}

function record(topic: string, key: string, value: string): OutgoingRecord {
  return { topic, key, value: bytes(value) };
}
