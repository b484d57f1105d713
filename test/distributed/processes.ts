/**
 * Child processes of the fault test: `ledgerflow serve --role …` and the services scripts.
 * Every platform process runs in its own process group (detached), so `kill -9` of the group takes
 * any child with it, and `stopAll` can always clean up, even when the test fails half-way.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { openSync } from "node:fs";
import { join } from "node:path";

export interface PlatformProcess {
  readonly name: string;
  readonly role: string;
  /** Exits not caused by the test (crashes), with their exit codes. */
  readonly unexpectedExits: number[];
  readonly pid: () => number | undefined;
  /** kill -9 of its process group; it stays down until `restart`. */
  killHard(): Promise<void>;
  restart(): void;
  stop(): Promise<void>;
}

const running = new Set<ChildProcess>();

function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    // Already gone.
  }
}

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once("exit", () => resolve()));
}

// Last resort: never leave a platform process behind, whatever happens to the test.
process.on("exit", () => {
  for (const child of running) killGroup(child, "SIGKILL");
});

export interface SpawnOptions {
  readonly projectDir: string;
  readonly logDir: string;
  readonly env: NodeJS.ProcessEnv;
  /** Restart a process that crashed at once (a dependency was down while it started). */
  readonly restartCrashedAfterMs: number;
}

export function startPlatformProcess(
  name: string,
  role: string,
  extraArgs: readonly string[],
  options: SpawnOptions,
): PlatformProcess {
  const unexpectedExits: number[] = [];
  let child: ChildProcess | undefined;
  let wanted = true;
  let restartTimer: NodeJS.Timeout | undefined;

  const launch = () => {
    const out = openSync(join(options.logDir, `${name}.log`), "a");
    const spawned = spawn(process.execPath, ["src/main.ts", "serve", "--role", role, ...extraArgs], {
      cwd: options.projectDir,
      env: { ...options.env, LEDGERFLOW_INSTANCE_ID: name },
      detached: true,
      stdio: ["ignore", out, out],
    });
    running.add(spawned);
    spawned.once("exit", (code, signal) => {
      running.delete(spawned);
      if (!wanted || signal === "SIGKILL" || signal === "SIGTERM") return;
      unexpectedExits.push(code ?? -1);
      restartTimer = setTimeout(() => {
        if (wanted && child === spawned) {
          child = launch();
        }
      }, options.restartCrashedAfterMs);
    });
    return spawned;
  };

  child = launch();
  return {
    name,
    role,
    unexpectedExits,
    pid: () => child?.pid,
    async killHard() {
      wanted = false;
      clearTimeout(restartTimer);
      if (child) {
        killGroup(child, "SIGKILL");
        await exited(child);
      }
    },
    restart() {
      wanted = true;
      child = launch();
    },
    async stop() {
      wanted = false;
      clearTimeout(restartTimer);
      if (!child) return;
      killGroup(child, "SIGTERM");
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<"timeout">((resolve) => {
        timer = setTimeout(() => resolve("timeout"), 10_000);
      });
      const outcome = await Promise.race([exited(child), timeout]);
      // A pending timer would keep the test process alive 10 s after the test ended.
      clearTimeout(timer);
      if (outcome === "timeout") {
        killGroup(child, "SIGKILL");
        await exited(child);
      }
    },
  };
}

/** Runs `node <script> <args>` to completion, output to the given log; resolves with the exit code. */
export function runNode(
  script: string,
  args: readonly string[],
  options: { readonly cwd: string; readonly env: NodeJS.ProcessEnv; readonly logFile: string },
): Promise<number> {
  const out = openSync(options.logFile, "a");
  const child = spawn(process.execPath, [script, ...args], {
    cwd: options.cwd,
    env: options.env,
    stdio: ["ignore", out, out],
  });
  running.add(child);
  return new Promise((resolve) => {
    child.once("exit", (code) => {
      running.delete(child);
      resolve(code ?? 1);
    });
  });
}
