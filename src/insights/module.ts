/**
 * The insights module: client insights (interactions, branches, a client's transactions and
 * operations) projected from the ledger's published outcomes by two projections with their own
 * consumer groups (where projections run), read through `InsightsApi` by REST, GraphQL and gRPC.
 */
import { join } from "node:path";
import type pg from "pg";
import type pino from "pino";
import type { Registry } from "prom-client";
import type { UserDirectory } from "../identity/index.ts";
import type { LedgerApi } from "../ledger/index.ts";
import type { Clock } from "../platform/clock.ts";
import type { PreHandler } from "../platform/http/auth.ts";
import type { Log } from "../platform/log/port.ts";
import { type LedgerflowModule, stopper } from "../platform/module.ts";
import { type ClientInsights, createClientInsights } from "./client-insights.ts";
import { type InsightsConfig, insightsConfig } from "./config.ts";
import { insightsRoutes } from "./http.ts";
import { projectionNames } from "./projection-store.ts";
import { projectionLag, rebuildProjection, registerLagMetric, runProjection } from "./projections.ts";
import { createInsightsQueries, type InsightsQueries } from "./queries.ts";

export interface InsightsDeps {
  readonly config: InsightsConfig;
  readonly pool: pg.Pool;
  readonly log: Log;
  readonly clock: Clock;
  readonly logger: pino.Logger;
  readonly metricsRegistry: Registry;
  readonly authenticate: PreHandler;
  readonly users: UserDirectory;
  readonly ledger: Pick<LedgerApi, "codecs" | "queries">;
}

/** What other contexts and edges use. */
export interface InsightsApi {
  /** Per-client fetches with access decided (customer: self only; staff: anyone). */
  readonly clients: ClientInsights;
  /** The branch registry and its numbers (staff edges check roles themselves). */
  readonly branches: Pick<InsightsQueries, "branchList" | "branch" | "branchClients" | "updateBranch">;
  /** Rebuilds a projection from the log (the `projections rebuild` command does the same). */
  rebuild(projection: "interactions" | "branches"): Promise<{ records: bigint }>;
  /** Records of the outcomes topic each projection has still to apply. */
  lag(): Promise<Record<"interactions" | "branches", bigint>>;
}

export const insightsModule: LedgerflowModule<InsightsDeps, InsightsApi> = {
  name: "insights",
  config: insightsConfig,
  migrations: [join(import.meta.dirname, "migrations")],
  topics: {},
  async start(deps, run) {
    const { config, pool, log, logger } = deps;
    const stops = stopper((error) => logger.warn({ err: error }, "insights stop"));
    const topic = deps.ledger.codecs.outcomes.topic;
    const running: string[] = [];
    try {
      if (run.abilities.projections) {
        for (const projection of projectionNames) {
          const consumer = await runProjection(projection, {
            ...{ pool, log, ledger: deps.ledger, batchSizeMax: config.batchSizeMax },
            onDeadLetter: (record, error) =>
              logger.error(
                { err: error, offset: String(record.offset), projection },
                "insights dead-lettered",
              ),
          });
          stops.add(() => consumer.stop());
          consumer.done.catch(run.crash);
          running.push(`insights.${projection}-projection`);
        }
        registerLagMetric(deps.metricsRegistry, { pool, log, topic });
      }
    } catch (error) {
      await stops.stop();
      throw error;
    }
    const queries = createInsightsQueries(pool, config);
    const clients = createClientInsights({ queries, users: deps.users, ledger: deps.ledger.queries });
    const published: InsightsApi = {
      clients,
      branches: queries,
      rebuild: (projection) =>
        rebuildProjection(projection, {
          ...{ pool, log, ledger: deps.ledger },
          readBatchMax: config.rebuildReadBatchMax,
          swapAttemptsMax: config.rebuildSwapAttemptsMax,
        }),
      lag: () => projectionLag({ pool, log, topic }),
    };
    const http = { clients, queries, clock: deps.clock, authenticate: deps.authenticate, config };
    return { published, routes: [(app) => insightsRoutes(app, http)], running, stop: stops.stop };
  },
};
