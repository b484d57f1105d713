/**
 * The composition root: starts the platform's parts for the given roles on one configuration.
 * Embedded mode runs every role in this process on embedded PostgreSQL and the PostgreSQL log;
 * distributed mode runs the roles asked for, against external PostgreSQL and Kafka.
 */
import { hostname } from "node:os";
import { join, resolve } from "node:path";
import { ExponentialBackoff, handleType, retry } from "cockatiel";
import type { FastifyInstance } from "fastify";
import type pg from "pg";
import pino from "pino";
import { createPostgresUserStore } from "../identity/adapters/postgres.ts";
import { createRedisLoginLimiter } from "../identity/adapters/redis-login-limiter.ts";
import { createMemoryLoginLimiter, type LoginLimiter } from "../identity/login-limiter.ts";
import { createArgon2Hasher } from "../identity/passwords.ts";
import { authenticate } from "../identity/routes.ts";
import { createIdentityService, type IdentityService } from "../identity/service.ts";
import { type AccessTokens, createAccessTokens } from "../identity/tokens.ts";
import { createPostgresAccountClaims } from "../ledger/account-claims.ts";
import { createPostgresLedgerStore, logOutbox, tableOutbox } from "../ledger/adapters/postgres.ts";
import type { BatchResult } from "../ledger/apply-batch.ts";
import { AcceptedCommands, type CommandGateway, createCommandGateway } from "../ledger/command-gateway.ts";
import { startCommandHandler } from "../ledger/handler.ts";
import type { LedgerHttpDeps } from "../ledger/http/common.ts";
import { LiveStats } from "../ledger/live-stats.ts";
import { LedgerNotifications } from "../ledger/notifications.ts";
import { startNotifier } from "../ledger/notifier.ts";
import { decodeOutboxBatch } from "../ledger/outbox.ts";
import { startPendingSweeper } from "../ledger/pending-sweeper.ts";
import { createLedgerQueries, type LedgerQueries } from "../ledger/queries.ts";
import {
  type Clock,
  type IdGenerator,
  type Random,
  systemClock,
  systemIds,
  systemRandom,
} from "../platform/clock.ts";
import type { Config } from "../platform/config.ts";
import { describeDatabaseUrl, startEmbeddedPostgres } from "../platform/db/embedded.ts";
import { migrate } from "../platform/db/migrate.ts";
import { createPool } from "../platform/db/pool.ts";
import { UnavailableError } from "../platform/errors.ts";
import { createKafkaLog, type ProduceSample } from "../platform/log/adapters/kafka.ts";
import { createPostgresLog, type PostgresLog } from "../platform/log/adapters/postgres.ts";
import type { RunningConsumer } from "../platform/log/consumer.ts";
import type { Log, LogRecord } from "../platform/log/port.ts";
import { createTopicCodec, type TopicCodec } from "../platform/log/topic-codecs.ts";
import { createPlatformMetrics, type PlatformMetrics } from "../platform/metrics.ts";
import { type RelayPublishSample, startOutboxRelay } from "../platform/outbox-relay.ts";
import { createConfluentSchemaRegistry } from "../platform/schema-registry/confluent.ts";
import type { SchemaRegistry } from "../platform/schema-registry/port.ts";
import { createPostgresSchemaRegistry } from "../platform/schema-registry/postgres.ts";
import { kafkaBrokersCount, syncTopics } from "../platform/topics-sync.ts";
import { topicSpecs, topics } from "../platform/topology.ts";
import { buildHttpApp } from "./http.ts";
import { startMetricsListener } from "./metrics-listener.ts";
import { loadOrCreateLocalSecrets } from "./secrets.ts";

/** Start-up waits out a dependency that is briefly unavailable: about a minute, then gives up. */
const startupRetry = retry(handleType(UnavailableError), {
  maxAttempts: 12,
  backoff: new ExponentialBackoff({ initialDelay: 250, maxDelay: 8_000 }),
});

export const roles = ["api", "handler", "projector", "notifier", "all"] as const;
export type Role = (typeof roles)[number];

/**
 * What each role runs. Several processes may run any role at once:
 * - command handlers join the `ledger-handler` consumer group and share its partitions;
 * - the outbox relay is active in one process at a time (advisory lock), the others stand by;
 * - expiry sweepers issue commands with deterministic ids, applied once;
 * - every notifier has its own group from the end of the log, so each API process sees every
 *   outcome and balance change and can answer its own WebSocket/GraphQL subscribers.
 * `projector` runs the event-side background work without taking commands; `notifier` follows
 * the outcome/balance topics for in-process consumers (plugins) without serving HTTP.
 */
export interface RoleComponents {
  readonly http: boolean;
  readonly notifier: boolean;
  readonly commandHandler: boolean;
  readonly outboxRelay: boolean;
  readonly pendingSweeper: boolean;
}

export const roleComponents: Readonly<Record<Role, RoleComponents>> = {
  api: { http: true, notifier: true, commandHandler: false, outboxRelay: false, pendingSweeper: false },
  handler: { http: false, notifier: false, commandHandler: true, outboxRelay: true, pendingSweeper: true },
  projector: { http: false, notifier: false, commandHandler: false, outboxRelay: true, pendingSweeper: true },
  notifier: { http: false, notifier: true, commandHandler: false, outboxRelay: false, pendingSweeper: false },
  all: { http: true, notifier: true, commandHandler: true, outboxRelay: true, pendingSweeper: true },
};

/** The log of this configuration: Apache Kafka when brokers are configured, else PostgreSQL. */
export function createConfiguredLog(
  config: Readonly<Config>,
  pool: pg.Pool,
  clock: Clock,
  instanceId: string,
  onProduce?: (sample: ProduceSample) => void,
  onConsumerWarning?: (message: string, details: Readonly<Record<string, string>>) => void,
): Log {
  const brokers = kafkaBrokersOf(config);
  if (brokers.length === 0) return createPostgresLog({ pool, clock, lingerMs: config.log.lingerMs });
  return createKafkaLog({
    brokers,
    clientId: `ledgerflow-${instanceId}`,
    sessionTimeoutMs: config.log.kafkaSessionTimeoutMs,
    lingerMs: config.log.lingerMs,
    ...(onProduce ? { onProduce } : {}),
    ...(onConsumerWarning ? { onConsumerWarning } : {}),
  });
}

/**
 * The login limiter: in Redis when configured, so that every API process behind the balancer
 * shares one budget per username and IP; else in this process's memory (embedded mode).
 */
export function createConfiguredLoginLimiter(
  config: Readonly<Config>,
  clock: Clock,
  logger: pino.Logger,
): LoginLimiter & { close(): Promise<void> } {
  const url = config.redis.url;
  if (url === undefined) return { ...createMemoryLoginLimiter(clock), close: async () => {} };
  return createRedisLoginLimiter(clock, {
    url,
    onConnectionError: (error) => logger.warn({ err: error }, "login limiter: Redis connection failed"),
  });
}

export function kafkaBrokersOf(config: Readonly<Config>): string[] {
  return (config.log.kafkaBrokers ?? "").split(",").filter((broker) => broker !== "");
}

/** The schema registry: a Confluent-compatible one when configured, else the built-in one. */
export function createConfiguredRegistry(config: Readonly<Config>, pool: pg.Pool): SchemaRegistry {
  const { url, requestTimeoutMs } = config.schemaRegistry;
  return url ? createConfluentSchemaRegistry({ url, requestTimeoutMs }) : createPostgresSchemaRegistry(pool);
}

export function instanceIdOf(config: Readonly<Config>): string {
  return config.instanceId ?? `${hostname()}-${process.pid}`;
}

export interface PlatformOptions {
  readonly config: Readonly<Config>;
  readonly role: Role;
  readonly clock?: Clock;
  readonly ids?: IdGenerator;
  /** Secrets (account tokens, the generated admin password) come from here; crypto randomness by default. */
  readonly random?: Random;
  /** The built web app to serve; web/dist of this checkout by default. */
  readonly webDir?: string;
  /** Route plugins of other contexts (GraphQL, payments…), given the running platform. */
  readonly plugins?: readonly ((platform: PlatformServices) => (app: FastifyInstance) => Promise<void>)[];
  readonly onBatch?: (result: BatchResult, records: readonly LogRecord[], durationMs: number) => void;
  /** Stage timings for the benchmark: produce requests (Kafka) and outbox relay publishes. */
  readonly observe?: {
    readonly produce?: (sample: ProduceSample) => void;
    readonly relayPublish?: (sample: RelayPublishSample) => void;
  };
}

/** What other contexts get to build on. */
export interface PlatformServices {
  readonly config: Readonly<Config>;
  readonly pool: pg.Pool;
  readonly log: Log;
  readonly clock: Clock;
  readonly ids: IdGenerator;
  readonly logger: pino.Logger;
  readonly notifications: LedgerNotifications;
  readonly gateway: CommandGateway;
  readonly queries: LedgerQueries;
  readonly identity: IdentityService;
  /** Verifies access tokens, for edges that authenticate outside Fastify hooks (WebSocket). */
  readonly tokens: AccessTokens;
  readonly ledgerHttp: LedgerHttpDeps;
  readonly metrics: PlatformMetrics;
  readonly liveStats: LiveStats;
  readonly codecs: {
    readonly commands: TopicCodec;
    readonly outcomes: TopicCodec;
    readonly balanceChanged: TopicCodec;
  };
}

export interface RunningPlatform extends PlatformServices {
  /** Base URL of the HTTP API when the role serves it. */
  readonly url: string | undefined;
  /** Base URL of the loopback metrics listener when `metrics.port` is configured. */
  readonly metricsUrl: string | undefined;
  readonly adminPassword: string | undefined;
  /** Which database this platform uses, for operators (no password). */
  readonly database: string;
  stop(): Promise<void>;
}

export async function startPlatform(options: PlatformOptions): Promise<RunningPlatform> {
  const { config, role } = options;
  const clock = options.clock ?? systemClock;
  const ids = options.ids ?? systemIds;
  const random = options.random ?? systemRandom;
  const instanceId = instanceIdOf(config);
  const components = roleComponents[role];
  const logger = pino({ level: config.logLevel, base: { service: "ledgerflow", role, instanceId } });
  const stops: (() => Promise<unknown> | unknown)[] = [];
  const stop = async () => {
    for (const step of stops.reverse())
      await Promise.resolve(step()).catch((e) => logger.warn({ err: e }, "stop"));
  };

  try {
    const dataDir = resolve(config.dataDir);
    let databaseUrl = config.database.url;
    let database = databaseUrl ? describeDatabaseUrl(databaseUrl) : "";
    if (!databaseUrl) {
      logger.info({ dataDir }, "starting embedded PostgreSQL");
      const local = await loadOrCreateLocalSecrets(dataDir);
      const embedded = await startEmbeddedPostgres({
        dataDir,
        port: config.database.embeddedPort,
        persistent: true,
        listenTcp: config.database.embeddedListenTcp,
        passwords: { superuser: local.postgresSuperuserPassword, app: local.postgresAppPassword },
      });
      stops.push(() => embedded.stop());
      databaseUrl = embedded.url;
      database = embedded.description;
      logger.info({ database }, "embedded PostgreSQL started");
    }
    const pool = createPool({
      url: databaseUrl,
      connectionsMax: config.database.connectionsMax,
      statementTimeoutMs: config.database.statementTimeoutMs,
    });
    stops.push(() => pool.end());
    await migrate(pool);

    const log = createConfiguredLog(
      config,
      pool,
      clock,
      instanceId,
      options.observe?.produce,
      (message, details) => logger.warn(details, message),
    );
    stops.push(() => log.close());
    if (log.kind === "kafka") {
      // Missing topics are created as `topics sync` would; drift is only reported (sync's rule).
      const brokersCount = await kafkaBrokersCount(kafkaBrokersOf(config), 10_000);
      const report = await syncTopics({
        admin: log.admin(),
        desired: topicSpecs(brokersCount),
        declarations: [],
        prune: false,
        dryRun: false,
      });
      if (report.created.length > 0) logger.info({ topics: report.created }, "created missing topics");
      for (const drift of report.drift) logger.warn(drift, "topic drift (run `ledgerflow topics sync`)");
    } else {
      await log.admin().createTopics(topicSpecs(1));
    }

    const registry = createConfiguredRegistry(config, pool);
    // A registry that is down at start (e.g. restarting with its database) is waited for, bounded.
    const codecs = await startupRetry.execute(async () => ({
      commands: await createTopicCodec(registry, topics.ledgerCommands),
      outcomes: await createTopicCodec(registry, topics.ledgerOutcomes),
      balanceChanged: await createTopicCodec(registry, topics.balanceChanged),
    }));

    const secrets = config.auth.jwtSecret
      ? { jwtSecret: config.auth.jwtSecret }
      : await loadOrCreateLocalSecrets(dataDir);
    const secretKey = new TextEncoder().encode(secrets.jwtSecret);
    const tokens = await createAccessTokens(
      {
        secret: secretKey,
        expiresInS: config.auth.accessTokenTtlSeconds,
        clockToleranceS: config.auth.clockToleranceSeconds,
      },
      clock,
    );
    const limiter = createConfiguredLoginLimiter(config, clock, logger);
    stops.push(() => limiter.close());
    const identity = createIdentityService({
      store: createPostgresUserStore(pool),
      passwords: createArgon2Hasher(),
      tokens,
      limiter,
      clock,
      ids,
    });

    const producer = log.producer();
    const notifications = new LedgerNotifications();
    const queries = createLedgerQueries(pool);
    const accepted = new AcceptedCommands(100_000);
    const metrics = createPlatformMetrics();
    const liveStats = new LiveStats(300);
    notifications.onOutcome((result) => {
      accepted.delete(result.commandId);
      const nowMs = clock.nowMs();
      liveStats.record(result, nowMs);
      metrics.commandOutcomes.inc({ status: result.status, reason: result.reason ?? "" });
      metrics.commandLatency.observe(Math.max(0, nowMs - result.issuedAtMs) / 1000);
    });
    const gateway = createCommandGateway({
      producer,
      codec: codecs.commands,
      notifications,
      queries,
      accepted,
      nowMs: () => clock.nowMs(),
    });

    const consumers: RunningConsumer[] = [];
    const crash = (error: unknown) => {
      logger.fatal({ err: error }, "invariant violated: stopping without acknowledging");
      process.exitCode = 70;
      void stop().finally(() => process.exit(70));
    };

    // Embedded: the handler writes events into the log in its own transaction, so the log is the
    // outbox and no relay is needed. Kafka: events go through the outbox table and the relay.
    const eventsIntoLog = "appendWithin" in log;
    let wakeRelay = () => {};
    if (components.outboxRelay && !eventsIntoLog) {
      const relay = startOutboxRelay({
        pool,
        producer,
        table: "ledger_outbox",
        decode: decodeOutboxBatch,
        rowsPerPublishMax: 64,
        pollIntervalMs: 100,
        onError: (error) => logger.warn({ err: error }, "outbox relay"),
        ...(options.observe?.relayPublish ? { onPublished: options.observe.relayPublish } : {}),
      });
      stops.push(() => relay.stop());
      wakeRelay = () => relay.wake();
    }
    if (components.commandHandler) {
      const handler = await startCommandHandler({
        log,
        commandCodec: codecs.commands,
        groupId: "ledger-handler",
        batchSizeMax: config.handler.batchSizeMax,
        fetchWaitMaxMs: config.handler.fetchWaitMaxMs,
        fetchBytesMin: config.handler.fetchBytesMin,
        retry: {
          attemptsMax: config.handler.retryAttemptsMax,
          backoffBaseMs: config.handler.retryBackoffBaseMs,
          backoffMaxMs: config.handler.retryBackoffMaxMs,
        },
        apply: {
          // Embedded: events go into the log in the handler's own transaction; Kafka: outbox table + relay.
          store: createPostgresLedgerStore(pool, eventsIntoLog ? logOutbox(log as PostgresLog) : tableOutbox),
          outcomeCodec: codecs.outcomes,
          balanceChangedCodec: codecs.balanceChanged,
          ibanFormat: { country: config.ledger.ibanCountry, bankCode: config.ledger.ibanBankCode },
          nowMs: () => clock.nowMs(),
        },
        afterBatch: (result, records, durationMs) => {
          metrics.handlerBatchSize.observe(records.length);
          metrics.handlerBatchSeconds.observe(durationMs / 1000);
          wakeRelay();
          options.onBatch?.(result, records, durationMs);
        },
        onDeadLetter: (record, error) =>
          logger.error({ err: error, topic: record.topic, offset: String(record.offset) }, "dead-lettered"),
      });
      consumers.push(handler);
      handler.done.catch(crash);
      stops.push(() => handler.stop());
    }
    if (components.pendingSweeper) {
      const sweeper = startPendingSweeper({
        pool,
        gateway,
        nowMs: () => clock.nowMs(),
        intervalMs: config.handler.pendingSweepIntervalMs,
        batchSizeMax: 1_000,
        onError: (error) => logger.warn({ err: error }, "pending sweeper"),
      });
      stops.push(() => sweeper.stop());
    }

    const ledgerHttp: LedgerHttpDeps = {
      gateway,
      accepted,
      queries,
      notifications,
      clock,
      waitMsMax: config.http.waitMsMax,
      transfersPerBatchMax: config.ledger.transfersPerBatchMax,
      authenticate: authenticate(tokens),
      random,
      accountClaims: createPostgresAccountClaims(pool),
      liveStats,
    };
    const services: PlatformServices = {
      config,
      pool,
      log,
      clock,
      ids,
      logger,
      notifications,
      gateway,
      queries,
      identity,
      tokens,
      ledgerHttp,
      codecs,
      metrics,
      liveStats,
    };

    let url: string | undefined;
    let metricsUrl: string | undefined;
    let adminPassword: string | undefined;
    if (components.notifier) {
      const notifier = await startNotifier({
        log,
        groupId: `notifier-${ids.uuid()}`,
        outcomeCodec: codecs.outcomes,
        balanceChangedCodec: codecs.balanceChanged,
        notifications,
        batchSizeMax: 10_000,
      });
      stops.push(() => notifier.stop());
      notifier.done.catch(crash);
    }
    if (components.http) {
      // No default password: one is generated and printed on first start when none is configured.
      adminPassword = config.auth.adminPassword ?? Buffer.from(random.bytes(12)).toString("base64url");
      const admin = await identity.bootstrapAdmin(config.auth.adminUsername, adminPassword);
      if (!admin.ok) throw new Error(`cannot bootstrap the admin: ${admin.code}`);
      if (!admin.created) adminPassword = config.auth.adminPassword;

      const app = await buildHttpApp({
        logger,
        bodyBytesMax: config.http.bodyBytesMax,
        identity,
        ledger: ledgerHttp,
        ready: async () => (await pool.query("SELECT 1")).rowCount === 1,
        metricsRegistry: metrics.registry,
        plugins: (options.plugins ?? []).map((plugin) => plugin(services)),
        webDir: options.webDir ?? join(import.meta.dirname, "..", "..", "web", "dist"),
        version: "0.1.0",
      });
      stops.push(() => app.close());
      await app.listen({ host: config.http.host, port: config.http.port });
      const address = app.server.address();
      const port = typeof address === "object" && address ? address.port : config.http.port;
      url = `http://${config.http.host === "0.0.0.0" ? "127.0.0.1" : config.http.host}:${port}`;
    }

    if (config.metrics.port !== undefined) {
      const listener = await startMetricsListener({
        registry: metrics.registry,
        port: config.metrics.port,
        logger,
      });
      stops.push(() => listener.close());
      metricsUrl = listener.url;
    }

    return { ...services, url, metricsUrl, adminPassword, database, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}
