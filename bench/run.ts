/**
 * `npm run bench [-- --quick] [--mode embedded] [--profile]`: measures the platform end to end.
 *
 * - Starts the platform (embedded PostgreSQL in a temp dir, PostgreSQL log, handler, API) as a child
 *   process (bench/platform-child.ts): its event loop and CPU time are its own, not shared with the
 *   load generator, and its CPU can be accounted separately.
 * - Opens and funds accounts over the API, then offers single transfers (POST /v1/transfers, no
 *   wait, keep-alive connections) at rising open-loop rates until saturation, then batches
 *   (POST /v1/transfers/batch), then runs a naive one-transaction-per-transfer baseline against the
 *   same PostgreSQL.
 * - End-to-end latency: from the moment the client has the 202 to the moment the platform's
 *   subscriber hub (LedgerNotifications, fed by the notifier consumer of the outcome topic, the
 *   same hub behind `Prefer: wait` and WebSocket subscriptions) receives MoneyTransferConfirmed.
 * - Writes bench-results/latest.json, latest.md and latest.svg.
 *
 * Loopback only, bounded in time, stops by itself and removes its processes and temp dir.
 */
import { type ChildProcess, fork } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, openSync, readdirSync, readFileSync } from "node:fs";
import { chmod, copyFile, mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import { availableParallelism, cpus, loadavg, tmpdir, totalmem } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import pg from "pg";
import { seededIds, seededRandom } from "../src/platform/clock.ts";
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
import type { BatchSample, ChildMessage, OutcomeSample } from "./protocol.ts";

const { values: args } = parseArgs({
  options: {
    quick: { type: "boolean", default: false },
    mode: { type: "string", default: "embedded" },
    profile: { type: "boolean", default: false },
    "token-share": { type: "string", default: "0.5" },
    out: { type: "string", default: "bench-results" },
    /** Diagnosis: run only some phases (comma-separated http,batch,baseline). */
    only: { type: "string", default: "http,batch,baseline" },
  },
  allowPositionals: false,
});
if (args.mode !== "embedded") {
  process.stderr.write(`--mode ${args.mode}: only embedded is supported by this benchmark for now\n`);
  process.exit(2);
}
const quick = args.quick;
const tokenShare = Number(args["token-share"]);
const phases = new Set(args.only.split(","));

/** Step plans. Quick fits in 60 s with start-up; full stays under ~10 minutes. */
const plan = quick
  ? {
      accounts: 1_000,
      warmupMs: 1_500,
      httpRates: [1_000, 2_000, 4_000, 8_000],
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
const benchTimeLimitMs = quick ? 90_000 : 15 * 60_000;

const nowMs = () => performance.timeOrigin + performance.now();
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const progress = createProgressLine();
const loadAverage = () => loadavg().map((l) => Number(l.toFixed(2)));

// ---------------------------------------------------------------- platform child and cleanup

interface Platform {
  readonly child: ChildProcess;
  readonly url: string;
  readonly databaseUrl: string;
  readonly dataDir: string;
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

function postmasterPid(dataDir: string): number | undefined {
  const file = join(dataDir, "pg", "postmaster.pid");
  if (!existsSync(file)) return undefined;
  const pid = Number(readFileSync(file, "utf8").split("\n")[0]);
  return Number.isInteger(pid) && pid > 0 ? pid : undefined;
}

async function startPlatformChild(
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
  const logFd = openSync(join(dataDir, "platform.log"), "a");
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
  const child = fork(join(import.meta.dirname, "platform-child.ts"), [], {
    env,
    execArgv: profileDir ? ["--cpu-prof", "--cpu-prof-dir", profileDir] : [],
    stdio: ["ignore", logFd, logFd, "ipc"],
  });
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  cleanups.push(async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.send({ type: "stop" });
      const stopped = await Promise.race([exited.then(() => true), sleep(20_000).then(() => false)]);
      if (!stopped) child.kill("SIGKILL");
    }
    // A killed child leaves PostgreSQL running: stop it through its pid file.
    const pid = postmasterPid(dataDir);
    if (pid !== undefined) {
      try {
        process.kill(pid, "SIGQUIT");
        await sleep(500);
      } catch {}
    }
  });
  child.on("message", (message: ChildMessage) => onMessage(message));
  const ready = await new Promise<{ url: string }>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("the platform did not start within 120 s")), 120_000);
    child.on("message", (message: ChildMessage) => {
      if (message.type === "ready") {
        clearTimeout(timer);
        resolve(message);
      } else if (message.type === "failed") {
        clearTimeout(timer);
        reject(new Error(`the platform failed to start: ${message.message}`));
      }
    });
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`the platform exited with ${code}; see ${join(dataDir, "platform.log")}`));
    });
  });
  // Same superuser and local password as src/platform/db/embedded.ts uses for the cluster.
  const databaseUrl = `postgres://postgres:ledgerflow-local@127.0.0.1:${pgPort}/postgres`;
  return { child, url: ready.url, databaseUrl, dataDir };
}

// ---------------------------------------------------------------- CPU accounting

/**
 * CPU milliseconds (user + system) of a process from /proc, 0 when it is gone. With `reaped`, adds
 * the time of its children that already exited (PostgreSQL backends come and go with connections).
 */
function processCpuMs(pid: number, reaped = false): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    const ticks =
      Number(fields[11]) + Number(fields[12]) + (reaped ? Number(fields[13]) + Number(fields[14]) : 0);
    return (ticks * 1000) / 100;
  } catch {
    return 0;
  }
}

function childPids(parentPid: number): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      if (ppid === parentPid) pids.push(Number(entry));
    } catch {}
  }
  return pids;
}

interface CpuSnapshot {
  readonly atMs: number;
  readonly platformMs: number;
  readonly postgresMs: number;
  readonly benchMs: number;
}

function cpuSnapshot(platform: Platform): CpuSnapshot {
  const postmaster = postmasterPid(platform.dataDir);
  const postgresMs =
    postmaster === undefined
      ? 0
      : childPids(postmaster).reduce((sum, pid) => sum + processCpuMs(pid), processCpuMs(postmaster, true));
  const own = process.cpuUsage();
  return {
    atMs: nowMs(),
    platformMs: processCpuMs(platform.child.pid ?? 0),
    postgresMs,
    benchMs: (own.user + own.system) / 1000,
  };
}

/** Cores used by each side between two snapshots (1.0 = one core busy the whole time). */
function coresUsed(from: CpuSnapshot, to: CpuSnapshot) {
  const wallMs = Math.max(1, to.atMs - from.atMs);
  const cores = (ms: number) => Number((ms / wallMs).toFixed(2));
  return {
    platform: cores(to.platformMs - from.platformMs),
    postgres: cores(to.postgresMs - from.postgresMs),
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
  const running = (async () => {
    await client.connect();
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
    await client.end();
  })();
  return {
    async stop() {
      stopped = true;
      await running.catch(() => {});
      const top = [...counts]
        .sort((a, b) => b[1] - a[1])
        .slice(0, 12)
        .map(([what, n]) => ({ what, activeShare: Number((n / Math.max(1, samples)).toFixed(2)) }));
      return { samples, top };
    },
  };
}

// ---------------------------------------------------------------- steps

interface Tracked {
  readonly step: StepState;
  readonly scheduledMs: number;
  acceptedMs?: number;
  outcome?: OutcomeSample;
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
    for (const [, records] of message.items as BatchSample[]) {
      currentStep.batches += 1;
      currentStep.batchRecords += records;
    }
  }
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
}

const round = (ms: number) => (Number.isFinite(ms) ? Number(ms.toFixed(1)) : Number.NaN);

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
  const cpuBefore = cpuSnapshot(work.platform);
  const perRequest = path === "batch" ? plan.batchSize : 1;
  const accept = (ids: readonly string[], entries: readonly Tracked[], status: number, body: unknown) => {
    if (status !== 202) {
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
    const drainUntil = nowMs() + plan.drainMaxMs;
    while (step.decided < step.accepted && nowMs() < drainUntil) await sleep(20);
    const cores = coresUsed(cpuBefore, cpuSnapshot(work.platform));
    for (const [id, entry] of tracked) if (entry.step === step) tracked.delete(id);
    const summary = summarize(step, durationMs, stats.dropped * perRequest, cores);
    const saturated =
      summary.achievedPerSec < 0.9 * offeredPerSec ||
      !(summary.e2eMs.p99 <= saturationLatencyMs) ||
      summary.undecided > 0.01 * Math.max(1, summary.accepted);
    const activity = await sampler?.stop();
    return { ...summary, saturated, ...(activity ? { activity } : {}) };
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
    `cores platform ${r.cores.platform} pg ${r.cores.postgres} bench ${r.cores.bench}, batch≈${r.meanHandlerBatch}, load ${r.loadAverage[0]}` +
    `${r.undecided ? `, undecided ${r.undecided}` : ""}${r.dropped ? `, dropped ${r.dropped}` : ""}${problems.length ? `, ${problems.join(", ")}` : ""}` +
    `${r.saturated ? "  [saturated]" : ""}\n`
  );
}

// ---------------------------------------------------------------- report

function best(results: readonly StepResult[]): number {
  return Math.max(0, ...results.map((r) => r.achievedPerSec));
}

function markdownReport(
  report: Record<string, unknown>,
  http: StepResult[],
  batch: StepResult[],
  baseline: BaselineResult[],
  command: string,
): string {
  const row = (r: StepResult) =>
    `| ${r.path} | ${r.offeredPerSec} | ${r.achievedPerSec} | ${formatMs(r.e2eMs.p50)} | ${formatMs(r.e2eMs.p99)} | ${formatMs(r.acceptMs.p99)} | ${formatMs(r.issuedToDecidedMs.p99)} | ${formatMs(r.decidedToSubscriberMs.p99)} | ${r.meanHandlerBatch} | ${r.cores.platform} / ${r.cores.postgres} / ${r.cores.bench} | ${r.loadAverage[0]} | ${r.saturated ? "yes" : ""} |`;
  const machine = report.machine as Record<string, unknown>;
  const target = (ok: boolean) => (ok ? "met" : "**not met**");
  const httpRate = report.httpTransfersPerSec as number;
  const batchRate = report.batchTransfersPerSec as number;
  const baseRate = report.baselineTransfersPerSec as number;
  const p99At2000 = report.p99MsAt2000 as number;
  return [
    `# Ledgerflow benchmark${quick ? " (quick)" : ""}`,
    "",
    `${report.date} · ${machine.cores} cores (${machine.cpu}) · Node ${machine.node} · mode ${report.mode} · load average at start ${(machine.loadAverageAtStart as number[]).join(" ")}`,
    "",
    `Command: \`${command}\``,
    "",
    "| metric | value | target |",
    "|---|---|---|",
    `| single-transfer HTTP, peak achieved | ${httpRate}/s | ≥ 5,000/s: ${target(httpRate >= 5_000)} |`,
    `| p50 / p99 accepted → confirmed at 2,000/s offered | ${formatMs(report.p50MsAt2000 as number)} / ${formatMs(p99At2000)} ms | p99 ≤ 50 ms: ${target(p99At2000 <= 50)} |`,
    `| batch path, peak achieved | ${batchRate}/s | ≥ 50,000/s: ${target(batchRate >= 50_000)} |`,
    `| naive baseline (1 tx per transfer, row locks) | ${baseRate}/s | |`,
    `| speed-up over baseline (best path) | ${report.speedupOverBaseline}× | ≥ 10×: ${target((report.speedupOverBaseline as number) >= 10)} |`,
    "",
    "![throughput and p99 latency by offered load](latest.svg)",
    "",
    "Latency is end to end: from the client holding the HTTP 202 to the platform's subscriber hub",
    "(LedgerNotifications, fed by the notifier consumer of the outcome topic — what `Prefer: wait` and",
    "WebSocket subscriptions use) receiving MoneyTransferConfirmed. Achieved = transfers decided per",
    "second from the first send to the last outcome. `issued→decided` is the log + handler queue part,",
    "`decided→subscriber` the commit + outbox relay + notifier part. Cores: CPU used by the platform",
    "process / its PostgreSQL / the load generator (1.0 = one core busy).",
    "",
    "| path | offered/s | achieved/s | e2e p50 ms | e2e p99 ms | accept p99 ms | issued→decided p99 | decided→subscriber p99 | handler batch | cores platform / pg / bench | load avg | saturated |",
    "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ...http.map(row),
    ...batch.map(row),
    "",
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
  const outDir = join(process.cwd(), args.out);
  await mkdir(outDir, { recursive: true });
  const profileDir = args.profile ? join(outDir, "profile") : undefined;
  if (profileDir) await mkdir(profileDir, { recursive: true });

  progress.update("starting the platform (embedded PostgreSQL in a temp dir)…");
  const platform = await startPlatformChild(outDir, profileDir, onChildMessage);
  const client = createJsonClient({ baseUrl: platform.url, connectionsMax, timeoutMs: 30_000 });
  cleanups.push(async () => client.close());

  const random = seededRandom(20_240_601);
  const ids = seededIds(seededRandom(Date.now() >>> 0));
  const staffToken = await signIn(client, "admin", adminPassword);
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
    speedupOverBaseline: Number(
      (Math.max(httpTransfersPerSec, batchTransfersPerSec) / Math.max(1, baselineTransfersPerSec)).toFixed(1),
    ),
    httpSpeedupOverBaseline: Number((httpTransfersPerSec / Math.max(1, baselineTransfersPerSec)).toFixed(1)),
    latencyMeasure:
      "accepted (HTTP 202 received by the client) → MoneyTransferConfirmed received by the platform's subscriber hub (LedgerNotifications via the notifier consumer)",
    date: new Date().toISOString(),
    mode: args.mode,
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
  await writeFile(join(outDir, "latest.json"), `${JSON.stringify(report, null, 2)}\n`);
  const chartPoints = (results: StepResult[]) =>
    results.map((r) => ({
      offeredPerSec: r.offeredPerSec,
      achievedPerSec: r.achievedPerSec,
      p99Ms: r.e2eMs.p99,
    }));
  await writeFile(
    join(outDir, "latest.svg"),
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
  await writeFile(join(outDir, "latest.md"), markdownReport(report, http, batch, baseline, command));
  process.stderr.write(
    `\nhttp ${httpTransfersPerSec}/s, batch ${batchTransfersPerSec}/s, baseline ${baselineTransfersPerSec}/s, ` +
      `at 2000/s p50 ${formatMs(report.p50MsAt2000 ?? Number.NaN)} p99 ${formatMs(report.p99MsAt2000 ?? Number.NaN)} ms ` +
      `(${report.durationS} s) → ${join(args.out, "latest.md")}\n`,
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
