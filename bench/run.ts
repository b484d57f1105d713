/**
 * `npm run bench [-- --quick] [--mode embedded|kafka] [--profile]`: measures the platform end to end.
 *
 * - Embedded mode: starts the platform (embedded PostgreSQL in a temp dir, PostgreSQL log, handler,
 *   API) as a child process (bench/platform-child.ts): its event loop and CPU time are its own, not
 *   shared with the load generator, and its CPU can be accounted separately.
 * - Kafka mode (bench/kafka-platform.ts): the distributed platform over the local services (started
 *   if needed), a fresh database and fresh ledger topics, as 1 API + 3 handler child processes;
 *   the report adds produce/consume rates and per-stage timings (produce, log → handler, handler
 *   transaction, outbox relay, notifier). Written to `kafka-latest.*` so `latest.*` stays embedded.
 * - Opens and funds accounts over the API, then offers single transfers (POST /v1/transfers, no
 *   wait, keep-alive connections) at rising open-loop rates until saturation, then batches
 *   (POST /v1/transfers/batch), then runs a naive one-transaction-per-transfer baseline against the
 *   same PostgreSQL.
 * - End-to-end latency: from the moment the client has the 202 to the moment the platform's
 *   subscriber hub (LedgerNotifications, fed by the notifier consumer of the outcome topic, the
 *   same hub behind `Prefer: wait` and WebSocket subscriptions) receives MoneyTransferConfirmed.
 * - Writes bench-results/latest.json, latest.md and latest.svg (kafka mode: kafka-latest.*).
 *
 * Loopback only, bounded in time, stops by itself and removes its processes and temp dir.
 */
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { chmod, copyFile, mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import { availableParallelism, cpus, loadavg, tmpdir, totalmem } from "node:os";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import pg from "pg";
import { seededIds, seededRandom } from "../src/platform/clock.ts";
import { embeddedLayout, embeddedUrl, superuser } from "../src/platform/db/embedded.ts";
import { createJsonClient, type JsonClient } from "../src/tools/load/http.ts";
import { formatMs, LatencySamples } from "../src/tools/load/latency.ts";
import { startOpenLoop } from "../src/tools/load/open-loop.ts";
import { createProgressLine } from "../src/tools/load/progress.ts";
import {
  createAccounts,
  fundAccounts,
  type LoadAccount,
  registerUsers,
  signIn,
} from "../src/tools/load/setup.ts";
import { renderChart } from "../src/tools/load/svg-chart.ts";
import { outcomeOf, type PlannedTransfer, planTransfer } from "../src/tools/load/transfers.ts";
import { type BaselineResult, prepareBaseline, runBaseline } from "./baseline.ts";
import { forkPlatformChild, pidFromFile, postgresCpuMs, processCpuMs } from "./children.ts";
import { startKafkaPlatform } from "./kafka-platform.ts";
import type { BatchSample, ChildMessage, OutcomeSample } from "./protocol.ts";

const { values: args } = parseArgs({
  options: {
    quick: { type: "boolean", default: false },
    mode: { type: "string", default: "embedded" },
    /** Kafka mode: handler processes next to the one API process. */
    handlers: { type: "string", default: "3" },
    profile: { type: "boolean", default: false },
    "token-share": { type: "string", default: "0.5" },
    out: { type: "string", default: "bench-results" },
    /** Payments instead: orchestration overhead, failover, success under failure, verify rate. */
    payments: { type: "boolean", default: false },
    /** Diagnosis: run only some phases (comma-separated http,batch,baseline). */
    only: { type: "string", default: "http,batch,baseline" },
  },
  allowPositionals: false,
});
if (args.payments) {
  const { runPaymentsBench } = await import("./payments.ts");
  const result = await runPaymentsBench(
    args.quick ? { receipts: 100_000, durationS: 2 } : { receipts: 1_000_000 },
  );
  await mkdir(args.out, { recursive: true });
  const file = join(args.out, "payments-latest.json");
  await writeFile(
    file,
    `${JSON.stringify({ ...result, command: `npm run bench -- --payments${args.quick ? " --quick" : ""}`, date: new Date().toISOString() }, null, 2)}\n`,
  );
  process.stdout.write(`→ ${file}\n`);
  process.exit(0);
}
if (args.mode !== "embedded" && args.mode !== "kafka") {
  process.stderr.write(`--mode ${args.mode}: expected embedded or kafka\n`);
  process.exit(2);
}
const kafkaMode = args.mode === "kafka";
const handlersCount = Number(args.handlers);
if (!Number.isInteger(handlersCount) || handlersCount < 1 || handlersCount > 8) {
  process.stderr.write(`--handlers ${args.handlers}: expected 1 to 8\n`);
  process.exit(2);
}
/** Report files: `latest.*` for embedded, `kafka-latest.*` for kafka. */
const reportName = kafkaMode ? "kafka-latest" : "latest";
const quick = args.quick;
const tokenShare = Number(args["token-share"]);
const phases = new Set(args.only.split(","));

/** Step plans. Quick fits in 60 s with start-up; full stays under ~10 minutes. */
const plan = quick
  ? {
      accounts: 1_000,
      warmupMs: 1_500,
      // Kafka mode's targets are 3,000/s and p99 at 1,000/s: step through 3,000 as well.
      httpRates: kafkaMode ? [1_000, 2_000, 3_000, 4_000, 6_000] : [1_000, 2_000, 4_000, 8_000],
      httpStepMs: 3_000,
      batchSize: 4_000,
      batchRates: [20_000, 50_000, 100_000],
      batchStepMs: 3_000,
      drainMaxMs: 2_000,
      pauseMs: 300,
      baselineConcurrency: [32],
      baselineMs: 3_000,
    }
  : {
      accounts: 10_000,
      warmupMs: 5_000,
      httpRates: [500, 1_000, 2_000, 3_000, 4_000, 6_000, 8_000, 12_000, 16_000],
      httpStepMs: 10_000,
      batchSize: 4_000,
      batchRates: [10_000, 25_000, 50_000, 75_000, 100_000, 150_000, 200_000],
      batchStepMs: 8_000,
      drainMaxMs: 10_000,
      pauseMs: 2_000,
      baselineConcurrency: [8, 32, 64],
      baselineMs: 10_000,
    };
const httpConcurrencyMax = 512;
const connectionsMax = 128;
const saturationLatencyMs = 1_000;
// Kafka mode adds starting the services (when not running) and four processes.
const benchTimeLimitMs = (quick ? 90_000 : 15 * 60_000) + (kafkaMode ? 5 * 60_000 : 0);

const nowMs = () => performance.timeOrigin + performance.now();
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const progress = createProgressLine();
const loadAverage = () => loadavg().map((l) => Number(l.toFixed(2)));

// ---------------------------------------------------------------- platform processes and cleanup

interface Platform {
  readonly url: string;
  readonly databaseUrl: string;
  /** CPU ms so far: platform processes, PostgreSQL, and (kafka mode) the Kafka broker + registry. */
  cpuMs(): { platformMs: number; apiMs?: number; postgresMs: number; kafkaMs: number };
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => (typeof address === "object" && address ? resolve(address.port) : reject()));
    });
  });
}

const cleanups: (() => Promise<void>)[] = [];
async function cleanUp(): Promise<void> {
  for (const step of cleanups.splice(0).reverse()) await step().catch(() => {});
}

/** Embedded mode: one process (role all) on embedded PostgreSQL in a temp dir. */
async function startEmbeddedPlatform(
  outDir: string,
  profileDir: string | undefined,
  onMessage: (message: ChildMessage) => void,
): Promise<Platform> {
  const dataDir = await mkdtemp(join(tmpdir(), "ledgerflow-bench-"));
  await chmod(dataDir, 0o755);
  cleanups.push(async () => {
    // The platform's own log (warnings, errors) is kept next to the report for diagnosis.
    await copyFile(join(dataDir, "platform.log"), join(outDir, "platform.log")).catch(() => {});
    await rm(dataDir, { recursive: true, force: true });
  });
  const pgPort = await freePort();
  const postmasterFile = join(dataDir, "pg", "postmaster.pid");
  const env: Record<string, string | undefined> = {};
  for (const [name, value] of Object.entries(process.env))
    if (!name.startsWith("LEDGERFLOW_")) env[name] = value;
  Object.assign(env, {
    LEDGERFLOW_DATA_DIR: dataDir,
    LEDGERFLOW_HOST: "127.0.0.1",
    LEDGERFLOW_PORT: "0",
    LEDGERFLOW_EMBEDDED_PG_PORT: String(pgPort),
    LEDGERFLOW_ADMIN_USERNAME: "admin",
    LEDGERFLOW_ADMIN_PASSWORD: adminPassword,
    LEDGERFLOW_JWT_SECRET: randomBytes(32).toString("hex"),
    LEDGERFLOW_LOG_LEVEL: "warn",
  });
  cleanups.push(async () => {
    // A killed child leaves PostgreSQL running: stop it through its pid file.
    const pid = pidFromFile(postmasterFile);
    if (pid !== undefined) {
      try {
        process.kill(pid, "SIGQUIT");
        await sleep(500);
      } catch {}
    }
  });
  const child = await forkPlatformChild({
    role: "all",
    env,
    logFile: join(dataDir, "platform.log"),
    execArgv: profileDir ? ["--cpu-prof", "--cpu-prof-dir", profileDir] : [],
    startTimeoutMs: 120_000,
    onMessage,
  });
  cleanups.push(() => child.stop(20_000));
  if (!child.url) throw new Error("the platform serves HTTP in role all");
  // The cluster's superuser (statement statistics), with the password the platform generated.
  const secrets = JSON.parse(readFileSync(join(dataDir, "secrets.json"), "utf8"));
  const { socketDir } = embeddedLayout(dataDir, pgPort);
  const databaseUrl = embeddedUrl(superuser, secrets.postgresSuperuserPassword, socketDir, pgPort);
  return {
    url: child.url,
    databaseUrl,
    cpuMs: () => ({
      platformMs: processCpuMs(child.child.pid),
      postgresMs: postgresCpuMs(pidFromFile(postmasterFile)),
      kafkaMs: 0,
    }),
  };
}

// ---------------------------------------------------------------- CPU accounting

interface CpuSnapshot {
  readonly atMs: number;
  readonly platformMs: number;
  /** Kafka mode: the API process alone (platformMs covers it and the handlers). */
  readonly apiMs?: number;
  readonly postgresMs: number;
  readonly kafkaMs: number;
  readonly benchMs: number;
}

function cpuSnapshot(platform: Platform): CpuSnapshot {
  const own = process.cpuUsage();
  return { atMs: nowMs(), ...platform.cpuMs(), benchMs: (own.user + own.system) / 1000 };
}

/** Cores used by each side between two snapshots (1.0 = one core busy the whole time). */
function coresUsed(from: CpuSnapshot, to: CpuSnapshot) {
  const wallMs = Math.max(1, to.atMs - from.atMs);
  const cores = (ms: number) => Number((ms / wallMs).toFixed(2));
  return {
    platform: cores(to.platformMs - from.platformMs),
    postgres: cores(to.postgresMs - from.postgresMs),
    ...(kafkaMode
      ? { api: cores((to.apiMs ?? 0) - (from.apiMs ?? 0)), kafka: cores(to.kafkaMs - from.kafkaMs) }
      : {}),
    bench: cores(to.benchMs - from.benchMs),
  };
}

// ---------------------------------------------------------------- PostgreSQL activity sampling

/** Samples pg_stat_activity: which statements are active and what they wait on (a sampling profile). */
function startActivitySampler(databaseUrl: string, intervalMs: number) {
  const client = new pg.Client({ connectionString: databaseUrl });
  const counts = new Map<string, number>();
  let samples = 0;
  let stopped = false;
  let statements: { calls: number; ms: number; rows: number; query: string }[] = [];
  const running = (async () => {
    await client.connect();
    await client.query("CREATE EXTENSION IF NOT EXISTS pg_stat_statements");
    await client.query("SELECT pg_stat_statements_reset()");
    while (!stopped) {
      const { rows } = await client.query(
        `SELECT coalesce(wait_event_type || ':' || wait_event, 'CPU') AS wait, regexp_replace(left(query, 90), '\\s+', ' ', 'g') AS query
           FROM pg_stat_activity WHERE state = 'active' AND pid <> pg_backend_pid() AND backend_type = 'client backend'`,
      );
      samples += 1;
      for (const row of rows) {
        const key = `${row.wait} | ${row.query}`;
        counts.set(key, (counts.get(key) ?? 0) + 1);
      }
      await sleep(intervalMs);
    }
    // Where PostgreSQL's time went during the step: every statement of every backend (the sampler
    // above only sees what is active at each tick).
    const { rows } = await client.query(
      `SELECT calls::int, round(total_exec_time::numeric, 1)::float AS ms, rows::int,
              regexp_replace(left(query, 90), '\\s+', ' ', 'g') AS query
         FROM pg_stat_statements WHERE query NOT ILIKE '%pg_stat%' ORDER BY total_exec_time DESC LIMIT 15`,
    );
    statements = rows;
    await client.end();
  })();
  let result: { samples: number; top: unknown[]; statements: typeof statements } | undefined;
  return {
    async stop() {
      if (result) return result;
      stopped = true;
      await running.catch(() => {});
      const top = [...counts]
        .sort((a, b) => b[1] - a[1])
        .slice(0, 12)
        .map(([what, n]) => ({ what, activeShare: Number((n / Math.max(1, samples)).toFixed(2)) }));
      result = { samples, top, statements };
      return result;
    },
  };
}

// ---------------------------------------------------------------- steps

interface Tracked {
  readonly step: StepState;
  readonly scheduledMs: number;
  acceptedMs?: number;
  outcome?: OutcomeSample;
  /** Kafka mode: when the outbox relay had the outcome event acknowledged by the log. */
  relayedMs?: number;
}

/** Where time goes in kafka mode, per stage (see the report's stage table). */
interface StageSamples {
  /** API process: one produce request of commands (coalesced sends). */
  readonly produceRoundTrip: LatencySamples;
  readonly produceQueued: LatencySamples;
  produceRequests: number;
  producedCommands: number;
  /** Every produce request of every process (commands, relayed events, dead letters). */
  producedRecords: number;
  /** Handler batch start − log timestamp of its oldest record. */
  readonly logToHandler: LatencySamples;
  readonly handlerTx: LatencySamples;
  /** Decided in the handler transaction → outcome event acknowledged by Kafka (commit + outbox + relay). */
  readonly decidedToOutcomeTopic: LatencySamples;
  /** Outcome event in Kafka → received by the API process's subscriber hub (notifier). */
  readonly outcomeTopicToSubscriber: LatencySamples;
  readonly relaySelect: LatencySamples;
  readonly relayProduce: LatencySamples;
  relayPublishes: number;
  relayRows: number;
  relayRecords: number;
}

interface StepState {
  readonly path: "http" | "batch";
  readonly offeredPerSec: number;
  readonly startMs: number;
  sent: number;
  accepted: number;
  decided: number;
  confirmed: number;
  lastOutcomeMs: number;
  readonly rejected: Map<string, number>;
  readonly failed: Map<string, number>;
  readonly e2e: LatencySamples;
  readonly acceptLatency: LatencySamples;
  readonly toDecided: LatencySamples;
  readonly decidedToReceived: LatencySamples;
  batches: number;
  batchRecords: number;
  readonly stages: StageSamples;
}

const tracked = new Map<string, Tracked>();
let currentStep: StepState | undefined;

function count(map: Map<string, number>, key: string, n = 1): void {
  map.set(key, (map.get(key) ?? 0) + n);
}

function finish(id: string, entry: Tracked): void {
  const [, receivedMs, issuedAtMs, decidedAtMs, reason] = entry.outcome as OutcomeSample;
  const { step } = entry;
  step.decided += 1;
  if (reason === "") step.confirmed += 1;
  else count(step.failed, reason);
  step.e2e.record(receivedMs - (entry.acceptedMs as number));
  step.toDecided.record(decidedAtMs - issuedAtMs);
  step.decidedToReceived.record(receivedMs - decidedAtMs);
  step.lastOutcomeMs = Math.max(step.lastOutcomeMs, receivedMs);
  tracked.delete(id);
  if (entry.relayedMs !== undefined) recordRelayed(step, entry.relayedMs, decidedAtMs, receivedMs);
  else if (kafkaMode) awaitingRelay.set(id, { step, decidedAtMs, receivedMs });
}

/** Outcomes received before the relay's report of them arrived (the two come from different processes). */
const awaitingRelay = new Map<string, { step: StepState; decidedAtMs: number; receivedMs: number }>();

function recordRelayed(step: StepState, relayedMs: number, decidedAtMs: number, receivedMs: number): void {
  step.stages.decidedToOutcomeTopic.record(relayedMs - decidedAtMs);
  step.stages.outcomeTopicToSubscriber.record(receivedMs - relayedMs);
}

function onChildMessage(message: ChildMessage): void {
  if (message.type === "outcomes") {
    for (const sample of message.items) {
      const entry = tracked.get(sample[0]);
      if (!entry) continue;
      entry.outcome = sample;
      if (entry.acceptedMs !== undefined) finish(sample[0], entry);
    }
  } else if (message.type === "batches" && currentStep) {
    for (const [committedAtMs, records, , oldestMs, durationMs] of message.items as BatchSample[]) {
      currentStep.batches += 1;
      currentStep.batchRecords += records;
      currentStep.stages.handlerTx.record(durationMs);
      if (Number.isFinite(oldestMs))
        currentStep.stages.logToHandler.record(committedAtMs - durationMs - oldestMs);
    }
  } else if (message.type === "produced" && currentStep) {
    const stages = currentStep.stages;
    for (const [records, , queuedMs, roundTripMs] of message.items) {
      stages.producedRecords += records;
      if (message.role !== "api") continue;
      stages.produceRequests += 1;
      stages.producedCommands += records;
      stages.produceQueued.record(queuedMs);
      stages.produceRoundTrip.record(roundTripMs);
    }
  } else if (message.type === "relayed") {
    if (currentStep) {
      const stages = currentStep.stages;
      for (const [rows, records, selectMs, produceMs] of message.items) {
        stages.relayPublishes += 1;
        stages.relayRows += rows;
        stages.relayRecords += records;
        stages.relaySelect.record(selectMs);
        stages.relayProduce.record(produceMs);
      }
    }
    for (const [publishedAtMs, ids] of message.outcomes) {
      for (const id of ids) {
        const done = awaitingRelay.get(id);
        if (done) {
          awaitingRelay.delete(id);
          recordRelayed(done.step, publishedAtMs, done.decidedAtMs, done.receivedMs);
          continue;
        }
        const entry = tracked.get(id);
        if (entry) entry.relayedMs = publishedAtMs;
      }
    }
  }
}

function newStages(): StageSamples {
  return {
    produceRoundTrip: new LatencySamples(),
    produceQueued: new LatencySamples(),
    produceRequests: 0,
    producedCommands: 0,
    producedRecords: 0,
    logToHandler: new LatencySamples(),
    handlerTx: new LatencySamples(),
    decidedToOutcomeTopic: new LatencySamples(),
    outcomeTopicToSubscriber: new LatencySamples(),
    relaySelect: new LatencySamples(),
    relayProduce: new LatencySamples(),
    relayPublishes: 0,
    relayRows: 0,
    relayRecords: 0,
  };
}

function newStep(path: StepState["path"], offeredPerSec: number): StepState {
  return {
    path,
    offeredPerSec,
    startMs: nowMs(),
    sent: 0,
    accepted: 0,
    decided: 0,
    confirmed: 0,
    lastOutcomeMs: 0,
    rejected: new Map(),
    failed: new Map(),
    e2e: new LatencySamples(),
    acceptLatency: new LatencySamples(),
    toDecided: new LatencySamples(),
    decidedToReceived: new LatencySamples(),
    batches: 0,
    batchRecords: 0,
    stages: newStages(),
  };
}

interface StepResult {
  readonly path: StepState["path"];
  readonly offeredPerSec: number;
  readonly achievedPerSec: number;
  readonly acceptedPerSec: number;
  readonly sent: number;
  readonly accepted: number;
  readonly decided: number;
  readonly confirmed: number;
  readonly undecided: number;
  readonly dropped: number;
  readonly rejected: Record<string, number>;
  readonly failed: Record<string, number>;
  readonly e2eMs: { p50: number; p90: number; p99: number; max: number };
  readonly acceptMs: { p50: number; p99: number };
  /** Handler side: appended → decided (log + handler queue + lock load) and decided → subscriber. */
  readonly issuedToDecidedMs: { p50: number; p99: number };
  readonly decidedToSubscriberMs: { p50: number; p99: number };
  readonly handlerBatches: number;
  readonly meanHandlerBatch: number;
  readonly cores: ReturnType<typeof coresUsed>;
  readonly loadAverage: number[];
  readonly saturated: boolean;
  readonly activity?: Awaited<ReturnType<ReturnType<typeof startActivitySampler>["stop"]>>;
  /** Client-insight projections: largest lag seen during the step, and how long after it they caught up. */
  readonly projectionLag?: ProjectionLag;
  /** Kafka mode: log rates and where the time goes. */
  readonly stages?: StageSummary;
}

interface Percentiles {
  readonly p50: number;
  readonly p99: number;
}

interface StageSummary {
  /** Records produced to Kafka per second by all processes (commands, outcome and balance events). */
  readonly producedRecordsPerSec: number;
  /** Commands consumed by the handlers per second. */
  readonly consumedCommandsPerSec: number;
  readonly produce: {
    readonly requests: number;
    readonly commandsPerRequest: number;
    readonly queuedMs: Percentiles;
    readonly roundTripMs: Percentiles;
  };
  readonly logToHandlerMs: Percentiles;
  readonly handlerTxMs: Percentiles;
  readonly decidedToOutcomeTopicMs: Percentiles;
  readonly outcomeTopicToSubscriberMs: Percentiles;
  readonly relay: {
    readonly publishes: number;
    readonly rowsPerPublish: number;
    readonly recordsPerPublish: number;
    readonly selectMs: Percentiles;
    readonly produceMs: Percentiles;
  };
}

const round = (ms: number) => (Number.isFinite(ms) ? Number(ms.toFixed(1)) : Number.NaN);
const percentiles = (samples: LatencySamples): Percentiles => ({
  p50: round(samples.percentile(0.5)),
  p99: round(samples.percentile(0.99)),
});
const mean = (total: number, n: number) => (n > 0 ? Number((total / n).toFixed(1)) : 0);

function summarizeStages(step: StepState, spanMs: number): StageSummary {
  const s = step.stages;
  return {
    producedRecordsPerSec: Math.round(s.producedRecords / (spanMs / 1000)),
    consumedCommandsPerSec: Math.round(step.batchRecords / (spanMs / 1000)),
    produce: {
      requests: s.produceRequests,
      commandsPerRequest: mean(s.producedCommands, s.produceRequests),
      queuedMs: percentiles(s.produceQueued),
      roundTripMs: percentiles(s.produceRoundTrip),
    },
    logToHandlerMs: percentiles(s.logToHandler),
    handlerTxMs: percentiles(s.handlerTx),
    decidedToOutcomeTopicMs: percentiles(s.decidedToOutcomeTopic),
    outcomeTopicToSubscriberMs: percentiles(s.outcomeTopicToSubscriber),
    relay: {
      publishes: s.relayPublishes,
      rowsPerPublish: mean(s.relayRows, s.relayPublishes),
      recordsPerPublish: mean(s.relayRecords, s.relayPublishes),
      selectMs: percentiles(s.relaySelect),
      produceMs: percentiles(s.relayProduce),
    },
  };
}

function summarize(
  step: StepState,
  durationMs: number,
  dropped: number,
  cores: ReturnType<typeof coresUsed>,
): Omit<StepResult, "saturated"> {
  // Throughput counts work finished: decided transfers over the time from the first send to the
  // last outcome, so a backlog that drains after the step lowers it.
  const spanMs = Math.max(durationMs, step.lastOutcomeMs - step.startMs);
  return {
    path: step.path,
    offeredPerSec: step.offeredPerSec,
    achievedPerSec: Math.round(step.decided / (spanMs / 1000)),
    acceptedPerSec: Math.round(step.accepted / (durationMs / 1000)),
    sent: step.sent,
    accepted: step.accepted,
    decided: step.decided,
    confirmed: step.confirmed,
    undecided: step.accepted - step.decided,
    dropped,
    rejected: Object.fromEntries(step.rejected),
    failed: Object.fromEntries(step.failed),
    e2eMs: {
      p50: round(step.e2e.percentile(0.5)),
      p90: round(step.e2e.percentile(0.9)),
      p99: round(step.e2e.percentile(0.99)),
      max: round(step.e2e.max()),
    },
    acceptMs: {
      p50: round(step.acceptLatency.percentile(0.5)),
      p99: round(step.acceptLatency.percentile(0.99)),
    },
    issuedToDecidedMs: {
      p50: round(step.toDecided.percentile(0.5)),
      p99: round(step.toDecided.percentile(0.99)),
    },
    decidedToSubscriberMs: {
      p50: round(step.decidedToReceived.percentile(0.5)),
      p99: round(step.decidedToReceived.percentile(0.99)),
    },
    handlerBatches: step.batches,
    meanHandlerBatch: step.batches ? Math.round(step.batchRecords / step.batches) : 0,
    cores,
    loadAverage: loadAverage(),
    ...(kafkaMode ? { stages: summarizeStages(step, spanMs) } : {}),
  };
}

interface Workload {
  readonly client: JsonClient;
  readonly platform: Platform;
  readonly accounts: readonly LoadAccount[];
  readonly random: ReturnType<typeof seededRandom>;
  readonly ids: ReturnType<typeof seededIds>;
}

function plannedTransfer(work: Workload, tokenShareOfStep: number): PlannedTransfer {
  return planTransfer(work.random, work.ids, work.accounts, {
    failShare: 0,
    amountMax: 1_000,
    excessiveAmount: 0n,
    tokenShare: tokenShareOfStep,
  });
}

// ---------------------------------------------------------------- projection lag

interface ProjectionLag {
  readonly maxRecords: number;
  /** From the end of the step's load to every projection at lag 0; undefined if not within 30 s. */
  readonly caughtUpMs: number | undefined;
}

/** Set once the admin has signed in (embedded mode): the projections' lag from /metrics. */
let projectionLagProbe: (() => Promise<number | undefined>) | undefined;

function lagProbeOf(baseUrl: string, staffToken: string): () => Promise<number | undefined> {
  return async () => {
    const answer = await fetch(`${baseUrl}/metrics`, { headers: { authorization: `Bearer ${staffToken}` } });
    const text = await answer.text();
    const lags = [...text.matchAll(/^ledgerflow_projection_lag_records\{[^}]*\} (\d+)/gm)].map((m) =>
      Number(m[1]),
    );
    return lags.length === 0 ? undefined : Math.max(...lags);
  };
}

/** Samples the projections' lag every 250 ms while the step's load runs (a scrape is cheap). */
function startLagSampler(probe: (() => Promise<number | undefined>) | undefined) {
  let maxRecords = 0;
  let stopped = false;
  const loop = (async () => {
    while (probe && !stopped) {
      maxRecords = Math.max(maxRecords, (await probe().catch(() => undefined)) ?? 0);
      await sleep(250);
    }
  })();
  return {
    /** Stops sampling and waits (at most 30 s) for every projection to catch up. */
    async finish(loadEndedMs: number): Promise<ProjectionLag | undefined> {
      stopped = true;
      await loop;
      if (!probe) return undefined;
      for (const deadline = nowMs() + 30_000; nowMs() < deadline; await sleep(50))
        if ((await probe().catch(() => undefined)) === 0)
          return { maxRecords, caughtUpMs: Math.max(0, Math.round(nowMs() - loadEndedMs)) };
      return { maxRecords, caughtUpMs: undefined };
    },
  };
}

async function runStep(
  work: Workload,
  path: StepState["path"],
  offeredPerSec: number,
  durationMs: number,
  label: string,
  measured = true,
): Promise<StepResult> {
  const step = newStep(path, offeredPerSec);
  currentStep = step;
  const sampler = args.profile && measured ? startActivitySampler(work.platform.databaseUrl, 50) : undefined;
  const lagSampler = startLagSampler(measured ? projectionLagProbe : undefined);
  const cpuBefore = cpuSnapshot(work.platform);
  const perRequest = path === "batch" ? plan.batchSize : 1;
  const accept = (ids: readonly string[], entries: readonly Tracked[], status: number, body: unknown) => {
    // 201: the gateway's known-id lookup already found the outcome (it can overlap the append);
    // the transfer was accepted like a 202, and its outcome still reaches the subscriber hub.
    if (status !== 202 && status !== 201) {
      count(step.rejected, outcomeOf(status, body), ids.length);
      for (const id of ids) tracked.delete(id);
      return;
    }
    const acceptedMs = nowMs();
    for (const [i, id] of ids.entries()) {
      const entry = entries[i] as Tracked;
      entry.acceptedMs = acceptedMs;
      step.accepted += 1;
      step.acceptLatency.record(acceptedMs - entry.scheduledMs);
      if (entry.outcome) finish(id, entry);
    }
  };
  const loop = startOpenLoop({
    ratePerSec: offeredPerSec / perRequest,
    durationMs,
    concurrencyMax: path === "batch" ? 16 : httpConcurrencyMax,
    backlogMax: Math.max(64, Math.ceil((offeredPerSec / perRequest) * 2)),
    nowMs,
    issue: async (scheduledMs) => {
      const planned = Array.from({ length: perRequest }, () =>
        plannedTransfer(work, path === "batch" ? 1 : tokenShare),
      );
      const ids = planned.map((p) => p.body.id);
      const entries = ids.map((id) => {
        const entry: Tracked = { step, scheduledMs };
        tracked.set(id, entry);
        return entry;
      });
      step.sent += ids.length;
      try {
        const first = planned[0] as PlannedTransfer;
        const answer =
          path === "batch"
            ? await work.client.request(
                "POST",
                "/v1/transfers/batch",
                { transfers: planned.map((p) => p.body) },
                { authorization: `Bearer ${first.accessToken}` },
              )
            : await work.client.request("POST", "/v1/transfers", first.body, {
                authorization: `Bearer ${first.accessToken}`,
              });
        accept(ids, entries, answer.status, answer.body);
      } catch (error) {
        count(
          step.rejected,
          error instanceof Error ? error.message.slice(0, 60) : "network_error",
          ids.length,
        );
        for (const id of ids) tracked.delete(id);
      }
    },
  });
  let lastDecided = 0;
  let lastAccepted = 0;
  const ticker = setInterval(() => {
    const seconds = ((nowMs() - step.startMs) / 1000).toFixed(0);
    progress.update(
      `${label} ${seconds}s | offered ${offeredPerSec}/s accepted ${step.accepted - lastAccepted}/s decided ${step.decided - lastDecided}/s | ` +
        `e2e p50 ${formatMs(step.e2e.percentile(0.5))} p99 ${formatMs(step.e2e.percentile(0.99))} ms | in flight ${loop.stats.inFlight} backlog ${loop.stats.backlog} | load ${loadavg()[0]?.toFixed(2)}`,
    );
    lastDecided = step.decided;
    lastAccepted = step.accepted;
  }, 1_000);
  try {
    const stats = await loop.done;
    const loadEndedMs = nowMs();
    const drainUntil = nowMs() + plan.drainMaxMs;
    while (step.decided < step.accepted && nowMs() < drainUntil) await sleep(20);
    const cores = coresUsed(cpuBefore, cpuSnapshot(work.platform));
    for (const [id, entry] of tracked) if (entry.step === step) tracked.delete(id);
    // The relay's reports come from another process than the outcomes: give the last ones a moment.
    if (kafkaMode) await sleep(100);
    for (const [id, pending] of awaitingRelay) if (pending.step === step) awaitingRelay.delete(id);
    const summary = summarize(step, durationMs, stats.dropped * perRequest, cores);
    const saturated =
      summary.achievedPerSec < 0.9 * offeredPerSec ||
      !(summary.e2eMs.p99 <= saturationLatencyMs) ||
      summary.undecided > 0.01 * Math.max(1, summary.accepted);
    const activity = await sampler?.stop();
    const projectionLag = await lagSampler.finish(loadEndedMs);
    return {
      ...summary,
      saturated,
      ...(activity ? { activity } : {}),
      ...(projectionLag ? { projectionLag } : {}),
    };
  } finally {
    clearInterval(ticker);
    await sampler?.stop();
    currentStep = undefined;
  }
}

async function rampUntilSaturated(
  work: Workload,
  path: StepState["path"],
  rates: readonly number[],
  stepMs: number,
): Promise<StepResult[]> {
  const results: StepResult[] = [];
  for (const rate of rates) {
    const result = await runStep(work, path, rate, stepMs, `${path} ${rate}/s`);
    results.push(result);
    progress.done();
    process.stderr.write(stepLine(result));
    // The 2,000/s step is always run: its latency is a headline number even past saturation.
    if (result.saturated && rate >= 2_000) break;
    await sleep(plan.pauseMs);
  }
  return results;
}

function stepLine(r: StepResult): string {
  const problems = [
    ...Object.entries(r.rejected).map(([k, n]) => `${k} ${n}`),
    ...Object.entries(r.failed).map(([k, n]) => `failed:${k} ${n}`),
  ];
  return (
    `${r.path.padEnd(5)} offered ${String(r.offeredPerSec).padStart(6)}/s achieved ${String(r.achievedPerSec).padStart(6)}/s ` +
    `e2e p50 ${formatMs(r.e2eMs.p50)} p99 ${formatMs(r.e2eMs.p99)} ms, accept p99 ${formatMs(r.acceptMs.p99)} ms, ` +
    `cores platform ${r.cores.platform}${r.cores.api === undefined ? "" : ` (api ${r.cores.api})`} pg ${r.cores.postgres}${r.cores.kafka === undefined ? "" : ` kafka ${r.cores.kafka}`} bench ${r.cores.bench}, batch≈${r.meanHandlerBatch}, load ${r.loadAverage[0]}` +
    `${r.undecided ? `, undecided ${r.undecided}` : ""}${r.dropped ? `, dropped ${r.dropped}` : ""}${problems.length ? `, ${problems.join(", ")}` : ""}` +
    `${r.projectionLag ? `, projections lag max ${r.projectionLag.maxRecords} caught up ${r.projectionLag.caughtUpMs ?? ">30000"} ms` : ""}` +
    `${r.saturated ? "  [saturated]" : ""}\n${r.stages ? stagesLine(r.stages) : ""}`
  );
}

const p = (x: Percentiles) => `${formatMs(x.p50)}/${formatMs(x.p99)}`;

function stagesLine(st: StageSummary): string {
  return (
    `      stages p50/p99 ms: produce ${p(st.produce.roundTripMs)} (${st.produce.commandsPerRequest}/req, queued ${p(st.produce.queuedMs)}), ` +
    `log→handler ${p(st.logToHandlerMs)}, handler tx ${p(st.handlerTxMs)}, decided→outcome topic ${p(st.decidedToOutcomeTopicMs)} ` +
    `(relay ${st.relay.rowsPerPublish} rows/${st.relay.recordsPerPublish} records per publish, delete+select ${p(st.relay.selectMs)} produce ${p(st.relay.produceMs)}), ` +
    `notifier ${p(st.outcomeTopicToSubscriberMs)}; produced ${st.producedRecordsPerSec} rec/s, consumed ${st.consumedCommandsPerSec} cmd/s\n`
  );
}

// ---------------------------------------------------------------- report

function best(results: readonly StepResult[]): number {
  return Math.max(0, ...results.map((r) => r.achievedPerSec));
}

/** The projections' lag at the busiest step: bounded when they caught up after it. */
function projectionLagRow(results: readonly StepResult[]): string {
  const busiest = [...results].sort((a, b) => b.achievedPerSec - a.achievedPerSec)[0];
  const lag = busiest?.projectionLag;
  if (!busiest || !lag) return "| client-insight projections, lag at the peak | not sampled | |";
  const caughtUp =
    lag.caughtUpMs === undefined ? "not within 30 s" : `caught up ${lag.caughtUpMs} ms after the load`;
  const bounded = lag.caughtUpMs === undefined ? "**not met**" : "met";
  return `| client-insight projections, lag at the peak (${busiest.path} ${busiest.achievedPerSec}/s) | at most ${lag.maxRecords} records, ${caughtUp} | bounded: ${bounded} |`;
}

function markdownReport(
  report: Record<string, unknown>,
  http: StepResult[],
  batch: StepResult[],
  baseline: BaselineResult[],
  command: string,
): string {
  const cores = (r: StepResult) =>
    [
      r.cores.api === undefined ? r.cores.platform : `${r.cores.platform} (api ${r.cores.api})`,
      r.cores.postgres,
      ...(r.cores.kafka === undefined ? [] : [r.cores.kafka]),
      r.cores.bench,
    ].join(" / ");
  const row = (r: StepResult) =>
    `| ${r.path} | ${r.offeredPerSec} | ${r.achievedPerSec} | ${formatMs(r.e2eMs.p50)} | ${formatMs(r.e2eMs.p99)} | ${formatMs(r.acceptMs.p99)} | ${formatMs(r.issuedToDecidedMs.p99)} | ${formatMs(r.decidedToSubscriberMs.p99)} | ${r.meanHandlerBatch} | ${cores(r)} | ${r.loadAverage[0]} | ${r.saturated ? "yes" : ""} |`;
  const stageRow = (r: StepResult) => {
    const st = r.stages as StageSummary;
    return `| ${r.path} | ${r.offeredPerSec} | ${p(r.acceptMs)} | ${p(st.produce.roundTripMs)} | ${st.produce.commandsPerRequest} | ${p(st.logToHandlerMs)} | ${p(st.handlerTxMs)} | ${p(st.decidedToOutcomeTopicMs)} | ${st.relay.rowsPerPublish} / ${st.relay.recordsPerPublish} | ${p(st.relay.produceMs)} | ${p(st.outcomeTopicToSubscriberMs)} | ${st.producedRecordsPerSec} | ${st.consumedCommandsPerSec} |`;
  };
  const machine = report.machine as Record<string, unknown>;
  const target = (ok: boolean) => (ok ? "met" : "**not met**");
  const httpRate = report.httpTransfersPerSec as number;
  const batchRate = report.batchTransfersPerSec as number;
  const baseRate = report.baselineTransfersPerSec as number;
  const p99At2000 = report.p99MsAt2000 as number;
  const p99At1000 = report.p99MsAt1000 as number;
  const headline = kafkaMode
    ? [
        `| single-transfer HTTP, peak achieved (1 API + ${handlersCount} handlers) | ${httpRate}/s | ≥ 3,000/s: ${target(httpRate >= 3_000)} |`,
        `| p50 / p99 accepted → confirmed at 1,000/s offered | ${formatMs(report.p50MsAt1000 as number)} / ${formatMs(p99At1000)} ms | p99 ≤ 200 ms: ${target(p99At1000 <= 200)} |`,
        `| p50 / p99 accepted → confirmed at 2,000/s offered | ${formatMs(report.p50MsAt2000 as number)} / ${formatMs(p99At2000)} ms | |`,
        `| batch path, peak achieved | ${batchRate}/s | |`,
        `| naive baseline (1 tx per transfer, row locks) | ${baseRate}/s | |`,
        `| speed-up over baseline (best path) | ${report.speedupOverBaseline}× | |`,
      ]
    : [
        `| single-transfer HTTP, peak achieved | ${httpRate}/s | ≥ 5,000/s: ${target(httpRate >= 5_000)} |`,
        `| p50 / p99 accepted → confirmed at 2,000/s offered | ${formatMs(report.p50MsAt2000 as number)} / ${formatMs(p99At2000)} ms | p99 ≤ 50 ms: ${target(p99At2000 <= 50)} |`,
        `| batch path, peak achieved | ${batchRate}/s | ≥ 50,000/s: ${target(batchRate >= 50_000)} |`,
        `| naive baseline (1 tx per transfer, row locks) | ${baseRate}/s | |`,
        `| speed-up over baseline (best path) | ${report.speedupOverBaseline}× | ≥ 10×: ${target((report.speedupOverBaseline as number) >= 10)} |`,
        projectionLagRow([...http, ...batch]),
      ];
  const stages = kafkaMode
    ? [
        "Where the time goes (kafka mode), p50/p99 ms per stage: `accept` = client's send → HTTP 202 (includes the",
        "API's produce with acks=all); `produce` = one produce request of the API (coalesced sends: commands per",
        "request); `log→handler` = oldest record's log timestamp → its handler batch starts; `handler tx` = one",
        "batch's PostgreSQL transaction; `decided→outcome topic` = decision in the handler → outcome event",
        "acknowledged by Kafka (commit, outbox row, relay: rows / records per publish, relay's produce);",
        "`notifier` = outcome in Kafka → the API process's subscriber hub. Produced = records per second to",
        "Kafka by all processes (commands + outcome and balance events); consumed = commands per second",
        "taken by the handlers.",
        "",
        "| path | offered/s | accept | produce | cmds/request | log→handler | handler tx | decided→outcome topic | relay rows / records | relay produce | notifier | produced rec/s | consumed cmd/s |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
        ...[...http, ...batch].filter((r) => r.stages).map(stageRow),
        "",
      ]
    : [];
  return [
    `# Ledgerflow benchmark${quick ? " (quick)" : ""}`,
    "",
    `${report.date} · ${machine.cores} cores (${machine.cpu}) · Node ${machine.node} · mode ${report.mode} · load average at start ${(machine.loadAverageAtStart as number[]).join(" ")}`,
    "",
    `Command: \`${command}\``,
    "",
    "| metric | value | target |",
    "|---|---|---|",
    ...headline,
    "",
    `![throughput and p99 latency by offered load](${reportName}.svg)`,
    "",
    "Latency is end to end: from the client holding the HTTP 202 to the platform's subscriber hub",
    "(LedgerNotifications, fed by the notifier consumer of the outcome topic — what `Prefer: wait` and",
    "WebSocket subscriptions use) receiving MoneyTransferConfirmed. Achieved = transfers decided per",
    "second from the first send to the last outcome. `issued→decided` is the log + handler queue part,",
    "`decided→subscriber` the commit + outbox relay + notifier part. Cores: CPU used by the platform",
    kafkaMode
      ? "processes (1 API + handlers) / PostgreSQL / Kafka broker + schema registry / the load generator (1.0 = one core busy)."
      : "process / its PostgreSQL / the load generator (1.0 = one core busy).",
    "",
    `| path | offered/s | achieved/s | e2e p50 ms | e2e p99 ms | accept p99 ms | issued→decided p99 | decided→subscriber p99 | handler batch | cores platform / pg${kafkaMode ? " / kafka" : ""} / bench | load avg | saturated |`,
    "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ...http.map(row),
    ...batch.map(row),
    "",
    ...stages,
    "Baseline (same PostgreSQL, own schema, closed loop):",
    "",
    "| concurrency | transfers/s | p50 ms | p99 ms |",
    "|---|---|---|---|",
    ...baseline.map(
      (b) => `| ${b.concurrency} | ${b.transfersPerSec} | ${formatMs(b.p50Ms)} | ${formatMs(b.p99Ms)} |`,
    ),
    "",
    "Other engineers run tests on this machine at the same time: numbers are noisy; see the load averages.",
    "",
  ].join("\n");
}

// ---------------------------------------------------------------- main

const adminPassword = `bench-${randomBytes(9).toString("base64url")}`;

async function main(): Promise<void> {
  const startedMs = nowMs();
  const loadAverageAtStart = loadAverage();
  const outDir = resolve(process.cwd(), args.out);
  await mkdir(outDir, { recursive: true });
  const profileDir = args.profile ? join(outDir, "profile") : undefined;
  if (profileDir) await mkdir(profileDir, { recursive: true });

  let platform: Platform;
  if (kafkaMode) {
    const runDir = await mkdtemp(join(tmpdir(), "ledgerflow-bench-kafka-"));
    cleanups.push(async () => {
      // The processes' logs (warnings, errors) are kept next to the report for diagnosis.
      for (const name of [
        "bench-api",
        ...Array.from({ length: handlersCount }, (_, i) => `bench-handler-${i + 1}`),
      ])
        await copyFile(join(runDir, `${name}.log`), join(outDir, `kafka-${name}.log`)).catch(() => {});
      await rm(runDir, { recursive: true, force: true });
    });
    platform = await startKafkaPlatform({
      handlers: handlersCount,
      adminPassword,
      runDir,
      execArgv: profileDir ? ["--cpu-prof", "--cpu-prof-dir", profileDir] : [],
      cleanups,
      say: (text) => progress.update(text),
      onMessage: onChildMessage,
    });
  } else {
    progress.update("starting the platform (embedded PostgreSQL in a temp dir)…");
    platform = await startEmbeddedPlatform(outDir, profileDir, onChildMessage);
  }
  const client = createJsonClient({ baseUrl: platform.url, connectionsMax, timeoutMs: 30_000 });
  cleanups.push(async () => client.close());

  const random = seededRandom(20_240_601);
  const ids = seededIds(seededRandom(Date.now() >>> 0));
  const staffToken = await signIn(client, "admin", adminPassword);
  // Embedded mode runs the client-insight projections in the platform process; Kafka mode's API
  // process does not, so its /metrics has no lag to sample.
  if (!kafkaMode) projectionLagProbe = lagProbeOf(platform.url, staffToken);
  const users = await registerUsers(client, ids.uuid().slice(0, 8), 4, `pw-${ids.uuid()}`);
  const accounts = await createAccounts(client, ids, users, plan.accounts, 128, (n) => {
    if (n % 500 === 0) progress.update(`opened ${n}/${plan.accounts} accounts`);
  });
  await fundAccounts(client, ids, staffToken, accounts, 100_000_000_000n, 128, (n) => {
    if (n % 500 === 0) progress.update(`funded ${n}/${plan.accounts} accounts`);
  });
  progress.done();
  process.stderr.write(
    `set up ${accounts.length} funded accounts in ${((nowMs() - startedMs) / 1000).toFixed(1)} s\n`,
  );
  const work: Workload = { client, platform, accounts, random, ids };

  await runStep(work, "http", 1_000, plan.warmupMs, "warm-up", false);
  progress.done();
  const http = phases.has("http")
    ? await rampUntilSaturated(work, "http", plan.httpRates, plan.httpStepMs)
    : [];
  await sleep(plan.pauseMs);
  const batch = phases.has("batch")
    ? await rampUntilSaturated(work, "batch", plan.batchRates, plan.batchStepMs)
    : [];

  progress.update("baseline: preparing its schema…");
  await prepareBaseline(platform.databaseUrl, plan.accounts);
  const baseline: BaselineResult[] = [];
  for (const concurrency of phases.has("baseline") ? plan.baselineConcurrency : []) {
    const result = await runBaseline(platform.databaseUrl, {
      accounts: plan.accounts,
      concurrency,
      durationMs: plan.baselineMs,
      onProgress: (done) =>
        progress.update(
          `baseline concurrency ${concurrency}: ${done} transfers | load ${loadavg()[0]?.toFixed(2)}`,
        ),
    });
    baseline.push(result);
    progress.done();
    process.stderr.write(
      `baseline concurrency ${concurrency}: ${result.transfersPerSec}/s p50 ${formatMs(result.p50Ms)} p99 ${formatMs(result.p99Ms)} ms, load ${loadavg()[0]?.toFixed(2)}\n`,
    );
  }

  const at2000 = http.find((r) => r.offeredPerSec === 2_000);
  const at1000 = http.find((r) => r.offeredPerSec === 1_000);
  const httpTransfersPerSec = best(http);
  const batchTransfersPerSec = best(batch);
  const baselineTransfersPerSec = Math.max(0, ...baseline.map((b) => b.transfersPerSec));
  const command = `npm run bench${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(" ")}` : ""}`;
  const report = {
    httpTransfersPerSec,
    batchTransfersPerSec,
    baselineTransfersPerSec,
    p50MsAt2000: at2000?.e2eMs.p50 ?? null,
    p99MsAt2000: at2000?.e2eMs.p99 ?? null,
    p50MsAt1000: at1000?.e2eMs.p50 ?? null,
    p99MsAt1000: at1000?.e2eMs.p99 ?? null,
    speedupOverBaseline: Number(
      (Math.max(httpTransfersPerSec, batchTransfersPerSec) / Math.max(1, baselineTransfersPerSec)).toFixed(1),
    ),
    httpSpeedupOverBaseline: Number((httpTransfersPerSec / Math.max(1, baselineTransfersPerSec)).toFixed(1)),
    latencyMeasure:
      "accepted (HTTP 202 received by the client) → MoneyTransferConfirmed received by the platform's subscriber hub (LedgerNotifications via the notifier consumer)",
    date: new Date().toISOString(),
    mode: args.mode,
    ...(kafkaMode ? { processes: { api: 1, handlers: handlersCount } } : {}),
    quick,
    command,
    durationS: Number(((nowMs() - startedMs) / 1000).toFixed(1)),
    machine: {
      cores: availableParallelism(),
      cpu: cpus()[0]?.model ?? "unknown",
      memoryGb: Number((totalmem() / 2 ** 30).toFixed(1)),
      node: process.version,
      platform: `${process.platform} ${process.arch}`,
      loadAverageAtStart,
      loadAverageAtEnd: loadAverage(),
    },
    settings: {
      accounts: plan.accounts,
      httpStepMs: plan.httpStepMs,
      batchStepMs: plan.batchStepMs,
      batchSize: plan.batchSize,
      httpConcurrencyMax,
      connectionsMax,
      tokenShare,
      saturation: `achieved < 90% of offered, or e2e p99 > ${saturationLatencyMs} ms, or > 1% undecided after ${plan.drainMaxMs} ms`,
    },
    curve: { http, batch },
    baseline,
  };
  await writeFile(join(outDir, `${reportName}.json`), `${JSON.stringify(report, null, 2)}\n`);
  const chartPoints = (results: StepResult[]) =>
    results.map((r) => ({
      offeredPerSec: r.offeredPerSec,
      achievedPerSec: r.achievedPerSec,
      p99Ms: r.e2eMs.p99,
    }));
  await writeFile(
    join(outDir, `${reportName}.svg`),
    renderChart(
      [
        { title: "Single-transfer HTTP (POST /v1/transfers)", points: chartPoints(http) },
        {
          title: `Batch path (POST /v1/transfers/batch, ${plan.batchSize}/request)`,
          points: chartPoints(batch),
        },
      ],
      `${report.date} · ${report.machine.cores} cores · ${command} · baseline ${baselineTransfersPerSec}/s`,
    ),
  );
  await writeFile(join(outDir, `${reportName}.md`), markdownReport(report, http, batch, baseline, command));
  process.stderr.write(
    `\nhttp ${httpTransfersPerSec}/s, batch ${batchTransfersPerSec}/s, baseline ${baselineTransfersPerSec}/s, ` +
      `at 2000/s p50 ${formatMs(report.p50MsAt2000 ?? Number.NaN)} p99 ${formatMs(report.p99MsAt2000 ?? Number.NaN)} ms ` +
      `(${report.durationS} s) → ${join(args.out, `${reportName}.md`)}\n`,
  );
}

const deadline = setTimeout(() => {
  progress.done();
  process.stderr.write(`bench: time limit of ${benchTimeLimitMs / 1000} s reached, stopping\n`);
  void cleanUp().finally(() => process.exit(1));
}, benchTimeLimitMs);
deadline.unref();
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.once(signal, () => {
    progress.done();
    process.stderr.write(`bench: ${signal}, cleaning up\n`);
    void cleanUp().finally(() => process.exit(130));
  });
}

main()
  .then(async () => {
    await cleanUp();
    process.exit(0);
  })
  .catch(async (error: unknown) => {
    progress.done();
    process.stderr.write(
      `bench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
    );
    await cleanUp();
    process.exit(1);
  });
