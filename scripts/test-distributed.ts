/**
 * `npm run test:distributed`: the scenarios of distributed mode against real services.
 * 1. `services:up` (installs what is missing, pinned; idempotent);
 * 2. runs with node:test, one after the other:
 *    - test/distributed/faults.scenario.ts (1 API + 3 handlers under load, handler kill -9s, a Kafka
 *      and a PostgreSQL restart, then the invariant checks);
 *    - test/distributed/community.scenario.ts (2 API processes + a handler: nearby officers, pushes
 *      and points across processes, through Redis and the log; about 25 s);
 * 3. stops the services again if they were not running before (LEDGERFLOW_KEEP_SERVICES=1 keeps them).
 * Bounded: the whole run is killed after `overallTimeoutMs`. Exit code: a failed scenario's, else 0.
 */
import { spawn } from "node:child_process";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const projectDir = resolve(dirname(fileURLToPath(import.meta.url)), "..");
/** The fault test's own bound is 6 minutes, the community scenario's 2.5. */
const overallTimeoutMs = 11 * 60_000;
const scenarios = ["test/distributed/faults.scenario.ts", "test/distributed/community.scenario.ts"];
const say = (text: string) => process.stdout.write(`[test:distributed] ${text}\n`);

function run(args: readonly string[], options: { quiet?: boolean; timeoutMs: number }): Promise<number> {
  return new Promise((resolvePromise) => {
    const child = spawn(process.execPath, args, {
      cwd: projectDir,
      stdio: options.quiet ? "ignore" : "inherit",
      detached: true,
    });
    const timer = setTimeout(() => {
      say(`${args.join(" ")} exceeded ${options.timeoutMs} ms: killing it`);
      try {
        if (child.pid !== undefined) process.kill(-child.pid, "SIGKILL");
      } catch {}
    }, options.timeoutMs);
    const stopChild = () => {
      try {
        if (child.pid !== undefined) process.kill(-child.pid, "SIGTERM");
      } catch {}
    };
    process.once("SIGINT", stopChild);
    process.once("SIGTERM", stopChild);
    child.once("exit", (code) => {
      clearTimeout(timer);
      process.off("SIGINT", stopChild);
      process.off("SIGTERM", stopChild);
      resolvePromise(code ?? 1);
    });
  });
}

async function main(): Promise<number> {
  const deadline = Date.now() + overallTimeoutMs;
  const wereRunning = (await run(["scripts/services/status.ts"], { quiet: true, timeoutMs: 30_000 })) === 0;
  say(wereRunning ? "services already running" : "starting services (npm run services:up)");
  const up = await run(["scripts/services/up.ts"], { timeoutMs: 15 * 60_000 });
  if (up !== 0) {
    say("services:up failed");
    return up;
  }
  let code = 0;
  try {
    // One at a time and in this order (node --test would order the files itself); a failure does
    // not skip the next scenario, and fails the run.
    for (const scenario of scenarios) {
      const exit = await run(["--test", "--test-reporter=spec", "--test-concurrency=1", scenario], {
        timeoutMs: Math.max(60_000, deadline - Date.now()),
      });
      if (exit !== 0) code = exit;
    }
  } finally {
    if (!wereRunning && process.env.LEDGERFLOW_KEEP_SERVICES !== "1") {
      say("stopping the services this run started (npm run services:down)");
      await run(["scripts/services/down.ts"], { timeoutMs: 120_000 });
    }
  }
  say(code === 0 ? "passed" : `FAILED (exit ${code})`);
  return code;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    say(`failed: ${error instanceof Error ? error.stack : String(error)}`);
    process.exit(1);
  },
);
