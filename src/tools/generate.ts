/**
 * `ledgerflow generate`: Open Bank Mark's heartbeat + command generator over the public HTTP API.
 * Registers a few users, opens and funds accounts, then sends random transfers (some meant to fail)
 * at a fixed rate for a fixed time, with a live progress line. Loopback targets only by default.
 */
import { parseArgs } from "node:util";
import {
  type Clock,
  type IdGenerator,
  type Random,
  systemClock,
  systemIds,
  systemRandom,
} from "../platform/clock.ts";
import { ConfigError } from "../platform/config.ts";
import { createJsonClient, isLoopbackUrl, type JsonClient } from "./load/http.ts";
import { formatMs, LatencySamples } from "./load/latency.ts";
import { type OpenLoop, startOpenLoop } from "./load/open-loop.ts";
import { createProgressLine, type ProgressLine } from "./load/progress.ts";
import { createAccounts, fundAccounts, type LoadAccount, registerUsers, signIn } from "./load/setup.ts";
import { outcomeOf, planTransfer } from "./load/transfers.ts";

export interface GeneratorSettings {
  readonly url: string;
  readonly ratePerSec: number;
  readonly accounts: number;
  readonly durationS: number;
  readonly users: number;
  readonly failShare: number;
  readonly concurrencyMax: number;
  /** Seconds each transfer waits for its outcome (`Prefer: wait`); 0 sends and does not wait. */
  readonly waitS: number;
  readonly adminUsername: string;
  readonly adminPassword: string;
  readonly json: boolean;
}

export interface GeneratorDeps {
  readonly clock: Clock;
  readonly ids: IdGenerator;
  readonly random: Random;
  readonly stdout: NodeJS.WritableStream;
  readonly progress: ProgressLine;
  readonly signal?: AbortSignal;
}

export interface GeneratorReport {
  readonly url: string;
  readonly offeredRatePerSec: number;
  readonly durationS: number;
  readonly elapsedS: number;
  readonly sent: number;
  readonly dropped: number;
  readonly achievedRatePerSec: number;
  readonly outcomes: Readonly<Record<string, number>>;
  readonly meantToFail: Readonly<Record<string, number>>;
  readonly latencyMs: { readonly p50: number; readonly p99: number; readonly max: number };
}

const usage = `ledgerflow generate [options]
  --rate N            transfers per second offered (default 500, at most 20000)
  --accounts N        accounts to open and fund (default 1000, at most 100000)
  --duration S        seconds of transfers (default 60, at most 3600)
  --url URL           the running server (default http://localhost:8080); loopback only
  --allow-remote      allow a non-loopback --url
  --users N           users owning the accounts (default 4)
  --fail-share F      share of transfers meant to fail, 0..1 (default 0.05)
  --concurrency N     requests in flight at most (default 256)
  --wait S            Prefer: wait=S on each transfer to learn its outcome (default 5; 0 = fire and forget)
  --admin-user NAME   staff user funding the accounts (or LEDGERFLOW_ADMIN_USERNAME, default admin)
  --admin-password P  (or LEDGERFLOW_ADMIN_PASSWORD)
  --json              print the final report as JSON
`;

function boundedNumber(text: string | undefined, name: string, fallback: number, min: number, max: number) {
  if (text === undefined) return fallback;
  const value = Number(text);
  if (!Number.isFinite(value) || value < min || value > max) {
    throw new ConfigError(`--${name} must be a number from ${min} to ${max}, got ${text}`);
  }
  return value;
}

export function parseGeneratorArgs(
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
): GeneratorSettings | "help" {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      rate: { type: "string" },
      accounts: { type: "string" },
      duration: { type: "string" },
      url: { type: "string" },
      "allow-remote": { type: "boolean", default: false },
      users: { type: "string" },
      "fail-share": { type: "string" },
      concurrency: { type: "string" },
      wait: { type: "string" },
      "admin-user": { type: "string" },
      "admin-password": { type: "string" },
      json: { type: "boolean", default: false },
      help: { type: "boolean", default: false },
    },
    allowPositionals: false,
  });
  if (values.help) return "help";
  const url = (values.url ?? "http://localhost:8080").replace(/\/+$/, "");
  if (!isLoopbackUrl(url) && !values["allow-remote"]) {
    throw new ConfigError(`--url ${url} is not a loopback address; pass --allow-remote to load it anyway`);
  }
  const adminPassword = values["admin-password"] ?? env.LEDGERFLOW_ADMIN_PASSWORD;
  if (!adminPassword) {
    throw new ConfigError(
      "the generator funds accounts as a staff user: pass --admin-password or set LEDGERFLOW_ADMIN_PASSWORD",
    );
  }
  return {
    url,
    ratePerSec: boundedNumber(values.rate, "rate", 500, 0.1, 20_000),
    accounts: Math.floor(boundedNumber(values.accounts, "accounts", 1_000, 2, 100_000)),
    durationS: boundedNumber(values.duration, "duration", 60, 0.1, 3_600),
    users: Math.floor(boundedNumber(values.users, "users", 4, 1, 100)),
    failShare: boundedNumber(values["fail-share"], "fail-share", 0.05, 0, 1),
    concurrencyMax: Math.floor(boundedNumber(values.concurrency, "concurrency", 256, 1, 4_096)),
    waitS: Math.floor(boundedNumber(values.wait, "wait", 5, 0, 30)),
    adminUsername: values["admin-user"] ?? env.LEDGERFLOW_ADMIN_USERNAME ?? "admin",
    adminPassword,
    json: values.json,
  };
}

const fundingMinor = 100_000_000n; // 1,000,000.00 EUR each: valid transfers never run dry
const amountMax = 10_000;

async function prepare(
  client: JsonClient,
  settings: GeneratorSettings,
  deps: GeneratorDeps,
): Promise<LoadAccount[]> {
  const staffToken = await signIn(client, settings.adminUsername, settings.adminPassword);
  const runId = deps.ids.uuid().slice(0, 8);
  const password = `pw-${deps.ids.uuid()}`;
  deps.progress.update(`registering ${settings.users} users…`);
  const users = await registerUsers(client, runId, settings.users, password);
  const setupConcurrency = Math.min(64, settings.concurrencyMax);
  const accounts = await createAccounts(client, deps.ids, users, settings.accounts, setupConcurrency, (n) => {
    if (n % 100 === 0 || n === settings.accounts)
      deps.progress.update(`opened ${n}/${settings.accounts} accounts`);
  });
  await fundAccounts(client, deps.ids, staffToken, accounts, fundingMinor, setupConcurrency, (n) => {
    if (n % 100 === 0 || n === accounts.length)
      deps.progress.update(`funded ${n}/${accounts.length} accounts`);
  });
  return accounts;
}

function countInto(counts: Map<string, number>, key: string): void {
  counts.set(key, (counts.get(key) ?? 0) + 1);
}

function outcomesText(counts: ReadonlyMap<string, number>): string {
  const confirmed = counts.get("confirmed") ?? 0;
  const pending = counts.get("pending") ?? 0;
  const failed = [...counts]
    .filter(([key]) => key !== "confirmed" && key !== "pending")
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([key, n]) => `${key.replace(/^failed:/, "")} ${n}`);
  return `confirmed ${confirmed} | failed ${failed.length ? failed.join(", ") : "0"} | pending ${pending}`;
}

/** A count in at most 4 characters below 100 million: 9999, 123k, 12.3M. */
function compactCount(n: number): string {
  if (n < 10_000) return String(n);
  if (n < 999_500) return `${Math.round(n / 1_000)}k`;
  return `${(n / 1_000_000).toFixed(1)}M`;
}

/** A duration in at most 6 characters: 12.3ms, 845ms, 35s. */
function compactMs(ms: number): string {
  if (!Number.isFinite(ms)) return "-";
  if (ms < 100) return `${ms.toFixed(1)}ms`;
  if (ms < 999.5) return `${Math.round(ms)}ms`;
  return `${compactCount(Math.round(ms / 1_000))}s`;
}

export interface LiveLineStats {
  readonly elapsedS: number;
  readonly offeredPerSec: number;
  readonly achievedPerSec: number;
  readonly outcomes: ReadonlyMap<string, number>;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly inFlight: number;
  readonly dropped: number;
}

export const liveLineColumnsMax = 80;

/** The live progress line, at most 80 columns whatever the numbers (the final report has details). */
export function liveLine(stats: LiveLineStats): string {
  let failed = 0;
  for (const [key, n] of stats.outcomes) if (key !== "confirmed" && key !== "pending") failed += n;
  const count = (key: string) => compactCount(stats.outcomes.get(key) ?? 0);
  const head = [
    `${compactCount(Math.round(stats.elapsedS))}s`,
    `${compactCount(stats.achievedPerSec)}/${compactCount(Math.round(stats.offeredPerSec))}/s`,
    `ok ${count("confirmed")}`,
    `fail ${compactCount(failed)}`,
  ];
  const tail = [
    `p50 ${compactMs(stats.p50Ms)}`,
    `p99 ${compactMs(stats.p99Ms)}`,
    `fly ${compactCount(stats.inFlight)}`,
    ...(stats.dropped ? [`drop ${compactCount(stats.dropped)}`] : []),
  ];
  const full = [...head, `pend ${count("pending")}`, ...tail].join(" ");
  // Pending is in the final report; it gives way when every other number is at its widest.
  return full.length <= liveLineColumnsMax ? full : [...head, ...tail].join(" ");
}

/** What the run has counted so far; `window` holds the last second's latencies for the live line. */
interface LoadTally {
  readonly outcomes: Map<string, number>;
  readonly meantToFail: Map<string, number>;
  readonly all: LatencySamples;
  window: LatencySamples;
}

/** One transfer per call: planned at random, sent, its outcome and latency counted into `tally`. */
function transferIssuer(
  client: JsonClient,
  settings: GeneratorSettings,
  accounts: readonly LoadAccount[],
  deps: GeneratorDeps,
  tally: LoadTally,
): (scheduledAtMs: number) => Promise<void> {
  const waitHeader: Record<string, string> = settings.waitS > 0 ? { prefer: `wait=${settings.waitS}` } : {};
  const plan = {
    failShare: settings.failShare,
    amountMax,
    excessiveAmount: fundingMinor * 1_000n,
    tokenShare: 0.5,
  };
  return async (scheduledAtMs) => {
    const planned = planTransfer(deps.random, deps.ids, accounts, plan);
    if (planned.kind !== "valid") countInto(tally.meantToFail, planned.kind);
    try {
      const answer = await client.request("POST", "/v1/transfers", planned.body, {
        authorization: `Bearer ${planned.accessToken}`,
        ...waitHeader,
      });
      countInto(tally.outcomes, outcomeOf(answer.status, answer.body));
    } catch {
      countInto(tally.outcomes, "network_error");
    }
    // Measured from the scheduled time: a backlog is the server's latency, not the client's.
    const ms = deps.clock.nowMs() - scheduledAtMs;
    tally.all.record(ms);
    tally.window.record(ms);
  };
}

/** Updates the live progress line every second from the loop's stats and the last second's latencies. */
function startLiveTicker(
  settings: GeneratorSettings,
  deps: GeneratorDeps,
  loop: OpenLoop,
  tally: LoadTally,
  startMs: number,
): ReturnType<typeof setInterval> {
  let lastCompleted = 0;
  return setInterval(() => {
    const elapsedS = (deps.clock.nowMs() - startMs) / 1000;
    const second = tally.window.drain();
    tally.window = new LatencySamples();
    const achieved = loop.stats.completed - lastCompleted;
    lastCompleted = loop.stats.completed;
    deps.progress.update(
      liveLine({
        elapsedS,
        offeredPerSec: settings.ratePerSec,
        achievedPerSec: achieved,
        outcomes: tally.outcomes,
        p50Ms: second.percentile(0.5),
        p99Ms: second.percentile(0.99),
        inFlight: loop.stats.inFlight,
        dropped: loop.stats.dropped,
      }),
    );
  }, 1_000);
}

/** Sends the transfers; resolves with the report once the duration is over and every answer is in. */
export async function generateLoad(
  client: JsonClient,
  settings: GeneratorSettings,
  accounts: readonly LoadAccount[],
  deps: GeneratorDeps,
): Promise<GeneratorReport> {
  const tally: LoadTally = {
    outcomes: new Map(),
    meantToFail: new Map(),
    all: new LatencySamples(),
    window: new LatencySamples(),
  };
  const startMs = deps.clock.nowMs();
  const loop = startOpenLoop({
    ratePerSec: settings.ratePerSec,
    durationMs: settings.durationS * 1000,
    concurrencyMax: settings.concurrencyMax,
    backlogMax: Math.max(1_000, Math.ceil(settings.ratePerSec * 2)),
    nowMs: () => deps.clock.nowMs(),
    ...(deps.signal ? { signal: deps.signal } : {}),
    issue: transferIssuer(client, settings, accounts, deps, tally),
  });
  const ticker = startLiveTicker(settings, deps, loop, tally, startMs);
  const stats = await loop.done.finally(() => clearInterval(ticker));
  const elapsedS = (deps.clock.nowMs() - startMs) / 1000;
  deps.progress.done();
  const { outcomes, meantToFail, all } = tally;
  return {
    url: settings.url,
    offeredRatePerSec: settings.ratePerSec,
    durationS: settings.durationS,
    elapsedS,
    sent: stats.started,
    dropped: stats.dropped,
    achievedRatePerSec: Math.round(stats.completed / elapsedS),
    outcomes: Object.fromEntries([...outcomes].sort(([a], [b]) => a.localeCompare(b))),
    meantToFail: Object.fromEntries(meantToFail),
    latencyMs: { p50: all.percentile(0.5), p99: all.percentile(0.99), max: all.max() },
  };
}

function reportText(report: GeneratorReport): string {
  const outcomes = new Map(Object.entries(report.outcomes));
  return [
    `sent ${report.sent} transfers to ${report.url} in ${report.elapsedS.toFixed(1)} s: offered ${report.offeredRatePerSec}/s, achieved ${report.achievedRatePerSec}/s${report.dropped ? `, dropped ${report.dropped}` : ""}`,
    `outcomes: ${outcomesText(outcomes)}`,
    `meant to fail: ${Object.entries(report.meantToFail)
      .map(([k, n]) => `${k} ${n}`)
      .join(", ")}`,
    `latency (scheduled → answer${report.outcomes.pending === report.sent ? "" : " with outcome"}): p50 ${formatMs(report.latencyMs.p50)} ms, p99 ${formatMs(report.latencyMs.p99)} ms, max ${formatMs(report.latencyMs.max)} ms`,
    "",
  ].join("\n");
}

export async function runGenerator(
  argv: string[],
  overrides: Partial<GeneratorDeps> = {},
): Promise<GeneratorReport | undefined> {
  const settings = parseGeneratorArgs(argv, process.env);
  const stdout = overrides.stdout ?? process.stdout;
  if (settings === "help") {
    stdout.write(usage);
    return undefined;
  }
  const controller = new AbortController();
  const onSigint = () => controller.abort();
  if (!overrides.signal) process.once("SIGINT", onSigint);
  const deps: GeneratorDeps = {
    clock: systemClock,
    ids: systemIds,
    random: systemRandom,
    stdout,
    progress: createProgressLine(),
    signal: controller.signal,
    ...overrides,
  };
  const client = createJsonClient({
    baseUrl: settings.url,
    connectionsMax: settings.concurrencyMax,
    timeoutMs: (settings.waitS + 30) * 1000,
  });
  try {
    const accounts = await prepare(client, settings, deps);
    deps.progress.done();
    const report = await generateLoad(client, settings, accounts, deps);
    stdout.write(settings.json ? `${JSON.stringify(report, null, 2)}\n` : reportText(report));
    return report;
  } finally {
    process.off("SIGINT", onSigint);
    client.close();
  }
}
