/**
 * The log port on Apache Kafka, with `@platformatic/kafka` (pure TypeScript client).
 *
 * - Producer: idempotent, acks=all. The partition of a keyed record is computed here with Kafka's
 *   murmur2 (partitioner.ts) from the topic's partition count, so the same key lands on the same
 *   partition as with the Java client and the embedded adapters (the client's own default hashes
 *   with `>>> 0` instead of Java's `& 0x7fffffff` and differs for negative hashes); it also tells us
 *   each record's offset (base offset of its partition + its index there).
 * - Consumer: classic consumer-group protocol; one long-lived fetch stream per member (re-creating a
 *   stream re-joins the group, which would rebalance every member). Offsets are committed by hand
 *   after `eachBatch` resolves, only for partitions still owned.
 *   Ordering and no-loss across rebalances rest on a per-partition position we keep ourselves
 *   (`#next`: the offset of the next record to queue). When a partition becomes ours (a join, or a
 *   cooperative revoke round that hands over a departed member's partitions) its position is the
 *   group's committed offset, read by us; until then its records are dropped. We queue only the
 *   record at the position: below it is a repeat (the stream rewinds to the committed offset after
 *   every rebalance); above it is a gap, and the stream is sent back to the position. Gaps happen:
 *   a fetch issued before a rebalance can answer after the stream's own rewind and move its fetch
 *   offset past records this member never queued (found by the fault test: a few hundred commands
 *   of a partition handed over in a revoke round were skipped). Records of partitions no longer
 *   owned are dropped and read by their new owner from the committed offset.
 * - `read()` is a group-less fetch from the partition leader.
 *
 * Files: this one wires the clients; kafka-producer.ts (coalescing producer), kafka-consumer.ts
 * (group member), kafka-admin.ts (topics, offsets, reads), kafka-codec.ts (conversions).
 */
import {
  Admin,
  type Consumer as KafkaConsumer,
  Consumer as KafkaConsumerClient,
  Producer as KafkaProducer,
} from "@platformatic/kafka";
import type { Log } from "../port.ts";
import { kafkaLogAdmin, readPartition } from "./kafka-admin.ts";
import { KafkaGroupConsumer } from "./kafka-consumer.ts";
import { LingerProducer, type ProduceSample } from "./kafka-producer.ts";

export interface KafkaLogOptions {
  /** `host:port` of one or more brokers. */
  readonly brokers: readonly string[];
  readonly clientId: string;
  /** A member that misses heartbeats this long is removed from its group (partitions move). */
  readonly sessionTimeoutMs?: number;
  readonly heartbeatIntervalMs?: number;
  /** Longest a rebalance waits for members to rejoin. */
  readonly rebalanceTimeoutMs?: number;
  /** Per-request timeout of the client. */
  readonly requestTimeoutMs?: number;
  /** Client-level retries of a failed request (connection loss, leader change) before it throws. */
  readonly retriesMax?: number;
  readonly retryDelayMs?: number;
  /** Records a consumer buffers ahead of its handler before it stops fetching. */
  readonly prefetchRecordsMax?: number;
  /**
   * How long an idle producer waits for more sends before it sends a request (Kafka's linger.ms).
   * While a request is in flight, sends collect anyway and leave as soon as it is acknowledged.
   */
  readonly lingerMs?: number;
  /** Largest produce request built from queued sends (one larger send still goes, alone). */
  readonly produceBytesMax?: number;
  /** Told about every produce request, for the benchmark and diagnostics. */
  readonly onProduce?: (sample: ProduceSample) => void;
  /** Told when a consumer repairs its position (a skipped range re-read), for logs. */
  readonly onConsumerWarning?: (message: string, details: Readonly<Record<string, string>>) => void;
  /**
   * Awaited before each lookup of the positions of newly owned partitions (the group's committed
   * offsets). For tests that place a group event (a member expelled) at that moment; none by default.
   */
  readonly beforePositionLookup?: (groupId: string) => Promise<void>;
}

export type { ProduceSample } from "./kafka-producer.ts";

const defaults = {
  sessionTimeoutMs: 10_000,
  heartbeatIntervalMs: 1_000,
  rebalanceTimeoutMs: 15_000,
  requestTimeoutMs: 10_000,
  retriesMax: 10,
  retryDelayMs: 500,
  prefetchRecordsMax: 5_000,
  lingerMs: 1,
  // Below the broker's default message.max.bytes (1 MiB per partition batch) even if all in one partition.
  produceBytesMax: 900 * 1024,
};

export function createKafkaLog(options: KafkaLogOptions): Log {
  const settings = { ...defaults, ...options };
  const base = {
    bootstrapBrokers: [...options.brokers],
    timeout: settings.requestTimeoutMs,
    retries: settings.retriesMax,
    retryDelay: settings.retryDelayMs,
  };
  const clients = kafkaClients(base, options.clientId);
  const { admin, reader } = clients;
  const consumers = new Set<KafkaGroupConsumer>();
  const producer = new LingerProducer({
    lingerMs: settings.lingerMs,
    produceBytesMax: settings.produceBytesMax,
    onProduce: options.onProduce,
    admin,
    client: clients.producer,
  });
  const logAdmin = kafkaLogAdmin(admin, reader);

  return {
    kind: "kafka",
    producer: () => producer,
    consumer(consumerOptions) {
      const consumer = new KafkaGroupConsumer(consumerOptions, {
        ...base,
        clientId: `${options.clientId}-${consumerOptions.groupId}`,
        sessionTimeoutMs: settings.sessionTimeoutMs,
        heartbeatIntervalMs: settings.heartbeatIntervalMs,
        rebalanceTimeoutMs: settings.rebalanceTimeoutMs,
        prefetchRecordsMax: settings.prefetchRecordsMax,
        onClosed: () => consumers.delete(consumer),
        onWarning: options.onConsumerWarning ?? (() => {}),
        beforePositionLookup: options.beforePositionLookup ?? (() => Promise.resolve()),
      });
      consumers.add(consumer);
      return consumer;
    },
    admin: () => logAdmin,
    read: (topic, partition, fromOffset, limit) => readPartition(reader, topic, partition, fromOffset, limit),
    async close() {
      await Promise.allSettled([...consumers].map((consumer) => consumer.stop()));
      await producer.drain();
      await clients.close();
    },
  };
}

type ClientBase = { bootstrapBrokers: string[]; timeout: number; retries: number; retryDelay: number };

/** The adapter's Kafka clients, each created on first use. */
function kafkaClients(base: ClientBase, clientId: string) {
  let producerClient: KafkaProducer | undefined;
  let adminClient: Admin | undefined;
  let readerClient: KafkaConsumer | undefined;
  return {
    admin: (): Admin => {
      adminClient ??= new Admin({ ...base, clientId: `${clientId}-admin` });
      return adminClient;
    },
    // A consumer client that never joins its group: metadata, offsets and group-less fetches.
    reader: (): KafkaConsumer => {
      readerClient ??= new KafkaConsumerClient({
        ...base,
        clientId: `${clientId}-reader`,
        groupId: `${clientId}-reader-unused`,
        autocommit: false,
      });
      return readerClient;
    },
    producer: (): KafkaProducer => {
      producerClient ??= new KafkaProducer({
        ...base,
        clientId: `${clientId}-producer`,
        idempotent: true,
        acks: -1,
      });
      return producerClient;
    },
    async close(): Promise<void> {
      await Promise.allSettled([producerClient?.close(), adminClient?.close(), readerClient?.close()]);
      producerClient = undefined;
      adminClient = undefined;
      readerClient = undefined;
    },
  };
}
