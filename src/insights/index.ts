/**
 * The insights context's only door: its module, config section and published query interface
 * (`InsightsApi.clients`: a client's overview, transactions, operations, interactions, branches,
 * with access decided inside; `InsightsApi.branches`: the branch registry).
 */
export type { ClientInsights, ClientOverview } from "./client-insights.ts";
export { type InsightsConfig, insightsConfig } from "./config.ts";
export { clientViews } from "./http.ts";
export { type InsightsApi, type InsightsDeps, insightsModule } from "./module.ts";
export type { ProjectionName } from "./projection-store.ts";
export type {
  AssetTotals,
  Branch,
  BranchClient,
  BranchVolume,
  ClientBranch,
  ClientInteraction,
  ClientOperation,
  ClientTransaction,
  Page,
  PageRequest,
} from "./queries.ts";
