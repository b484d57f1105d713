/**
 * Transactional outbox relay: publishes rows that handlers committed to an outbox table, in commit
 * order, then deletes them. At least once: a crash between publish and delete publishes a row again,
 * so consumers de-duplicate by event id. One relay is active per table across all processes
 * (a session advisory lock); others stand by and take over when it dies.
 */
import type pg from "pg";
import type { OutgoingRecord, Producer } from "./log/port.ts";

/** What one publish did and how long its steps took, for the benchmark and diagnostics. */
export interface RelayPublishSample {
  readonly rows: number;
  readonly records: readonly OutgoingRecord[];
  /** The round trip that deletes the previous publish's rows and selects this one's. */
  readonly selectMs: number;
  readonly produceMs: number;
  /** When the records were acknowledged by the log (epoch ms). */
  readonly publishedAtMs: number;
}

export interface OutboxRelayOptions {
  readonly pool: pg.Pool;
  readonly producer: Producer;
  readonly table: string;
  readonly decode: (bytes: Buffer) => readonly { topic: string; key: string; value: Uint8Array }[];
  readonly rowsPerPublishMax: number;
  readonly pollIntervalMs: number;
  readonly onError: (error: unknown) => void;
  readonly onPublished?: (sample: RelayPublishSample) => void;
}

export interface OutboxRelay {
  /** Nudges the relay after a local commit, so publishing does not wait for the next poll. */
  wake(): void;
  stop(): Promise<void>;
}

const lockKeyBase = 9_100_000;
const ignoreError = () => {};

export function startOutboxRelay(options: OutboxRelayOptions): OutboxRelay {
  let stopped = false;
  let wakeUp: (() => void) | undefined;
  let pendingWake = false;
  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      if (pendingWake) {
        pendingWake = false;
        resolve();
        return;
      }
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        wakeUp = undefined;
        resolve();
      }
      wakeUp = done;
    });

  /** Rows the log acknowledged and not yet deleted: the next query deletes them. */
  let publishedIds: readonly string[] = [];

  /**
   * One round trip deletes what the previous publish got acknowledged and selects the next rows
   * (the SELECT sees the snapshot from before the DELETE, hence the exclusion); then one send.
   */
  async function publishOnce(client: pg.PoolClient): Promise<number> {
    const startedMs = performance.now();
    const { rows } = await client.query(
      `WITH published AS (DELETE FROM ${options.table} WHERE id = ANY($1::bigint[]))
       SELECT id, records FROM ${options.table} WHERE id <> ALL($1::bigint[]) ORDER BY id LIMIT $2`,
      [publishedIds, options.rowsPerPublishMax],
    );
    publishedIds = [];
    if (rows.length === 0) return 0;
    const selectedMs = performance.now();
    const records = rows.flatMap((row) => options.decode(row.records as Buffer));
    await options.producer.send(records);
    const producedMs = performance.now();
    publishedIds = rows.map((row) => String(row.id));
    options.onPublished?.({
      rows: rows.length,
      records,
      selectMs: selectedMs - startedMs,
      produceMs: producedMs - selectedMs,
      publishedAtMs: performance.timeOrigin + producedMs,
    });
    return rows.length;
  }

  async function deletePublished(client: pg.PoolClient): Promise<void> {
    if (publishedIds.length === 0) return;
    await client.query(`DELETE FROM ${options.table} WHERE id = ANY($1::bigint[])`, [publishedIds]);
    publishedIds = [];
  }

  async function run(): Promise<void> {
    while (!stopped) {
      let client: pg.PoolClient | undefined;
      try {
        client = await options.pool.connect();
        // A checked-out client emits connection errors itself (e.g. PostgreSQL restarting); without a
        // listener they would crash the process. The next query fails and the loop starts over.
        client.on("error", ignoreError);
        const lock = await client.query("SELECT pg_try_advisory_lock($1, hashtext($2)) AS ok", [
          lockKeyBase,
          options.table,
        ]);
        if (!lock.rows[0].ok) {
          // Back to the pool without our listener: a standby relay retries every few polls, and each
          // retry would otherwise leave one more listener on a shared connection.
          client.off("error", ignoreError);
          client.release();
          client = undefined;
          await sleep(options.pollIntervalMs * 10);
          continue;
        }
        // Commits in other processes announce new rows (NOTIFY in the same transaction). This
        // connection is destroyed when the relay lets go of it, listener included.
        client.on("notification", () => wake());
        await client.query(`LISTEN ${options.table}`);
        while (!stopped) {
          const published = await publishOnce(client);
          if (published === 0) await sleep(options.pollIntervalMs);
        }
        await deletePublished(client);
        await client.query("SELECT pg_advisory_unlock($1, hashtext($2))", [lockKeyBase, options.table]);
      } catch (error) {
        options.onError(error);
        await sleep(options.pollIntervalMs * 5);
      } finally {
        // A broken connection still holds its session lock until PostgreSQL notices; destroy it.
        client?.release(true);
      }
    }
  }

  function wake(): void {
    if (wakeUp) wakeUp();
    else pendingWake = true;
  }

  const running = run();
  return {
    wake,
    async stop() {
      stopped = true;
      wakeUp?.();
      await running;
    },
  };
}
