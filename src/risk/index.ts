/** The risk context's only door: its module, config section, topics and published interface. */
export { riskConfig } from "./config.ts";
export type { LoadReport } from "./feeder.ts";
export { type RiskApi, type RiskDeps, riskModule } from "./module.ts";
export type { Review, ReviewState } from "./reviews.ts";
export { noPartyNames, type PartyNames } from "./screenings.ts";
export { riskTopics } from "./topics.ts";
