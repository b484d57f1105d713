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
  const relay = new Relay(options);
  const running = relay.run();
  return {
    wake: () => relay.wake(),
    async stop() {
      relay.stop();
      await running;
    },
  };
}

class Relay {
  private readonly options: OutboxRelayOptions;
  private stopped = false;
  private wakeUp: (() => void) | undefined;
  private pendingWake = false;
  /** Rows the log acknowledged and not yet deleted: the next query deletes them. */
  private publishedIds: readonly string[] = [];

  constructor(options: OutboxRelayOptions) {
    this.options = options;
  }

  wake(): void {
    if (this.wakeUp) this.wakeUp();
    else this.pendingWake = true;
  }

  stop(): void {
    this.stopped = true;
    this.wakeUp?.();
  }

  async run(): Promise<void> {
    const { options } = this;
    while (!this.stopped) {
      let client: pg.PoolClient | undefined;
      try {
        client = await options.pool.connect();
        // A checked-out client emits connection errors itself (e.g. PostgreSQL restarting); without a
        // listener they would crash the process. The next query fails and the loop starts over.
        client.on("error", ignoreError);
        if (!(await this.tryLock(client))) {
          // Back to the pool without our listener: a standby relay retries every few polls, and each
          // retry would otherwise leave one more listener on a shared connection.
          client.off("error", ignoreError);
          client.release();
          client = undefined;
          await this.sleep(options.pollIntervalMs * 10);
          continue;
        }
        await this.relayWhileActive(client);
      } catch (error) {
        options.onError(error);
        await this.sleep(options.pollIntervalMs * 5);
      } finally {
        // A broken connection still holds its session lock until PostgreSQL notices; destroy it.
        client?.release(true);
      }
    }
  }

  private async tryLock(client: pg.PoolClient): Promise<boolean> {
    const lock = await client.query("SELECT pg_try_advisory_lock($1, hashtext($2)) AS ok", [
      lockKeyBase,
      this.options.table,
    ]);
    return Boolean(lock.rows[0].ok);
  }

  /** Publishes until stopped, holding the table's lock; then lets go of it. */
  private async relayWhileActive(client: pg.PoolClient): Promise<void> {
    const { table, pollIntervalMs } = this.options;
    // Commits in other processes announce new rows (NOTIFY in the same transaction). This
    // connection is destroyed when the relay lets go of it, listener included.
    client.on("notification", () => this.wake());
    await client.query(`LISTEN ${table}`);
    while (!this.stopped) {
      const published = await this.publishOnce(client);
      if (published === 0) await this.sleep(pollIntervalMs);
    }
    await this.deletePublished(client);
    await client.query("SELECT pg_advisory_unlock($1, hashtext($2))", [lockKeyBase, table]);
  }

  private sleep(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      if (this.pendingWake) {
        this.pendingWake = false;
        resolve();
        return;
      }
      const done = () => {
        clearTimeout(timer);
        this.wakeUp = undefined;
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.wakeUp = done;
    });
  }

  /**
   * One round trip deletes what the previous publish got acknowledged and selects the next rows
   * (the SELECT sees the snapshot from before the DELETE, hence the exclusion); then one send.
   */
  private async publishOnce(client: pg.PoolClient): Promise<number> {
    const { options } = this;
    const startedMs = performance.now();
    const { rows } = await client.query(
      `WITH published AS (DELETE FROM ${options.table} WHERE id = ANY($1::bigint[]))
       SELECT id, records FROM ${options.table} WHERE id <> ALL($1::bigint[]) ORDER BY id LIMIT $2`,
      [this.publishedIds, options.rowsPerPublishMax],
    );
    this.publishedIds = [];
    if (rows.length === 0) return 0;
    const selectedMs = performance.now();
    const records = rows.flatMap((row) => options.decode(row.records as Buffer));
    await options.producer.send(records);
    const producedMs = performance.now();
    this.publishedIds = rows.map((row) => String(row.id));
    options.onPublished?.({
      rows: rows.length,
      records,
      selectMs: selectedMs - startedMs,
      produceMs: producedMs - selectedMs,
      publishedAtMs: performance.timeOrigin + producedMs,
    });
    return rows.length;
  }

  private async deletePublished(client: pg.PoolClient): Promise<void> {
    if (this.publishedIds.length === 0) return;
    await client.query(`DELETE FROM ${this.options.table} WHERE id = ANY($1::bigint[])`, [this.publishedIds]);
    this.publishedIds = [];
  }
}
