import { EventEmitter } from "node:events";
import type pg from "pg";
import { type Clock, systemClock } from "../../clock.ts";
import { asInfrastructureError } from "../../db/errors.ts";
import { InfrastructureError } from "../../errors.ts";
import {
  type FetchRequest,
  type GroupBackend,
  GroupCoordinator,
  realTimers,
  type Timers,
  unknownTopic,
} from "../group.ts";
import { partitionForKey } from "../partitioner.ts";
import type {
  Headers,
  Log,
  LogAdmin,
  LogRecord,
  OutgoingRecord,
  Producer,
  RecordPosition,
  TopicDescription,
} from "../port.ts";
import {
  approximateRecordBytes,
  type BatchRecord,
  decodeRecordBatch,
  encodeRecordBatch,
} from "../record-batch.ts";
import { TailCache } from "../tail-cache.ts";

export interface PostgresLogOptions {
  readonly pool: pg.Pool;
  readonly clock?: Clock;
  /** How long a send waits for others to share its transaction (Kafka's linger.ms). */
  readonly lingerMs?: number;
  /** A transaction is started early once this many bytes are queued; also the largest stored batch. */
  readonly batchBytesMax?: number;
  /** Append transactions running at once; more overlap WAL flushes, each holds a connection. */
  readonly appendsInFlightMax?: number;
  /** Fallback poll so consumers see records appended by other processes. */
  readonly pollIntervalMs?: number;
  readonly timers?: Timers;
  /** Recently appended records kept per partition for consumers at the tail; 0 disables. */
  readonly tailCacheRecordsMax?: number;
  /** Runs `deleteExpiredBatches` this often in the background; off when unset. */
  readonly retentionIntervalMs?: number;
}

export interface PostgresLog extends Log {
  /**
   * Time-based retention for "delete" topics: removes stored batches whose newest record is older
   * than the topic's retention.ms and that every group has already consumed (last offset below each
   * group's committed offset). Compacted topics are kept whole. Returns the batches deleted.
   */
  deleteExpiredBatches(): Promise<number>;
  /**
   * Appends inside the caller's open transaction on `client` (a transactional outbox whose outbox is
   * the log itself). Nothing is visible to consumers until the caller commits; call the returned
   * function after COMMIT to wake in-process consumers, and drop it after ROLLBACK.
   */
  appendWithin(client: pg.PoolClient, records: readonly OutgoingRecord[]): Promise<() => void>;
}

interface QueuedSend {
  readonly records: readonly PlacedRecord[];
  readonly bytes: number;
  resolve(positions: readonly RecordPosition[]): void;
  reject(error: unknown): void;
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

/**
 * The log in PostgreSQL (embedded mode). Appends are group-committed: sends arriving within
 * `lingerMs` share one statement that bumps each partition's end offset and inserts one batch row
 * per partition, so throughput comes from batching, not from one transaction per record.
 */
export function createPostgresLog(options: PostgresLogOptions): PostgresLog {
  const { pool } = options;
  const clock = options.clock ?? systemClock;
  const lingerMs = options.lingerMs ?? 1;
  const batchBytesMax = options.batchBytesMax ?? 1_048_576;
  const appendsInFlightMax = options.appendsInFlightMax ?? 1;
  const partitionCounts = new Map<string, number>();
  const tailCache = new TailCache(options.tailCacheRecordsMax ?? 10_000);
  const appended = new EventEmitter();
  appended.setMaxListeners(0);
  let closed = false;

  const query = async <R extends pg.QueryResultRow>(
    config: pg.QueryConfig | string,
    values?: unknown[],
  ): Promise<pg.QueryResult<R>> => {
    try {
      return typeof config === "string" ? await pool.query<R>(config, values) : await pool.query<R>(config);
    } catch (error) {
      throw asInfrastructureError(error);
    }
  };

  const partitionCount = async (topic: string): Promise<number> => {
    const cached = partitionCounts.get(topic);
    if (cached !== undefined) return cached;
    const { rows } = await query<{ partitions: number }>(
      "SELECT partitions FROM log_topics WHERE name = $1",
      [topic],
    );
    const partitions = rows[0]?.partitions;
    if (partitions === undefined) throw unknownTopic(topic);
    partitionCounts.set(topic, partitions);
    return partitions;
  };

  const fetch = async (requests: readonly FetchRequest[], recordsMax: number): Promise<LogRecord[][]> => {
    const results: LogRecord[][] = [];
    const misses: { request: FetchRequest; out: LogRecord[] }[] = [];
    for (const request of requests) {
      const cached = tailCache.read(request.topic, request.partition, request.fromOffset, recordsMax);
      const out = cached ?? [];
      results.push(out);
      if (!cached) misses.push({ request, out });
    }
    if (misses.length === 0) return results;
    const { rows } = await query<{ ord: string; base_offset: string; records: Buffer }>({
      name: "log_fetch",
      text: fetchSql,
      values: [
        misses.map((m) => m.request.topic),
        misses.map((m) => m.request.partition),
        misses.map((m) => m.request.fromOffset.toString()),
        recordsMax,
      ],
    });
    for (const row of rows) {
      const { request, out } = misses[Number(row.ord) - 1] as (typeof misses)[number];
      const endOffset = request.fromOffset + BigInt(recordsMax);
      let offset = BigInt(row.base_offset);
      for (const r of decodeRecordBatch(row.records)) {
        if (offset >= request.fromOffset && offset < endOffset) {
          out.push({
            topic: request.topic,
            partition: request.partition,
            offset,
            key: r.key,
            value: r.value,
            headers: r.headers,
            timestampMs: r.timestampMs,
          });
        }
        offset += 1n;
      }
    }
    return results;
  };

  const backend: GroupBackend = {
    pollIntervalMs: options.pollIntervalMs ?? 200,
    failureBackoffMs: 200,
    timers: options.timers ?? realTimers,
    partitionCount,
    fetch,
    async endOffset(topic, partition) {
      const { rows } = await query<{ next_offset: string }>(
        "SELECT next_offset FROM log_partitions WHERE topic = $1 AND partition = $2",
        [topic, partition],
      );
      if (!rows[0]) throw unknownTopic(topic);
      return BigInt(rows[0].next_offset);
    },
    async committedOffset(groupId, topic, partition) {
      const { rows } = await query<{ next_offset: string }>(
        "SELECT next_offset FROM log_group_offsets WHERE group_id = $1 AND topic = $2 AND partition = $3",
        [groupId, topic, partition],
      );
      return rows[0] ? BigInt(rows[0].next_offset) : undefined;
    },
    async commit(groupId, offsets) {
      if (offsets.length === 0) return;
      // One call, asynchronous WAL flush (see migration 0014): a lost commit only means redelivery.
      await query({
        name: "log_commit",
        text: "SELECT log_commit_offsets($1, $2::text[], $3::int[], $4::bigint[])",
        values: [
          groupId,
          offsets.map((o) => o.topic),
          offsets.map((o) => o.partition),
          offsets.map((o) => o.nextOffset.toString()),
        ],
      });
    },
    onAppend(topic, listener) {
      appended.on(topic, listener);
      return () => appended.off(topic, listener);
    },
  };
  const coordinator = new GroupCoordinator(backend);

  // --- Producer: group commit -------------------------------------------------------------------

  const queue: QueuedSend[] = [];
  let queuedBytes = 0;
  let appendsInFlight = 0;
  let lingerTimer: ReturnType<typeof setTimeout> | undefined;
  let drained: PromiseWithResolvers<void> | undefined;

  const schedule = (): void => {
    if (queue.length === 0 || appendsInFlight >= appendsInFlightMax) return;
    if (queuedBytes >= batchBytesMax || lingerMs <= 0) {
      appendQueued();
      return;
    }
    lingerTimer ??= setTimeout(() => {
      lingerTimer = undefined;
      appendQueued();
    }, lingerMs);
  };

  const appendQueued = (): void => {
    if (lingerTimer !== undefined) clearTimeout(lingerTimer);
    lingerTimer = undefined;
    if (queue.length === 0 || appendsInFlight >= appendsInFlightMax) return;
    const sends: QueuedSend[] = [];
    let bytes = 0;
    while (
      queue.length > 0 &&
      (sends.length === 0 || bytes + (queue[0] as QueuedSend).bytes <= batchBytesMax)
    ) {
      const send = queue.shift() as QueuedSend;
      bytes += send.bytes;
      sends.push(send);
    }
    queuedBytes -= bytes;
    appendsInFlight += 1;
    void appendSends(sends).finally(() => {
      appendsInFlight -= 1;
      // Whatever queued up meanwhile has already waited for a transaction: send it right away.
      if (queue.length > 0) appendQueued();
      else if (appendsInFlight === 0) drained?.resolve();
    });
  };

  /** Makes committed records visible to in-process consumers at once. */
  const publishAppended = (append: PartitionAppend, base: bigint): void => {
    tailCache.add(
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
    appended.emit(append.topic, append.partition);
  };

  const groupByPartition = (sends: readonly { readonly records: readonly PlacedRecord[] }[]) => {
    const partitions = new Map<string, PartitionAppend>();
    sends.forEach((send, sendIndex) => {
      send.records.forEach((record, index) => {
        const key = `${record.topic}\u0000${record.partition}`;
        let append = partitions.get(key);
        if (!append) {
          append = { topic: record.topic, partition: record.partition, records: [] };
          partitions.set(key, append);
        }
        append.records.push({ send: sendIndex, index, record });
      });
    });
    return partitions;
  };

  const appendSends = async (sends: readonly QueuedSend[]): Promise<void> => {
    const partitions = groupByPartition(sends);
    let baseOffsets: Map<string, bigint>;
    try {
      baseOffsets = await appendBatches([...partitions.values()]);
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
        partitionCounts.delete(append.topic);
        continue;
      }
      publishAppended(append, base);
    }
    sends.forEach((send, i) => {
      if (!missing.has(i)) send.resolve(positions[i] as RecordPosition[]);
      else
        send.reject(
          unknownTopic(
            (send.records.find((r) => !baseOffsets.has(`${r.topic}\u0000${r.partition}`)) as PlacedRecord)
              .topic,
          ),
        );
    });
  };

  /** One statement (so one transaction): bump end offsets, insert the batches. Returns base offsets. */
  const appendBatches = async (
    appends: readonly PartitionAppend[],
    run: typeof query = query,
  ): Promise<Map<string, bigint>> => {
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
    for (let attempt = 1; ; attempt++) {
      try {
        const result = await run<{ topic: string; partition: number; base_offset: string }>({
          name: "log_append",
          text: appendSql,
          values: [
            req.topics,
            req.partitions,
            req.counts,
            rows.topics,
            rows.partitions,
            rows.skips,
            rows.counts,
            rows.timestamps,
            rows.records,
          ],
        });
        return new Map(result.rows.map((r) => [`${r.topic}\u0000${r.partition}`, BigInt(r.base_offset)]));
      } catch (error) {
        // Lock order is fixed, but a deadlock with another writer is still retried rather than surfaced.
        if (attempt >= 3 || !(error instanceof InfrastructureError && error.code === "conflict")) throw error;
      }
    }
  };

  /** Chooses each record's partition (murmur2 of the key unless given) and stamps it. */
  const place = async (records: readonly OutgoingRecord[]) => {
    const timestampMs = clock.nowMs();
    const placed: PlacedRecord[] = [];
    let bytes = 0;
    for (const record of records) {
      const partitions = partitionCounts.get(record.topic) ?? (await partitionCount(record.topic));
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
  };

  const appendWithin = async (client: pg.PoolClient, records: readonly OutgoingRecord[]) => {
    if (closed) throw new InfrastructureError("log_closed", "the log is closed");
    if (records.length === 0) return () => {};
    const { placed } = await place(records);
    const partitions = groupByPartition([{ records: placed }]);
    const run: typeof query = async (config, values) => {
      try {
        return typeof config === "string" ? await client.query(config, values) : await client.query(config);
      } catch (error) {
        throw asInfrastructureError(error);
      }
    };
    const baseOffsets = await appendBatches([...partitions.values()], run);
    return () => {
      for (const [key, append] of partitions) {
        const base = baseOffsets.get(key);
        if (base !== undefined) publishAppended(append, base);
      }
    };
  };

  const producer: Producer = {
    async send(records: readonly OutgoingRecord[]): Promise<readonly RecordPosition[]> {
      if (closed) throw new InfrastructureError("log_closed", "the log is closed");
      if (records.length === 0) return [];
      const { placed, bytes } = await place(records);
      const { promise, resolve, reject } = Promise.withResolvers<readonly RecordPosition[]>();
      queue.push({ records: placed, bytes, resolve, reject });
      queuedBytes += bytes;
      schedule();
      return promise;
    },
  };

  // --- Admin ------------------------------------------------------------------------------------

  const admin: LogAdmin = {
    async createTopics(specs) {
      if (specs.length === 0) return;
      await query(createTopicsSql, [
        specs.map((s) => s.name),
        specs.map((s) => s.partitions),
        specs.map((s) => s.replicationFactor),
        specs.map((s) => s.retentionMs),
        specs.map((s) => s.cleanupPolicy),
      ]);
    },
    async listTopics() {
      const { rows } = await query<TopicRow>(
        "SELECT name, partitions, replication_factor, retention_ms, cleanup_policy FROM log_topics ORDER BY name",
      );
      return rows.map(describeTopicRow);
    },
    async deleteTopics(names) {
      for (const name of names) {
        partitionCounts.delete(name);
        tailCache.forgetTopic(name);
      }
      await query(deleteTopicsSql, [names]);
    },
    async endOffsets(topic) {
      const partitions = await partitionCount(topic);
      const { rows } = await query<{ partition: number; next_offset: string }>(
        "SELECT partition, next_offset FROM log_partitions WHERE topic = $1",
        [topic],
      );
      const ends = new Array<bigint>(partitions).fill(0n);
      for (const row of rows) ends[row.partition] = BigInt(row.next_offset);
      return ends;
    },
    async committedOffsets(groupId, topic) {
      const partitions = await partitionCount(topic);
      const { rows } = await query<{ partition: number; next_offset: string }>(
        "SELECT partition, next_offset FROM log_group_offsets WHERE group_id = $1 AND topic = $2",
        [groupId, topic],
      );
      const committed = new Array<bigint | undefined>(partitions).fill(undefined);
      for (const row of rows) committed[row.partition] = BigInt(row.next_offset);
      return committed;
    },
  };

  const deleteExpiredBatches = async (): Promise<number> => {
    let deleted = 0;
    for (;;) {
      const { rowCount } = await query(deleteExpiredSql, [clock.nowMs(), retentionChunkRows]);
      deleted += rowCount ?? 0;
      if ((rowCount ?? 0) < retentionChunkRows) return deleted;
    }
  };
  const retentionTimer =
    options.retentionIntervalMs === undefined
      ? undefined
      : setInterval(() => void deleteExpiredBatches().catch(() => {}), options.retentionIntervalMs);
  retentionTimer?.unref();

  return {
    kind: "postgres",
    deleteExpiredBatches,
    appendWithin,
    producer: () => producer,
    consumer: (consumerOptions) => coordinator.consumer(consumerOptions),
    admin: () => admin,
    async read(topic, partition, fromOffset, limit) {
      await partitionCount(topic);
      const [records] = await fetch([{ topic, partition, fromOffset }], limit);
      return records ?? [];
    },
    async close() {
      if (retentionTimer !== undefined) clearInterval(retentionTimer);
      await coordinator.stopAll();
      closed = true;
      if (queue.length > 0 || appendsInFlight > 0) {
        drained = Promise.withResolvers<void>();
        appendQueued();
        await drained.promise;
      }
    },
  };
}

interface TopicRow {
  name: string;
  partitions: number;
  replication_factor: number;
  retention_ms: string;
  cleanup_policy: string;
}

function describeTopicRow(row: TopicRow): TopicDescription {
  return {
    name: row.name,
    partitions: row.partitions,
    replicationFactor: row.replication_factor,
    config: { "retention.ms": row.retention_ms, "cleanup.policy": row.cleanup_policy },
  };
}

/** Connection trouble is UnavailableError; a deadlock or serialization failure is a retryable "conflict". */

const appendSql = `
WITH req AS (
  SELECT * FROM unnest($1::text[], $2::int[], $3::bigint[]) AS r(topic, partition, n)
), locked AS (
  -- Lock partitions in one global order so concurrent appends never deadlock.
  SELECT p.topic, p.partition FROM log_partitions p JOIN req r USING (topic, partition)
  ORDER BY p.topic, p.partition
  FOR UPDATE OF p
), bumped AS (
  UPDATE log_partitions p SET next_offset = p.next_offset + r.n
  FROM req r JOIN locked l USING (topic, partition)
  WHERE p.topic = r.topic AND p.partition = r.partition
  RETURNING p.topic, p.partition, p.next_offset - r.n AS base_offset
), inserted AS (
  INSERT INTO log_batches (topic, partition, base_offset, last_offset, timestamp_ms, records)
  SELECT c.topic, c.partition, b.base_offset + c.skip, b.base_offset + c.skip + c.n - 1, c.timestamp_ms, c.records
  FROM unnest($4::text[], $5::int[], $6::bigint[], $7::bigint[], $8::bigint[], $9::bytea[])
    AS c(topic, partition, skip, n, timestamp_ms, records)
  JOIN bumped b USING (topic, partition)
)
SELECT topic, partition, base_offset::text AS base_offset FROM bumped`;

// Per request: the batch holding from_offset (the newest starting at or before it) and those after,
// up to the batch holding from_offset + limit - 1. Both bounds use the primary key. Partitions with
// nothing at or after from_offset (most of them, at the tail) stop at their small log_partitions row:
// its committed next_offset moves in the same transaction as the batches.
const fetchSql = `
SELECT r.ord, b.base_offset::text AS base_offset, b.records
FROM unnest($1::text[], $2::int[], $3::bigint[]) WITH ORDINALITY AS r(topic, partition, from_offset, ord)
JOIN log_partitions p ON p.topic = r.topic AND p.partition = r.partition AND p.next_offset > r.from_offset
CROSS JOIN LATERAL (
  SELECT b.base_offset, b.records FROM log_batches b
  WHERE b.topic = r.topic AND b.partition = r.partition
    AND b.base_offset >= coalesce((
      SELECT max(s.base_offset) FROM log_batches s
      WHERE s.topic = r.topic AND s.partition = r.partition AND s.base_offset <= r.from_offset
    ), 0)
    AND b.base_offset < r.from_offset + $4::bigint
    AND b.last_offset >= r.from_offset
) b
ORDER BY r.ord, b.base_offset`;

/** Rows per retention DELETE, so one pass never holds locks on a huge set. */
const retentionChunkRows = 10_000;

const deleteExpiredSql = `
DELETE FROM log_batches WHERE ctid IN (
  SELECT b.ctid FROM log_batches b JOIN log_topics t ON t.name = b.topic
  WHERE t.cleanup_policy = 'delete' AND t.retention_ms >= 0
    AND b.timestamp_ms < $1::bigint - t.retention_ms
    AND NOT EXISTS (
      SELECT 1 FROM log_group_offsets g
      WHERE g.topic = b.topic AND g.partition = b.partition AND g.next_offset <= b.last_offset
    )
  LIMIT $2
)`;

const createTopicsSql = `
WITH created AS (
  INSERT INTO log_topics (name, partitions, replication_factor, retention_ms, cleanup_policy)
  SELECT * FROM unnest($1::text[], $2::int[], $3::int[], $4::bigint[], $5::text[])
  ON CONFLICT (name) DO NOTHING
  RETURNING name, partitions
)
INSERT INTO log_partitions (topic, partition)
SELECT c.name, g FROM created c, generate_series(0, c.partitions - 1) AS g`;

const deleteTopicsSql = `
WITH batches AS (DELETE FROM log_batches WHERE topic = ANY($1::text[])),
  offsets AS (DELETE FROM log_group_offsets WHERE topic = ANY($1::text[]))
DELETE FROM log_topics WHERE name = ANY($1::text[])`;
