/**
 * Appending to the PostgreSQL log: placing records on partitions, the group-committing producer
 * (sends arriving within `lingerMs` share one transaction), and appends inside a caller's
 * transaction (the log as its own outbox). Used by adapters/postgres.ts.
 */
import type { EventEmitter } from "node:events";
import type pg from "pg";
import type { Clock } from "../../clock.ts";
import { asInfrastructureError } from "../../db/errors.ts";
import { InfrastructureError } from "../../errors.ts";
import { unknownTopic } from "../group.ts";
import { partitionForKey } from "../partitioner.ts";
import type { Headers, OutgoingRecord, Producer, RecordPosition } from "../port.ts";
import { approximateRecordBytes, type BatchRecord, encodeRecordBatch } from "../record-batch.ts";
import type { TailCache } from "../tail-cache.ts";
import { appendSql } from "./postgres-sql.ts";

/** A query whose database errors arrive as InfrastructureError (see db/errors.ts). */
export type Query = <R extends pg.QueryResultRow>(
  config: pg.QueryConfig | string,
  values?: unknown[],
) => Promise<pg.QueryResult<R>>;

export function queryOn(target: pg.Pool | pg.PoolClient): Query {
  return async <R extends pg.QueryResultRow>(config: pg.QueryConfig | string, values?: unknown[]) => {
    try {
      return typeof config === "string"
        ? await target.query<R>(config, values)
        : await target.query<R>(config);
    } catch (error) {
      throw asInfrastructureError(error);
    }
  };
}

/** What the log's parts share: the pool, caches of partition counts and tail records, append signals. */
export interface PostgresLogCore {
  readonly query: Query;
  readonly clock: Clock;
  readonly partitionCounts: Map<string, number>;
  readonly tailCache: TailCache;
  /** Emits (topic, partition) after records were appended by this process. */
  readonly appended: EventEmitter;
  readonly batchBytesMax: number;
  partitionCount(topic: string): Promise<number>;
}

interface PlacedRecord extends BatchRecord {
  readonly topic: string;
  readonly partition: number;
}

interface PartitionAppend {
  readonly topic: string;
  readonly partition: number;
  /** Records of this partition in this transaction, in call order. */
  readonly records: { readonly send: number; readonly index: number; readonly record: PlacedRecord }[];
}

interface QueuedSend {
  readonly records: readonly PlacedRecord[];
  readonly bytes: number;
  resolve(positions: readonly RecordPosition[]): void;
  reject(error: unknown): void;
}

const partitionKey = (topic: string, partition: number) => `${topic}\u0000${partition}`;

/** Chooses each record's partition (murmur2 of the key unless given) and stamps it. */
async function place(core: PostgresLogCore, records: readonly OutgoingRecord[]) {
  const timestampMs = core.clock.nowMs();
  const placed: PlacedRecord[] = [];
  let bytes = 0;
  for (const record of records) {
    const partitions = core.partitionCounts.get(record.topic) ?? (await core.partitionCount(record.topic));
    const partition = record.partition ?? partitionForKey(record.key, partitions);
    if (!(Number.isInteger(partition) && partition >= 0 && partition < partitions)) {
      throw new RangeError(`topic ${record.topic} has no partition ${partition}`);
    }
    const headers: Headers = { ...record.headers };
    placed.push({
      topic: record.topic,
      partition,
      key: record.key,
      value: record.value,
      headers,
      timestampMs,
    });
    bytes += approximateRecordBytes(record.key, record.value, headers);
  }
  return { placed, bytes };
}

function groupByPartition(sends: readonly { readonly records: readonly PlacedRecord[] }[]) {
  const partitions = new Map<string, PartitionAppend>();
  sends.forEach((send, sendIndex) => {
    send.records.forEach((record, index) => {
      const key = partitionKey(record.topic, record.partition);
      let append = partitions.get(key);
      if (!append) {
        append = { topic: record.topic, partition: record.partition, records: [] };
        partitions.set(key, append);
      }
      append.records.push({ send: sendIndex, index, record });
    });
  });
  return partitions;
}

/** Makes committed records visible to in-process consumers at once. */
function publishAppended(core: PostgresLogCore, append: PartitionAppend, base: bigint): void {
  core.tailCache.add(
    append.topic,
    append.partition,
    base,
    append.records.map(({ record }, i) => ({
      topic: record.topic,
      partition: record.partition,
      offset: base + BigInt(i),
      key: record.key,
      value: record.value,
      headers: record.headers,
      timestampMs: record.timestampMs,
    })),
  );
  core.appended.emit(append.topic, append.partition);
}

/** The append statement's parameters: per partition its record count, and its stored batches. */
function appendParameters(appends: readonly PartitionAppend[], batchBytesMax: number): unknown[] {
  const req = { topics: [] as string[], partitions: [] as number[], counts: [] as number[] };
  const rows = {
    topics: [] as string[],
    partitions: [] as number[],
    skips: [] as number[],
    counts: [] as number[],
    timestamps: [] as number[],
    records: [] as Buffer[],
  };
  for (const append of appends) {
    req.topics.push(append.topic);
    req.partitions.push(append.partition);
    req.counts.push(append.records.length);
    // Split a partition's records into stored batches of at most batchBytesMax.
    let start = 0;
    while (start < append.records.length) {
      let end = start;
      let bytes = 0;
      let timestampMs = 0;
      while (end < append.records.length && (end === start || bytes < batchBytesMax)) {
        const { record } = append.records[end] as PartitionAppend["records"][number];
        bytes += approximateRecordBytes(record.key, record.value, record.headers);
        timestampMs = Math.max(timestampMs, record.timestampMs);
        end += 1;
      }
      rows.topics.push(append.topic);
      rows.partitions.push(append.partition);
      rows.skips.push(start);
      rows.counts.push(end - start);
      rows.timestamps.push(timestampMs);
      rows.records.push(encodeRecordBatch(append.records.slice(start, end).map((r) => r.record)));
      start = end;
    }
  }
  const { topics, partitions, counts } = req;
  return [
    topics,
    partitions,
    counts,
    rows.topics,
    rows.partitions,
    rows.skips,
    rows.counts,
    rows.timestamps,
    rows.records,
  ];
}

/** One statement (so one transaction): bump end offsets, insert the batches. Returns base offsets. */
async function appendBatches(
  appends: readonly PartitionAppend[],
  run: Query,
  batchBytesMax: number,
): Promise<Map<string, bigint>> {
  const values = appendParameters(appends, batchBytesMax);
  for (let attempt = 1; ; attempt++) {
    try {
      const result = await run<{ topic: string; partition: number; base_offset: string }>({
        name: "log_append",
        text: appendSql,
        values,
      });
      return new Map(result.rows.map((r) => [partitionKey(r.topic, r.partition), BigInt(r.base_offset)]));
    } catch (error) {
      // Lock order is fixed, but a deadlock with another writer is still retried rather than surfaced.
      if (attempt >= 3 || !(error instanceof InfrastructureError && error.code === "conflict")) throw error;
    }
  }
}

/**
 * Appends inside the caller's open transaction on `client`; returns what to call after COMMIT to
 * wake in-process consumers.
 */
export async function appendWithin(
  core: PostgresLogCore,
  client: pg.PoolClient,
  records: readonly OutgoingRecord[],
): Promise<() => void> {
  if (records.length === 0) return () => {};
  const { placed } = await place(core, records);
  const partitions = groupByPartition([{ records: placed }]);
  const baseOffsets = await appendBatches([...partitions.values()], queryOn(client), core.batchBytesMax);
  return () => {
    for (const [key, append] of partitions) {
      const base = baseOffsets.get(key);
      if (base !== undefined) publishAppended(core, append, base);
    }
  };
}

export interface GroupCommitOptions {
  /** How long a send waits for others to share its transaction (Kafka's linger.ms). */
  readonly lingerMs: number;
  /** Append transactions running at once; more overlap WAL flushes, each holds a connection. */
  readonly appendsInFlightMax: number;
}

/**
 * The producer: sends queue up and are appended together, one transaction for all sends that
 * arrived within `lingerMs` (or as soon as `batchBytesMax` bytes are queued).
 */
export class GroupCommitProducer implements Producer {
  private readonly queue: QueuedSend[] = [];
  private queuedBytes = 0;
  private appendsInFlight = 0;
  private lingerTimer: ReturnType<typeof setTimeout> | undefined;
  private drained: PromiseWithResolvers<void> | undefined;
  /** Set by close(): sends and appendWithin are refused from then on. */
  closed = false;

  private readonly core: PostgresLogCore;
  private readonly options: GroupCommitOptions;

  constructor(core: PostgresLogCore, options: GroupCommitOptions) {
    this.core = core;
    this.options = options;
  }

  async send(records: readonly OutgoingRecord[]): Promise<readonly RecordPosition[]> {
    if (this.closed) throw new InfrastructureError("log_closed", "the log is closed");
    if (records.length === 0) return [];
    const { placed, bytes } = await place(this.core, records);
    const { promise, resolve, reject } = Promise.withResolvers<readonly RecordPosition[]>();
    this.queue.push({ records: placed, bytes, resolve, reject });
    this.queuedBytes += bytes;
    this.schedule();
    return promise;
  }

  /** Refuses further sends and waits until everything queued is appended. */
  async close(): Promise<void> {
    this.closed = true;
    if (this.queue.length > 0 || this.appendsInFlight > 0) {
      this.drained = Promise.withResolvers<void>();
      this.appendQueued();
      await this.drained.promise;
    }
  }

  private schedule(): void {
    if (this.queue.length === 0 || this.appendsInFlight >= this.options.appendsInFlightMax) return;
    if (this.queuedBytes >= this.core.batchBytesMax || this.options.lingerMs <= 0) {
      this.appendQueued();
      return;
    }
    this.lingerTimer ??= setTimeout(() => {
      this.lingerTimer = undefined;
      this.appendQueued();
    }, this.options.lingerMs);
  }

  private appendQueued(): void {
    if (this.lingerTimer !== undefined) clearTimeout(this.lingerTimer);
    this.lingerTimer = undefined;
    const { queue } = this;
    if (queue.length === 0 || this.appendsInFlight >= this.options.appendsInFlightMax) return;
    const sends: QueuedSend[] = [];
    let bytes = 0;
    while (
      queue.length > 0 &&
      (sends.length === 0 || bytes + (queue[0] as QueuedSend).bytes <= this.core.batchBytesMax)
    ) {
      const send = queue.shift() as QueuedSend;
      bytes += send.bytes;
      sends.push(send);
    }
    this.queuedBytes -= bytes;
    this.appendsInFlight += 1;
    void this.appendSends(sends).finally(() => {
      this.appendsInFlight -= 1;
      // Whatever queued up meanwhile has already waited for a transaction: send it right away.
      if (queue.length > 0) this.appendQueued();
      else if (this.appendsInFlight === 0) this.drained?.resolve();
    });
  }

  private async appendSends(sends: readonly QueuedSend[]): Promise<void> {
    const partitions = groupByPartition(sends);
    let baseOffsets: Map<string, bigint>;
    try {
      baseOffsets = await appendBatches([...partitions.values()], this.core.query, this.core.batchBytesMax);
    } catch (error) {
      for (const send of sends) send.reject(error);
      return;
    }
    const positions: RecordPosition[][] = sends.map((s) => new Array(s.records.length));
    const missing = new Set<number>();
    for (const [key, append] of partitions) {
      const base = baseOffsets.get(key);
      append.records.forEach(({ send, index }, i) => {
        if (base === undefined) missing.add(send);
        else
          (positions[send] as RecordPosition[])[index] = {
            topic: append.topic,
            partition: append.partition,
            offset: base + BigInt(i),
          };
      });
      if (base === undefined) {
        this.core.partitionCounts.delete(append.topic);
        continue;
      }
      publishAppended(this.core, append, base);
    }
    sends.forEach((send, i) => {
      if (!missing.has(i)) send.resolve(positions[i] as RecordPosition[]);
      else send.reject(unknownTopic(firstUnappendedTopic(send, baseOffsets)));
    });
  }
}

function firstUnappendedTopic(send: QueuedSend, baseOffsets: Map<string, bigint>): string {
  return (send.records.find((r) => !baseOffsets.has(partitionKey(r.topic, r.partition))) as PlacedRecord)
    .topic;
}
