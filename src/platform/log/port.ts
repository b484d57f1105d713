/**
 * The log port: a faithful model of the Kafka semantics Ledgerflow relies on.
 *
 * - A topic has a fixed number of partitions; a record's partition is chosen from its key with
 *   Kafka's murmur2 partitioner (see partitioner.ts), so a key lands on the same partition in
 *   embedded mode and on a real broker.
 * - Each partition is an append-only sequence with dense offsets starting at 0.
 * - `Producer.send` resolves only when the records are durable (acks=all); records of one call to
 *   one partition keep their order.
 * - Consumers in a group share a topic's partitions (each partition owned by one member at a time);
 *   a group's committed offset per partition is the next offset to read. Delivery is at least once:
 *   offsets are committed only after the batch handler resolves, so a crash redelivers.
 * - Retry with backoff and dead-lettering are done by `runConsumer` (consumer.ts) on top of the port,
 *   identically for every adapter.
 *
 * Adapters: `adapters/postgres.ts` (embedded, durable in PostgreSQL), `adapters/memory.ts` (tests and
 * simulation, not durable), `adapters/kafka.ts` (Apache Kafka, distributed mode).
 */

export type Headers = Readonly<Record<string, string>>;

export interface OutgoingRecord {
  readonly topic: string;
  readonly key: string;
  readonly value: Uint8Array;
  readonly headers?: Headers;
  /** Explicit partition; otherwise murmur2(key) mod partitions. */
  readonly partition?: number;
}

export interface LogRecord {
  readonly topic: string;
  readonly partition: number;
  readonly offset: bigint;
  readonly key: string;
  readonly value: Uint8Array;
  readonly headers: Headers;
  readonly timestampMs: number;
}

export interface RecordPosition {
  readonly topic: string;
  readonly partition: number;
  readonly offset: bigint;
}

export interface Producer {
  /** Durable once resolved. Throws UnavailableError when the log cannot accept writes. */
  send(records: readonly OutgoingRecord[]): Promise<readonly RecordPosition[]>;
}

export interface ConsumerOptions {
  readonly groupId: string;
  readonly topics: readonly string[];
  /** Most records handed to one `eachBatch` call. */
  readonly batchSizeMax: number;
  /** How long a fetch waits for records before returning an empty poll. */
  readonly fetchWaitMaxMs: number;
  /**
   * Kafka's fetch.min.bytes: the broker holds a fetch until this many bytes are ready or
   * `fetchWaitMaxMs` has passed, so batches fill up (less CPU per record, up to `fetchWaitMaxMs` of
   * added latency when traffic is light). Default 1: answer as soon as anything is there. A
   * performance setting, not a semantic one: the embedded adapters hand records over as soon as they
   * are committed and ignore it.
   */
  readonly fetchBytesMin?: number;
  /** Where a group with no committed offset starts: the earliest record or the end of the log. */
  readonly startFrom: "earliest" | "latest";
}

/** Records handed to a handler: possibly from several partitions, in offset order per partition. */
export type EachBatch = (records: readonly LogRecord[]) => Promise<void>;

export interface Consumer {
  /**
   * Starts polling; resolves once the consumer has joined its group and owns its partitions.
   * When `eachBatch` resolves, offsets up to the batch's last record per partition are committed.
   * When it rejects, nothing is committed and `onError` decides: the consumer pauses and redelivers
   * the same records after the returned backoff, or stops.
   */
  start(
    eachBatch: EachBatch,
    onError: (error: unknown, attempt: number) => BatchErrorDecision,
  ): Promise<void>;
  /** Leaves the group after the batch in flight (if any) finishes; partitions move to other members. */
  stop(): Promise<void>;
  /** Partitions currently owned, for tests and metrics. */
  assignment(): readonly { topic: string; partition: number }[];
}

export type BatchErrorDecision = { readonly retryAfterMs: number } | { readonly stop: true };

export interface TopicSpec {
  readonly name: string;
  readonly partitions: number;
  readonly replicationFactor: number;
  readonly retentionMs: number;
  readonly cleanupPolicy: "delete" | "compact";
}

export interface TopicDescription {
  readonly name: string;
  readonly partitions: number;
  readonly replicationFactor: number;
  readonly config: Readonly<Record<string, string>>;
}

export interface LogAdmin {
  /** Creates missing topics; never alters existing ones. */
  createTopics(topics: readonly TopicSpec[]): Promise<void>;
  listTopics(): Promise<readonly TopicDescription[]>;
  deleteTopics(names: readonly string[]): Promise<void>;
  /** Next offset to be written per partition (the "log end offset"). */
  endOffsets(topic: string): Promise<readonly bigint[]>;
  /** Committed offsets of a group per partition (undefined where nothing was committed). */
  committedOffsets(groupId: string, topic: string): Promise<readonly (bigint | undefined)[]>;
}

export interface Log {
  readonly kind: "postgres" | "memory" | "kafka";
  producer(): Producer;
  consumer(options: ConsumerOptions): Consumer;
  admin(): LogAdmin;
  /** Reads records of one partition from an offset, outside any group (DLQ tools, rebuilds). */
  read(topic: string, partition: number, fromOffset: bigint, limit: number): Promise<readonly LogRecord[]>;
  close(): Promise<void>;
}
