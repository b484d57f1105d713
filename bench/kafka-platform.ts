/**
 * Kafka mode of the benchmark: the distributed platform over the local services
 * (`npm run services:up`: Kafka, PostgreSQL, schema registry), as 1 API + N handler processes.
 *
 * - Starts the services when they are not running, and stops them again at the end in that case.
 * - Each run gets a fresh database (`ledgerflow_bench_<time>`, dropped afterwards) and fresh ledger
 *   topics (deleted and re-created, with the handler group's offsets): nothing of an earlier run is
 *   replayed. It therefore owns the ledger topics while it runs, like `npm run test:distributed`;
 *   do not run both at once against the same services.
 * Every process it starts is stopped through the cleanup list, even on failure.
 */
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import pg from "pg";
import { deleteTopicsAndGroup } from "../scripts/services/kafka/reset.ts";
import { deadLetterTopic, topicSpecs, topics } from "../src/app/topology.ts";
import { createKafkaLog } from "../src/platform/log/adapters/kafka.ts";
import {
  forkPlatformChild,
  type PlatformChild,
  pidFromFile,
  postgresCpuMs,
  processCpuMs,
} from "./children.ts";
import type { ChildMessage } from "./protocol.ts";

const projectDir = resolve(import.meta.dirname, "..");
const servicesDir = join(projectDir, ".services");

export interface KafkaPlatformOptions {
  readonly handlers: number;
  readonly adminPassword: string;
  readonly runDir: string;
  readonly execArgv: readonly string[];
  readonly cleanups: (() => Promise<void>)[];
  readonly say: (text: string) => void;
  readonly onMessage: (message: ChildMessage) => void;
}

export interface KafkaPlatform {
  readonly url: string;
  readonly databaseUrl: string;
  readonly children: readonly PlatformChild[];
  /** CPU ms so far of the platform processes, PostgreSQL, the Kafka broker and the schema registry. */
  cpuMs(): { platformMs: number; apiMs: number; postgresMs: number; kafkaMs: number };
}

function runScript(script: string, args: readonly string[], timeoutMs: number): Promise<number> {
  return new Promise((resolvePromise) => {
    const child = spawn(process.execPath, [script, ...args], { cwd: projectDir, stdio: "ignore" });
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    child.once("exit", (code) => {
      clearTimeout(timer);
      resolvePromise(code ?? 1);
    });
  });
}

function readServicesEnv(): Record<string, string> {
  const file = join(servicesDir, "env");
  if (!existsSync(file)) throw new Error(`${file} is missing after services:up`);
  const env: Record<string, string> = {};
  for (const line of readFileSync(file, "utf8").split("\n")) {
    const at = line.indexOf("=");
    if (at > 0) env[line.slice(0, at)] = line.slice(at + 1);
  }
  return env;
}

/** Running services are reused; otherwise they are started now and stopped at cleanup. */
async function ensureServices(options: KafkaPlatformOptions): Promise<Record<string, string>> {
  const running =
    (await runScript("scripts/services/status.ts", ["--only", "postgres,kafka,schema-registry"], 30_000)) ===
    0;
  if (!running) {
    options.say("starting the services (npm run services:up)…");
    options.cleanups.push(async () => {
      options.say("stopping the services this run started (npm run services:down)…");
      await runScript("scripts/services/down.ts", [], 120_000);
    });
    const code = await runScript("scripts/services/up.ts", [], 15 * 60_000);
    if (code !== 0) throw new Error(`npm run services:up failed (exit ${code})`);
  }
  return readServicesEnv();
}

async function freshDatabase(adminUrl: string, cleanups: (() => Promise<void>)[]): Promise<string> {
  const name = `ledgerflow_bench_${Date.now()}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  try {
    // Leftovers of a run that was killed before its cleanup.
    const old = await admin.query("SELECT datname FROM pg_database WHERE datname LIKE 'ledgerflow_bench_%'");
    for (const row of old.rows) await admin.query(`DROP DATABASE IF EXISTS "${row.datname}" WITH (FORCE)`);
    await admin.query(`CREATE DATABASE "${name}"`);
  } finally {
    await admin.end();
  }
  cleanups.push(async () => {
    const client = new pg.Client({ connectionString: adminUrl });
    await client.connect();
    await client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`).finally(() => client.end());
  });
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return url.toString();
}

const ledgerTopicNames = [topics.ledgerCommands, topics.ledgerOutcomes, topics.balanceChanged].flatMap(
  ({ spec }) => [spec.name, deadLetterTopic(spec.name)],
);

/** Deletes the ledger topics and the handler group's offsets, then creates the topics again. */
async function freshTopics(brokers: string[]): Promise<void> {
  await deleteTopicsAndGroup(brokers, ledgerTopicNames, "ledger-handler", "bench-reset");
  const log = createKafkaLog({ brokers, clientId: `bench-${process.pid}` });
  try {
    await log.admin().createTopics(topicSpecs(1).filter((spec) => ledgerTopicNames.includes(spec.name)));
  } finally {
    await log.close();
  }
}

export async function startKafkaPlatform(options: KafkaPlatformOptions): Promise<KafkaPlatform> {
  const services = await ensureServices(options);
  const brokers = (services.LEDGERFLOW_KAFKA_BROKERS ?? "").split(",");
  const adminUrl = services.LEDGERFLOW_DATABASE_URL;
  if (!adminUrl || brokers[0] === "") throw new Error(".services/env lacks the Kafka or PostgreSQL settings");
  const databaseUrl = await freshDatabase(adminUrl, options.cleanups);
  options.say("fresh database; re-creating the ledger topics…");
  await freshTopics(brokers);

  const base: NodeJS.ProcessEnv = {};
  // The platform's settings come from here, except handler tuning (LEDGERFLOW_HANDLER_*), which passes
  // through so settings can be compared: LEDGERFLOW_HANDLER_FETCH_BYTES_MIN=16384 npm run bench -- --mode kafka
  for (const [name, value] of Object.entries(process.env))
    if (!name.startsWith("LEDGERFLOW_") || name.startsWith("LEDGERFLOW_HANDLER_")) base[name] = value;
  const jwtSecret = randomBytes(32).toString("hex");
  const env = (instance: string): NodeJS.ProcessEnv => ({
    ...base,
    ...services,
    LEDGERFLOW_MODE: "distributed",
    LEDGERFLOW_DATABASE_URL: databaseUrl,
    LEDGERFLOW_INSTANCE_ID: instance,
    LEDGERFLOW_DATA_DIR: options.runDir,
    LEDGERFLOW_HOST: "127.0.0.1",
    LEDGERFLOW_PORT: "0",
    LEDGERFLOW_ADMIN_USERNAME: "admin",
    LEDGERFLOW_ADMIN_PASSWORD: options.adminPassword,
    LEDGERFLOW_JWT_SECRET: jwtSecret,
    LEDGERFLOW_LOG_LEVEL: "warn",
  });
  const children: PlatformChild[] = [];
  options.cleanups.push(async () => {
    await Promise.allSettled(children.map((child) => child.stop(20_000)));
  });
  const fork = async (role: "api" | "handler", instance: string) => {
    const child = await forkPlatformChild({
      role,
      env: env(instance),
      logFile: join(options.runDir, `${instance}.log`),
      execArgv: options.execArgv,
      startTimeoutMs: 120_000,
      onMessage: options.onMessage,
    });
    children.push(child);
    return child;
  };
  options.say("starting 1 API process…");
  const api = await fork("api", "bench-api");
  options.say(`starting ${options.handlers} handler processes…`);
  await Promise.all(
    Array.from({ length: options.handlers }, (_, i) => fork("handler", `bench-handler-${i + 1}`)),
  );
  if (!api.url) throw new Error("the API process did not report its URL");

  const postmasterFile = join(servicesDir, "postgres", "pg", "postmaster.pid");
  const jvmPids = [
    join(servicesDir, "kafka", "kafka.pid"),
    join(servicesDir, "schema-registry", "registry.pid"),
  ];
  return {
    url: api.url,
    databaseUrl,
    children,
    cpuMs: () => ({
      platformMs: children.reduce((sum, c) => sum + processCpuMs(c.child.pid), 0),
      apiMs: processCpuMs(api.child.pid),
      postgresMs: postgresCpuMs(pidFromFile(postmasterFile)),
      kafkaMs: jvmPids.reduce((sum, file) => sum + processCpuMs(pidFromFile(file)), 0),
    }),
  };
}
