/**
 * Hey Blue! over WebSocket (issue 16, "Measured"): location updates sustained on this machine, and
 * request → officer notified latency under that load.
 *
 * Starts the platform as a child (bench/platform-child.ts, role all, embedded PostgreSQL in a temp
 * dir) so its CPU is its own, registers officers and citizens over HTTP (the simulator's setup),
 * puts the officers on the map, then offers location updates at rising rates, each step for a fixed
 * time: every load socket sends at most `--per-socket` messages a second (under the default
 * per-socket limit of 20, which is kept), so a rate needs rate / per-socket sockets. Meanwhile probe
 * pairs (a citizen next to an officer) make requests one at a time; the officer's `request` push
 * ends the measurement and the officer declines (so the next probe may ask again).
 *
 *   node bench/community-ws.ts [--steps 2000,5000,10000,15000] [--step-s 10] [--officers 200]
 *                              [--per-socket 19] [--probes 10] [--quick]
 *
 * Prints a table with the platform's and the load generator's CPU and os.loadavg() (the machine is
 * shared: other work skews the numbers), and writes bench-results/community-ws.json. Bounded: steps ×
 * step-s plus setup; stops by itself (Ctrl-C stops the platform too).
 * LEDGERFLOW_BENCH_CPU_PROF=<dir> writes the platform child's CPU profile there (summarise it with
 * `node bench/profile-summary.ts <file>`).
 */
import { randomBytes } from "node:crypto";
import { chmod, mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { type AppSocket, openAppSocket, type ServerMessage } from "../src/community/simulation/app-socket.ts";
import { prepareParticipants, type SimUser, signInAs } from "../src/community/simulation/participants.ts";
import { placeWalker, step, type Walker } from "../src/community/simulation/walk.ts";
import { seededRandom } from "../src/platform/clock.ts";
import { createJsonClient, type JsonClient } from "../src/tools/load/http.ts";
import { LatencySamples } from "../src/tools/load/latency.ts";
import { forEachConcurrently } from "../src/tools/load/setup.ts";
import { freePort } from "../test/support/ports.ts";
import {
  forkPlatformChild,
  type PlatformChild,
  pidFromFile,
  postgresCpuMs,
  processCpuMs,
} from "./children.ts";

const adminPassword = `bench-${randomBytes(12).toString("hex")}`;
const password = `bench-user-${randomBytes(12).toString("hex")}`;
/** A 5 km square: officers are spread as in a city, a location reply names few of them. */
const box = { minLat: 52.34, minLon: 4.85, maxLat: 52.385, maxLon: 4.923 };
const random = seededRandom(16);
const cleanups: (() => Promise<unknown>)[] = [];
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface Options {
  readonly steps: number[];
  readonly stepMs: number;
  readonly officers: number;
  readonly perSocket: number;
  readonly probes: number;
}

function options(): Options {
  const { values } = parseArgs({
    options: {
      steps: { type: "string" },
      "step-s": { type: "string" },
      officers: { type: "string" },
      "per-socket": { type: "string" },
      probes: { type: "string" },
      quick: { type: "boolean", default: false },
    },
  });
  const steps = (values.steps ?? (values.quick ? "2000,10000" : "2000,5000,10000,15000"))
    .split(",")
    .map(Number);
  if (steps.some((n) => !(n > 0 && n <= 50_000))) throw new Error("--steps: rates from 1 to 50000");
  const bounded = (text: string | undefined, fallback: number, max: number) => {
    const n = text === undefined ? fallback : Number(text);
    if (!(n > 0 && n <= max)) throw new Error(`expected a number from 1 to ${max}, got ${text}`);
    return n;
  };
  return {
    steps,
    stepMs: bounded(values["step-s"], values.quick ? 5 : 10, 120) * 1_000,
    officers: bounded(values.officers, 200, 2_000),
    perSocket: bounded(values["per-socket"], 19, 10_000),
    probes: bounded(values.probes, 10, 100),
  };
}

async function startPlatform(): Promise<{
  child: PlatformChild;
  cpuMs: () => { platform: number; postgres: number };
}> {
  const dataDir = await mkdtemp(join(tmpdir(), "ledgerflow-bench-community-"));
  await chmod(dataDir, 0o755);
  cleanups.push(() => rm(dataDir, { recursive: true, force: true }));
  const pgPort = await freePort();
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
    // Every bench user registers from 127.0.0.1; probes ask the same officer again and again.
    LEDGERFLOW_REGISTRATIONS_PER_CLIENT_MAX: "100000",
    LEDGERFLOW_COMMUNITY_REQUESTS_PER_WINDOW_MAX: "1000",
    LEDGERFLOW_ACCESS_TOKEN_TTL_SECONDS: "3600",
  });
  const postmasterFile = join(dataDir, "pg", "postmaster.pid");
  cleanups.push(async () => {
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
    execArgv: process.env.LEDGERFLOW_BENCH_CPU_PROF
      ? ["--cpu-prof", `--cpu-prof-dir=${process.env.LEDGERFLOW_BENCH_CPU_PROF}`]
      : [],
    startTimeoutMs: 120_000,
    onMessage: () => {},
  });
  cleanups.push(() => child.stop(20_000));
  return {
    child,
    cpuMs: () => ({
      platform: processCpuMs(child.child.pid),
      postgres: postgresCpuMs(pidFromFile(postmasterFile)),
    }),
  };
}

/** What one step counts. */
interface StepTally {
  sent: number;
  answered: number;
  /** Answered with the officers near (not refused, e.g. rate_limited). */
  ok: number;
  readonly errors: Map<string, number>;
  readonly replyMs: LatencySamples;
  readonly notifiedMs: LatencySamples;
  probeErrors: number;
  /** Locations the generator could not send in time (it was behind by over 100 ms). */
  skipped: number;
}

const newStepTally = (): StepTally => ({
  sent: 0,
  answered: 0,
  ok: 0,
  errors: new Map(),
  replyMs: new LatencySamples(),
  notifiedMs: new LatencySamples(),
  probeErrors: 0,
  skipped: 0,
});

let tally = newStepTally();

interface LoadSocket {
  readonly socket: AppSocket;
  readonly walker: Walker;
  readonly sentAt: Map<string, number>;
  lastMoveMs: number;
}

const wsUrlOf = (url: string) => `${url.replace(/^http/, "ws")}/v1/community/ws`;

function open(
  url: string,
  user: SimUser,
  onPush: (push: ServerMessage) => void,
  sentAt?: Map<string, number>,
) {
  return openAppSocket({
    wsUrl: wsUrlOf(url),
    accessToken: user.accessToken,
    replyWaitMs: 30_000,
    onPush,
    onAnswer: (answer, ref) => {
      const at = sentAt?.get(ref);
      if (at === undefined) return;
      sentAt?.delete(ref);
      tally.answered++;
      tally.replyMs.record(performance.now() - at);
      if (answer.ok) tally.ok++;
      else tally.errors.set(answer.code, (tally.errors.get(answer.code) ?? 0) + 1);
    },
  });
}

const here = (walker: Walker) => ({ lat: walker.lat, lon: walker.lon, accuracyM: 10 });

/** Officers on the map: available for the whole run, each at a random place of the box. */
async function putOfficersOnTheMap(url: string, officers: readonly SimUser[]): Promise<AppSocket[]> {
  const sockets: AppSocket[] = [];
  await forEachConcurrently(officers, 32, async (user) => {
    const socket = await open(url, user, () => {});
    const answer = await socket.send({
      type: "available",
      ...here(placeWalker(random, box, 0)),
      windowMs: 3_600_000,
    });
    if (!answer.ok) throw new Error(`an officer could not go available: ${answer.code}`);
    sockets.push(socket);
  });
  return sockets;
}

async function openLoadSockets(url: string, citizens: readonly SimUser[]): Promise<LoadSocket[]> {
  const sockets: LoadSocket[] = [];
  await forEachConcurrently(citizens, 32, async (user) => {
    const sentAt = new Map<string, number>();
    const socket = await open(url, user, () => {}, sentAt);
    sockets.push({ socket, walker: placeWalker(random, box, 1.4), sentAt, lastMoveMs: performance.now() });
  });
  return sockets;
}

/** Behind by more than this share of a second's worth, the generator skips (counted, never bursts). */
const backlogMaxSeconds = 0.1;
const tickMs = 5;

/**
 * Open loop: `rate` locations a second from the start, dealt round-robin over `sockets` (so each
 * sends rate / sockets a second, under the per-socket limit), until `untilMs`. What the generator
 * could not send in time is counted as skipped rather than sent in a burst.
 */
async function offerLocations(sockets: readonly LoadSocket[], rate: number, untilMs: number) {
  const startMs = performance.now();
  let due = 0;
  let next = 0;
  const send = (load: LoadSocket, nowMs: number) => {
    step(load.walker, random, box, nowMs - load.lastMoveMs);
    load.lastMoveMs = nowMs;
    const ref = load.socket.fire({ type: "location", ...here(load.walker) });
    if (ref === undefined) return;
    load.sentAt.set(ref, nowMs);
    tally.sent++;
  };
  const timer = setInterval(() => {
    const nowMs = performance.now();
    const target = Math.floor(((Math.min(nowMs, untilMs) - startMs) * rate) / 1_000);
    if (target - due > rate * backlogMaxSeconds) {
      tally.skipped += target - due - Math.floor(rate * backlogMaxSeconds);
      due = target - Math.floor(rate * backlogMaxSeconds);
    }
    for (; due < target; due++) send(sockets[next++ % sockets.length] as LoadSocket, nowMs);
  }, tickMs);
  await sleep(untilMs - performance.now());
  clearInterval(timer);
}

interface ProbePair {
  readonly officer: AppSocket;
  readonly citizen: AppSocket;
  notified?: (requestId: string) => void;
}

async function openProbePairs(url: string, officers: readonly SimUser[], citizens: readonly SimUser[]) {
  const pairs: ProbePair[] = [];
  for (const [i, officerUser] of officers.entries()) {
    const spot = here(placeWalker(random, box, 0));
    const pair: Partial<ProbePair> & { notified?: (id: string) => void } = {};
    const officer = await open(url, officerUser, (push) => {
      if (push.type === "request") pair.notified?.((push.request as { id: string }).id);
    });
    const citizen = await open(url, citizens[i] as SimUser, () => {});
    for (const [socket, type] of [
      [officer, "available"],
      [citizen, "location"],
    ] as const) {
      const answer = await socket.send({
        type,
        ...spot,
        ...(type === "available" ? { windowMs: 3_600_000 } : {}),
      });
      if (!answer.ok) throw new Error(`probe ${type}: ${answer.code}`);
    }
    pairs.push(Object.assign(pair, { officer, citizen }) as ProbePair);
  }
  return pairs;
}

/** One pair asks, is notified, is declined, again, until `untilMs`: request → officer's push. */
async function probe(pair: ProbePair, untilMs: number) {
  while (performance.now() < untilMs) {
    const startMs = performance.now();
    const notified = new Promise<{ requestId: string; atMs: number }>((resolve) => {
      pair.notified = (requestId) => resolve({ requestId, atMs: performance.now() });
    });
    const asked = await pair.citizen.send({ type: "request", officerId: pair.officer.userId });
    if (!asked.ok) {
      tally.probeErrors++;
      await sleep(200);
      continue;
    }
    const push = await Promise.race([notified, sleep(30_000).then(() => undefined)]);
    if (push === undefined) {
      tally.probeErrors++;
      continue;
    }
    tally.notifiedMs.record(push.atMs - startMs);
    const declined = await pair.officer.send({ type: "decline", requestId: push.requestId });
    if (!declined.ok) tally.probeErrors++;
    await sleep(50);
  }
}

interface StepResult {
  readonly offeredPerSec: number;
  readonly sockets: number;
  readonly sentPerSec: number;
  readonly skipped: number;
  readonly answeredPerSec: number;
  readonly okPerSec: number;
  readonly errors: Record<string, number>;
  readonly replyP50Ms: number;
  readonly replyP99Ms: number;
  readonly notifiedP50Ms: number;
  readonly notifiedP99Ms: number;
  readonly probes: number;
  readonly probeErrors: number;
  readonly platformCores: number;
  readonly postgresCores: number;
  readonly benchCores: number;
  readonly loadavg1: number;
}

const benchCpuMs = () => {
  const own = process.cpuUsage();
  return (own.user + own.system) / 1_000;
};

/** One rate for `stepMs`, then a drain of the answers in flight (at most 5 s). */
async function runStep(
  rate: number,
  opts: Options,
  load: readonly LoadSocket[],
  pairs: readonly ProbePair[],
  cpuMs: () => { platform: number; postgres: number },
): Promise<StepResult> {
  const sockets = load.slice(0, Math.ceil(rate / opts.perSocket));
  tally = newStepTally();
  const before = { ...cpuMs(), bench: benchCpuMs(), atMs: performance.now() };
  const untilMs = before.atMs + opts.stepMs;
  await Promise.all([offerLocations(sockets, rate, untilMs), ...pairs.map((p) => probe(p, untilMs))]);
  const after = { ...cpuMs(), bench: benchCpuMs(), atMs: performance.now() };
  const answeredInTime = tally.answered;
  const okInTime = tally.ok;
  const drainUntil = performance.now() + 5_000;
  while (tally.answered < tally.sent && performance.now() < drainUntil) await sleep(50);
  // Rates over the offered window; CPU over the wall time (probes may finish a little later).
  const seconds = opts.stepMs / 1_000;
  const wallMs = after.atMs - before.atMs;
  const round = (n: number) => Math.round(n * 10) / 10;
  return {
    offeredPerSec: rate,
    sockets: sockets.length,
    sentPerSec: Math.round(tally.sent / seconds),
    skipped: tally.skipped,
    answeredPerSec: Math.round(answeredInTime / seconds),
    okPerSec: Math.round(okInTime / seconds),
    errors: Object.fromEntries(tally.errors),
    replyP50Ms: round(tally.replyMs.percentile(0.5)),
    replyP99Ms: round(tally.replyMs.percentile(0.99)),
    notifiedP50Ms: round(tally.notifiedMs.percentile(0.5)),
    notifiedP99Ms: round(tally.notifiedMs.percentile(0.99)),
    probes: tally.notifiedMs.count,
    probeErrors: tally.probeErrors,
    platformCores: round((after.platform - before.platform) / wallMs),
    postgresCores: round((after.postgres - before.postgres) / wallMs),
    benchCores: round((after.bench - before.bench) / wallMs),
    loadavg1: round(loadavg()[0] ?? 0),
  };
}

function printStep(r: StepResult): void {
  const errors =
    Object.entries(r.errors)
      .map(([code, n]) => `${code} ${n}`)
      .join(", ") || "none";
  process.stdout.write(
    `${String(r.offeredPerSec).padStart(6)}/s offered on ${r.sockets} sockets: sent ${r.sentPerSec}/s (skipped ${r.skipped}), answered ${r.answeredPerSec}/s, ${r.okPerSec}/s with the officers near ` +
      `(reply p50 ${r.replyP50Ms} ms, p99 ${r.replyP99Ms} ms; errors: ${errors}); request → officer notified ` +
      `p50 ${r.notifiedP50Ms} ms, p99 ${r.notifiedP99Ms} ms (${r.probes} probes, ${r.probeErrors} failed); ` +
      `CPU cores: platform ${r.platformCores}, PostgreSQL ${r.postgresCores}, load generator ${r.benchCores}; loadavg ${r.loadavg1}\n`,
  );
}

async function prepare(client: JsonClient, opts: Options) {
  const loadSockets = Math.ceil(Math.max(...opts.steps) / opts.perSocket);
  const adminToken = await signInAs(client, "admin", adminPassword);
  const plan = { prefix: "bench", password, adminToken };
  const progress = (text: string) => process.stderr.write(`\r${text}   `);
  const { users } = await prepareParticipants(
    client,
    { ...plan, officers: opts.officers + opts.probes, citizens: loadSockets + opts.probes },
    progress,
  );
  process.stderr.write("\n");
  const officers = users.filter((u) => u.role === "officer");
  const citizens = users.filter((u) => u.role === "citizen");
  return { officers, citizens, loadSockets };
}

async function main(): Promise<void> {
  const opts = options();
  process.once("SIGINT", () => void cleanUp().then(() => process.exit(130)));
  const startedLoad = loadavg()
    .map((n) => n.toFixed(2))
    .join(" ");
  process.stdout.write(
    `machine: ${cpus().length} cores, loadavg ${startedLoad} before the run (shared with other work)\n`,
  );
  const { child, cpuMs } = await startPlatform();
  const url = child.url as string;
  const client = createJsonClient({ baseUrl: url, connectionsMax: 16, timeoutMs: 60_000 });
  cleanups.push(async () => client.close());
  const { officers, citizens, loadSockets } = await prepare(client, opts);
  const mapped = await putOfficersOnTheMap(url, officers.slice(0, opts.officers));
  const load = await openLoadSockets(url, citizens.slice(0, loadSockets));
  const pairs = await openProbePairs(url, officers.slice(opts.officers), citizens.slice(loadSockets));
  process.stdout.write(
    `${mapped.length} officers available, ${load.length} load sockets, ${pairs.length} probe pairs\n`,
  );
  const results: StepResult[] = [];
  for (const rate of opts.steps) {
    const result = await runStep(rate, opts, load, pairs, cpuMs);
    printStep(result);
    results.push(result);
    await sleep(1_000);
  }
  // Sustained: the generator kept up, the server answered ≥ 95% of the offer within the step, p99 < 1 s.
  const sustained = results.filter((r) => r.okPerSec >= 0.95 * r.offeredPerSec && r.replyP99Ms < 1_000);
  const best = Math.max(0, ...sustained.map((r) => r.okPerSec));
  process.stdout.write(
    `sustained (≥ 95% of offered answered with the officers near, reply p99 < 1 s): ${best} location updates/s\n`,
  );
  await mkdir("bench-results", { recursive: true });
  await writeFile(
    join("bench-results", "community-ws.json"),
    `${JSON.stringify({ at: new Date().toISOString(), cores: cpus().length, options: opts, sustainedPerSec: best, steps: results }, null, 2)}\n`,
  );
  const sockets = [...mapped, ...load.map((l) => l.socket), ...pairs.flatMap((p) => [p.officer, p.citizen])];
  await Promise.all(sockets.map((socket) => socket.close()));
}

async function cleanUp(): Promise<void> {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => {});
}

main()
  .catch((error: unknown) => {
    process.stderr.write(
      `community-ws bench failed: ${error instanceof Error ? error.message : String(error)}\n`,
    );
    process.exitCode = 1;
  })
  .finally(() => cleanUp());
