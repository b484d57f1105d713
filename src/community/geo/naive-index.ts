/**
 * The embedded fallback of the nearby-officers index: a linear scan with haversine distances over a
 * Map in this process's memory. Correct and simple, O(officers) per query; it stands in until the
 * real adapters (adapters/memory-index.ts with kdbush/h3, adapters/redis-geo-index.ts) are wired in
 * its place by the composition root. Entries past their window are skipped and dropped lazily.
 */
import { distanceM } from "../domain/geo.ts";
import type { NearbyOfficer, NearbyOfficersIndex, OfficerPosition } from "./port.ts";

export function createNaiveNearbyIndex(): NearbyOfficersIndex {
  const positions = new Map<string, OfficerPosition>();
  const open = (officerId: string, nowMs: number) => {
    const position = positions.get(officerId);
    if (position === undefined || position.untilMs > nowMs) return position;
    positions.delete(officerId);
    return undefined;
  };
  return {
    put: async (position) => {
      positions.set(position.officerId, position);
    },
    remove: async (officerId) => {
      positions.delete(officerId);
    },
    near: async (point, radiusM, limit, nowMs) => {
      const found: NearbyOfficer[] = [];
      for (const position of positions.values()) {
        if (open(position.officerId, nowMs) === undefined) continue;
        const d = distanceM(point, position.point);
        if (d <= radiusM)
          found.push({ officerId: position.officerId, distanceM: d, accuracyM: position.accuracyM });
      }
      return found.sort((a, b) => a.distanceM - b.distanceM).slice(0, limit);
    },
    positionOf: async (officerId, nowMs) => open(officerId, nowMs),
    close: async () => {
      positions.clear();
    },
  };
}
