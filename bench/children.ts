/**
 * Forks bench/platform-child.ts processes and stops them again, whatever happens to the run.
 * CPU time of processes is read from /proc (Linux), so each side's share can be reported.
 */
import { type ChildProcess, fork } from "node:child_process";
import { existsSync, openSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { ChildMessage, ChildRole } from "./protocol.ts";

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export interface PlatformChild {
  readonly child: ChildProcess;
  readonly role: ChildRole;
  /** HTTP base URL when the role serves the API. */
  readonly url: string | undefined;
  /** Asks it to stop, SIGKILLs it after `graceMs`. */
  stop(graceMs: number): Promise<void>;
}

export interface ForkOptions {
  readonly role: ChildRole;
  readonly env: NodeJS.ProcessEnv;
  readonly logFile: string;
  readonly execArgv: readonly string[];
  readonly startTimeoutMs: number;
  readonly onMessage: (message: ChildMessage) => void;
}

export async function forkPlatformChild(options: ForkOptions): Promise<PlatformChild> {
  const logFd = openSync(options.logFile, "a");
  const child = fork(join(import.meta.dirname, "platform-child.ts"), ["--role", options.role], {
    env: options.env,
    execArgv: [...options.execArgv],
    stdio: ["ignore", logFd, logFd, "ipc"],
  });
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const stop = async (graceMs: number) => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    if (child.connected) child.send({ type: "stop" });
    else child.kill("SIGTERM");
    const stopped = await Promise.race([exited.then(() => true), sleep(graceMs).then(() => false)]);
    if (!stopped) {
      child.kill("SIGKILL");
      await exited;
    }
  };
  child.on("message", (message: ChildMessage) => options.onMessage(message));
  try {
    const ready = await new Promise<{ url: string | undefined }>((resolve, reject) => {
      const timer = setTimeout(
        () =>
          reject(new Error(`the ${options.role} process did not start within ${options.startTimeoutMs} ms`)),
        options.startTimeoutMs,
      );
      child.on("message", (message: ChildMessage) => {
        if (message.type === "ready") {
          clearTimeout(timer);
          resolve(message);
        } else if (message.type === "failed") {
          clearTimeout(timer);
          reject(new Error(`the ${options.role} process failed to start: ${message.message}`));
        }
      });
      child.once("exit", (code) => {
        clearTimeout(timer);
        reject(new Error(`the ${options.role} process exited with ${code}; see ${options.logFile}`));
      });
    });
    return { child, role: options.role, url: ready.url, stop };
  } catch (error) {
    await stop(5_000);
    throw error;
  }
}

/**
 * CPU milliseconds (user + system) of a process from /proc, 0 when it is gone. With `reaped`, adds
 * the time of its children that already exited (PostgreSQL backends come and go with connections).
 */
export function processCpuMs(pid: number | undefined, reaped = false): number {
  if (pid === undefined) return 0;
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

export function childPids(parentPid: number): number[] {
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

/** First line of a pid file (postmaster.pid, kafka.pid…), if it names a live-looking pid. */
export function pidFromFile(file: string): number | undefined {
  if (!existsSync(file)) return undefined;
  const pid = Number(readFileSync(file, "utf8").split("\n")[0]);
  return Number.isInteger(pid) && pid > 0 ? pid : undefined;
}

/** CPU of a PostgreSQL cluster: the postmaster, its live backends and the ones already reaped. */
export function postgresCpuMs(postmasterPid: number | undefined): number {
  if (postmasterPid === undefined) return 0;
  return childPids(postmasterPid).reduce(
    (sum, pid) => sum + processCpuMs(pid),
    processCpuMs(postmasterPid, true),
  );
}
