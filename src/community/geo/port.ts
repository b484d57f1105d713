/**
 * Where available officers are, for "who is near this citizen". Exact coordinates live here only:
 * in memory (embedded) or in Redis with a TTL (distributed), and only while the officer's window is
 * open; nothing here is ever written to PostgreSQL or the log (issue 16, privacy).
 *
 * Adapters: `adapters/memory-index.ts` (embedded; one process answers) and
 * `adapters/redis-geo-index.ts` (Redis GEO, so every API instance answers alike).
 */

/** WGS 84 degrees. Validated at the edge: latitude in [-90, 90], longitude in [-180, 180], finite. */
export interface GeoPoint {
  readonly lat: number;
  readonly lon: number;
}

export interface NearbyOfficer {
  readonly officerId: string;
  /** Great-circle distance from the query point, in metres. */
  readonly distanceM: number;
  /** The accuracy the officer's device reported for this position, in metres. */
  readonly accuracyM: number;
}

export interface OfficerPosition {
  readonly officerId: string;
  readonly point: GeoPoint;
  readonly accuracyM: number;
  /** When the officer's availability window closes: the entry is gone after it, by itself. */
  readonly untilMs: number;
}

export interface NearbyOfficersIndex {
  /** Adds or moves an officer. */
  put(position: OfficerPosition): Promise<void>;
  /** Removes an officer (stopped, or window over); removing an absent officer is a no-op. */
  remove(officerId: string): Promise<void>;
  /**
   * Officers within `radiusM` of `point` whose window is still open at `nowMs`, nearest first,
   * at most `limit` of them.
   */
  near(point: GeoPoint, radiusM: number, limit: number, nowMs: number): Promise<readonly NearbyOfficer[]>;
  /** The officer's current position, if indexed and open at `nowMs`. */
  positionOf(officerId: string, nowMs: number): Promise<OfficerPosition | undefined>;
  close(): Promise<void>;
}
