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
  readonly selectMs: number;
  readonly produceMs: number;
  readonly deleteMs: number;
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

  async function publishOnce(client: pg.PoolClient): Promise<number> {
    const startedMs = performance.now();
    const { rows } = await client.query(`SELECT id, records FROM ${options.table} ORDER BY id LIMIT $1`, [
      options.rowsPerPublishMax,
    ]);
    if (rows.length === 0) return 0;
    const selectedMs = performance.now();
    const records = rows.flatMap((row) => options.decode(row.records as Buffer));
    await options.producer.send(records);
    const producedMs = performance.now();
    await client.query(`DELETE FROM ${options.table} WHERE id = ANY($1::bigint[])`, [rows.map((r) => r.id)]);
    options.onPublished?.({
      rows: rows.length,
      records,
      selectMs: selectedMs - startedMs,
      produceMs: producedMs - selectedMs,
      deleteMs: performance.now() - producedMs,
      publishedAtMs: performance.timeOrigin + producedMs,
    });
    return rows.length;
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
