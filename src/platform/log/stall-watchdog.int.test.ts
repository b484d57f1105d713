/**
 * The stall watchdog against real logs: the embedded (PostgreSQL) log always, Apache Kafka when
 * LEDGERFLOW_KAFKA_BROKERS is set (`npm run services:up`).
 */
import assert from "node:assert/strict";
import { after, test } from "node:test";
import { Registry } from "prom-client";
import { startTestDatabase, type TestDatabase } from "../../../test/support/postgres.ts";
import { createKafkaLog } from "./adapters/kafka.ts";
import { createPostgresLog } from "./adapters/postgres.ts";
import type { Log } from "./port.ts";
import { type PartitionState, startStallWatchdog } from "./stall-watchdog.ts";

const brokers = process.env.LEDGERFLOW_KAFKA_BROKERS;
const encoder = new TextEncoder();

let database: TestDatabase | undefined;
after(async () => {
  await database?.close();
});

async function waitFor(condition: () => boolean, what: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/**
 * Two groups read one topic: "stuck" hangs in its handler until released, "healthy" keeps handling
 * records sent all along. The watchdog must flag exactly the stuck group's partitions that hold
 * records (log + metric), never the healthy one, and clear the flag once the stuck group moves.
 */
async function stalledPartitionIsReported(log: Log): Promise<void> {
  const topic = `watchdog-${Date.now()}-${Math.random().toString(36).slice(2, 8)}`;
  await log
    .admin()
    .createTopics([
      { name: topic, partitions: 2, replicationFactor: 1, retentionMs: 3_600_000, cleanupPolicy: "delete" },
    ]);
  const stuckGroup = `stuck-${topic}`;
  const healthyGroup = `healthy-${topic}`;
  const release = Promise.withResolvers<void>();
  const options = { topics: [topic], batchSizeMax: 10, fetchWaitMaxMs: 50, startFrom: "earliest" as const };
  const stuck = log.consumer({ ...options, groupId: stuckGroup });
  const healthy = log.consumer({ ...options, groupId: healthyGroup });
  await stuck.start(
    () => release.promise,
    () => ({ retryAfterMs: 20 }),
  );
  await healthy.start(
    async () => {},
    () => ({ retryAfterMs: 20 }),
  );
  const registry = new Registry();
  const stalled: PartitionState[] = [];
  const resumed: PartitionState[] = [];
  const stallAfterMs = 1_500;
  const watchdog = startStallWatchdog({
    admin: log.admin(),
    groups: [
      { groupId: stuckGroup, topics: [topic] },
      { groupId: healthyGroup, topics: [topic] },
    ],
    stallAfterMs,
    checkIntervalMs: 200,
    nowMs: () => performance.now(),
    registry,
    onStalled: (p) => stalled.push(p),
    onResumed: (p) => resumed.push(p),
  });
  const send = () =>
    log
      .producer()
      .send([{ topic, key: "k", value: encoder.encode("v"), partition: 1 }])
      .catch(() => []);
  // Partition 1 keeps receiving records; partition 0 receives none.
  const feeding = setInterval(() => void send(), 100);
  try {
    await send();
    await waitFor(() => stalled.length > 0, "a stall report", stallAfterMs + 5_000);
    assert.deepEqual(
      stalled.map((p) => [p.groupId, p.topic, p.partition]),
      [[stuckGroup, topic, 1]],
      "only the stuck group's partition with records",
    );
    assert.ok((stalled[0]?.lag ?? 0n) > 0n, "with its lag");
    assert.ok((stalled[0]?.stuckForMs ?? 0) >= stallAfterMs, "not before stallAfterMs");
    const metric = await registry.getSingleMetricAsString("ledgerflow_log_partition_stalled");
    const line = (group: string, partition: number, value: number) =>
      `ledgerflow_log_partition_stalled{group="${group}",topic="${topic}",partition="${partition}"} ${value}`;
    assert.ok(metric.includes(line(stuckGroup, 1, 1)), metric);
    assert.ok(metric.includes(line(stuckGroup, 0, 0)), metric);
    assert.ok(metric.includes(line(healthyGroup, 1, 0)), metric);

    release.resolve();
    await waitFor(() => resumed.length > 0, "the stall to end", 10_000);
    assert.deepEqual(
      resumed.map((p) => [p.groupId, p.partition]),
      [[stuckGroup, 1]],
    );
    const after = await registry.getSingleMetricAsString("ledgerflow_log_partition_stalled");
    assert.ok(after.includes(line(stuckGroup, 1, 0)), after);
  } finally {
    clearInterval(feeding);
    release.resolve();
    await watchdog.stop();
    await Promise.all([stuck.stop(), healthy.stop()]);
  }
}

test("stall watchdog (embedded log): a partition trailing without progress is reported and exported", async () => {
  database = await startTestDatabase();
  const log = createPostgresLog({ pool: database.pool });
  try {
    await stalledPartitionIsReported(log);
  } finally {
    await log.close();
  }
});

test("stall watchdog (Kafka): a partition trailing without progress is reported and exported", {
  skip: brokers ? false : "LEDGERFLOW_KAFKA_BROKERS is not set (run `npm run services:up` first)",
  timeout: 60_000,
}, async () => {
  const log = createKafkaLog({
    brokers: (brokers ?? "").split(","),
    clientId: `int-watchdog-${process.pid}`,
    sessionTimeoutMs: 6_000,
  });
  try {
    await stalledPartitionIsReported(log);
  } finally {
    await log.close();
  }
});
