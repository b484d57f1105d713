/**
 * How a long-running command (`serve`, `gateways simulate`) ends: on SIGINT, SIGTERM or SIGHUP it
 * stops everything it started, quietly, and exits 0; a second signal exits at once (PostgreSQL
 * still stops: it gets SIGINT when its parent dies, see src/platform/db/embedded.ts).
 * Started by npm (`npm start`), it also stops when npm goes away, even by SIGKILL: the process
 * would otherwise be orphaned with the terminal's prompt back and the port still taken.
 */
import { styled } from "./help.ts";

const stopTimeoutMs = 30_000;
/** npm forwards the terminal's SIGINT that its child also got: a repeat this soon is the same one. */
const repeatIgnoredMs = 2_000;
const parentCheckIntervalMs = 500;

export interface Stoppable {
  stop(): Promise<unknown>;
}

export function stopOnSignals(running: Stoppable, env: NodeJS.ProcessEnv = process.env): void {
  let stoppingSinceMs: number | undefined;
  const shutdown = (reason: string, repeatForces = true) => {
    if (stoppingSinceMs !== undefined) {
      if (!repeatForces || Date.now() - stoppingSinceMs < repeatIgnoredMs) return;
      process.stderr.write(`${reason} again: exiting without waiting\n`);
      process.exit(1);
    }
    stoppingSinceMs = Date.now();
    process.stdout.write(`\n${styled("dim", `${reason}: stopping…`)}\n`);
    setTimeout(() => {
      process.stderr.write(`not stopped after ${stopTimeoutMs / 1000} s: exiting\n`);
      process.exit(1);
    }, stopTimeoutMs).unref();
    running.stop().then(
      () => {
        process.stdout.write(`${styled("dim", "stopped")}\n`);
        process.exit(0);
      },
      (error: unknown) => {
        process.stderr.write(`stop failed: ${error instanceof Error ? error.message : String(error)}\n`);
        process.exit(1);
      },
    );
  };
  for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) process.on(signal, () => shutdown(signal));
  if (env.npm_lifecycle_event !== undefined) followParent(() => shutdown("npm exited", false));
}

/** Calls `gone` once when the parent process exits (this process is then re-parented). */
export function followParent(gone: () => void): void {
  const parent = process.ppid;
  const timer = setInterval(() => {
    if (process.ppid === parent) return;
    clearInterval(timer);
    gone();
  }, parentCheckIntervalMs);
  timer.unref();
}
