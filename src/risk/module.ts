/**
 * The risk module: screening lists (storage, the in-memory index, the scheduled feeder), the
 * screener the ledger's screening port is wired to, and the admin routes. Processes that decide
 * ledger commands keep the index and follow new list versions; processes with projections run the
 * scheduled feeder when a source is configured.
 */
import { join } from "node:path";
import type pg from "pg";
import type pino from "pino";
import type { CommandScreening, LedgerApi } from "../ledger/index.ts";
import type { Clock } from "../platform/clock.ts";
import type { PreHandler } from "../platform/http/auth.ts";
import { runConsumer } from "../platform/log/consumer.ts";
import type { Log } from "../platform/log/port.ts";
import { type LedgerflowModule, type ModuleRun, stopper } from "../platform/module.ts";
import { createPostgresReviewStore, createPostgresRuleFacts } from "./adapters/postgres-reviews.ts";
import { createPostgresScreeningLog } from "./adapters/postgres-screenings.ts";
import { type RiskConfig, riskConfig, s3SettingsOf } from "./config.ts";
import { factsNeeded } from "./domain/rules.ts";
import { type FeedOptions, feedList, formatOf, type LoadReport, sourceOf } from "./feeder.ts";
import { type ReviewHttpDeps, reviewRoutes } from "./http/reviews.ts";
import { riskRoutes } from "./http/routes.ts";
import { createConfiguredListStore } from "./list-store.ts";
import type { ListStore } from "./lists.ts";
import { cachedPartyNames, type PartyNameSource } from "./party-names-cache.ts";
import { ledgerFactsOf, type ReviewStore } from "./reviews.ts";
import { ScreeningIndex } from "./screening-index.ts";
import { createScreener, noPartyNames, type PartyNames, type ScreeningLog } from "./screenings.ts";
import { riskTopics } from "./topics.ts";

export interface RiskDeps {
  readonly config: RiskConfig;
  readonly pool: pg.Pool;
  /** Distributed mode's Redis: lists live there when set (list-store.ts). */
  readonly redisUrl?: string | undefined;
  readonly clock: Clock;
  readonly logger: pino.Logger;
  readonly authenticate: PreHandler;
  readonly log: Log;
  /**
   * The ledger, once started: it starts after risk (it screens through risk's screener), and risk
   * uses its door only to decide reviews (post or void a held transfer) and read its outcomes.
   */
  readonly ledger: Promise<LedgerApi>;
  /**
   * Party names for name screening (identity's profiles); none until wired. With `changedSince`,
   * screening processes cache them (party-names-cache.ts).
   */
  readonly partyNames?: PartyNames | PartyNameSource;
  /** How long a review decision waits for the ledger's outcome. */
  readonly decisionWaitMs: number;
}

export interface RiskApi {
  /** For the ledger's screening port. */
  readonly screening: CommandScreening;
  readonly lists: ListStore;
  readonly screenings: ScreeningLog;
  /** Loads a list now (as the feeder does) and brings this process's index to the new version. */
  feed(options: Omit<FeedOptions, "nowMs" | "limits" | "fetchTimeoutMs" | "s3">): Promise<LoadReport>;
  /** The list versions this process screens against. */
  screeningVersions(): ReadonlyMap<string, number>;
  readonly reviews: ReviewStore;
}

/**
 * Follows the ledger's outcomes: opens a review for each transfer booked as held for review, closes
 * it by what the ledger did (posted, voided, expired), and records which pairs have dealt (for the
 * first-time counterparty rule). Idempotent, so redelivered records change nothing. It also prunes
 * velocity facts older than the longest window (the follower runs where projections run).
 */
const factsPruneIntervalMs = 60_000;
const factsPruneRowsMax = 10_000;

function followLedger(
  deps: RiskDeps,
  run: ModuleRun,
  reviews: ReviewStore,
  facts: ReturnType<typeof createPostgresRuleFacts>,
) {
  const windowMs = factsNeeded(deps.config.rules).windowMs;
  let prunedAtMs = deps.clock.nowMs();
  // Velocity facts older than the longest window are useless: forget them now and then, in bounded steps.
  const prune = async () => {
    const nowMs = deps.clock.nowMs();
    if (windowMs === 0 || nowMs - prunedAtMs < factsPruneIntervalMs) return;
    prunedAtMs = nowMs;
    await facts.prune(nowMs - windowMs, factsPruneRowsMax);
  };
  const started = deps.ledger.then((ledger) =>
    runConsumer(deps.log, {
      groupId: "risk-review-follower",
      topics: [ledger.codecs.outcomes.topic],
      fetchWaitMaxMs: 50,
      retry: { attemptsMax: 5, backoffBaseMs: 100, backoffMaxMs: 10_000 },
      handle: async (records) => {
        const learned = ledgerFactsOf(ledger, records);
        await reviews.open(learned.opened);
        await reviews.closed(learned.completions);
        await facts.dealt(learned.pairs);
        await prune();
      },
      onDeadLetter: (record, error) =>
        deps.logger.error({ err: error, offset: String(record.offset) }, "risk follower dead-lettered"),
    }),
  );
  started.then((consumer) => consumer.done.catch(run.crash), run.crash);
  return async () => (await started).stop();
}

/** Repeats `work` every `intervalMs` (never overlapping itself) until stopped. */
function every(intervalMs: number, work: () => Promise<unknown>, onError: (error: unknown) => void) {
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  const tick = () => {
    void work()
      .catch(onError)
      .finally(() => {
        if (!stopped) timer = setTimeout(tick, intervalMs);
      });
  };
  timer = setTimeout(tick, intervalMs);
  return () => {
    stopped = true;
    clearTimeout(timer);
  };
}

/** The scheduled feeder: loads the configured source every `feedIntervalMs`; returns its stop. */
function scheduleFeeder(config: RiskConfig, feedSource: string, feed: RiskApi["feed"], logger: pino.Logger) {
  const source = sourceOf(feedSource);
  const format = config.feedFormat ?? formatOf(source);
  return every(
    config.feedIntervalMs,
    () => feed({ list: config.feedList, source, format }),
    (error) => logger.error({ err: error }, "scheduled list load failed; the version in force stays"),
  );
}

/** How far back each poll for changed profiles looks before the newest change seen (clock skew, lookups in flight). */
const partyNamesOverlapMs = 10_000;
/** Changed profiles read per poll (more: the cache is dropped and refilled). */
const partyNamesChangesPerPollMax = 10_000;

const isNameSource = (names: PartyNames | PartyNameSource): names is PartyNameSource =>
  "changedSince" in names && typeof names.changedSince === "function";

/** The names screening uses: identity's, cached with polled eviction when it can say what changed. */
function partyNamesOf(deps: RiskDeps, stops: ReturnType<typeof stopper>): PartyNames {
  const { config, clock, logger } = deps;
  const source: PartyNames | PartyNameSource = deps.partyNames ?? noPartyNames;
  if (!isNameSource(source) || config.partyNamesCacheTtlMs === 0) return source;
  const cache = cachedPartyNames(
    source,
    {
      ttlMs: config.partyNamesCacheTtlMs,
      entriesMax: config.partyNamesCacheEntriesMax,
      pollIntervalMs: config.partyNamesPollIntervalMs,
      overlapMs: partyNamesOverlapMs,
      changesPerPollMax: partyNamesChangesPerPollMax,
    },
    () => clock.nowMs(),
  );
  stops.add(
    every(config.partyNamesPollIntervalMs, cache.poll, (error) =>
      logger.warn({ err: error }, "screening names: poll for changed profiles failed; names asked per batch"),
    ),
  );
  return cache;
}

/** The screener the ledger's screening port is wired to, logging each block or hold. */
function screenerOf(
  deps: RiskDeps,
  index: ScreeningIndex,
  log: ScreeningLog,
  facts: ReturnType<typeof createPostgresRuleFacts>,
  partyNames: PartyNames,
): CommandScreening {
  const { config, clock, logger } = deps;
  return createScreener({
    index,
    log,
    reviewThreshold: config.reviewThreshold,
    reviewTimeoutMs: config.reviewTimeoutMs,
    rules: config.rules,
    facts,
    partyNames,
    nowMs: () => clock.nowMs(),
    onDecision: ({ commandId, decision, list, listVersion, entryKind, ruleHits }) =>
      logger.info(
        { commandId, decision, list, listVersion, entryKind, rules: ruleHits.map((hit) => hit.rule) },
        "screening hit",
      ),
  });
}

function reviewHttp(deps: RiskDeps, store: ReviewStore, log: ScreeningLog): ReviewHttpDeps {
  return {
    authenticate: deps.authenticate,
    log,
    pageSizeMax: deps.config.reviewsPageSizeMax,
    reviews: { store, ledger: deps.ledger, nowMs: () => deps.clock.nowMs(), waitMs: deps.decisionWaitMs },
  };
}

/** Loads a list now, as the feeder does; then brings this process's index to it (where it screens). */
function feederOf(
  deps: RiskDeps,
  lists: ListStore,
  refresh: (() => Promise<unknown>) | undefined,
): RiskApi["feed"] {
  const { config, clock, logger } = deps;
  return async (options) => {
    const report = await feedList(lists, {
      ...options,
      limits: {
        bytesMax: config.fileBytesMax,
        entriesMax: config.entriesMax,
        lineBytesMax: config.lineBytesMax,
      },
      fetchTimeoutMs: config.fetchTimeoutMs,
      s3: s3SettingsOf(config),
      nowMs: () => clock.nowMs(),
    });
    if (report.changed) logger.info(report, "screening list loaded");
    await refresh?.();
    return report;
  };
}

export const riskModule: LedgerflowModule<RiskDeps, RiskApi> = {
  name: "risk",
  config: riskConfig,
  migrations: [join(import.meta.dirname, "migrations")],
  topics: riskTopics,
  async start(deps, run) {
    const { config, pool, logger } = deps;
    const stops = stopper((error) => logger.warn({ err: error }, "risk stop"));
    const configured = createConfiguredListStore(pool, deps.redisUrl, (error) =>
      logger.warn({ err: error }, "screening lists: Redis connection failed"),
    );
    stops.add(configured.close);
    const lists = configured.store;
    const screenings = createPostgresScreeningLog(pool);
    const reviews = createPostgresReviewStore(pool);
    const facts = createPostgresRuleFacts(pool);
    const index = new ScreeningIndex();
    const running: string[] = [];
    const refresh = () => index.refresh(lists);
    if (run.abilities.commands) {
      await refresh();
      stops.add(
        every(config.refreshIntervalMs, refresh, (error) =>
          logger.warn({ err: error }, "screening index refresh"),
        ),
      );
      running.push("risk.screening-index");
    }
    if (run.abilities.projections) {
      stops.add(followLedger(deps, run, reviews, facts));
      running.push("risk.review-follower");
    }
    const feed = feederOf(deps, lists, run.abilities.commands ? refresh : undefined);
    if (run.abilities.projections && config.feedSource) {
      stops.add(scheduleFeeder(config, config.feedSource, feed, logger));
      running.push("risk.feeder");
    }
    const partyNames = run.abilities.commands ? partyNamesOf(deps, stops) : noPartyNames;
    const screening = screenerOf(deps, index, screenings, facts, partyNames);
    const published: RiskApi = {
      screening,
      lists,
      screenings,
      feed,
      screeningVersions: () => index.versions(),
      reviews,
    };
    const http = {
      authenticate: deps.authenticate,
      lists,
      log: screenings,
      index: run.abilities.commands ? index : undefined,
    };
    const review = reviewHttp(deps, reviews, screenings);
    return {
      published,
      routes: [(app) => riskRoutes(app, http), (app) => reviewRoutes(app, review)],
      running,
      stop: stops.stop,
    };
  },
};
