/**
 * Throughput of the PostgreSQL log on a private embedded PostgreSQL (127.0.0.1, bounded run).
 * Run: node src/platform/log/log.bench.ts [records]   (not a test; prints records/s per scenario)
 */
import { chmod, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startEmbeddedPostgres } from "../db/embedded.ts";
import { migrate } from "../db/migrate.ts";
import { createPool } from "../db/pool.ts";
import { loadOrCreateLocalSecrets } from "../secrets.ts";
import { createPostgresLog } from "./adapters/postgres.ts";
import type { Log, OutgoingRecord } from "./port.ts";

const recordsTotal = Number(process.argv[2] ?? 100_000);
const partitions = 8;
const value = new TextEncoder().encode(
  JSON.stringify({ transferId: "8c3c2a52-0000-4000-8000-000000000000", amount: "12500", currency: "EUR" }),
);

const record = (topic: string, i: number): OutgoingRecord => ({ topic, key: `account-${i % 10_000}`, value });

async function timed(label: string, records: number, work: () => Promise<void>): Promise<void> {
  const started = performance.now();
  await work();
  const seconds = (performance.now() - started) / 1000;
  console.log(
    `${label.padEnd(48)} ${records.toString().padStart(7)} records  ${Math.round(records / seconds)
      .toString()
      .padStart(7)} records/s`,
  );
}

async function produceConcurrently(
  log: Log,
  topic: string,
  callers: number,
  total: number,
  perSend: number,
): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: callers }, async () => {
      while (next < total) {
        const start = next;
        next += perSend;
        await log
          .producer()
          .send(Array.from({ length: Math.min(perSend, total - start) }, (_, i) => record(topic, start + i)));
      }
    }),
  );
}

async function consumeAll(log: Log, topic: string, total: number, batchSizeMax: number): Promise<void> {
  let seen = 0;
  const { promise, resolve } = Promise.withResolvers<void>();
  const consumer = log.consumer({
    groupId: `bench-${topic}`,
    topics: [topic],
    batchSizeMax,
    fetchWaitMaxMs: 100,
    startFrom: "earliest",
  });
  await consumer.start(
    async (records) => {
      seen += records.length;
      if (seen >= total) resolve();
    },
    () => ({ stop: true }),
  );
  await promise;
  await consumer.stop();
}

const dataDir = await mkdtemp(join(tmpdir(), "ledgerflow-log-bench-"));
// PostgreSQL runs as an unprivileged user when we are root; it must be able to enter the directory.
await chmod(dataDir, 0o755);
const secrets = await loadOrCreateLocalSecrets(dataDir);
const server = await startEmbeddedPostgres({
  dataDir,
  port: 20_000 + Math.floor(Math.random() * 20_000),
  persistent: false,
  passwords: { superuser: secrets.postgresSuperuserPassword, app: secrets.postgresAppPassword },
});
const pool = createPool({ url: server.url, connectionsMax: 20, statementTimeoutMs: 60_000 });
try {
  await migrate(pool);
  const log = createPostgresLog({
    pool,
    lingerMs: Number(process.env.LINGER_MS ?? 1),
    appendsInFlightMax: Number(process.env.APPENDS_IN_FLIGHT ?? 2),
  });
  const spec = (name: string) => ({
    name,
    partitions,
    replicationFactor: 1,
    retentionMs: 86_400_000,
    cleanupPolicy: "delete" as const,
  });
  await log.admin().createTopics(["one", "hundred", "batched", "e2e"].map(spec));

  const oneCallerRecords = Math.min(2_000, recordsTotal);
  await timed("produce, 1 caller, 1 record per send", oneCallerRecords, () =>
    produceConcurrently(log, "one", 1, oneCallerRecords, 1),
  );
  await timed("produce, 1 caller, 100 records per send", recordsTotal, () =>
    produceConcurrently(log, "batched", 1, recordsTotal, 100),
  );
  await timed("produce, 100 callers, 1 record per send", recordsTotal, () =>
    produceConcurrently(log, "hundred", 100, recordsTotal, 1),
  );
  await timed("consume, 1 member, 8 partitions, batchSizeMax 500", recordsTotal, () =>
    consumeAll(log, "hundred", recordsTotal, 500),
  );
  await timed("produce + consume at once, 100 callers, 1/send", recordsTotal, async () => {
    await Promise.all([
      produceConcurrently(log, "e2e", 100, recordsTotal, 1),
      consumeAll(log, "e2e", recordsTotal, 500),
    ]);
  });
  const { rows } = await pool.query(
    "SELECT count(*)::int AS batches, sum(last_offset - base_offset + 1)::int AS records FROM log_batches WHERE topic = 'hundred'",
  );
  console.log(`stored batches for 'hundred': ${rows[0].batches} rows for ${rows[0].records} records`);
  await log.close();
} finally {
  await pool.end();
  await server.stop();
  await rm(dataDir, { recursive: true, force: true });
}
