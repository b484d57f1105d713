/**
 * Proximity and plausibility of location reports (pure). Two people are near when their distance is
 * within the threshold widened by what their devices say they may be off by (capped, so a vague fix
 * cannot make everyone near); a report that would need a speed above the maximum since the user's
 * previous one is an impossible jump (spoofing, or a broken fix) and is refused.
 */
import { distanceM, invalidField, type LocationReport } from "./geo.ts";
import type { CommunityRules } from "./rules.ts";

export type ProximityRules = Pick<
  CommunityRules,
  "proximityThresholdM" | "accuracyAllowanceMaxM" | "accuracyMaxM" | "speedMaxMps"
>;

/** The distance within which two reports count as near, given both accuracies. */
export function reachM(rules: ProximityRules, accuracyAM: number, accuracyBM: number): number {
  return rules.proximityThresholdM + Math.min(rules.accuracyAllowanceMaxM, accuracyAM + accuracyBM);
}

export function areNear(rules: ProximityRules, a: LocationReport, b: LocationReport): boolean {
  return distanceM(a.point, b.point) <= reachM(rules, a.accuracyM, b.accuracyM);
}

export type LocationDecision =
  | { readonly kind: "accepted" }
  | { readonly kind: "rejected"; readonly code: "invalid_location"; readonly field: string }
  | { readonly kind: "rejected"; readonly code: "location_too_vague"; readonly field: "accuracyM" }
  | { readonly kind: "rejected"; readonly code: "impossible_jump"; readonly speedMps: number };

/**
 * Whether to accept `report` after `previous` (the same user's last accepted report, if any). The
 * accuracies are granted before speed is judged: moving within the fixes' uncertainty is no jump.
 */
export function decideLocation(
  rules: ProximityRules,
  previous: LocationReport | undefined,
  report: LocationReport,
): LocationDecision {
  const field = invalidField({ ...report.point, accuracyM: report.accuracyM });
  if (field !== undefined) return { kind: "rejected", code: "invalid_location", field };
  if (report.accuracyM > rules.accuracyMaxM)
    return { kind: "rejected", code: "location_too_vague", field: "accuracyM" };
  if (previous === undefined) return { kind: "accepted" };
  const movedM = Math.max(0, distanceM(previous.point, report.point) - previous.accuracyM - report.accuracyM);
  if (movedM === 0) return { kind: "accepted" };
  // Reports in the same millisecond (or out of order) get one second: still fast enough to catch a teleport.
  const elapsedS = Math.max(1, (report.atMs - previous.atMs) / 1000);
  const speedMps = movedM / elapsedS;
  if (speedMps > rules.speedMaxMps) return { kind: "rejected", code: "impossible_jump", speedMps };
  return { kind: "accepted" };
}
