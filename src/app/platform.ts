/**
 * The composition root: starts the platform's parts for the given roles on one configuration.
 * Embedded mode runs every role in this process on embedded PostgreSQL and the PostgreSQL log;
 * distributed mode runs the roles asked for, against external PostgreSQL and Kafka.
 */
import { randomBytes } from "node:crypto";
import { join, resolve } from "node:path";
import type { FastifyInstance } from "fastify";
import type pg from "pg";
import pino from "pino";
import { createPostgresUserStore } from "../identity/adapters/postgres.ts";
import { createMemoryLoginLimiter } from "../identity/login-limiter.ts";
import { createArgon2Hasher } from "../identity/passwords.ts";
import { authenticate } from "../identity/routes.ts";
import { createIdentityService, type IdentityService } from "../identity/service.ts";
import { createAccessTokens } from "../identity/tokens.ts";
import { createPostgresLedgerStore } from "../ledger/adapters/postgres.ts";
import type { BatchResult } from "../ledger/apply-batch.ts";
import { AcceptedCommands, type CommandGateway, createCommandGateway } from "../ledger/command-gateway.ts";
import { startCommandHandler } from "../ledger/handler.ts";
import type { LedgerHttpDeps } from "../ledger/http/common.ts";
import { LedgerNotifications } from "../ledger/notifications.ts";
import { startNotifier } from "../ledger/notifier.ts";
import { decodeOutboxBatch } from "../ledger/outbox.ts";
import { startPendingSweeper } from "../ledger/pending-sweeper.ts";
import { createLedgerQueries, type LedgerQueries } from "../ledger/queries.ts";
import { type Clock, type IdGenerator, systemClock, systemIds } from "../platform/clock.ts";
import type { Config } from "../platform/config.ts";
import { startEmbeddedPostgres } from "../platform/db/embedded.ts";
import { migrate } from "../platform/db/migrate.ts";
import { createPool } from "../platform/db/pool.ts";
import { createPostgresLog } from "../platform/log/adapters/postgres.ts";
import type { RunningConsumer } from "../platform/log/consumer.ts";
import type { Log, LogRecord } from "../platform/log/port.ts";
import { createTopicCodec, type TopicCodec } from "../platform/log/topic-codecs.ts";
import { startOutboxRelay } from "../platform/outbox-relay.ts";
import { createPostgresSchemaRegistry } from "../platform/schema-registry/postgres.ts";
import { topicSpecs, topics } from "../platform/topology.ts";
import { buildHttpApp } from "./http.ts";
import { loadOrCreateLocalSecrets } from "./secrets.ts";

export const roles = ["api", "handler", "all"] as const;
export type Role = (typeof roles)[number];

export interface PlatformOptions {
  readonly config: Readonly<Config>;
  readonly role: Role;
  readonly clock?: Clock;
  readonly ids?: IdGenerator;
  /** Route plugins of other contexts (GraphQL, payments…), given the running platform. */
  readonly plugins?: readonly ((platform: PlatformServices) => (app: FastifyInstance) => Promise<void>)[];
  readonly onBatch?: (result: BatchResult, records: readonly LogRecord[]) => void;
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
  readonly ledgerHttp: LedgerHttpDeps;
  readonly codecs: {
    readonly commands: TopicCodec;
    readonly outcomes: TopicCodec;
    readonly balanceChanged: TopicCodec;
  };
}

export interface RunningPlatform extends PlatformServices {
  /** Base URL of the HTTP API when the role serves it. */
  readonly url: string | undefined;
  readonly adminPassword: string | undefined;
  stop(): Promise<void>;
}

export async function startPlatform(options: PlatformOptions): Promise<RunningPlatform> {
  const { config, role } = options;
  const clock = options.clock ?? systemClock;
  const ids = options.ids ?? systemIds;
  const logger = pino({ level: config.logLevel, base: { service: "ledgerflow", role } });
  const stops: (() => Promise<unknown> | unknown)[] = [];
  const stop = async () => {
    for (const step of stops.reverse())
      await Promise.resolve(step()).catch((e) => logger.warn({ err: e }, "stop"));
  };

  try {
    const dataDir = resolve(config.dataDir);
    let databaseUrl = config.database.url;
    if (!databaseUrl) {
      logger.info({ dataDir }, "starting embedded PostgreSQL");
      const embedded = await startEmbeddedPostgres({
        dataDir,
        port: config.database.embeddedPort,
        persistent: true,
      });
      stops.push(() => embedded.stop());
      databaseUrl = embedded.url;
    }
    const pool = createPool({
      url: databaseUrl,
      connectionsMax: config.database.connectionsMax,
      statementTimeoutMs: config.database.statementTimeoutMs,
    });
    stops.push(() => pool.end());
    await migrate(pool);

    const log = createPostgresLog({ pool, clock, lingerMs: config.log.lingerMs });
    stops.push(() => log.close());
    await log.admin().createTopics(topicSpecs(1));

    const registry = createPostgresSchemaRegistry(pool);
    const codecs = {
      commands: await createTopicCodec(registry, topics.ledgerCommands),
      outcomes: await createTopicCodec(registry, topics.ledgerOutcomes),
      balanceChanged: await createTopicCodec(registry, topics.balanceChanged),
    };

    const secrets = config.auth.jwtSecret
      ? { jwtSecret: config.auth.jwtSecret }
      : await loadOrCreateLocalSecrets(dataDir);
    const secretKey = new TextEncoder().encode(secrets.jwtSecret);
    const tokens = await createAccessTokens(
      { secret: secretKey, expiresInS: config.auth.accessTokenTtlSeconds },
      clock,
    );
    const identity = createIdentityService({
      store: createPostgresUserStore(pool),
      passwords: createArgon2Hasher(),
      tokens,
      limiter: createMemoryLoginLimiter(clock),
      clock,
      ids,
    });

    const producer = log.producer();
    const notifications = new LedgerNotifications();
    const queries = createLedgerQueries(pool);
    const accepted = new AcceptedCommands(100_000);
    notifications.onOutcome((result) => accepted.delete(result.commandId));
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

    if (role === "handler" || role === "all") {
      const relay = startOutboxRelay({
        pool,
        producer,
        table: "ledger_outbox",
        decode: decodeOutboxBatch,
        rowsPerPublishMax: 64,
        pollIntervalMs: 100,
        onError: (error) => logger.warn({ err: error }, "outbox relay"),
      });
      stops.push(() => relay.stop());
      const handler = await startCommandHandler({
        log,
        commandCodec: codecs.commands,
        groupId: "ledger-handler",
        batchSizeMax: config.handler.batchSizeMax,
        fetchWaitMaxMs: config.handler.fetchWaitMaxMs,
        retry: {
          attemptsMax: config.handler.retryAttemptsMax,
          backoffBaseMs: config.handler.retryBackoffBaseMs,
          backoffMaxMs: config.handler.retryBackoffMaxMs,
        },
        apply: {
          store: createPostgresLedgerStore(pool),
          outcomeCodec: codecs.outcomes,
          balanceChangedCodec: codecs.balanceChanged,
          ibanFormat: { country: config.ledger.ibanCountry, bankCode: config.ledger.ibanBankCode },
          nowMs: () => clock.nowMs(),
        },
        afterBatch: (result, records) => {
          relay.wake();
          options.onBatch?.(result, records);
        },
        onDeadLetter: (record, error) =>
          logger.error({ err: error, topic: record.topic, offset: String(record.offset) }, "dead-lettered"),
      });
      consumers.push(handler);
      handler.done.catch(crash);
      stops.push(() => handler.stop());
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
      accountTokenKey: secretKey,
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
      ledgerHttp,
      codecs,
    };

    let url: string | undefined;
    let adminPassword: string | undefined;
    if (role === "api" || role === "all") {
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

      // No default password: one is generated and printed on first start when none is configured.
      adminPassword = config.auth.adminPassword ?? randomBytes(12).toString("base64url");
      const admin = await identity.bootstrapAdmin(config.auth.adminUsername, adminPassword);
      if (!admin.ok) throw new Error(`cannot bootstrap the admin: ${admin.code}`);
      if (!admin.created) adminPassword = config.auth.adminPassword;

      const app = await buildHttpApp({
        logger,
        bodyBytesMax: config.http.bodyBytesMax,
        identity,
        ledger: ledgerHttp,
        ready: async () => (await pool.query("SELECT 1")).rowCount === 1,
        plugins: (options.plugins ?? []).map((plugin) => plugin(services)),
        webDir: join(import.meta.dirname, "..", "..", "web", "dist"),
        version: "0.1.0",
      });
      stops.push(() => app.close());
      await app.listen({ host: config.http.host, port: config.http.port });
      const address = app.server.address();
      const port = typeof address === "object" && address ? address.port : config.http.port;
      url = `http://${config.http.host === "0.0.0.0" ? "127.0.0.1" : config.http.host}:${port}`;
    }

    return { ...services, url, adminPassword, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}
