/** The community context's settings (`community.*`, LEDGERFLOW_COMMUNITY_*): the programme's rules and limits. */

import { z } from "zod";
import { commaSeparated, flag, positiveInt } from "../platform/config.ts";
import type { ConfigSection } from "../platform/module.ts";
import { mapEnv, mapSettings } from "./map-settings.ts";
import { pushEnv, pushSettings } from "./push/config.ts";
import { socialEnv, socialSettings } from "./sharing/config.ts";

/** "10,50" from the environment, or an array from code. */
const countList = commaSeparated.pipe(z.array(z.coerce.number().int().positive()).max(20));

export const communityConfig = {
  sections: {
    community: z.object({
      /** An officer's availability window when they name none (the seed's 15 minutes). */
      availabilityWindowMsDefault: positiveInt.default(15 * 60_000),
      availabilityWindowMsMax: positiveInt.default(4 * 3_600_000),
      /** Near: at most this far apart, plus the GPS accuracy allowance. */
      proximityThresholdM: positiveInt.max(100_000).default(100),
      /** At most this much of the two reported accuracies widens the threshold. */
      accuracyAllowanceMaxM: z.coerce.number().int().min(0).max(10_000).default(50),
      /** Reports less accurate than this are refused. */
      accuracyMaxM: positiveInt.max(100_000).default(500),
      /** Faster than this between two reports of one user is an impossible jump (250 km/h). */
      speedMaxMps: positiveInt.max(1_000).default(70),
      /** An unanswered request expires after this. */
      requestTtlMs: positiveInt.default(120_000),
      /** Requests one citizen may make to one officer per window. */
      requestsPerWindowMax: positiveInt.max(1_000).default(3),
      requestWindowMs: positiveInt.default(600_000),
      /** One rewarded connection per officer–citizen pair per this long (a second is refused). */
      pairRewardWindowMs: positiveInt.default(86_400_000),
      /** Whether citizens may request a virtual connection (no proximity) with an available officer. */
      virtualAllowed: flag.default(true),
      /** PTS each participant earns, per kind of connection. */
      pointsInPerson: positiveInt.max(1_000_000).default(10),
      pointsVirtual: positiveInt.max(1_000_000).default(3),
      trophyConnectionCounts: countList.default([10, 50]),
      trophyCellCounts: countList.default([5]),
      trophyStreakDays: positiveInt.max(365).default(7),
      /** Officers a citizen is told about per location update (nearest first). */
      nearbyOfficersMax: positiveInt.max(100).default(20),
      /** Citizens an officer's update tells at most (nearest first), and remembers as told per window. */
      nearbyCitizensMax: positiveInt.max(10_000).default(200),
      /** A citizen's shared position leaves the citizens index this long after their last update. */
      citizenPositionTtlMs: positiveInt.max(3_600_000).default(120_000),
      /** A user's last report is kept this long (an officer's: through the window) for jump checks. */
      lastReportTtlMs: positiveInt.max(3_600_000).default(120_000),
      /** How often requests left unanswered past their expiry are looked for (those whose process died). */
      requestExpirySweepIntervalMs: positiveInt.max(3_600_000).default(10_000),
      /** Largest WebSocket message, and open community WebSockets per process. */
      messageBytesMax: positiveInt.max(1_048_576).default(4_096),
      socketsMax: positiveInt.default(10_000),
      /** Messages one WebSocket may send per second (a location every few seconds is plenty). */
      messagesPerSecondMax: positiveInt.max(10_000).default(20),
      /** Connections listed per GET /v1/community/connections. */
      listLimitMax: positiveInt.max(1_000).default(100),
      /** How long the outbox relay sleeps when idle, and rows per publish. */
      relayPollIntervalMs: positiveInt.default(200),
      relayRowsPerPublishMax: positiveInt.max(10_000).default(500),
      /** How long minting waits for the ledger's outcome before retrying the event. */
      ledgerWaitMs: positiveInt.max(60_000).default(10_000),
      /** Web Push (VAPID keys: a secret, no defaults; without them push is off). */
      ...pushSettings,
      /** Browsers (push subscriptions) kept per user; the oldest goes beyond it. */
      pushSubscriptionsPerUserMax: positiveInt.max(100).default(10),
      /** A PEM file of extra CAs to trust for push services (a private push relay; tests' stand-in). */
      pushCaFile: z.string().min(1).optional(),
      /** Sharing: social webhooks (the secret has no default; without URLs nothing is posted). */
      ...socialSettings,
      /** The citizen screen's map tiles and their attribution (unset: no map, a radar). */
      ...mapSettings,
    }),
  },
  env: {
    LEDGERFLOW_COMMUNITY_AVAILABILITY_WINDOW_MS_DEFAULT: ["community", "availabilityWindowMsDefault"],
    LEDGERFLOW_COMMUNITY_AVAILABILITY_WINDOW_MS_MAX: ["community", "availabilityWindowMsMax"],
    LEDGERFLOW_COMMUNITY_PROXIMITY_THRESHOLD_M: ["community", "proximityThresholdM"],
    LEDGERFLOW_COMMUNITY_ACCURACY_ALLOWANCE_MAX_M: ["community", "accuracyAllowanceMaxM"],
    LEDGERFLOW_COMMUNITY_ACCURACY_MAX_M: ["community", "accuracyMaxM"],
    LEDGERFLOW_COMMUNITY_SPEED_MAX_MPS: ["community", "speedMaxMps"],
    LEDGERFLOW_COMMUNITY_REQUEST_TTL_MS: ["community", "requestTtlMs"],
    LEDGERFLOW_COMMUNITY_REQUESTS_PER_WINDOW_MAX: ["community", "requestsPerWindowMax"],
    LEDGERFLOW_COMMUNITY_REQUEST_WINDOW_MS: ["community", "requestWindowMs"],
    LEDGERFLOW_COMMUNITY_PAIR_REWARD_WINDOW_MS: ["community", "pairRewardWindowMs"],
    LEDGERFLOW_COMMUNITY_VIRTUAL_ALLOWED: ["community", "virtualAllowed"],
    LEDGERFLOW_COMMUNITY_POINTS_IN_PERSON: ["community", "pointsInPerson"],
    LEDGERFLOW_COMMUNITY_POINTS_VIRTUAL: ["community", "pointsVirtual"],
    LEDGERFLOW_COMMUNITY_TROPHY_CONNECTION_COUNTS: ["community", "trophyConnectionCounts"],
    LEDGERFLOW_COMMUNITY_TROPHY_CELL_COUNTS: ["community", "trophyCellCounts"],
    LEDGERFLOW_COMMUNITY_TROPHY_STREAK_DAYS: ["community", "trophyStreakDays"],
    LEDGERFLOW_COMMUNITY_NEARBY_OFFICERS_MAX: ["community", "nearbyOfficersMax"],
    LEDGERFLOW_COMMUNITY_NEARBY_CITIZENS_MAX: ["community", "nearbyCitizensMax"],
    LEDGERFLOW_COMMUNITY_CITIZEN_POSITION_TTL_MS: ["community", "citizenPositionTtlMs"],
    LEDGERFLOW_COMMUNITY_LAST_REPORT_TTL_MS: ["community", "lastReportTtlMs"],
    LEDGERFLOW_COMMUNITY_REQUEST_EXPIRY_SWEEP_INTERVAL_MS: ["community", "requestExpirySweepIntervalMs"],
    LEDGERFLOW_COMMUNITY_MESSAGE_BYTES_MAX: ["community", "messageBytesMax"],
    LEDGERFLOW_COMMUNITY_SOCKETS_MAX: ["community", "socketsMax"],
    LEDGERFLOW_COMMUNITY_MESSAGES_PER_SECOND_MAX: ["community", "messagesPerSecondMax"],
    LEDGERFLOW_COMMUNITY_LIST_LIMIT_MAX: ["community", "listLimitMax"],
    LEDGERFLOW_COMMUNITY_RELAY_POLL_INTERVAL_MS: ["community", "relayPollIntervalMs"],
    LEDGERFLOW_COMMUNITY_RELAY_ROWS_PER_PUBLISH_MAX: ["community", "relayRowsPerPublishMax"],
    LEDGERFLOW_COMMUNITY_LEDGER_WAIT_MS: ["community", "ledgerWaitMs"],
    ...pushEnv,
    LEDGERFLOW_COMMUNITY_PUSH_SUBSCRIPTIONS_PER_USER_MAX: ["community", "pushSubscriptionsPerUserMax"],
    LEDGERFLOW_COMMUNITY_PUSH_CA_FILE: ["community", "pushCaFile"],
    ...socialEnv,
    ...mapEnv,
  },
} as const satisfies ConfigSection;

export type CommunityConfig = z.infer<typeof communityConfig.sections.community>;
