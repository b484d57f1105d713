import { EventEmitter } from "node:events";
import type pg from "pg";
import { type Clock, systemClock } from "../../clock.ts";
import { InfrastructureError } from "../../errors.ts";
import {
  type FetchRequest,
  type GroupBackend,
  GroupCoordinator,
  realTimers,
  type Timers,
  unknownTopic,
} from "../group.ts";
import type { Log, LogAdmin, LogRecord, OutgoingRecord, TopicDescription } from "../port.ts";
import { decodeRecordBatch } from "../record-batch.ts";
import { TailCache } from "../tail-cache.ts";
import { appendWithin, GroupCommitProducer, type PostgresLogCore, queryOn } from "./postgres-append.ts";
import {
  createTopicsSql,
  deleteExpiredSql,
  deleteTopicsSql,
  fetchSql,
  retentionChunkRows,
} from "./postgres-sql.ts";

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

/**
 * The log in PostgreSQL (embedded mode). Appends are group-committed: sends arriving within
 * `lingerMs` share one statement that bumps each partition's end offset and inserts one batch row
 * per partition, so throughput comes from batching, not from one transaction per record.
 */
export function createPostgresLog(options: PostgresLogOptions): PostgresLog {
  const core = createCore(options);
  const coordinator = new GroupCoordinator(groupBackend(core, options));
  const producer = new GroupCommitProducer(core, {
    lingerMs: options.lingerMs ?? 1,
    appendsInFlightMax: options.appendsInFlightMax ?? 1,
  });
  const admin = postgresAdmin(core);
  const deleteExpiredBatches = () => deleteExpired(core);
  const retentionTimer =
    options.retentionIntervalMs === undefined
      ? undefined
      : setInterval(() => void deleteExpiredBatches().catch(() => {}), options.retentionIntervalMs);
  retentionTimer?.unref();

  return {
    kind: "postgres",
    deleteExpiredBatches,
    async appendWithin(client: pg.PoolClient, records: readonly OutgoingRecord[]) {
      if (producer.closed) throw new InfrastructureError("log_closed", "the log is closed");
      return appendWithin(core, client, records);
    },
    producer: () => producer,
    consumer: (consumerOptions) => coordinator.consumer(consumerOptions),
    admin: () => admin,
    async read(topic, partition, fromOffset, limit) {
      await core.partitionCount(topic);
      const [records] = await fetchRecords(core, [{ topic, partition, fromOffset }], limit);
      return records ?? [];
    },
    async close() {
      if (retentionTimer !== undefined) clearInterval(retentionTimer);
      await coordinator.stopAll();
      await producer.close();
    },
  };
}

function createCore(options: PostgresLogOptions): PostgresLogCore {
  const query = queryOn(options.pool);
  const partitionCounts = new Map<string, number>();
  const appended = new EventEmitter();
  appended.setMaxListeners(0);
  return {
    query,
    clock: options.clock ?? systemClock,
    partitionCounts,
    tailCache: new TailCache(options.tailCacheRecordsMax ?? 10_000),
    appended,
    batchBytesMax: options.batchBytesMax ?? 1_048_576,
    async partitionCount(topic) {
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
    },
  };
}

/** Records from each request's offset: from the tail cache when it has them, else one query for the rest. */
async function fetchRecords(
  core: PostgresLogCore,
  requests: readonly FetchRequest[],
  recordsMax: number,
): Promise<LogRecord[][]> {
  const results: LogRecord[][] = [];
  const misses: { request: FetchRequest; out: LogRecord[] }[] = [];
  for (const request of requests) {
    const cached = core.tailCache.read(request.topic, request.partition, request.fromOffset, recordsMax);
    const out = cached ?? [];
    results.push(out);
    if (!cached) misses.push({ request, out });
  }
  if (misses.length === 0) return results;
  const { rows } = await core.query<{ ord: string; base_offset: string; records: Buffer }>({
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
}

/** What the consumer-group coordinator needs from the tables. */
function groupBackend(core: PostgresLogCore, options: PostgresLogOptions): GroupBackend {
  const { query } = core;
  return {
    pollIntervalMs: options.pollIntervalMs ?? 200,
    failureBackoffMs: 200,
    timers: options.timers ?? realTimers,
    partitionCount: (topic) => core.partitionCount(topic),
    fetch: (requests, recordsMax) => fetchRecords(core, requests, recordsMax),
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
      core.appended.on(topic, listener);
      return () => core.appended.off(topic, listener);
    },
  };
}

function postgresAdmin(core: PostgresLogCore): LogAdmin {
  const { query } = core;
  return {
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
        core.partitionCounts.delete(name);
        core.tailCache.forgetTopic(name);
      }
      await query(deleteTopicsSql, [names]);
    },
    endOffsets: (topic) =>
      partitionOffsets(
        core,
        topic,
        "SELECT partition, next_offset FROM log_partitions WHERE topic = $1",
        [topic],
        0n,
      ),
    committedOffsets: (groupId, topic) =>
      partitionOffsets(
        core,
        topic,
        "SELECT partition, next_offset FROM log_group_offsets WHERE group_id = $1 AND topic = $2",
        [groupId, topic],
        undefined,
      ),
  };
}

/** One offset per partition of `topic` from `sql`'s rows; partitions without a row get `missing`. */
async function partitionOffsets<M extends bigint | undefined>(
  core: PostgresLogCore,
  topic: string,
  sql: string,
  values: unknown[],
  missing: M,
): Promise<(bigint | M)[]> {
  const partitions = await core.partitionCount(topic);
  const { rows } = await core.query<{ partition: number; next_offset: string }>(sql, values);
  const offsets = new Array<bigint | M>(partitions).fill(missing);
  for (const row of rows) offsets[row.partition] = BigInt(row.next_offset);
  return offsets;
}

async function deleteExpired(core: PostgresLogCore): Promise<number> {
  let deleted = 0;
  for (;;) {
    const { rowCount } = await core.query(deleteExpiredSql, [core.clock.nowMs(), retentionChunkRows]);
    deleted += rowCount ?? 0;
    if ((rowCount ?? 0) < retentionChunkRows) return deleted;
  }
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
