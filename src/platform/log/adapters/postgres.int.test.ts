import assert from "node:assert/strict";
import { test } from "node:test";
import { startTestDatabase, type TestDatabase } from "../../../../test/support/postgres.ts";
import { manualClock } from "../../clock.ts";
import { createPool } from "../../db/pool.ts";
import { UnavailableError } from "../../errors.ts";
import { logContract } from "../contract.ts";
import { createPostgresLog } from "./postgres.ts";

let db: TestDatabase;

// Without the tail cache every read goes to the stored batches.
logContract("postgres (no tail cache)", async () => {
  const own = await startTestDatabase();
  return {
    durable: true,
    open: async () => createPostgresLog({ pool: own.pool, tailCacheRecordsMax: 0 }),
    close: () => own.close(),
  };
});

// The contract's hooks own the database: they run after every test of this file.
logContract("postgres", async () => {
  db = await startTestDatabase();
  return {
    durable: true,
    // Each log stands for a separate process on the same database.
    open: async () => createPostgresLog({ pool: db.pool }),
    close: () => db.close(),
  };
});

const spec = (name: string, partitions: number) => ({
  name,
  partitions,
  replicationFactor: 1,
  retentionMs: 86_400_000,
  cleanupPolicy: "delete" as const,
});

test("postgres: a large produce is stored as a few batch rows, not a row per record", async () => {
  const log = createPostgresLog({ pool: db.pool });
  await log.admin().createTopics([spec("pg-batches", 2)]);
  const records = Array.from({ length: 5_000 }, (_, i) => ({
    topic: "pg-batches",
    key: `key-${i}`,
    value: new TextEncoder().encode(`value-${i}`),
  }));
  const positions = await log.producer().send(records);
  assert.equal(positions.length, 5_000);
  const { rows } = await db.pool.query<{ partition: number; batches: string; records: string }>(
    `SELECT partition, count(*) AS batches, sum(last_offset - base_offset + 1) AS records
     FROM log_batches WHERE topic = 'pg-batches' GROUP BY partition ORDER BY partition`,
  );
  assert.equal(
    rows.reduce((sum, r) => sum + Number(r.records), 0),
    5_000,
  );
  assert.ok(
    rows.every((r) => Number(r.batches) <= 2),
    `batches per partition: ${rows.map((r) => r.batches)}`,
  );
  // Reads that start inside a stored batch return exactly the asked range.
  const ends = await log.admin().endOffsets("pg-batches");
  const middle = (ends[0] as bigint) / 2n;
  const slice = await log.read("pg-batches", 0, middle, 3);
  assert.deepEqual(
    slice.map((r) => r.offset),
    [middle, middle + 1n, middle + 2n],
  );
  await log.close();
});

test("postgres: an append in this process wakes a consumer without waiting for the poll", async () => {
  const log = createPostgresLog({ pool: db.pool, pollIntervalMs: 60_000 });
  await log.admin().createTopics([spec("pg-wake", 1)]);
  let arrivedAt = 0;
  const consumer = log.consumer({
    groupId: "wake",
    topics: ["pg-wake"],
    batchSizeMax: 10,
    fetchWaitMaxMs: 60_000,
    startFrom: "latest",
  });
  await consumer.start(
    async () => {
      arrivedAt = Date.now();
    },
    () => ({ stop: true }),
  );
  await new Promise((r) => setTimeout(r, 20));
  const sentAt = Date.now();
  await log.producer().send([{ topic: "pg-wake", key: "k", value: new Uint8Array([1]) }]);
  const deadline = Date.now() + 5_000;
  while (arrivedAt === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 2));
  await consumer.stop();
  await log.close();
  assert.ok(arrivedAt > 0 && arrivedAt - sentAt < 2_000, `arrived ${arrivedAt - sentAt} ms after the send`);
});

/** A started consumer of `topic` from the earliest record that collects the values as text. */
async function collectValues(log: ReturnType<typeof createPostgresLog>, groupId: string, topic: string) {
  const values: string[] = [];
  const consumer = log.consumer({
    groupId,
    topics: [topic],
    batchSizeMax: 10,
    fetchWaitMaxMs: 10_000,
    startFrom: "earliest",
  });
  await consumer.start(
    async (records) => void values.push(...records.map((r) => new TextDecoder().decode(r.value))),
    () => ({ stop: true }),
  );
  return { values, consumer };
}

test("postgres: a record appended by another process is seen by the fallback poll", async () => {
  const reader = createPostgresLog({ pool: db.pool, pollIntervalMs: 50 });
  const writer = createPostgresLog({ pool: db.pool });
  await writer.admin().createTopics([spec("pg-cross-process", 1)]);
  const { values, consumer } = await collectValues(reader, "cross", "pg-cross-process");
  await writer
    .producer()
    .send([{ topic: "pg-cross-process", key: "k", value: new TextEncoder().encode("hello") }]);
  const deadline = Date.now() + 5_000;
  while (values.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
  await consumer.stop();
  await Promise.all([reader.close(), writer.close()]);
  assert.deepEqual(values, ["hello"]);
});

test("postgres: another process's record is seen while this process appends without pause", async () => {
  const reader = createPostgresLog({ pool: db.pool, pollIntervalMs: 50 });
  const writer = createPostgresLog({ pool: db.pool });
  await reader.admin().createTopics([spec("pg-cross-busy", 2)]);
  const { values: seen, consumer } = await collectValues(reader, "cross-busy", "pg-cross-busy");
  // In-process appends wake the consumer constantly, so it never sleeps until its poll timer.
  let busy = true;
  const inProcess = (async () => {
    for (let i = 0; busy; i++)
      await reader
        .producer()
        .send([{ topic: "pg-cross-busy", key: "busy", value: new TextEncoder().encode(`b${i}`) }]);
  })();
  await writer
    .producer()
    .send([{ topic: "pg-cross-busy", key: "other", value: new TextEncoder().encode("other") }]);
  const deadline = Date.now() + 10_000;
  while (!seen.includes("other") && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
  busy = false;
  await inProcess;
  await consumer.stop();
  await Promise.all([reader.close(), writer.close()]);
  assert.ok(seen.includes("other"), `the other process's record arrived (${seen.length} records seen)`);
});

test("postgres: a consumer at the tail gets this process's appends without reading storage", async () => {
  let fetchQueries = 0;
  const counting = new Proxy(db.pool, {
    get(target, property, receiver) {
      if (property !== "query") return Reflect.get(target, property, receiver);
      return (config: unknown, ...rest: unknown[]) => {
        if (
          typeof config === "object" &&
          config !== null &&
          (config as { name?: string }).name === "log_fetch"
        )
          fetchQueries += 1;
        return (target.query as (...args: unknown[]) => unknown).call(target, config, ...rest);
      };
    },
  });
  const log = createPostgresLog({ pool: counting, pollIntervalMs: 60_000 });
  await log.admin().createTopics([spec("pg-tail-reads", 6)]);
  let received = 0;
  const consumer = log.consumer({
    groupId: "tail-reads",
    topics: ["pg-tail-reads"],
    batchSizeMax: 100,
    fetchWaitMaxMs: 60_000,
    startFrom: "earliest",
  });
  await consumer.start(
    async (records) => {
      received += records.length;
    },
    () => ({ stop: true }),
  );
  const before = fetchQueries;
  for (let i = 0; i < 200; i++)
    await log.producer().send([{ topic: "pg-tail-reads", key: `k${i}`, value: new Uint8Array([1]) }]);
  const deadline = Date.now() + 5_000;
  while (received < 200 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
  await consumer.stop();
  await log.close();
  assert.equal(received, 200);
  // Every 50th poll reads all partitions (for other processes' appends); the rest come from memory.
  assert.ok(fetchQueries - before <= 10, `${fetchQueries - before} storage reads for 200 appends`);
});

test("postgres: sends fail with UnavailableError when PostgreSQL is unreachable", async () => {
  const pool = createPool({
    url: "postgres://nobody:x@127.0.0.1:1/none",
    connectionsMax: 2,
    statementTimeoutMs: 1_000,
  });
  const log = createPostgresLog({ pool });
  try {
    await assert.rejects(
      log.producer().send([{ topic: "any", key: "k", value: new Uint8Array() }]),
      (error) => error instanceof UnavailableError,
    );
    await assert.rejects(log.admin().listTopics(), (error) => error instanceof UnavailableError);
  } finally {
    await log.close();
    await pool.end();
  }
});

test("postgres: a send fails with UnavailableError when its connection dies mid-statement", async () => {
  const log = createPostgresLog({ pool: db.pool });
  await log.admin().createTopics([spec("pg-outage", 1)]);
  await log.producer().send([{ topic: "pg-outage", key: "k", value: new Uint8Array([1]) }]);
  // Hold the partition's row lock so the next append blocks inside its statement, then kill that
  // backend, as a server crash would.
  const blocker = await db.pool.connect();
  await blocker.query("BEGIN");
  await blocker.query("SELECT * FROM log_partitions WHERE topic = 'pg-outage' FOR UPDATE");
  const blocked = log.producer().send([{ topic: "pg-outage", key: "k", value: new Uint8Array([2]) }]);
  const outcome = blocked.then(
    () => undefined,
    (error: unknown) => error,
  );
  let killed = 0;
  const deadline = Date.now() + 5_000;
  while (killed === 0 && Date.now() < deadline) {
    const { rows } = await db.pool.query(
      "SELECT pg_terminate_backend(pid) AS done FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE '%log_batches%'",
    );
    killed = rows.length;
    if (killed === 0) await new Promise((r) => setTimeout(r, 5));
  }
  await blocker.query("ROLLBACK");
  blocker.release();
  assert.equal(killed, 1, "the append was blocked on the lock");
  assert.ok((await outcome) instanceof UnavailableError, `got ${String(await outcome)}`);
  // Nothing of the failed send was stored; the pool reconnects and offsets stay dense.
  const [position] = await log
    .producer()
    .send([{ topic: "pg-outage", key: "k", value: new Uint8Array([3]) }]);
  assert.equal(position?.offset, 1n);
  assert.deepEqual(
    (await log.read("pg-outage", 0, 0n, 10)).map((r) => [...r.value]),
    [[1], [3]],
  );
  await log.close();
});

test("postgres: retention deletes expired batches every group has consumed, and reads skip the gap", async () => {
  const clock = manualClock();
  const log = createPostgresLog({ pool: db.pool, clock, tailCacheRecordsMax: 0 });
  await log.admin().createTopics([
    { ...spec("pg-retention", 1), retentionMs: 60_000 },
    { ...spec("pg-retention-compact", 1), retentionMs: 60_000, cleanupPolicy: "compact" },
  ]);
  const send = (topic: string, value: string) =>
    log.producer().send([{ topic, key: "k", value: new TextEncoder().encode(value) }]);
  for (const value of ["old-0", "old-1", "old-2"]) await send("pg-retention", value);
  await send("pg-retention-compact", "kept");
  clock.advance(120_000);
  await send("pg-retention", "fresh-3");
  // One group has read offsets 0 and 1 only; another has read everything.
  await db.pool.query(
    "INSERT INTO log_group_offsets (group_id, topic, partition, next_offset) VALUES ('slow', 'pg-retention', 0, 2), ('fast', 'pg-retention', 0, 4)",
  );
  assert.equal(await log.deleteExpiredBatches(), 2);
  const remaining = await log.read("pg-retention", 0, 0n, 10);
  assert.deepEqual(
    remaining.map((r) => [r.offset, new TextDecoder().decode(r.value)]),
    [
      [2n, "old-2"],
      [3n, "fresh-3"],
    ],
  );
  assert.deepEqual(await log.admin().endOffsets("pg-retention"), [4n]);
  assert.equal((await log.read("pg-retention-compact", 0, 0n, 10)).length, 1);
  // Nothing more to delete until the slow group moves on.
  assert.equal(await log.deleteExpiredBatches(), 0);
  await db.pool.query("UPDATE log_group_offsets SET next_offset = 4 WHERE group_id = 'slow'");
  assert.equal(await log.deleteExpiredBatches(), 1);
  // A consumer that starts from the earliest offset skips the deleted range.
  const seen: bigint[] = [];
  const consumer = log.consumer({
    groupId: "new-group",
    topics: ["pg-retention"],
    batchSizeMax: 10,
    fetchWaitMaxMs: 20,
    startFrom: "earliest",
  });
  await consumer.start(
    async (records) => void seen.push(...records.map((r) => r.offset)),
    () => ({ stop: true }),
  );
  const deadline = Date.now() + 5_000;
  while (seen.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
  await consumer.stop();
  assert.deepEqual(seen, [3n]);
  assert.deepEqual(await log.admin().committedOffsets("new-group", "pg-retention"), [4n]);
  await log.close();
});
