/**
 * Small process helpers for the service scripts: pid files, detached starts, bounded waits.
 * A pid file alone is not trusted (pids are reused): a process counts as ours only if its command
 * line still contains a marker we chose when starting it (usually its data directory).
 */
import { spawn, spawnSync } from "node:child_process";
import { closeSync, existsSync, openSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";

export function log(message: string): void {
  process.stdout.write(`[services] ${message}\n`);
}

export function readPidFile(pidFile: string): number | undefined {
  if (!existsSync(pidFile)) return undefined;
  const pid = Number(readFileSync(pidFile, "utf8").split("\n")[0]?.trim());
  return Number.isInteger(pid) && pid > 0 ? pid : undefined;
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

function commandLine(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, "utf8").replaceAll("\0", " ");
  } catch {
    return "";
  }
}

/** The live pid recorded in `pidFile` whose command line contains `marker`, if any. */
export function ownedPid(pidFile: string, marker: string): number | undefined {
  const pid = readPidFile(pidFile);
  if (pid === undefined || !isAlive(pid)) return undefined;
  return commandLine(pid).includes(marker) ? pid : undefined;
}

export interface DetachedStart {
  readonly command: string;
  readonly args: readonly string[];
  readonly cwd: string;
  readonly logFile: string;
  readonly pidFile: string;
  readonly env?: NodeJS.ProcessEnv;
}

/** Starts a process that outlives this script (own session, output appended to a log file). */
export function startDetached(start: DetachedStart): number {
  const out = openSync(start.logFile, "a");
  try {
    const child = spawn(start.command, start.args, {
      cwd: start.cwd,
      detached: true,
      stdio: ["ignore", out, out],
      env: { ...process.env, ...start.env },
    });
    if (child.pid === undefined) throw new Error(`could not start ${start.command}`);
    child.unref();
    writeFileSync(start.pidFile, `${child.pid}\n`);
    return child.pid;
  } finally {
    closeSync(out);
  }
}

/** Polls `probe` until it returns true; throws after `timeoutMs` or when `stillRunning` turns false. */
export async function waitUntil(
  what: string,
  probe: () => Promise<boolean>,
  options: { timeoutMs: number; intervalMs: number; stillRunning?: () => boolean },
): Promise<void> {
  const deadline = Date.now() + options.timeoutMs;
  while (Date.now() < deadline) {
    if (await probe().catch(() => false)) return;
    if (options.stillRunning && !options.stillRunning()) throw new Error(`${what}: the process exited`);
    await sleep(options.intervalMs);
  }
  throw new Error(`${what}: not ready after ${options.timeoutMs} ms`);
}

/**
 * Sends `signal`, waits up to `timeoutMs` for the process to exit, then SIGKILLs it.
 * Returns how it ended, for the status line.
 */
export async function stopPid(
  pid: number,
  options: { signal: NodeJS.Signals; timeoutMs: number },
): Promise<"stopped" | "killed" | "gone"> {
  try {
    process.kill(pid, options.signal);
  } catch {
    return "gone";
  }
  const deadline = Date.now() + options.timeoutMs;
  while (Date.now() < deadline) {
    if (!isAlive(pid)) return "stopped";
    await sleep(100);
  }
  try {
    process.kill(pid, "SIGKILL");
  } catch {
    return "stopped";
  }
  return "killed";
}

export function removeFile(path: string): void {
  rmSync(path, { force: true });
}

/** Runs a command to completion with its output shown (mvn, apt-get); throws on a non-zero exit. */
export function runVisible(command: string, args: readonly string[], options: { cwd?: string } = {}): void {
  const result = spawnSync(command, args, { cwd: options.cwd, stdio: "inherit" });
  if (result.error) throw new Error(`${command} failed to start: ${result.error.message}`);
  if (result.status !== 0) throw new Error(`${command} ${args.join(" ")} exited with ${result.status}`);
}

/** Runs a command and returns its stdout, or undefined when it fails. */
export function runQuiet(command: string, args: readonly string[]): string | undefined {
  const result = spawnSync(command, args, { encoding: "utf8" });
  return result.status === 0 ? result.stdout : undefined;
}

export function commandExists(command: string): boolean {
  return runQuiet("sh", ["-c", `command -v ${command}`]) !== undefined;
}

/** Last lines of a log file, to show why a service failed to start. */
export function tail(path: string, lines: number): string {
  if (!existsSync(path)) return "(no log)";
  return readFileSync(path, "utf8").split("\n").slice(-lines).join("\n");
}
