/**
 * Connection requests and their answers (pure). Only citizens ask; the officer they ask accepts or
 * declines before the request expires. A citizen cannot flood an officer (a limit per window, and
 * one open request per pair). One rewarded connection per officer–citizen pair per window
 * (`pairRewardWindowMs`, 24 h by default): a second one inside it is REFUSED (not stored, no
 * points) rather than recorded unrewarded, so every stored connection earned its points and a pair
 * cannot farm the programme. A replayed accept answers with the connection already made.
 */
import type { ConnectionKind } from "../events.ts";
import type { LocationReport } from "./geo.ts";
import { areNear, type ProximityRules } from "./proximity.ts";
import type { CommunityRules } from "./rules.ts";

/** "expired": marked once the request went unanswered past its expiry (the citizen was told). */
export type RequestStatus = "pending" | "accepted" | "declined" | "expired";

export interface ConnectionRequest {
  readonly id: string;
  readonly citizenId: string;
  readonly officerId: string;
  readonly kind: ConnectionKind;
  /** Coarse H3 cell of the citizen at the time ("" for a virtual request): never coordinates. */
  readonly cell: string;
  readonly createdAtMs: number;
  readonly expiresAtMs: number;
  readonly status: RequestStatus;
  /** Set once accepted. */
  readonly connectionId?: string | undefined;
}

export interface Connection {
  readonly id: string;
  readonly requestId: string;
  readonly officerId: string;
  readonly citizenId: string;
  readonly kind: ConnectionKind;
  readonly rewarded: boolean;
  readonly pointsEach: bigint;
  readonly cell: string;
  readonly atMs: number;
}

export type RequestRules = ProximityRules &
  Pick<
    CommunityRules,
    "requestTtlMs" | "requestsPerWindowMax" | "requestWindowMs" | "pairRewardWindowMs" | "virtualAllowed"
  >;

/** What the decider needs to know about a citizen's request, gathered by the caller. */
export interface RequestFacts {
  readonly requestId: string;
  readonly citizenId: string;
  readonly citizenRoles: readonly string[];
  readonly officerId: string;
  /** Whether the officer holds the officer role and has an open availability window now. */
  readonly officerAvailable: boolean;
  readonly virtual: boolean;
  /** The citizen's and the officer's latest accepted reports (in person needs both). */
  readonly citizenAt: LocationReport | undefined;
  readonly officerAt: LocationReport | undefined;
  readonly cell: string;
  /** Requests this citizen made to this officer within the last `requestWindowMs`. */
  readonly recentRequestsCount: number;
  /** Whether one of them is still pending (not answered, not expired). */
  readonly pendingRequest: boolean;
  /** When this pair last made a rewarded connection, if ever. */
  readonly lastPairRewardAtMs: number | undefined;
  readonly nowMs: number;
}

export type RequestRejection =
  | "not_citizen"
  | "own_request"
  | "officer_unavailable"
  | "virtual_not_allowed"
  | "location_required"
  | "not_near"
  | "request_pending"
  | "too_many_requests"
  | "pair_rewarded_recently";

export type RequestDecision =
  | { readonly kind: "requested"; readonly request: ConnectionRequest }
  | { readonly kind: "rejected"; readonly code: RequestRejection };

function rewardedRecently(
  rules: RequestRules,
  lastPairRewardAtMs: number | undefined,
  nowMs: number,
): boolean {
  return lastPairRewardAtMs !== undefined && nowMs - lastPairRewardAtMs < rules.pairRewardWindowMs;
}

/** The first rule the request breaks, if any. */
function requestRejection(rules: RequestRules, facts: RequestFacts): RequestRejection | undefined {
  if (!facts.citizenRoles.includes("citizen")) return "not_citizen";
  if (facts.citizenId === facts.officerId) return "own_request";
  if (!facts.officerAvailable) return "officer_unavailable";
  if (facts.virtual && !rules.virtualAllowed) return "virtual_not_allowed";
  if (!facts.virtual) {
    if (facts.citizenAt === undefined || facts.officerAt === undefined) return "location_required";
    if (!areNear(rules, facts.citizenAt, facts.officerAt)) return "not_near";
  }
  if (facts.pendingRequest) return "request_pending";
  if (facts.recentRequestsCount >= rules.requestsPerWindowMax) return "too_many_requests";
  if (rewardedRecently(rules, facts.lastPairRewardAtMs, facts.nowMs)) return "pair_rewarded_recently";
  return undefined;
}

export function decideRequest(rules: RequestRules, facts: RequestFacts): RequestDecision {
  const code = requestRejection(rules, facts);
  if (code !== undefined) return { kind: "rejected", code };
  return {
    kind: "requested",
    request: {
      id: facts.requestId,
      citizenId: facts.citizenId,
      officerId: facts.officerId,
      kind: facts.virtual ? "virtual" : "in_person",
      cell: facts.virtual ? "" : facts.cell,
      createdAtMs: facts.nowMs,
      expiresAtMs: facts.nowMs + rules.requestTtlMs,
      status: "pending",
    },
  };
}

/** A request's status as of `nowMs`: a pending one past its expiry has expired. */
export function statusAt(request: ConnectionRequest, nowMs: number): RequestStatus | "expired" {
  return request.status === "pending" && nowMs >= request.expiresAtMs ? "expired" : request.status;
}

export interface Answer {
  readonly officerId: string;
  readonly action: "accept" | "decline";
  /** The id the connection gets (derived from the request id, so a replay names the same one). */
  readonly connectionId: string;
  readonly lastPairRewardAtMs: number | undefined;
  readonly pointsEach: bigint;
  readonly nowMs: number;
}

export type AnswerRejection =
  | "request_not_found"
  | "own_request"
  | "request_expired"
  | "request_not_pending"
  | "pair_rewarded_recently";

export type AnswerDecision =
  | { readonly kind: "accepted"; readonly connection: Connection }
  /** The request was accepted before: the same connection, nothing new (no second connection or points). */
  | { readonly kind: "replayed"; readonly connectionId: string }
  | { readonly kind: "declined" }
  | { readonly kind: "rejected"; readonly code: AnswerRejection };

/** An officer's answer to `request` (undefined: no such request). Another officer's request is "not found". */
export function decideAnswer(
  rules: RequestRules,
  request: ConnectionRequest | undefined,
  answer: Answer,
): AnswerDecision {
  if (request === undefined || request.officerId !== answer.officerId)
    return { kind: "rejected", code: "request_not_found" };
  if (request.citizenId === answer.officerId) return { kind: "rejected", code: "own_request" };
  const status = statusAt(request, answer.nowMs);
  if (status === "accepted" && answer.action === "accept" && request.connectionId !== undefined)
    return { kind: "replayed", connectionId: request.connectionId };
  if (status === "expired") return { kind: "rejected", code: "request_expired" };
  if (status !== "pending") return { kind: "rejected", code: "request_not_pending" };
  if (answer.action === "decline") return { kind: "declined" };
  if (rewardedRecently(rules, answer.lastPairRewardAtMs, answer.nowMs))
    return { kind: "rejected", code: "pair_rewarded_recently" };
  return {
    kind: "accepted",
    connection: {
      id: answer.connectionId,
      requestId: request.id,
      officerId: request.officerId,
      citizenId: request.citizenId,
      kind: request.kind,
      rewarded: true,
      pointsEach: answer.pointsEach,
      cell: request.cell,
      atMs: answer.nowMs,
    },
  };
}

/** Points each participant earns for a connection of `kind`. */
export function pointsFor(
  rules: Pick<CommunityRules, "pointsInPerson" | "pointsVirtual">,
  kind: ConnectionKind,
) {
  return BigInt(kind === "virtual" ? rules.pointsVirtual : rules.pointsInPerson);
}
