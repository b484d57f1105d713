/**
 * Apache Kafka, single node in KRaft mode (broker + controller in one JVM), from Maven Central jars.
 * Jars are resolved once with Maven into `.services/kafka/libs`; a marker file makes later starts
 * skip Maven entirely.
 */
import { randomBytes } from "node:crypto";
import { copyFileSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Admin } from "@platformatic/kafka";
import type { ServicesConfig } from "../config.ts";
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

const readyTimeoutMs = 90_000;
const stopTimeoutMs = 30_000;

function paths(config: ServicesConfig) {
  const dir = config.kafka.dir;
  return {
    dir,
    libs: join(dir, "libs"),
    libsComplete: join(dir, "libs", `.complete-${config.kafka.version}`),
    data: join(dir, "data"),
    logs: join(dir, "logs"),
    properties: join(dir, "server.properties"),
    log4j: join(dir, "log4j.properties"),
    clusterId: join(dir, "cluster-id"),
    pidFile: join(dir, "kafka.pid"),
    stdoutLog: join(dir, "logs", "stdout.log"),
    pom: join(config.projectDir, "scripts", "services", "kafka", "pom.xml"),
  };
}

function ensureJava(): void {
  if (!commandExists("java")) {
    throw new Error(
      "java is missing: Kafka needs Java 17+ (Debian: apt-get install -y openjdk-17-jre-headless)",
    );
  }
}

export function ensureMaven(): void {
  if (commandExists("mvn")) return;
  log("mvn is missing: installing Debian's maven");
  runVisible("apt-get", ["update"]);
  runVisible("apt-get", ["install", "-y", "--no-install-recommends", "maven"]);
}

function ensureJars(config: ServicesConfig): void {
  const p = paths(config);
  if (existsSync(p.libsComplete)) return;
  ensureMaven();
  log(`resolving org.apache.kafka:kafka_2.13:${config.kafka.version} from Maven Central (first run only)...`);
  rmSync(p.libs, { recursive: true, force: true });
  runVisible("mvn", [
    "-B",
    "-q",
    "-f",
    p.pom,
    `-Dkafka.version=${config.kafka.version}`,
    "dependency:copy-dependencies",
    "-DincludeScope=runtime",
    `-DoutputDirectory=${p.libs}`,
  ]);
  writeFileSync(p.libsComplete, `${new Date().toISOString()}\n`);
  log(`kafka jars cached in ${p.libs}`);
}

function serverProperties(config: ServicesConfig, p: ReturnType<typeof paths>): string {
  const { host } = config;
  const { port, controllerPort } = config.kafka;
  return [
    "# Written by scripts/services/kafka/service.ts on every start; edit the script, not this file.",
    "process.roles=broker,controller",
    "node.id=1",
    `controller.quorum.voters=1@${host}:${controllerPort}`,
    `listeners=PLAINTEXT://${host}:${port},CONTROLLER://${host}:${controllerPort}`,
    `advertised.listeners=PLAINTEXT://${host}:${port}`,
    "controller.listener.names=CONTROLLER",
    "inter.broker.listener.name=PLAINTEXT",
    "listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
    `log.dirs=${p.data}`,
    // One broker: internal topics cannot have more replicas than brokers.
    "offsets.topic.replication.factor=1",
    "offsets.topic.num.partitions=12",
    "transaction.state.log.replication.factor=1",
    "transaction.state.log.min.isr=1",
    "min.insync.replicas=1",
    "default.replication.factor=1",
    "num.partitions=1",
    // Topics are declared once and created by `ledgerflow topics sync`; a typo must fail, not create.
    "auto.create.topics.enable=false",
    "delete.topic.enable=true",
    // A lone member should not wait 3 s for company before getting its partitions.
    "group.initial.rebalance.delay.ms=0",
    "",
  ].join("\n");
}

function clusterId(p: ReturnType<typeof paths>): string {
  if (existsSync(p.clusterId)) return readFileSync(p.clusterId, "utf8").trim();
  // Kafka cluster ids are 16 random bytes in URL-safe base64; a leading '-' would read as a CLI flag.
  let id = randomBytes(16).toString("base64url");
  while (id.startsWith("-")) id = randomBytes(16).toString("base64url");
  writeFileSync(p.clusterId, `${id}\n`);
  return id;
}

function javaArgs(
  config: ServicesConfig,
  p: ReturnType<typeof paths>,
  mainArgs: readonly string[],
): string[] {
  return [
    `-Xmx${config.kafka.heapMaxMb}m`,
    `-Dlog4j.configuration=file:${p.log4j}`,
    `-Dkafka.logs.dir=${p.logs}`,
    "-cp",
    `${p.libs}/*`,
    ...mainArgs,
  ];
}

export async function brokerAnswers(brokers: string, timeoutMs: number): Promise<boolean> {
  const admin = new Admin({
    clientId: "ledgerflow-services",
    bootstrapBrokers: [brokers],
    timeout: timeoutMs,
    retries: 0,
  });
  try {
    const metadata = await admin.metadata({ topics: [] });
    return metadata.brokers.size > 0;
  } finally {
    await admin.close().catch(() => {});
  }
}

export const kafkaService: Service = {
  name: "kafka",
  async start(config) {
    const p = paths(config);
    const brokers = `${config.host}:${config.kafka.port}`;
    mkdirSync(p.logs, { recursive: true });
    const running = ownedPid(p.pidFile, p.properties);
    if (running !== undefined) {
      log(`kafka: already running (pid ${running}) on ${brokers}`);
      return;
    }
    ensureJava();
    ensureJars(config);
    writeFileSync(p.properties, serverProperties(config, p));
    copyFileSync(join(config.projectDir, "scripts", "services", "kafka", "log4j.properties"), p.log4j);
    const id = clusterId(p);
    // -g: a directory formatted by an earlier run is kept as it is (data survives restarts).
    runVisible(
      "java",
      javaArgs(config, p, ["kafka.tools.StorageTool", "format", "-t", id, "-c", p.properties, "-g"]),
    );
    const pid = startDetached({
      command: "java",
      args: javaArgs(config, p, ["kafka.Kafka", p.properties]),
      cwd: p.dir,
      logFile: p.stdoutLog,
      pidFile: p.pidFile,
    });
    log(`kafka: starting (pid ${pid}), waiting for the broker to answer a metadata request...`);
    try {
      await waitUntil("kafka", () => brokerAnswers(brokers, 2_000), {
        timeoutMs: readyTimeoutMs,
        intervalMs: 500,
        stillRunning: () => ownedPid(p.pidFile, p.properties) !== undefined,
      });
    } catch (error) {
      log(
        `kafka: failed to start; last lines of ${join(p.logs, "server.log")}:\n${tail(join(p.logs, "server.log"), 20)}`,
      );
      log(`kafka: ${p.stdoutLog}:\n${tail(p.stdoutLog, 10)}`);
      throw error;
    }
    log(`kafka: ready on ${brokers} (Kafka ${config.kafka.version}, KRaft, cluster ${id})`);
  },
  async stop(config) {
    const p = paths(config);
    const pid = ownedPid(p.pidFile, p.properties);
    if (pid === undefined) {
      log("kafka: not running");
    } else {
      // SIGTERM runs the broker's controlled shutdown, which flushes logs and closes cleanly.
      const how = await stopPid(pid, { signal: "SIGTERM", timeoutMs: stopTimeoutMs });
      log(`kafka: ${how} (pid ${pid})`);
    }
    removeFile(p.pidFile);
  },
  async status(config) {
    const p = paths(config);
    const pid = ownedPid(p.pidFile, p.properties);
    if (pid === undefined) return "kafka: stopped";
    const brokers = `${config.host}:${config.kafka.port}`;
    const answers = await brokerAnswers(brokers, 2_000).catch(() => false);
    return `kafka: running (pid ${pid}) on ${brokers}${answers ? "" : " — not answering metadata requests"}`;
  },
};
