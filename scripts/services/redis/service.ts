/**
 * Redis from Debian's `redis-server` package, daemonized by Redis itself with its own pid file.
 * Used as a shared cache only: nothing in it must be needed to recover (no AOF).
 */
import { mkdirSync } from "node:fs";
import { createConnection } from "node:net";
import { join } from "node:path";
import { redisDebianVersion, type ServicesConfig } from "../config.ts";
import {
  commandExists,
  log,
  ownedPid,
  removeFile,
  runQuiet,
  runVisible,
  stopPid,
  waitUntil,
} from "../proc.ts";
import type { Service } from "../service.ts";

function paths(config: ServicesConfig) {
  const dir = config.redis.dir;
  return { dir, pidFile: join(dir, "redis.pid"), logFile: join(dir, "redis.log") };
}

/** Marker in redis-server's command line: its title shows the bound address and port. */
function marker(config: ServicesConfig): string {
  return `${config.host}:${config.redis.port}`;
}

function ensureRedisInstalled(): void {
  if (commandExists("redis-server")) return;
  log(`redis: installing Debian's redis-server ${redisDebianVersion}...`);
  runVisible("apt-get", ["update"]);
  // apt-get inherits this process's environment: no debconf prompts.
  process.env.DEBIAN_FRONTEND = "noninteractive";
  try {
    runVisible("apt-get", ["install", "-y", "--no-install-recommends", `redis-server=${redisDebianVersion}`]);
  } catch {
    // Debian replaces a version when it ships a point release; the pinned one may be gone.
    log(`redis: ${redisDebianVersion} is no longer offered; installing Debian's current redis-server`);
    runVisible("apt-get", ["install", "-y", "--no-install-recommends", "redis-server"]);
  }
  // The package enables a system-wide instance on 6379; it is not ours to run, stop it if it started.
  runQuiet("sh", ["-c", "service redis-server stop || true"]);
}

/** PING over RESP, without a client library. */
export function redisAnswers(host: string, port: number, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host, port });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.on("error", () => done(false));
    socket.on("connect", () => socket.write("PING\r\n"));
    socket.on("data", (data) => done(data.toString().startsWith("+PONG")));
  });
}

export const redisService: Service = {
  name: "redis",
  async start(config) {
    const p = paths(config);
    mkdirSync(p.dir, { recursive: true });
    const running = ownedPid(p.pidFile, marker(config));
    if (running !== undefined) {
      log(`redis: already running (pid ${running}) on ${marker(config)}`);
      return;
    }
    ensureRedisInstalled();
    runVisible("redis-server", [
      "--port",
      String(config.redis.port),
      "--bind",
      config.host,
      "--dir",
      p.dir,
      "--daemonize",
      "yes",
      "--pidfile",
      p.pidFile,
      "--logfile",
      p.logFile,
      "--appendonly",
      "no",
      "--save",
      "",
    ]);
    await waitUntil("redis", () => redisAnswers(config.host, config.redis.port, 1_000), {
      timeoutMs: 15_000,
      intervalMs: 200,
    });
    const version = runQuiet("redis-server", ["--version"])?.match(/v=(\S+)/)?.[1] ?? "?";
    log(
      `redis: ready on ${marker(config)} (Redis ${version}, pid ${ownedPid(p.pidFile, marker(config)) ?? "?"})`,
    );
  },
  async stop(config) {
    const p = paths(config);
    const pid = ownedPid(p.pidFile, marker(config));
    if (pid === undefined) log("redis: not running");
    else log(`redis: ${await stopPid(pid, { signal: "SIGTERM", timeoutMs: 10_000 })} (pid ${pid})`);
    removeFile(p.pidFile);
  },
  async status(config) {
    const pid = ownedPid(paths(config).pidFile, marker(config));
    return pid === undefined ? "redis: stopped" : `redis: running (pid ${pid}) on ${marker(config)}`;
  },
};
