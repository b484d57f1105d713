/**
 * What one transfer costs PostgreSQL in the ledger handler's batch transaction, and which schema or
 * SQL alternatives make it cheaper. Runs the REAL applyCommandBatch (embedded mode: events go into the
 * PostgreSQL log inside the handler's transaction) on the embedded PostgreSQL of the tests.
 *
 *   node bench/ledger-write-cost.ts [--accounts 20000] [--transfers 4000] [--rounds 6] [--warmup 1]
 *                                   [--churn 12] [--passes 2] [--only fill100,split,...] [--all] [--explain]
 *                                   [--no-check]
 *
 * Setup: `--accounts` accounts (plus a system treasury) are created and funded through applyCommandBatch
 * in the public schema. Each run then gets a fresh schema (migrations 0004 and 0015 + the variant's DDL) filled
 * with a copy of those rows, and a pool of ONE connection whose search_path puts that schema first (the
 * log stays in public). `--churn` rounds of plain UPDATEs (35% of the accounts each) then bring the
 * accounts table to a busy ledger's page layout; a run applies `--warmup` unmeasured batches,
 * CHECKPOINTs, then `--rounds` measured batches of `--transfers` random transfers (the same seeded
 * transfers in every run) and checks the ledger's invariants.
 *
 * Variants are applied without touching src/: schema DDL before the copy, or a statement rewrite at
 * the driver (the store's prepared statement text is replaced by an alternative, also prepared).
 * Diagnostic variants (marked "diag") break a guarantee or add round trips; they only split costs.
 *
 * Per run: wall ms per batch (includes the handler's JavaScript); PostgreSQL executor µs per transfer
 * per statement (pg_stat_statements: excludes parsing the parameters at Bind and COMMIT's WAL flush,
 * so COMMIT is timed on the client); CPU of the handler's backend and of the whole cluster (/proc,
 * 10 ms ticks; covers Bind and COMMIT); WAL bytes per transfer; share of HOT account updates.
 * `--passes` repeats the sequence (every other pass in reverse order), baseline first and last.
 *
 * --explain prints, for the first run of each variant, auto_explain's ANALYZE plans of the lock and
 * persist statements of the warm-up batch (as executed: prepared, generic or custom plan).
 */
import { readdirSync, readFileSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { loadavg } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import type pg from "pg";
import { topicSpecs } from "../src/app/topology.ts";
import { createPostgresLedgerStore, logOutbox } from "../src/ledger/adapters/postgres.ts";
import { type ApplyBatchDeps, applyCommandBatch } from "../src/ledger/apply-batch.ts";
import type { LedgerCommand } from "../src/ledger/domain/types.ts";
import { type IdGenerator, type Random, seededIds, seededRandom } from "../src/platform/clock.ts";
import { createPool, prepared } from "../src/platform/db/pool.ts";
import { createPostgresLog, type PostgresLog } from "../src/platform/log/adapters/postgres.ts";
import {
  applyDeps,
  createAccountCommand,
  envelope,
  type LedgerCodecs,
  ledgerCodecs,
  ledgerViolations,
  transferCommand,
} from "../test/support/ledger-fixtures.ts";
import { startTestDatabase, type TestDatabase } from "../test/support/postgres.ts";

const migrationsDir = join(import.meta.dirname, "../src/ledger/migrations");
/** The migrations that shape the ledger tables, applied in each run's fresh schema. */
const ledgerTableMigrations = ["0004_ledger.sql", "0015_ledger_accounts_fillfactor.sql"];
const startMs = 1_700_000_000_000;
const fundingPerAccount = 1_000_000_000n;
const transferAmountMax = 1_000;

// --- Statement classes ---------------------------------------------------------------------------

type StatementClass =
  | "find"
  | "lock"
  | "persist"
  | `persist:${string}`
  | "serials"
  | "log"
  | "begin"
  | "commit"
  | "other";

function classify(text: string): StatementClass {
  const sql = text.trim();
  if (/^BEGIN/i.test(sql)) return "begin";
  if (/^COMMIT/i.test(sql)) return "commit";
  const part = /\/\* part (\w+) \*\//.exec(sql)?.[1];
  if (part !== undefined) return `persist:${part}`;
  if (/^WITH created AS/.test(sql)) return "persist";
  if (/FROM ledger_commands WHERE command_id = ANY/.test(sql)) return "find";
  if (/FROM ledger_accounts/.test(sql) && /FOR (NO KEY )?UPDATE|\/\* lock/.test(sql)) return "lock";
  if (/ledger_account_serial/.test(sql)) return "serials";
  if (/log_partitions|log_batches/.test(sql)) return "log";
  return "other";
}

// --- Statement rewrites at the driver ------------------------------------------------------------

interface Statement {
  readonly text: string;
  readonly values: readonly unknown[];
}

/** Replaces one statement of the store by others (run in order; the last one's result is returned). */
type Rewrite = (kind: StatementClass, text: string, values: readonly unknown[]) => Statement[] | undefined;

interface Timings {
  readonly wallMs: Map<string, number>;
}

/**
 * A pool whose clients pass the store's statements through `rewrite` and time each on the client
 * side. Only `connect` is used by inTransaction, so only `connect` is offered.
 */
function interceptingPool(pool: pg.Pool, rewrite: Rewrite | undefined, timings: Timings): pg.Pool {
  const patched = new WeakSet<pg.PoolClient>();
  const timed = async <T>(kind: string, run: () => Promise<T>): Promise<T> => {
    const started = performance.now();
    try {
      return await run();
    } finally {
      timings.wallMs.set(kind, (timings.wallMs.get(kind) ?? 0) + performance.now() - started);
    }
  };
  const connect = async (): Promise<pg.PoolClient> => {
    const client = await pool.connect();
    if (patched.has(client)) return client;
    patched.add(client);
    const original = client.query.bind(client) as (...args: unknown[]) => Promise<pg.QueryResult>;
    // pg.Pool#query calls with a callback: pass those through untouched (they are not the store's).
    const query = (config: unknown, values?: unknown, ...rest: unknown[]): Promise<pg.QueryResult> =>
      typeof values === "function" || rest.length > 0
        ? original(config, values, ...rest)
        : storeQuery(config, values);
    const storeQuery = async (config: unknown, values?: unknown): Promise<pg.QueryResult> => {
      const text = typeof config === "string" ? config : (config as { text: string }).text;
      const args = (values ?? (config as { values?: unknown[] }).values ?? []) as readonly unknown[];
      const kind = classify(text);
      const replacement = rewrite?.(kind, text, args);
      if (replacement === undefined) return timed(kind, () => original(config, values));
      let result: pg.QueryResult | undefined;
      for (const statement of replacement) {
        result = await timed(classify(statement.text), () =>
          original(prepared(statement.text), [...statement.values]),
        );
      }
      if (result === undefined) throw new Error("a rewrite returned no statement");
      return result;
    };
    (client as unknown as { query: typeof query }).query = query;
    return client;
  };
  return { connect } as unknown as pg.Pool;
}

/** The parts of the persist statement (its data-modifying CTEs), each as a statement of its own. */
function persistParts(text: string, values: readonly unknown[]): Statement[] {
  const parts: Statement[] = [];
  for (const match of text.matchAll(/(?:WITH|,) (\w+) AS \(\n([\s\S]*?)\n\)(?=,|\nSELECT 1)/g)) {
    const [, name, body] = match as unknown as [string, string, string];
    const numbers = [...body.matchAll(/\$(\d+)/g)].map((m) => Number(m[1]));
    const first = Math.min(...numbers);
    const last = Math.max(...numbers);
    parts.push({
      // The marker sits inside the statement: pg_stat_statements drops comments before and after it.
      text: body
        .trim()
        .replace(/^(\w+)/, `$1 /* part ${name} */`)
        .replace(/\$(\d+)/g, (_, n: string) => `$${Number(n) - first + 1}`),
      values: values.slice(first - 1, last),
    });
  }
  if (parts.length !== 6) throw new Error(`expected 6 parts in the persist statement, found ${parts.length}`);
  return parts;
}

/** A statement that only receives the persist statement's parameters: their parsing (Bind) stays. */
function parametersOnly(text: string): string {
  const types = new Map<number, string>();
  for (const m of text.matchAll(/\$(\d+)::(\w+\[\]|\w+)/g)) types.set(Number(m[1]), m[2] as string);
  const columns = [...types].sort(([a], [b]) => a - b).map(([n, type]) => `$${n}::${type} AS p${n}`);
  return `SELECT /* part bindonly */ 1 FROM (SELECT ${columns.join(", ")}) AS parameters`;
}

/** Batches the "derived" variant ran unchanged because their entries were not derivable. */
let derivedFallbacks = 0;

const derivedEntriesCte = `entries AS (
  INSERT INTO ledger_entries (account_id, transfer_id, command_id, asset, amount, balance_after,
                              counterparty_iban, description, at_ms)
  SELECT e.account_id, t.id, t.command_id, t.asset, e.amount, e.balance_after, e.counterparty, t.description, t.at
    FROM unnest($16::uuid[], $19::uuid[], $20::uuid[], $21::bigint[], $22::text[], $23::text[], $25::bigint[],
                $26::uuid[], $27::bigint[], $28::bigint[], $29::text[], $30::text[])
         WITH ORDINALITY AS t (id, debit, credit, amount, asset, description, at,
                               command_id, debit_after, credit_after, debit_iban, credit_iban, n)
   CROSS JOIN LATERAL (VALUES (t.debit, -t.amount, t.debit_after, t.credit_iban, 1),
                              (t.credit, t.amount, t.credit_after, t.debit_iban, 2))
         AS e (account_id, amount, balance_after, counterparty, side)
   ORDER BY t.n, e.side
)`;

/**
 * The persist statement with the entries derived in SQL from the started transfers' arrays plus five
 * per-transfer arrays (command id, both balances after, both IBANs) instead of nine per-entry arrays:
 * 5 parameter elements per transfer instead of 18. Only for batches whose entries all come from
 * single-phase transfers started in the batch (the benchmark's); anything else runs unchanged.
 */
function entriesFromTransfers(text: string, values: readonly unknown[]): Statement[] {
  const v = (n: number) => values[n - 1] as unknown[];
  const transferIds = v(16) as string[];
  const phases = v(18) as string[];
  const entryTransfers = v(27) as string[];
  const derivable =
    phases.every((phase) => phase === "single") &&
    entryTransfers.length === 2 * transferIds.length &&
    entryTransfers.every((id, i) => id === transferIds[Math.floor(i / 2)]) &&
    (v(30) as string[]).every((amount, i) => (i % 2 === 0) === amount.startsWith("-"));
  if (!derivable) {
    derivedFallbacks += 1;
    return [{ text, values }];
  }
  const everyOther = (array: unknown[], offset: number) => array.filter((_, i) => i % 2 === offset);
  const perTransfer = [
    everyOther(v(28), 0),
    everyOther(v(31), 0),
    everyOther(v(31), 1),
    everyOther(v(32), 1),
    everyOther(v(32), 0),
  ];
  const rewritten = text
    .replace(/entries AS \(\n[\s\S]*?\n\)(?=, outcomes)/, derivedEntriesCte.replace(/\$/g, "\uE000"))
    .replace(/\$(\d+)/g, (match, n: string) => (Number(n) > 34 ? `$${Number(n) - 4}` : match))
    .replaceAll("\uE000", "$");
  return [{ text: rewritten, values: [...values.slice(0, 25), ...perTransfer, ...values.slice(34)] }];
}

/** The plan of an auto_explain message without the query text, long constants cut. */
function planOnly(message: string): string {
  const lines = message.split("\n");
  const first = lines.findIndex((line) => /^\S.*\(cost=/.test(line));
  return lines
    .slice(Math.max(0, first))
    .map((line) => (line.length > 160 ? `${line.slice(0, 160)}…` : line))
    .join("\n");
}

function lockColumns(text: string): string {
  const columns = /SELECT ([\s\S]*?) FROM ledger_accounts/.exec(text)?.[1];
  if (columns === undefined) throw new Error("unexpected lock statement");
  return columns;
}

const rewriteLock =
  (change: (text: string, values: readonly unknown[]) => Statement[]): Rewrite =>
  (kind, text, values) =>
    kind === "lock" ? change(text, values) : undefined;

// --- Variants ------------------------------------------------------------------------------------

interface Variant {
  readonly key: string;
  readonly label: string;
  /** Breaks a guarantee or adds round trips: only to split the cost. */
  readonly diagnostic?: boolean;
  /** Measured once, no gain: runs only with --all or when named in --only (keeps the default run short). */
  readonly optional?: boolean;
  /** DDL run in the fresh schema after the ledger migrations, before the rows are copied in. */
  readonly ddl?: readonly string[];
  readonly rewrite?: Rewrite;
}

const noKeyUpdate = (text: string) => text.replace("FOR UPDATE", "FOR NO KEY UPDATE");

const variants: readonly Variant[] = [
  { key: "base", label: "baseline (src as is: fillfactor 70 from migration 0015)" },
  {
    key: "fill100",
    label: "ledger_accounts fillfactor 100 (before migration 0015)",
    ddl: ["ALTER TABLE ledger_accounts SET (fillfactor = 100)"],
  },
  {
    key: "generic",
    optional: true,
    label: "plan_cache_mode = force_generic_plan (the run's one connection)",
    ddl: ["SET plan_cache_mode = force_generic_plan"],
  },
  {
    key: "custom",
    optional: true,
    label: "plan_cache_mode = force_custom_plan (the run's one connection)",
    ddl: ["SET plan_cache_mode = force_custom_plan"],
  },
  {
    key: "ff50",
    label: "ledger_accounts fillfactor 50",
    ddl: ["ALTER TABLE ledger_accounts SET (fillfactor = 50)"],
  },
  {
    key: "nokey",
    label: "lock FOR NO KEY UPDATE",
    rewrite: rewriteLock((text, values) => [{ text: noKeyUpdate(text), values }]),
  },
  {
    key: "ibanonly",
    optional: true,
    label: "lock by iban only when no ids (no BitmapOr)",
    rewrite: rewriteLock((text, values) => {
      const [ids, ibans] = values as [string[], string[]];
      if (ids.length > 0) return [{ text, values }];
      return [
        {
          text: `SELECT ${lockColumns(text)} FROM ledger_accounts WHERE iban = ANY($1::text[]) ORDER BY id FOR UPDATE`,
          values: [ibans],
        },
      ];
    }),
  },
  {
    key: "derived",
    label: "entries derived in SQL from the transfer arrays (5 instead of 18 elements per transfer)",
    rewrite: (kind, text, values) => (kind === "persist" ? entriesFromTransfers(text, values) : undefined),
  },
  {
    key: "seqcache",
    optional: true,
    label: "ledger_entries id sequence CACHE 1000",
    ddl: ["ALTER TABLE ledger_entries ALTER COLUMN id SET CACHE 1000"],
  },
  {
    key: "noidx",
    label: "without the 3 non-unique secondary indexes (drops query paths)",
    diagnostic: true,
    ddl: [
      "DROP INDEX ledger_accounts_owner",
      "DROP INDEX ledger_transfers_recent",
      "DROP INDEX ledger_transfers_pending_expiry",
    ],
  },
  {
    key: "nolock",
    label: "lock SELECT without FOR UPDATE (UNSAFE)",
    diagnostic: true,
    rewrite: rewriteLock((text, values) => [
      { text: text.replace(/ FOR UPDATE/, "").replace(/^(\s*SELECT)/, "$1 /* lock (none) */"), values },
    ]),
  },
  {
    key: "bindonly",
    label: "persist replaced by a no-op taking the same 46 parameters (no rows written)",
    diagnostic: true,
    rewrite: (kind, text, values) =>
      kind === "persist" ? [{ text: parametersOnly(text), values }] : undefined,
  },
  {
    key: "nopersist",
    label: "persist replaced by a no-op without parameters (no rows written)",
    diagnostic: true,
    rewrite: (kind) => (kind === "persist" ? [{ text: "SELECT /* part none */ 1", values: [] }] : undefined),
  },
  {
    key: "split",
    label: "persist split into its 6 CTE parts",
    diagnostic: true,
    rewrite: (kind, text, values) => (kind === "persist" ? persistParts(text, values) : undefined),
  },
];

// --- Measuring -----------------------------------------------------------------------------------

/** utime + stime of a process in clock ticks (100 per second on Linux). */
function cpuTicks(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return Number(fields[11]) + Number(fields[12]);
  } catch {
    return 0;
  }
}

function parentPid(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  return Number(/PPid:\s+(\d+)/.exec(status)?.[1]);
}

/** CPU ticks of the postmaster and all its children (backends, WAL writer, checkpointer, autovacuum). */
function clusterTicks(postmasterPid: number): number {
  let total = cpuTicks(postmasterPid);
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      if (Number(fields[1]) === postmasterPid) total += Number(fields[11]) + Number(fields[12]);
    } catch {
      // the process ended meanwhile
    }
  }
  return total;
}

interface RunResult {
  readonly variant: Variant;
  readonly pass: number;
  readonly wallMsPerBatch: number;
  /** PostgreSQL execution µs per transfer, by statement class. */
  readonly serverUs: Map<string, number>;
  /** Client-side µs per transfer, by statement class. */
  readonly clientUs: Map<string, number>;
  readonly serverTotalUs: number;
  readonly backendCpuUs: number;
  readonly clusterCpuUs: number;
  readonly walBytes: number;
  readonly walByClass: Map<string, number>;
  readonly hotShare: number;
  readonly violations: number;
}

interface World {
  readonly db: TestDatabase;
  readonly log: PostgresLog;
  readonly codecs: LedgerCodecs;
  readonly ibans: readonly string[];
  readonly postmasterPid: number;
}

function randomTransfers(
  random: Random,
  ids: IdGenerator,
  ibans: readonly string[],
  count: number,
): LedgerCommand[] {
  const pick = () => ibans[Math.floor(random.next() * ibans.length)] as string;
  return Array.from({ length: count }, () => {
    const from = pick();
    let to = pick();
    while (to === from) to = pick();
    const amount = BigInt(1 + Math.floor(random.next() * transferAmountMax));
    return transferCommand(ids, { from, to, amount, description: "load valid" });
  });
}

/** Creates and funds the accounts in the public schema (the template every run copies). */
async function buildWorld(accounts: number): Promise<World> {
  // As the superuser: statement statistics, CHECKPOINT and resets need it.
  const db = await startTestDatabase({ superuser: true });
  await db.pool.query("CREATE EXTENSION IF NOT EXISTS pg_stat_statements");
  const codecs = await ledgerCodecs(db.pool);
  const log = createPostgresLog({ pool: db.pool, lingerMs: 0 });
  await log.admin().createTopics(topicSpecs(1));
  let now = startMs;
  const deps = applyDeps(db.pool, codecs, () => now++);
  const ids = seededIds(seededRandom(7));
  const apply = async (commands: readonly LedgerCommand[]) => {
    const result = await applyCommandBatch(
      deps,
      commands.map((c) => envelope(c)),
    );
    if (result.outcomes.some((o) => o.status !== "CONFIRMED")) throw new Error("setup command failed");
    return result;
  };
  const treasury = await apply([createAccountCommand(ids, { ownerId: "bank", system: true })]);
  const treasuryIban = treasury.outcomes[0]?.result.iban as string;
  const ibans: string[] = [];
  const chunk = 4_000;
  for (let i = 0; i < accounts; i += chunk) {
    const created = await apply(
      Array.from({ length: Math.min(chunk, accounts - i) }, (_, j) =>
        createAccountCommand(ids, { ownerId: `owner-${(i + j) % 5_000}` }),
      ),
    );
    const fresh = created.outcomes.map((o) => o.result.iban as string);
    await apply(
      fresh.map((to) => transferCommand(ids, { from: treasuryIban, to, amount: fundingPerAccount })),
    );
    ibans.push(...fresh);
    progress(`setup: ${ibans.length}/${accounts} accounts created and funded`);
  }
  const pid = (await db.pool.query("SELECT pg_backend_pid() AS pid")).rows[0].pid as number;
  return { db, log, codecs, ibans, postmasterPid: parentPid(pid) };
}

async function variantPool(
  world: World,
  schema: string,
  variant: Variant,
  churnRounds: number,
): Promise<pg.Pool> {
  const { db } = world;
  await db.pool.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  await db.pool.query(`CREATE SCHEMA ${schema}`);
  const pool = createPool({
    url: `${db.url}&options=${encodeURIComponent(`-c search_path=${schema},public`)}`,
    connectionsMax: 1,
    statementTimeoutMs: 300_000,
  });
  for (const migration of ledgerTableMigrations)
    await pool.query(await readFile(join(migrationsDir, migration), "utf8"));
  for (const ddl of variant.ddl ?? []) await pool.query(ddl);
  await pool.query("INSERT INTO ledger_accounts SELECT * FROM public.ledger_accounts ORDER BY created_at_ms");
  await pool.query("INSERT INTO ledger_transfers SELECT * FROM public.ledger_transfers");
  await pool.query(
    `INSERT INTO ledger_entries (account_id, transfer_id, command_id, asset, amount, balance_after,
                                 counterparty_iban, description, at_ms)
     SELECT account_id, transfer_id, command_id, asset, amount, balance_after, counterparty_iban, description, at_ms
       FROM public.ledger_entries ORDER BY id`,
  );
  await pool.query("INSERT INTO ledger_commands SELECT * FROM public.ledger_commands");
  for (const table of ["ledger_accounts", "ledger_transfers", "ledger_entries", "ledger_commands"])
    await pool.query(`VACUUM ANALYZE ${table}`);
  await churnAccounts(pool, world.ibans.length, churnRounds);
  return pool;
}

/**
 * Brings the accounts table to the page layout of a busy ledger (dead versions, pruned pages, split
 * HOT chains) in a fraction of the time real batches take: `rounds` updates of the same share of
 * accounts one handler batch touches, each its own transaction, balances unchanged.
 */
async function churnAccounts(pool: pg.Pool, accounts: number, rounds: number): Promise<void> {
  const random = seededRandom(99);
  const { rows } = await pool.query<{ id: string }>("SELECT id FROM ledger_accounts");
  const ids = rows.map((r) => r.id);
  const perRound = Math.min(ids.length, Math.round(accounts * 0.35));
  for (let round = 0; round < rounds; round++) {
    const chosen = new Set<string>();
    while (chosen.size < perRound) chosen.add(ids[Math.floor(random.next() * ids.length)] as string);
    await pool.query(
      `UPDATE ledger_accounts AS t SET balance = t.balance
         FROM (SELECT id FROM ledger_accounts WHERE id = ANY($1::uuid[]) ORDER BY id FOR UPDATE) AS l
        WHERE t.id = l.id`,
      [[...chosen]],
    );
  }
}

/** HOT counters of the accounts table, after this backend has reported its pending statistics. */
async function tableCounters(pool: pg.Pool, schema: string) {
  await pool.query("SELECT pg_stat_force_next_flush()");
  await pool.query("SELECT pg_stat_clear_snapshot()");
  const { rows } = await pool.query(
    "SELECT n_tup_upd::bigint AS upd, n_tup_hot_upd::bigint AS hot FROM pg_stat_user_tables WHERE schemaname = $1 AND relname = 'ledger_accounts'",
    [schema],
  );
  return { upd: Number(rows[0]?.upd ?? 0), hot: Number(rows[0]?.hot ?? 0) };
}

async function walLsn(pool: pg.Pool): Promise<bigint> {
  const { rows } = await pool.query("SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), '0/0')::text AS lsn");
  return BigInt(rows[0].lsn);
}

/** auto_explain on the run's connection, reported to the client as NOTICEs. */
async function captureExplain(pool: pg.Pool, on: boolean, sink: string[]): Promise<void> {
  const client = await pool.connect();
  try {
    if (on) {
      client.removeAllListeners("notice");
      client.on("notice", (notice: { message?: string }) => {
        if (notice.message?.includes("Query Text")) sink.push(notice.message);
      });
      await client.query("LOAD 'auto_explain'");
      await client.query(
        "SET auto_explain.log_analyze = on; SET auto_explain.log_buffers = on; SET auto_explain.log_wal = on; SET auto_explain.log_level = 'notice'; SET auto_explain.log_parameter_max_length = 0; SET auto_explain.log_min_duration = 0",
      );
    } else {
      await client.query("SET auto_explain.log_min_duration = -1");
      client.removeAllListeners("notice");
    }
  } finally {
    client.release();
  }
}

async function runVariant(
  world: World,
  variant: Variant,
  pass: number,
  occurrence: number,
  options: {
    transfers: number;
    rounds: number;
    warmup: number;
    churn: number;
    explain: boolean;
    check: boolean;
  },
): Promise<RunResult> {
  const schema = `v_${variant.key}_${occurrence}`;
  const pool = await variantPool(world, schema, variant, options.churn);
  try {
    const timings: Timings = { wallMs: new Map() };
    let now = startMs + 1_000_000 * (occurrence + 1);
    const deps: ApplyBatchDeps = {
      ...applyDeps(pool, world.codecs, () => now++),
      store: createPostgresLedgerStore(
        interceptingPool(pool, variant.rewrite, timings),
        logOutbox(world.log),
      ),
    };
    const backendPid = (await pool.query("SELECT pg_backend_pid() AS pid")).rows[0].pid as number;
    const batchOf = (round: number) => {
      const random = seededRandom(1_000 + round);
      return randomTransfers(random, seededIds(random), world.ibans, options.transfers).map((c) =>
        envelope(c, now),
      );
    };
    const apply = async (round: number) => {
      const result = await applyCommandBatch(deps, batchOf(round));
      if (result.appliedCount !== options.transfers || result.outcomes.some((o) => o.status !== "CONFIRMED"))
        throw new Error(`${variant.key}: a transfer was not applied`);
    };

    const plans: string[] = [];
    for (let round = 0; round < options.warmup; round++) {
      const explainThis = options.explain && occurrence === 0 && round === 0;
      if (explainThis) await captureExplain(pool, true, plans);
      await apply(round);
      if (explainThis) await captureExplain(pool, false, plans);
    }
    for (const plan of plans) {
      const kind = classify(plan.slice(plan.indexOf("Query Text:") + 11));
      if (kind === "lock" || kind.startsWith("persist"))
        process.stdout.write(`\n--- ${variant.key}: ${kind} ---\n${planOnly(plan)}\n`);
    }

    await pool.query("CHECKPOINT");
    timings.wallMs.clear();
    await pool.query("SELECT pg_stat_statements_reset()");
    const countersBefore = await tableCounters(pool, schema);
    const walBefore = await walLsn(pool);
    const backendBefore = cpuTicks(backendPid);
    const clusterBefore = clusterTicks(world.postmasterPid);
    const started = performance.now();
    for (let round = 0; round < options.rounds; round++) {
      await apply(options.warmup + round);
      progress(
        `pass ${pass + 1} ${variant.key}: batch ${round + 1}/${options.rounds} (${((performance.now() - started) / (round + 1)).toFixed(0)} ms/batch)`,
      );
    }
    const wallMs = performance.now() - started;
    const backendTicks = cpuTicks(backendPid) - backendBefore;
    const clusterTicksUsed = clusterTicks(world.postmasterPid) - clusterBefore;
    const walBytes = Number((await walLsn(pool)) - walBefore);
    const countersAfter = await tableCounters(pool, schema);

    const transfers = options.transfers * options.rounds;
    const { rows } = await pool.query(
      "SELECT query, total_exec_time AS ms, wal_bytes::bigint AS wal FROM pg_stat_statements WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())",
    );
    const serverUs = new Map<string, number>();
    const walByClass = new Map<string, number>();
    for (const row of rows) {
      const kind = classify(row.query as string);

      if (kind === "other") continue;
      serverUs.set(kind, (serverUs.get(kind) ?? 0) + (Number(row.ms) * 1000) / transfers);
      walByClass.set(kind, (walByClass.get(kind) ?? 0) + Number(row.wal) / transfers);
    }
    const clientUs = new Map([...timings.wallMs].map(([k, ms]) => [k, (ms * 1000) / transfers]));
    const updates = countersAfter.upd - countersBefore.upd;
    const violations = options.check ? Object.keys(await ledgerViolations(pool)).length : 0;
    return {
      variant,
      pass,
      wallMsPerBatch: wallMs / options.rounds,
      serverUs,
      clientUs,
      serverTotalUs: [...serverUs.values()].reduce((a, b) => a + b, 0),
      backendCpuUs: (backendTicks * 10_000) / transfers,
      clusterCpuUs: (clusterTicksUsed * 10_000) / transfers,
      walBytes: walBytes / transfers,
      walByClass,
      hotShare: updates > 0 ? (countersAfter.hot - countersBefore.hot) / updates : Number.NaN,
      violations,
    };
  } finally {
    await pool.end();
    await world.db.pool.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  }
}

// --- Reporting -----------------------------------------------------------------------------------

let progressShown = false;
function progress(line: string): void {
  if (!process.stdout.isTTY) {
    if (process.env.BENCH_TRACE) process.stderr.write(`${line}\n`);
    return;
  }
  process.stdout.write(`\r\x1b[2K${line}`);
  progressShown = true;
}

function endProgress(): void {
  if (progressShown) process.stdout.write("\r\x1b[2K");
  progressShown = false;
}

const f0 = (n: number) => (Number.isFinite(n) ? n.toFixed(0) : "–");
const f1 = (n: number) => (Number.isFinite(n) ? n.toFixed(1) : "–");

/** "a / b" for the passes of one variant: every measurement, so the spread shows. */
const all = (values: readonly number[], format: (n: number) => string) => values.map(format).join(" / ");

function runLine(r: RunResult): string {
  const s = (k: string) => r.serverUs.get(k) ?? 0;
  const parts = [...r.serverUs]
    .filter(([k]) => k.startsWith("persist:"))
    .map(([k, v]) => `${k.slice(8)} ${v.toFixed(1)}`)
    .join(", ");
  return `pass ${r.pass + 1} ${r.variant.key.padEnd(10)} ${f0(r.wallMsPerBatch)} ms/batch | PG µs/transfer: find ${f1(s("find"))} lock ${f1(s("lock"))} persist ${f1(s("persist"))}${parts ? ` (${parts})` : ""} log ${f1(s("log"))} commit (client) ${f1(r.clientUs.get("commit") ?? 0)} total ${f1(r.serverTotalUs)} | CPU backend ${f1(r.backendCpuUs)} cluster ${f1(r.clusterCpuUs)} | WAL ${f0(r.walBytes)} B | HOT ${f0(r.hotShare * 100)}%${r.violations ? ` | ${r.violations} INVARIANTS BROKEN` : ""}${derivedFallbacks ? ` | derived fell back ${derivedFallbacks}×` : ""}\n`;
}

function table(results: readonly RunResult[]): string {
  const keys = [...new Set(results.map((r) => r.variant.key))];
  const header =
    "| variant | wall ms/batch | PG total µs/tr | lock µs/tr | persist µs/tr | find µs/tr | log µs/tr | COMMIT wall µs/tr (client) | backend CPU µs/tr | cluster CPU µs/tr | WAL B/tr | HOT upd % |\n" +
    "|---|---|---|---|---|---|---|---|---|---|---|---|\n";
  const lines = keys.map((key) => {
    const runs = results.filter((r) => r.variant.key === key);
    const v = runs[0]?.variant as Variant;
    const s = (k: string) => runs.map((r) => r.serverUs.get(k) ?? 0);
    const persist = runs.map((r) =>
      [...r.serverUs].filter(([k]) => k.startsWith("persist")).reduce((a, [, x]) => a + x, 0),
    );
    return `| ${v.key}${v.diagnostic ? " (diag)" : ""}: ${v.label} | ${all(
      runs.map((r) => r.wallMsPerBatch),
      f0,
    )} | ${all(
      runs.map((r) => r.serverTotalUs),
      f1,
    )} | ${all(s("lock"), f1)} | ${all(persist, f1)} | ${all(s("find"), f1)} | ${all(s("log"), f1)} | ${all(
      runs.map((r) => r.clientUs.get("commit") ?? 0),
      f1,
    )} | ${all(
      runs.map((r) => r.backendCpuUs),
      f1,
    )} | ${all(
      runs.map((r) => r.clusterCpuUs),
      f1,
    )} | ${all(
      runs.map((r) => r.walBytes),
      f0,
    )} | ${all(
      runs.map((r) => r.hotShare * 100),
      f0,
    )} |`;
  });
  return `${header}${lines.join("\n")}\n`;
}

function splitTable(results: readonly RunResult[]): string {
  const runs = results.filter((r) => r.variant.key === "split");
  if (runs.length === 0) return "";
  const parts = [
    ...new Set(runs.flatMap((r) => [...r.serverUs.keys()].filter((k) => k.startsWith("persist:")))),
  ];
  const lines = parts.map(
    (p) =>
      `| ${p.slice(8)} | ${all(
        runs.map((r) => r.serverUs.get(p) ?? 0),
        f1,
      )} | ${all(
        runs.map((r) => r.walByClass.get(p) ?? 0),
        f0,
      )} |`,
  );
  return `\nPersist split (PostgreSQL µs and WAL bytes per transfer, per pass):\n\n| part | µs/transfer | WAL B/transfer |\n|---|---|---|\n${lines.join("\n")}\n`;
}

// --- Main ----------------------------------------------------------------------------------------

async function main() {
  const { values } = parseArgs({
    options: {
      accounts: { type: "string", default: "20000" },
      transfers: { type: "string", default: "4000" },
      rounds: { type: "string", default: "6" },
      warmup: { type: "string", default: "1" },
      churn: { type: "string", default: "12" },
      passes: { type: "string", default: "2" },
      only: { type: "string" },
      explain: { type: "boolean", default: false },
      all: { type: "boolean", default: false },
      "no-check": { type: "boolean", default: false },
    },
  });
  const only = values.only?.split(",");
  const chosen = variants.filter(
    (v) => v.key !== "base" && (only ? only.includes(v.key) : values.all || !v.optional),
  );
  const options = {
    transfers: Number(values.transfers),
    rounds: Number(values.rounds),
    warmup: Math.max(1, Number(values.warmup)),
    churn: Number(values.churn),
    explain: values.explain,
    check: !values["no-check"],
  };
  const base = variants[0] as Variant;
  const startedMs = performance.now();
  const world = await buildWorld(Number(values.accounts));
  endProgress();
  process.stdout.write(
    `setup: ${world.ibans.length} accounts in ${((performance.now() - startedMs) / 1000).toFixed(1)} s; ${options.rounds} × ${options.transfers} transfers per run, ${values.passes} passes\n`,
  );
  const results: RunResult[] = [];
  try {
    for (let pass = 0; pass < Number(values.passes); pass++) {
      // Baseline first and last in every pass (noise check); the pass order alternates.
      const order = pass % 2 === 0 ? chosen : [...chosen].reverse();
      for (const variant of [base, ...order, base]) {
        const occurrence = results.filter((r) => r.variant === variant).length;
        const result = await runVariant(world, variant, pass, occurrence, options);
        results.push(result);
        endProgress();
        process.stdout.write(runLine(result));
      }
    }
  } finally {
    await world.log.close();
    await world.db.close();
  }
  process.stdout.write(
    `\nAll values per transfer unless stated; each cell lists every run (baseline: first and last of each pass). ${((performance.now() - startedMs) / 1000).toFixed(0)} s total, load average ${loadavg()[0]?.toFixed(2)}.\n\n`,
  );
  process.stdout.write(table(results));
  process.stdout.write(splitTable(results));
}

if (import.meta.main) await main();
