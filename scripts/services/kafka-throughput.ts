/**
 * Produce and consume throughput of the Kafka log adapter against a local broker (not a test).
 *   node scripts/services/kafka-throughput.ts [records=200000] [batch=500] [valueBytes=200]
 * Needs LEDGERFLOW_KAFKA_BROKERS (default 127.0.0.1:19092). Creates and deletes its own topic.
 */
import { createKafkaLog } from "../../src/platform/log/adapters/kafka.ts";

const brokers = (process.env.LEDGERFLOW_KAFKA_BROKERS ?? "127.0.0.1:19092").split(",");
const recordsTotal = Number(process.argv[2] ?? 200_000);
const batchSize = Number(process.argv[3] ?? 500);
const valueBytes = Number(process.argv[4] ?? 200);
const concurrency = 4;
const timeLimitMs = 120_000;

const log = createKafkaLog({ brokers, clientId: "throughput" });
const topic = `throughput-${Date.now()}`;
await log
  .admin()
  .createTopics([
    { name: topic, partitions: 6, replicationFactor: 1, retentionMs: 3_600_000, cleanupPolicy: "delete" },
  ]);
const value = new Uint8Array(valueBytes).fill(120);
const producer = log.producer();
let next = 0;
const produceStart = performance.now();
await Promise.all(
  Array.from({ length: concurrency }, async () => {
    while (next < recordsTotal && performance.now() - produceStart < timeLimitMs) {
      const from = next;
      next += batchSize;
      const count = Math.min(batchSize, recordsTotal - from);
      await producer.send(
        Array.from({ length: count }, (_, i) => ({ topic, key: `account-${(from + i) % 10_000}`, value })),
      );
    }
  }),
);
const produceMs = performance.now() - produceStart;

let consumed = 0;
const consumeStart = performance.now();
const consumer = log.consumer({
  groupId: `${topic}-g`,
  topics: [topic],
  batchSizeMax: batchSize,
  fetchWaitMaxMs: 100,
  startFrom: "earliest",
});
await consumer.start(
  async (records) => {
    consumed += records.length;
  },
  () => ({ stop: true }),
);
while (consumed < recordsTotal && performance.now() - consumeStart < timeLimitMs) {
  await new Promise((resolve) => setTimeout(resolve, 10));
}
const consumeMs = performance.now() - consumeStart;
await consumer.stop();
await log.admin().deleteTopics([topic]);
await log.close();

const rate = (count: number, ms: number) => Math.round((count / ms) * 1000).toLocaleString("en-US");
process.stdout.write(
  `kafka throughput: ${recordsTotal} records of ${valueBytes} B, batches of ${batchSize}, 6 partitions\n` +
    `  produce (acks=all, idempotent, ${concurrency} concurrent sends): ${rate(recordsTotal, produceMs)} records/s (${(produceMs / 1000).toFixed(1)} s)\n` +
    `  consume (group, commit per batch, incl. join): ${rate(consumed, consumeMs)} records/s (${consumed} in ${(consumeMs / 1000).toFixed(1)} s)\n`,
);
