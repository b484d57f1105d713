/** A throwaway redis-server on 127.0.0.1 (no persistence), started and stopped by a test. */
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort, withRetries } from "./ports.ts";

export const redisServerPath = "/usr/bin/redis-server";
const readyTimeoutMs = 10_000;

/** `false`, or why Redis tests are skipped (for `describe(…, { skip })`). */
export function redisSkip(what: string): false | string {
  return existsSync(redisServerPath)
    ? false
    : `${redisServerPath} is missing (apt-get install redis-server): ${what} skipped`;
}

export interface TestRedis {
  readonly url: string;
  stop(): Promise<void>;
}

function waitUntilReady(child: ChildProcess): Promise<void> {
  return new Promise((resolve, reject) => {
    let output = "";
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`redis-server not ready after ${readyTimeoutMs} ms:\n${output}`));
    }, readyTimeoutMs);
    const collect = (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes("Ready to accept connections")) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout?.on("data", collect);
    child.stderr?.on("data", collect);
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`redis-server exited (${code}) before it was ready:\n${output}`));
    });
  });
}

export async function startTestRedis(): Promise<TestRedis> {
  const dir = await mkdtemp(join(tmpdir(), "ledgerflow-redis-"));
  return withRetries(3, async () => {
    const port = await freePort();
    const args = ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"];
    const child = spawn(redisServerPath, [...args, "--dir", dir, "--daemonize", "no"], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    await waitUntilReady(child);
    return {
      url: `redis://127.0.0.1:${port}`,
      async stop() {
        if (child.exitCode === null && child.signalCode === null) {
          const exited = new Promise((resolve) => child.once("exit", resolve));
          child.kill("SIGKILL");
          await exited;
        }
        await rm(dir, { recursive: true, force: true });
      },
    };
  });
}
