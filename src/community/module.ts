/**
 * The community context (issue 16, Hey Blue!): officers go available, citizens near them request a
 * connection, the officer accepts, both earn PTS on the ledger and trophies. Where HTTP is served:
 * the WebSocket edge and REST routes (live positions in memory, or Redis in distributed mode) and
 * the request-expiry timers and sweep. Where processors run:
 * the outbox relay publishing community.events, and the points minter following them.
 */
import { readFile } from "node:fs/promises";
import { Agent } from "node:https";
import { join } from "node:path";
import { rootCertificates } from "node:tls";
import type pg from "pg";
import type pino from "pino";
import type { IdentityApi } from "../identity/index.ts";
import type { LedgerApi } from "../ledger/index.ts";
import type { Clock, IdGenerator } from "../platform/clock.ts";
import type { PreHandler, VerifyToken } from "../platform/http/auth.ts";
import { runConsumer } from "../platform/log/consumer.ts";
import type { Log, LogRecord } from "../platform/log/port.ts";
import { createTopicCodec, type TopicCodec } from "../platform/log/topic-codecs.ts";
import { type LedgerflowModule, type RoutePlugin, type StartedModule, stopper } from "../platform/module.ts";
import { decodeOutboxBatch } from "../platform/outbox.ts";
import { startOutboxRelay } from "../platform/outbox-relay.ts";
import type { SchemaRegistry } from "../platform/schema-registry/port.ts";
import { type CommunityConfig, communityConfig } from "./config.ts";
import { eventFromAvro } from "./event-codec.ts";
import { createMemoryNearbyIndex } from "./geo/adapters/memory-index.ts";
import { createRedisGeoIndex } from "./geo/adapters/redis-geo-index.ts";
import { createRedisLastReports } from "./geo/adapters/redis-last-reports.ts";
import { createMemoryLastReports, type LastReports } from "./geo/last-reports.ts";
import type { PurgedNearbyIndex } from "./geo/port.ts";
import { communityRoutes } from "./http.ts";
import { createHub, type Hub } from "./hub.ts";
import { type CommunityMap, mapOf } from "./map-settings.ts";
import { cachedParticipants, participantsFrom } from "./participants.ts";
import { createPointsMinter } from "./points.ts";
import { vapidOf } from "./push/config.ts";
import { webPushingHub } from "./push/notifying-hub.ts";
import { pushRoutes } from "./push/routes.ts";
import { createPushSubscriptions, type PushSubscriptions } from "./push/subscriptions.ts";
import { createWebPushSender } from "./push/web-push-sender.ts";
import { createRedisHub } from "./redis-hub.ts";
import { createRequestExpiry } from "./request-expiry.ts";
import { type CommunityService, createCommunityService } from "./service.ts";
import { type StartedSharingAbilities, startSharing } from "./sharing/wiring.ts";
import { type CommunityStore, createCommunityStore, establishedEvent } from "./store.ts";
import { communityTopics } from "./topics.ts";
import { communitySocketRoute } from "./ws.ts";

export interface CommunityDeps {
  readonly config: CommunityConfig;
  readonly pool: pg.Pool;
  readonly log: Log;
  readonly registry: SchemaRegistry;
  readonly clock: Clock;
  readonly ids: IdGenerator;
  readonly logger: pino.Logger;
  readonly authenticate: PreHandler;
  readonly verifyToken: VerifyToken;
  readonly ledger: Pick<LedgerApi, "submit" | "systemAccountIban" | "queries">;
  /** Participants' public profiles (shown to the other side) and usernames. */
  readonly identity: Pick<IdentityApi, "publicProfiles" | "users">;
  /** Distributed mode: live state (nearby officers, pushes) is shared by every API process. */
  readonly redisUrl?: string | undefined;
  /** This process, so that it skips the pushes it published itself. */
  readonly instanceId?: string;
}

/** What the community context offers other modules and edges (tests read the store through it). */
export interface CommunityApi {
  readonly store: CommunityStore;
  /** The participant's PTS account id on the ledger, once opened. */
  pointsAccountOf(userId: string): Promise<string | undefined>;
}

/** How long an officer's public view (name, agency, verified) is reused for nearby lists. */
const participantViewTtlMs = 30_000;

/** Pending requests' timers one process holds at most; the sweep finds the others. */
const requestTimersMax = 100_000;

/** How often expired entries are purged even when nobody queries (exact positions must not linger). */
const purgeIntervalMs = 5_000;

/**
 * A nearby index: in memory (H3 buckets) in embedded mode; Redis GEO in distributed mode, so every
 * API process answers alike. One for the available officers, one for the citizens sharing their
 * position (`use` names the key prefix and the log line).
 */
function nearbyIndexOf(deps: CommunityDeps, use: "geo" | "citizens"): PurgedNearbyIndex {
  if (deps.redisUrl === undefined) return createMemoryNearbyIndex();
  return createRedisGeoIndex({
    url: deps.redisUrl,
    keyPrefix: `ledgerflow:community:${use}:`,
    onConnectionError: (error) =>
      deps.logger.warn({ err: error }, `community ${use} index: Redis connection failed`),
  });
}

/** Users' last reports (jump checks): in memory, or in Redis so another API process checks them too. */
function lastReportsOf(deps: CommunityDeps): LastReports {
  if (deps.redisUrl === undefined) return createMemoryLastReports();
  return createRedisLastReports({
    url: deps.redisUrl,
    onConnectionError: (error) =>
      deps.logger.warn({ err: error }, "community last reports: Redis connection failed"),
  });
}

/**
 * Purges expired entries (officers' closed windows, citizens' stale positions, old last reports)
 * every `purgeIntervalMs`, so exact positions leave memory (or Redis) when they end, not at the next
 * query; answers what stops the purging and closes them.
 */
function purgeRegularly(
  deps: CommunityDeps,
  stores: readonly { purgeExpired(nowMs: number): unknown; close(): Promise<void> }[],
): () => Promise<void> {
  const timer = setInterval(async () => {
    for (const store of stores)
      try {
        await store.purgeExpired(deps.clock.nowMs());
      } catch (error) {
        deps.logger.warn({ err: error }, "community index: purge failed");
      }
  }, purgeIntervalMs);
  timer.unref();
  return async () => {
    clearInterval(timer);
    await Promise.all(stores.map((store) => store.close()));
  };
}

/** The hub that also wakes closed apps by Web Push, when VAPID keys are configured. */
async function withWebPush(deps: CommunityDeps, hub: Hub, subscriptions: PushSubscriptions): Promise<Hub> {
  const vapid = vapidOf(deps.config);
  if (vapid === undefined) return hub;
  const ca =
    deps.config.pushCaFile === undefined ? undefined : await readFile(deps.config.pushCaFile, "utf8");
  const sender = createWebPushSender({
    vapid,
    ttlS: deps.config.pushTtlS,
    timeoutMs: deps.config.pushTimeoutMs,
    agent: new Agent({ keepAlive: true, ...(ca === undefined ? {} : { ca: [...rootCertificates, ca] }) }),
  });
  return webPushingHub(hub, { sender, subscriptions, logger: deps.logger });
}

/** This process's hub; in distributed mode it also reaches users connected to other processes. */
function hubOf(deps: CommunityDeps): Hub & { close(): Promise<void> } {
  const local = createHub();
  if (deps.redisUrl === undefined) return { ...local, close: async () => {} };
  return createRedisHub(local, {
    url: deps.redisUrl,
    instanceId: deps.instanceId ?? `${process.pid}`,
    onConnectionError: (error) => deps.logger.warn({ err: error }, "community hub: Redis connection failed"),
  });
}

/**
 * The points minter, following ConnectionEstablished on community.events (group community-points).
 * It pays what the community's own table says about the connection, never what a record claims:
 * a record naming no stored connection (or not decodable) was not written by this context and pays
 * nobody, so it is skipped with a warning (identity's profile projection dead-letters such records).
 */
async function startPoints(
  deps: CommunityDeps,
  codec: TopicCodec,
  store: CommunityStore,
  minter: ReturnType<typeof createPointsMinter>,
) {
  const connectionOf = async (record: LogRecord) => {
    let event: ReturnType<typeof eventFromAvro>;
    try {
      event = eventFromAvro(codec.decode(record.value) as Record<string, unknown>);
    } catch (error) {
      deps.logger.warn({ err: error, offset: String(record.offset) }, "community points: record skipped");
      return undefined;
    }
    return event?.type === "ConnectionEstablished" ? store.connection(event.connectionId) : undefined;
  };
  return runConsumer(deps.log, {
    groupId: "community-points",
    topics: [codec.topic],
    retry: { attemptsMax: 5, backoffBaseMs: 100, backoffMaxMs: 10_000 },
    fetchWaitMaxMs: 50,
    handle: async (records) => {
      for (const record of records) {
        const connection = await connectionOf(record);
        if (connection) await minter.mint(establishedEvent(connection));
      }
    },
    onDeadLetter: (record, error) =>
      deps.logger.error({ err: error, offset: String(record.offset) }, "community points dead-lettered"),
  });
}

function startRelay(deps: CommunityDeps, producer: ReturnType<Log["producer"]>) {
  return startOutboxRelay({
    pool: deps.pool,
    producer,
    table: "community_outbox",
    decode: decodeOutboxBatch,
    rowsPerPublishMax: deps.config.relayRowsPerPublishMax,
    pollIntervalMs: deps.config.relayPollIntervalMs,
    onError: (error) => deps.logger.warn({ err: error }, "community outbox relay"),
  });
}

type Stops = ReturnType<typeof stopper>;

/** The officers and citizens indexes and the last reports, purged regularly, closed at stop. */
function livePositions(deps: CommunityDeps, stops: Stops) {
  const [index, citizens] = [nearbyIndexOf(deps, "geo"), nearbyIndexOf(deps, "citizens")];
  const lastReports = lastReportsOf(deps);
  stops.add(purgeRegularly(deps, [index, citizens, lastReports]));
  return { index, citizens, lastReports };
}

/** Requests left unanswered: a timer each in the process that made it, and a sweep from now on. */
function startRequestExpiry(deps: CommunityDeps, store: CommunityStore, hub: Hub, stops: Stops) {
  const expiry = createRequestExpiry({
    ...{ store, hub, clock: deps.clock, sweepIntervalMs: deps.config.requestExpirySweepIntervalMs },
    timersMax: requestTimersMax,
    onError: (error) => deps.logger.warn({ err: error }, "community request expiry"),
  });
  expiry.start();
  stops.add(() => expiry.stop());
  return expiry;
}

/**
 * Sharing connections (sharing/): starts the social poster where processors run (registering its
 * stop and name) and answers the consent and card routes where HTTP is served.
 */
function sharingOf(
  deps: CommunityDeps,
  store: CommunityStore,
  abilities: StartedSharingAbilities,
  into: { stops: Stops; running: string[] },
): RoutePlugin[] {
  const participants = participantsFrom(deps.identity);
  const sharing = startSharing(
    { ...deps, connection: (id) => store.connection(id), participants },
    abilities,
  );
  into.stops.add(() => sharing.stop());
  into.running.push(...sharing.running);
  return sharing.route === undefined ? [] : [sharing.route];
}

function restRoutes(
  deps: CommunityDeps,
  map: CommunityMap | null,
  service: CommunityService,
  store: CommunityStore,
): RoutePlugin {
  const settings = {
    service,
    store,
    map,
    authenticate: deps.authenticate,
    listLimitMax: deps.config.listLimitMax,
  };
  return (app) => communityRoutes(app, settings);
}

export const communityModule: LedgerflowModule<CommunityDeps, CommunityApi> = {
  name: "community",
  config: communityConfig,
  migrations: [join(import.meta.dirname, "migrations")],
  topics: communityTopics,
  async start(deps, run): Promise<StartedModule<CommunityApi>> {
    const { config, logger } = deps;
    const map = mapOf(config); // first: a tile URL without its attribution stops the start, nothing to undo
    const stops = stopper((error) => logger.warn({ err: error }, "community stop"));
    const codec = await createTopicCodec(deps.registry, communityTopics.communityEvents);
    const running: string[] = [];
    let wakeRelay = () => {};
    const store = createCommunityStore({
      pool: deps.pool,
      rules: config,
      codec,
      onCommitted: () => wakeRelay(),
    });
    const minter = createPointsMinter({ ...deps, waitMs: config.ledgerWaitMs });
    if (run.abilities.processors) {
      const relay = startRelay(deps, deps.log.producer());
      wakeRelay = () => relay.wake();
      stops.add(() => relay.stop());
      const points = await startPoints(deps, codec, store, minter);
      stops.add(() => points.stop());
      running.push("community.outbox-relay", "community.points");
    }
    const routes: RoutePlugin[] = sharingOf(deps, store, run.abilities, { stops, running });
    if (run.abilities.http) {
      const positions = livePositions(deps, stops);
      const sharedHub = hubOf(deps);
      stops.add(() => sharedHub.close());
      const subscriptions = createPushSubscriptions(deps.pool);
      const hub = await withWebPush(deps, sharedHub, subscriptions);
      const expiry = startRequestExpiry(deps, store, hub, stops);
      const service = createCommunityService({
        ...deps,
        ...{ rules: config, ...positions, expiry, store, hub },
        participants: cachedParticipants(participantsFrom(deps.identity), {
          ...{ ttlMs: participantViewTtlMs, entriesMax: config.socketsMax },
          nowMs: () => deps.clock.nowMs(),
        }),
        onError: (error) =>
          deps.logger.warn({ err: error }, "community: closing an availability window failed"),
      });
      stops.add(() => service.close());
      routes.push(
        (app) =>
          pushRoutes(app, {
            ...{ authenticate: deps.authenticate, subscriptions, clock: deps.clock },
            publicKey: config.pushVapidPublicKey,
            subscriptionsPerUserMax: config.pushSubscriptionsPerUserMax,
          }),
        restRoutes(deps, map, service, store),
        communitySocketRoute({
          service,
          hub,
          verifyToken: deps.verifyToken,
          nowMs: () => deps.clock.nowMs(),
          limits: config,
          onError: (error) => logger.error({ err: error }, "community socket"),
        }),
      );
      running.push("community.edge", "community.request-expiry");
    }
    return {
      published: { store, pointsAccountOf: (userId) => minter.accountOf(userId) },
      routes,
      running,
      stop: stops.stop,
    };
  },
};
