/**
 * The programme's rules as the deciders read them (the `community.*` settings, config.ts).
 * Plain numbers so the deciders stay pure and testable without the configuration schema.
 */
export interface CommunityRules {
  /** An officer's availability window when they name none. */
  readonly availabilityWindowMsDefault: number;
  /** The longest window an officer may ask for. */
  readonly availabilityWindowMsMax: number;
  /** Citizen and officer are near when their distance is at most this, plus the accuracy allowance. */
  readonly proximityThresholdM: number;
  /** At most this much of the two reported GPS accuracies (summed) widens the threshold. */
  readonly accuracyAllowanceMaxM: number;
  /** A report with a worse accuracy than this is refused (too vague to tell anything). */
  readonly accuracyMaxM: number;
  /** Faster than this between two reports of one user is an impossible jump (refused). */
  readonly speedMaxMps: number;
  /** An unanswered request expires this long after it was made. */
  readonly requestTtlMs: number;
  /** A citizen may make at most `requestsPerWindowMax` requests to one officer per `requestWindowMs`. */
  readonly requestsPerWindowMax: number;
  readonly requestWindowMs: number;
  /** One rewarded connection per officer–citizen pair per this long. */
  readonly pairRewardWindowMs: number;
  /** Whether a citizen may request a virtual connection (no proximity) with an available officer. */
  readonly virtualAllowed: boolean;
  /** Points each participant earns, per kind of connection. */
  readonly pointsInPerson: number;
  readonly pointsVirtual: number;
  /** Connection counts that earn a trophy (e.g. 10, 50). */
  readonly trophyConnectionCounts: readonly number[];
  /** Distinct H3 cells connected in that earn a trophy. */
  readonly trophyCellCounts: readonly number[];
  /** Consecutive UTC days with a connection that earn the streak trophy. */
  readonly trophyStreakDays: number;
}
