/** The rules the domain tests use (the configuration's defaults, spelled out). */
import type { CommunityRules } from "./rules.ts";

export const testRules: CommunityRules = {
  availabilityWindowMsDefault: 15 * 60_000,
  availabilityWindowMsMax: 4 * 3_600_000,
  proximityThresholdM: 100,
  accuracyAllowanceMaxM: 50,
  accuracyMaxM: 500,
  speedMaxMps: 70,
  requestTtlMs: 120_000,
  requestsPerWindowMax: 3,
  requestWindowMs: 600_000,
  pairRewardWindowMs: 86_400_000,
  virtualAllowed: true,
  pointsInPerson: 10,
  pointsVirtual: 3,
  trophyConnectionCounts: [10, 50],
  trophyCellCounts: [5],
  trophyStreakDays: 7,
};

/** The service's limits the two-process tests use (small, so tests reach them). */
export const testServiceLimits = {
  nearbyOfficersMax: 20,
  nearbyCitizensMax: 50,
  citizenPositionTtlMs: 120_000,
  lastReportTtlMs: 120_000,
  socketsMax: 1_000,
};
