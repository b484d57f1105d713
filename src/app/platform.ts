/**
 * The composition root: builds the platform (database, log, schema registry, clock, metrics),
 * starts every module for the process's role, and mounts their routes only where HTTP is served.
 * Embedded mode runs every role in this process on embedded PostgreSQL and the PostgreSQL log;
 * distributed mode runs the roles asked for, against external PostgreSQL and Kafka.
 */
import { hostname } from "node:os";
import { join, resolve } from "node:path";
import type pg from "pg";
import pino from "pino";
import { startGrpcServer } from "../api/grpc/server.ts";
import type { CommunityApi } from "../community/index.ts";
import type { IdentityApi } from "../identity/index.ts";
import type { InsightsApi } from "../insights/index.ts";
import type { LedgerApi } from "../ledger/index.ts";
import type { InboxApi } from "../notifications/index.ts";
import type { PaymentsOptions, RunningPayments, StartedGateways } from "../payments/index.ts";
import {
  type Clock,
  type IdGenerator,
  type Random,
  systemClock,
  systemIds,
  systemRandom,
} from "../platform/clock.ts";
import { describeDatabaseUrl, startEmbeddedPostgres } from "../platform/db/embedded.ts";
import { migrate } from "../platform/db/migrate.ts";
import { createPool } from "../platform/db/pool.ts";
import type { PreHandler } from "../platform/http/auth.ts";
import { createKafkaLog, type ProduceSample } from "../platform/log/adapters/kafka.ts";
import { createPostgresLog } from "../platform/log/adapters/postgres.ts";
import type { Log } from "../platform/log/port.ts";
import { createPlatformMetrics, type PlatformMetrics } from "../platform/metrics.ts";
import {
  type ModuleRun,
  type Role,
  type RoutePlugin,
  roleAbilities,
  roles,
  type StartedModule,
  stopper,
} from "../platform/module.ts";
import type { RelayPublishSample } from "../platform/outbox-relay.ts";
import { createConfluentSchemaRegistry } from "../platform/schema-registry/confluent.ts";
import type { SchemaRegistry } from "../platform/schema-registry/port.ts";
import { createPostgresSchemaRegistry } from "../platform/schema-registry/postgres.ts";
import { loadOrCreateLocalSecrets } from "../platform/secrets.ts";
import { kafkaBrokersCount, syncTopics } from "../platform/topics-sync.ts";
import { noPartyNames, type PartyNames, type RiskApi } from "../risk/index.ts";
import type { RunningTokens, TokensOptions } from "../tokens/index.ts";
import type { Config } from "./config.ts";
import { buildHttpApp } from "./http.ts";
import { startMetricsListener } from "./metrics-listener.ts";
import { moduleMigrations, modules } from "./modules.ts";
import { topicSpecs, topics, topology } from "./topology.ts";

export { type Role, roles };

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

/** Starts the simulated gateways (a dev tool, src/dev) when configured. */
export type GatewaySimulatorStarter = (clock: Clock) => Promise<StartedGateways>;

export interface PlatformOptions {
  readonly config: Readonly<Config>;
  readonly role: Role;
  readonly clock?: Clock;
  readonly ids?: IdGenerator;
  /** Secrets (account tokens, the generated admin password) come from here; crypto randomness by default. */
  readonly random?: Random;
  /** The built web app to serve; web/dist of this checkout by default. */
  readonly webDir?: string;
  /** Edges besides the modules' own routes (GraphQL, dead letters…), given the running platform. */
  readonly plugins?: readonly ((platform: PlatformServices) => RoutePlugin)[];
  /** Starts the simulated gateways when `payments.simulateGateways` is on. */
  readonly gatewaySimulators?: GatewaySimulatorStarter;
  /** Test and tool hooks of the modules. */
  readonly payments?: PaymentsOptions;
  readonly tokens?: TokensOptions;
  /** Names of parties for screening (tests); none until identity's profiles are wired here. */
  readonly partyNames?: PartyNames;
  readonly onBatch?: Parameters<(typeof modules)[2]["start"]>[0]["onBatch"];
  /** Stage timings for the benchmark: produce requests (Kafka) and outbox relay publishes. */
  readonly observe?: {
    readonly produce?: (sample: ProduceSample) => void;
    readonly relayPublish?: (sample: RelayPublishSample) => void;
  };
}

/** What edges get to build on: the platform and the modules' published interfaces. */
export interface PlatformServices {
  readonly config: Readonly<Config>;
  readonly pool: pg.Pool;
  readonly log: Log;
  readonly registry: SchemaRegistry;
  readonly clock: Clock;
  readonly ids: IdGenerator;
  readonly logger: pino.Logger;
  readonly metrics: PlatformMetrics;
  readonly ledger: LedgerApi;
  readonly identity: IdentityApi;
  readonly risk: RiskApi;
  /** Payments run where HTTP is served or payments are processed. */
  readonly payments: RunningPayments | undefined;
  readonly tokens: RunningTokens;
  /** Each user's notifications as they arrive (where a notifier runs). */
  readonly inbox: InboxApi;
  /** Client insights: per-client fetches, branches, projection rebuild and lag. */
  readonly insights: InsightsApi;
  /** Hey Blue! connections: its store (connections, trophies) and participants' points accounts. */
  readonly community: CommunityApi;
  readonly topology: typeof topology;
  /** Shorthands of `ledger` (tests and edges written before modules). */
  readonly notifications: LedgerApi["notifications"];
  readonly codecs: LedgerApi["codecs"];
}

export interface RunningPlatform extends PlatformServices {
  /** Base URL of the HTTP API when the role serves it. */
  readonly url: string | undefined;
  /** host:port of the gRPC API when the role serves HTTP and `grpc.port` is set. */
  readonly grpcAddress: string | undefined;
  /** Base URL of the loopback metrics listener when `metrics.port` is configured. */
  readonly metricsUrl: string | undefined;
  readonly adminPassword: string | undefined;
  /** The components running in this process, e.g. `ledger.command-handler`, `payments.processor`. */
  readonly running: readonly string[];
  /** The simulated gateways this process started, if any. */
  readonly simulators: StartedGateways | undefined;
  /** Which database this platform uses, for operators (no password). */
  readonly database: string;
  stop(): Promise<void>;
}

interface Infrastructure {
  readonly pool: pg.Pool;
  readonly log: Log;
  readonly registry: SchemaRegistry;
  readonly jwtSecret: string;
  /** The personal-data key (LEDGERFLOW_PII_KEY, else the data directory's secrets in embedded mode). */
  readonly piiKey: string;
  /** Which database, for operators (no password). */
  readonly database: string;
}

/** Database (embedded when no URL), migrations of every module, the log with the topology's topics. */
async function startInfrastructure(
  options: PlatformOptions,
  clock: Clock,
  logger: pino.Logger,
  stops: ReturnType<typeof stopper>,
): Promise<Infrastructure> {
  const { config } = options;
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
    stops.add(() => embedded.stop());
    databaseUrl = embedded.url;
    database = embedded.description;
    logger.info({ database }, "embedded PostgreSQL started");
  }
  const pool = createPool({
    url: databaseUrl,
    connectionsMax: config.database.connectionsMax,
    statementTimeoutMs: config.database.statementTimeoutMs,
  });
  stops.add(() => pool.end());
  await migrate(pool, moduleMigrations);
  const log = createConfiguredLog(
    config,
    pool,
    clock,
    instanceIdOf(config),
    options.observe?.produce,
    (message, details) => logger.warn(details, message),
  );
  stops.add(() => log.close());
  await createTopics(config, log, logger);
  const jwtSecret = config.auth.jwtSecret ?? (await loadOrCreateLocalSecrets(dataDir)).jwtSecret;
  const piiKey = config.auth.piiKey ?? (await loadOrCreateLocalSecrets(dataDir)).piiKey;
  return { pool, log, registry: createConfiguredRegistry(config, pool), jwtSecret, piiKey, database };
}

async function createTopics(config: Readonly<Config>, log: Log, logger: pino.Logger): Promise<void> {
  if (log.kind !== "kafka") return log.admin().createTopics(topicSpecs(1));
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
}

type Base = Pick<PlatformServices, "config" | "clock" | "ids" | "logger" | "metrics"> &
  Infrastructure & { readonly random: Random };

/** Settles `deferred` with a started module's published interface (or failure), passing both on. */
function settled<T extends { readonly published: U }, U>(deferred: PromiseWithResolvers<U>) {
  return [
    (value: T) => {
      deferred.resolve(value.published);
      return value;
    },
    (error: unknown) => {
      deferred.reject(error);
      throw error;
    },
  ] as const;
}

function startRisk(
  options: PlatformOptions,
  base: Base,
  run: ModuleRun,
  authenticate: PreHandler,
  ledger: Promise<LedgerApi>,
) {
  const { config, pool, log, clock, logger } = base;
  return modules[1].start(
    {
      ...{ config: config.risk, pool, log, clock, logger, authenticate, ledger },
      redisUrl: config.redis.url,
      partyNames: options.partyNames ?? noPartyNames,
      decisionWaitMs: config.http.waitMsMax,
    },
    run,
  );
}

/** The identity module's settings: its sections, the public URL its providers return to, the mode. */
function identitySettingsOf(config: Readonly<Config>) {
  return {
    config: config.auth,
    oidc: config.oidc,
    publicUrl: config.payments.publicUrl,
    phone: { phone: config.phone, sms: config.sms, mode: config.mode },
    passkeys: config.passkeys,
  };
}

/** The identity module: first, since every other context's routes authenticate through it. */
function startIdentity(base: Base, run: ModuleRun) {
  const { config, pool, log, registry, clock, ids, logger } = base;
  return modules[0].start(
    {
      ...identitySettingsOf(config),
      ...{ redisUrl: config.redis.url, jwtSecret: base.jwtSecret, piiKey: base.piiKey },
      ...{ pool, log, registry, clock, ids, logger, random: base.random },
      // Profiles project the community context's events (the topology names them, not identity).
      communityEvents: topics.communityEvents,
      metricsRegistry: base.metrics.registry,
    },
    run,
  );
}

/** Starts the context modules in order; each gets exactly the dependencies it names. */
async function startModules(
  options: PlatformOptions,
  base: Base,
  run: ModuleRun,
  stops: ReturnType<typeof stopper>,
) {
  const { config, pool, log, registry, clock, ids, logger, metrics } = base;
  const [, , ledgerModule, paymentsModule, tokensModule, notificationsModule] = modules;
  const identity = await startIdentity(base, run);
  stops.add(identity.stop);
  const authenticate = identity.published.authenticate;
  // The ledger starts after risk (it screens through risk), which decides reviews through it.
  const ledgerStarted = Promise.withResolvers<LedgerApi>();
  ledgerStarted.promise.catch(() => {});
  // Name screening uses the names of identity's profiles (legal name, else display name).
  const partyNames = options.partyNames ?? {
    namesOf: identity.published.nameOf,
    changedSince: identity.published.namesChangedSince,
  };
  const risk = await startRisk({ ...options, partyNames }, base, run, authenticate, ledgerStarted.promise);
  stops.add(risk.stop);
  const ledger = await ledgerModule
    .start(
      {
        config: { handler: config.handler, ledger: config.ledger, http: config.http },
        ...{ pool, log, registry, clock, ids, logger, metrics, authenticate },
        random: base.random,
        screening: risk.published.screening,
        stepUp: identity.published.stepUp,
        ...(options.onBatch ? { onBatch: options.onBatch } : {}),
        ...(options.observe?.relayPublish ? { observeRelayPublish: options.observe.relayPublish } : {}),
      },
      run,
    )
    .then(...settled<StartedModule<LedgerApi>, LedgerApi>(ledgerStarted));
  stops.add(ledger.stop);
  const simulators = await startSimulators(options, clock, stops);
  const payments = await paymentsModule.start(
    {
      config: { payments: config.payments, alerts: config.alerts, waitMsMax: config.http.waitMsMax },
      ...{ pool, log, registry, clock, ids, logger, authenticate, ledger: ledger.published },
      metricsRegistry: metrics.registry,
      options: {
        ...(simulators ? { seedGateways: simulators, repointSeeded: true } : {}),
        ...options.payments,
      },
    },
    run,
  );
  stops.add(payments.stop);
  const tokens = await tokensModule.start(
    {
      config: config.tokens,
      dataDir: config.dataDir,
      ...{ pool, log, registry, clock, logger, authenticate, ledger: ledger.published },
      ...(options.tokens ? { options: options.tokens } : {}),
    },
    run,
  );
  stops.add(tokens.stop);
  const inbox = await notificationsModule.start(
    { config: config.notifications, ...{ pool, log, ids, logger, authenticate, ledger: ledger.published } },
    run,
  );
  stops.add(inbox.stop);
  const insights = await startInsights(base, run, identity.published, ledger.published, stops);
  const community = await startCommunity(base, run, identity.published, ledger.published, stops);
  return { identity, risk, ledger, payments, tokens, inbox, insights, community, simulators };
}

/** The insights module, on the ledger's published outcomes and identity's user directory. */
async function startInsights(
  base: Base,
  run: ModuleRun,
  identity: IdentityApi,
  ledger: LedgerApi,
  stops: ReturnType<typeof stopper>,
) {
  const { config, pool, log, clock, logger, metrics } = base;
  const [, , , , , , insightsModule] = modules;
  const { authenticate, users } = identity;
  const insights = await insightsModule.start(
    {
      config: config.insights,
      ...{ pool, log, clock, logger, authenticate, users, ledger },
      metricsRegistry: metrics.registry,
    },
    run,
  );
  stops.add(insights.stop);
  return insights;
}

/** The community context (Hey Blue!), on identity's tokens and profiles and the ledger's door. */
async function startCommunity(
  base: Base,
  run: ModuleRun,
  identity: IdentityApi,
  ledger: LedgerApi,
  stops: ReturnType<typeof stopper>,
) {
  const { config, pool, log, registry, clock, ids, logger } = base;
  const communityModule = modules[7];
  const community = await communityModule.start(
    {
      config: config.community,
      ...{ pool, log, registry, clock, ids, logger, ledger, identity },
      ...{ authenticate: identity.authenticate, verifyToken: identity.verifyToken },
      ...{ redisUrl: config.redis.url, instanceId: instanceIdOf(config) },
    },
    run,
  );
  stops.add(community.stop);
  return community;
}

async function startSimulators(options: PlatformOptions, clock: Clock, stops: ReturnType<typeof stopper>) {
  if (
    !options.config.payments.simulateGateways ||
    !options.gatewaySimulators ||
    options.payments?.seedGateways
  )
    return undefined;
  const simulators = await options.gatewaySimulators(clock);
  stops.add(() => simulators.stop());
  return simulators;
}

/** The HTTP edge: every module's routes plus the edges; its base URL. */
async function serveHttp(
  services: PlatformServices,
  routes: readonly RoutePlugin[],
  options: PlatformOptions,
) {
  const { config } = services;
  const app = await buildHttpApp({
    logger: services.logger,
    bodyBytesMax: config.http.bodyBytesMax,
    trustedProxies: config.http.trustedProxies,
    ready: async () => (await services.pool.query("SELECT 1")).rowCount === 1,
    metricsRegistry: services.metrics.registry,
    authenticate: services.identity.authenticate,
    plugins: [...routes, ...(options.plugins ?? []).map((plugin) => plugin(services))],
    webDir: options.webDir ?? join(import.meta.dirname, "..", "..", "web", "dist"),
    version: "0.1.0",
  });
  await app.listen({ host: config.http.host, port: config.http.port });
  const address = app.server.address();
  const port = typeof address === "object" && address ? address.port : config.http.port;
  const url = `http://${config.http.host === "0.0.0.0" ? "127.0.0.1" : config.http.host}:${port}`;
  return { app, url };
}

/** Where the role serves HTTP: the HTTP app (modules' routes and edges) and, when configured, gRPC. */
async function serveEdges(
  services: PlatformServices,
  routes: readonly RoutePlugin[],
  options: PlatformOptions,
  run: ModuleRun,
  stops: ReturnType<typeof stopper>,
): Promise<{ url: string | undefined; grpcAddress: string | undefined }> {
  if (!run.abilities.http) return { url: undefined, grpcAddress: undefined };
  const served = await serveHttp(services, routes, options);
  stops.add(() => served.app.close());
  return { url: served.url, grpcAddress: await serveGrpc(services, stops) };
}

/** The gRPC edge beside HTTP when `grpc.port` is set; its host:port. */
async function serveGrpc(
  services: PlatformServices,
  stops: ReturnType<typeof stopper>,
): Promise<string | undefined> {
  if (services.config.grpc.port === undefined) return undefined;
  const server = await startGrpcServer({
    config: services.config.grpc,
    ledger: services.ledger,
    insights: services.insights,
    verifyToken: services.identity.verifyToken,
    logger: services.logger,
    ready: async () => (await services.pool.query("SELECT 1")).rowCount === 1,
  });
  stops.add(() => server.stop());
  return server.address;
}

/** The loopback metrics listener when `metrics.port` is configured; its URL. */
async function serveMetrics(
  config: Readonly<Config>,
  metrics: PlatformMetrics,
  logger: pino.Logger,
  stops: ReturnType<typeof stopper>,
): Promise<string | undefined> {
  if (config.metrics.port === undefined) return undefined;
  const listener = await startMetricsListener({
    registry: metrics.registry,
    port: config.metrics.port,
    logger,
  });
  stops.add(() => listener.close());
  return listener.url;
}

/** What edges build on: the platform and every module's published interface. */
function servicesOf(base: Base, started: Awaited<ReturnType<typeof startModules>>): PlatformServices {
  const ledger = started.ledger.published;
  return {
    ...base,
    ledger,
    identity: started.identity.published,
    risk: started.risk.published,
    payments: started.payments.published,
    tokens: started.tokens.published,
    inbox: started.inbox.published,
    insights: started.insights.published,
    community: started.community.published,
    topology,
    notifications: ledger.notifications,
    codecs: ledger.codecs,
  };
}

export async function startPlatform(options: PlatformOptions): Promise<RunningPlatform> {
  const { config, role } = options;
  const clock = options.clock ?? systemClock;
  const ids = options.ids ?? systemIds;
  const logger = pino({
    level: config.logLevel,
    base: { service: "ledgerflow", role, instanceId: instanceIdOf(config) },
  });
  const stops = stopper((error) => logger.warn({ err: error }, "stop"));
  const crash = (error: unknown) => {
    logger.fatal({ err: error }, "invariant violated: stopping without acknowledging");
    process.exitCode = 70;
    void stops.stop().finally(() => process.exit(70));
  };
  try {
    const infrastructure = await startInfrastructure(options, clock, logger, stops);
    const random = options.random ?? systemRandom;
    const base: Base = {
      config,
      clock,
      ids,
      random,
      logger,
      metrics: createPlatformMetrics(),
      ...infrastructure,
    };
    const run: ModuleRun = { role, abilities: roleAbilities[role], crash };
    const started = await startModules(options, base, run, stops);
    const services = servicesOf(base, started);
    const startedModules = [
      started.identity,
      started.risk,
      started.ledger,
      started.payments,
      started.tokens,
      started.inbox,
      started.insights,
      started.community,
    ];
    const routes = startedModules.flatMap((m) => m.routes);
    const { url, grpcAddress } = await serveEdges(services, routes, options, run, stops);
    const metricsUrl = await serveMetrics(config, base.metrics, logger, stops);
    const running = [
      ...(url ? ["http"] : []),
      ...(grpcAddress ? ["grpc"] : []),
      ...startedModules.flatMap((m) => m.running),
    ];
    logger.info({ running }, "started");
    const adminPassword = started.identity.published.adminPassword;
    return {
      ...services,
      url,
      grpcAddress,
      metricsUrl,
      database: infrastructure.database,
      adminPassword,
      running,
      simulators: started.simulators,
      stop: stops.stop,
    };
  } catch (error) {
    await stops.stop();
    throw error;
  }
}
