/**
 * The community context's published events (issue 16), on topic `community.events`, keyed by the
 * officer id. Other contexts (identity's profile projection) follow them through the log; they are
 * the contract, so change them only by adding optional fields.
 *
 * Privacy: no exact coordinates ever; `cell` is an H3 cell (resolution 7, about 5 km²) or "".
 */
export type ConnectionKind = "in_person" | "virtual";

export interface ConnectionEstablished {
  readonly type: "ConnectionEstablished";
  /** Also the ledger command id of the points it earns (exactly once). */
  readonly connectionId: string;
  readonly officerId: string;
  readonly citizenId: string;
  readonly kind: ConnectionKind;
  /** Whether it earned points (one rewarded connection per pair per 24 hours). */
  readonly rewarded: boolean;
  /** Points each participant earned, minor units of PTS as a decimal string ("0" when not rewarded). */
  readonly pointsEach: string;
  readonly cell: string;
  readonly atMs: number;
}

export interface TrophyAwarded {
  readonly type: "TrophyAwarded";
  readonly userId: string;
  /** Stable code, e.g. "first_connection", "streak_7_days", "connections_10", "cells_5". */
  readonly trophy: string;
  readonly connectionId: string;
  readonly atMs: number;
}

export type CommunityEvent = ConnectionEstablished | TrophyAwarded;
