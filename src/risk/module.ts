/**
 * The risk module: screening lists (storage, the in-memory index, the scheduled feeder), the
 * screener the ledger's screening port is wired to, and the admin routes. Processes that decide
 * ledger commands keep the index and follow new list versions; processes with projections run the
 * scheduled feeder when a source is configured.
 */
import { join } from "node:path";
import type pg from "pg";
import type pino from "pino";
import type { CommandScreening } from "../ledger/index.ts";
import type { Clock } from "../platform/clock.ts";
import type { PreHandler } from "../platform/http/auth.ts";
import { type LedgerflowModule, stopper } from "../platform/module.ts";
import { createPostgresScreeningLog } from "./adapters/postgres-screenings.ts";
import { type RiskConfig, riskConfig, s3SettingsOf } from "./config.ts";
import { type FeedOptions, feedList, formatOf, type LoadReport, sourceOf } from "./feeder.ts";
import { riskRoutes } from "./http/routes.ts";
import { createConfiguredListStore } from "./list-store.ts";
import type { ListStore } from "./lists.ts";
import { ScreeningIndex } from "./screening-index.ts";
import { createScreener, type ScreeningLog } from "./screenings.ts";
import { riskTopics } from "./topics.ts";

export interface RiskDeps {
  readonly config: RiskConfig;
  readonly pool: pg.Pool;
  /** Distributed mode's Redis: lists live there when set (list-store.ts). */
  readonly redisUrl?: string | undefined;
  readonly clock: Clock;
  readonly logger: pino.Logger;
  readonly authenticate: PreHandler;
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

export const riskModule: LedgerflowModule<RiskDeps, RiskApi> = {
  name: "risk",
  config: riskConfig,
  migrations: [join(import.meta.dirname, "migrations")],
  topics: riskTopics,
  async start(deps, run) {
    const { config, pool, logger, clock } = deps;
    const stops = stopper((error) => logger.warn({ err: error }, "risk stop"));
    const configured = createConfiguredListStore(pool, deps.redisUrl, (error) =>
      logger.warn({ err: error }, "screening lists: Redis connection failed"),
    );
    stops.add(configured.close);
    const lists = configured.store;
    const screenings = createPostgresScreeningLog(pool);
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
    const feed: RiskApi["feed"] = async (options) => {
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
      if (run.abilities.commands) await refresh();
      return report;
    };
    if (run.abilities.projections && config.feedSource) {
      stops.add(scheduleFeeder(config, config.feedSource, feed, logger));
      running.push("risk.feeder");
    }
    const screening = createScreener({
      index,
      log: screenings,
      reviewThreshold: config.reviewThreshold,
      nowMs: () => clock.nowMs(),
      onDecision: ({ commandId, list, listVersion, entryKind }) =>
        logger.info({ commandId, list, listVersion, entryKind }, "screening hit"),
    });
    const published: RiskApi = {
      screening,
      lists,
      screenings,
      feed,
      screeningVersions: () => index.versions(),
    };
    const http = {
      authenticate: deps.authenticate,
      lists,
      log: screenings,
      index: run.abilities.commands ? index : undefined,
    };
    return { published, routes: [(app) => riskRoutes(app, http)], running, stop: stops.stop };
  },
};
