/**
 * Where people are, for "who is near this point": one port, two uses. The officers index holds
 * available officers (an entry lives while the officer's window is open); the citizens index holds
 * citizens sharing their position with the app open (an entry lives a short TTL after the citizen's
 * last update, `citizenPositionTtlMs`, and leaves at once when the app disconnects). Exact
 * coordinates live here only: in memory (embedded) or in Redis (distributed), and only until the
 * entry's `untilMs`; nothing here is ever written to PostgreSQL or the log (issue 16, privacy).
 *
 * Adapters: `adapters/memory-index.ts` (embedded; one process answers) and
 * `adapters/redis-geo-index.ts` (Redis GEO, so every API instance answers alike); each use has its
 * own instance (its own key prefix in Redis).
 */

/** WGS 84 degrees. Validated at the edge: latitude in [-90, 90], longitude in [-180, 180], finite. */
export interface GeoPoint {
  readonly lat: number;
  readonly lon: number;
}

export interface NearbyEntry {
  /** The user's id (an officer's in the officers index, a citizen's in the citizens index). */
  readonly id: string;
  /** Great-circle distance from the query point, in metres. */
  readonly distanceM: number;
  /** The accuracy the user's device reported for this position, in metres. */
  readonly accuracyM: number;
}

export interface IndexedPosition {
  readonly id: string;
  readonly point: GeoPoint;
  readonly accuracyM: number;
  /** When the entry ends (an officer's window closes; a citizen's TTL runs out): gone after it, by itself. */
  readonly untilMs: number;
}

export interface NearbyIndex {
  /** Adds or moves an entry. */
  put(position: IndexedPosition): Promise<void>;
  /** Removes an entry (stopped, window over, app closed); removing an absent one is a no-op. */
  remove(id: string): Promise<void>;
  /**
   * Entries within `radiusM` of `point` still open at `nowMs`, nearest first, at most `limit` of them.
   */
  near(point: GeoPoint, radiusM: number, limit: number, nowMs: number): Promise<readonly NearbyEntry[]>;
  /** The entry's current position, if indexed and open at `nowMs`. */
  positionOf(id: string, nowMs: number): Promise<IndexedPosition | undefined>;
  close(): Promise<void>;
}

/** An index whose expired entries a timer also purges (exact positions must not linger). */
export interface PurgedNearbyIndex extends NearbyIndex {
  purgeExpired(nowMs: number): unknown;
}
