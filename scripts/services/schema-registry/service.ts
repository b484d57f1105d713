/**
 * Apicurio Registry 3.0 (Apache-2.0) from Maven Central: a Confluent-compatible schema registry at
 * `/apis/ccompat/v7`. Schemas are stored in the local PostgreSQL (database `apicurio`), so schema ids
 * written into Kafka records stay valid across restarts; it therefore starts after PostgreSQL.
 */
import { existsSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import type { ServicesConfig } from "../config.ts";
import { ensureMaven } from "../kafka/service.ts";
import {
  commandExists,
  log,
  ownedPid,
  removeFile,
  runVisible,
  startDetached,
  stopPid,
  tail,
  waitUntil,
} from "../proc.ts";
import type { Service } from "../service.ts";

function paths(config: ServicesConfig) {
  const dir = config.schemaRegistry.dir;
  const version = config.schemaRegistry.version;
  return {
    dir,
    app: join(dir, "app"),
    appComplete: join(dir, "app", `.complete-${version}`),
    runnerJar: join(dir, "app", `apicurio-registry-app-${version}-runner.jar`),
    pidFile: join(dir, "registry.pid"),
    logFile: join(dir, "registry.log"),
  };
}

/**
 * Maven's `get` goal of maven-dependency-plugin 2.8 with `transitive=false` fetches the archive
 * without reading its POM. Newer goals (copy, unpack, 3.x get) read it and fail: the parent POM
 * `io.apicurio:apicurio-registry` is not published on Maven Central.
 */
function ensureApp(config: ServicesConfig): void {
  const p = paths(config);
  if (existsSync(p.appComplete)) return;
  ensureMaven();
  const version = config.schemaRegistry.version;
  log(
    `schema-registry: resolving io.apicurio:apicurio-registry-app:${version}:all (≈110 MB, first run only)...`,
  );
  const localRepository = join(homedir(), ".m2", "repository");
  runVisible("mvn", [
    "-B",
    "-q",
    `-Dmaven.repo.local=${localRepository}`,
    "org.apache.maven.plugins:maven-dependency-plugin:2.8:get",
    `-Dartifact=io.apicurio:apicurio-registry-app:${version}:tar.gz:all`,
    "-Dtransitive=false",
  ]);
  const archive = join(
    localRepository,
    "io/apicurio/apicurio-registry-app",
    version,
    `apicurio-registry-app-${version}-all.tar.gz`,
  );
  rmSync(p.app, { recursive: true, force: true });
  mkdirSync(p.app, { recursive: true });
  runVisible("tar", ["xzf", archive, "-C", p.app]);
  if (!existsSync(p.runnerJar)) throw new Error(`schema-registry: ${p.runnerJar} missing after unpacking`);
  writeFileSync(p.appComplete, `${new Date().toISOString()}\n`);
}

export function registryUrl(config: ServicesConfig): string {
  return `http://${config.host}:${config.schemaRegistry.port}/apis/ccompat/v7`;
}

async function registryAnswers(config: ServicesConfig): Promise<boolean> {
  const response = await fetch(`${registryUrl(config)}/subjects`, { signal: AbortSignal.timeout(2_000) });
  return response.ok;
}

/** Apicurio's global default is NONE; Ledgerflow refuses incompatible changes unless a subject says otherwise. */
async function setGlobalCompatibility(config: ServicesConfig, level: string): Promise<void> {
  const response = await fetch(`${registryUrl(config)}/config`, {
    method: "PUT",
    headers: { "content-type": "application/vnd.schemaregistry.v1+json" },
    body: JSON.stringify({ compatibility: level }),
    signal: AbortSignal.timeout(5_000),
  });
  if (!response.ok) throw new Error(`schema-registry: PUT /config answered ${response.status}`);
}

export const schemaRegistryService: Service = {
  name: "schema-registry",
  async start(config) {
    const p = paths(config);
    mkdirSync(p.dir, { recursive: true });
    const running = ownedPid(p.pidFile, p.dir);
    if (running !== undefined) {
      log(`schema-registry: already running (pid ${running}) at ${registryUrl(config)}`);
      return;
    }
    if (!commandExists("java")) throw new Error("java is missing: the schema registry needs Java 17+");
    ensureApp(config);
    const { host, postgres } = config;
    const pid = startDetached({
      command: "java",
      args: ["-Xmx384m", "-jar", p.runnerJar],
      cwd: p.dir,
      logFile: p.logFile,
      pidFile: p.pidFile,
      env: {
        QUARKUS_HTTP_HOST: host,
        QUARKUS_HTTP_PORT: String(config.schemaRegistry.port),
        QUARKUS_HTTP_ACCESS_LOG_ENABLED: "false",
        APICURIO_STORAGE_KIND: "sql",
        APICURIO_STORAGE_SQL_KIND: "postgresql",
        APICURIO_DATASOURCE_URL: `jdbc:postgresql://${host}:${postgres.port}/apicurio`,
        APICURIO_DATASOURCE_USERNAME: postgres.user,
        APICURIO_DATASOURCE_PASSWORD: postgres.password,
        // The defaults keep 20 idle connections open; a local registry needs a couple.
        APICURIO_DATASOURCE_JDBC_INITIAL_SIZE: "2",
        APICURIO_DATASOURCE_JDBC_MIN_SIZE: "2",
        APICURIO_DATASOURCE_JDBC_MAX_SIZE: "10",
        APICURIO_STORAGE_SNAPSHOT_LOCATION: p.dir,
      },
    });
    log(`schema-registry: starting Apicurio Registry ${config.schemaRegistry.version} (pid ${pid})...`);
    try {
      await waitUntil("schema-registry", () => registryAnswers(config), {
        timeoutMs: 120_000,
        intervalMs: 500,
        stillRunning: () => ownedPid(p.pidFile, p.dir) !== undefined,
      });
    } catch (error) {
      log(`schema-registry: failed to start; last lines of ${p.logFile}:\n${tail(p.logFile, 20)}`);
      throw error;
    }
    await setGlobalCompatibility(config, "BACKWARD");
    log(`schema-registry: ready at ${registryUrl(config)} (global compatibility BACKWARD)`);
  },
  async stop(config) {
    const p = paths(config);
    const pid = ownedPid(p.pidFile, p.dir);
    if (pid === undefined) log("schema-registry: not running");
    else log(`schema-registry: ${await stopPid(pid, { signal: "SIGTERM", timeoutMs: 20_000 })} (pid ${pid})`);
    removeFile(p.pidFile);
  },
  async status(config) {
    const pid = ownedPid(paths(config).pidFile, paths(config).dir);
    if (pid === undefined) return "schema-registry: stopped";
    const answers = await registryAnswers(config).catch(() => false);
    return `schema-registry: running (pid ${pid}) at ${registryUrl(config)}${answers ? "" : " — not answering"}`;
  },
};
