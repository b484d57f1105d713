/**
 * The community service: where the edges' messages (WebSocket, REST) meet the deciders. Live state
 * (availability windows, positions) is in memory only: officers' positions in the nearby index,
 * every participant's last report for jump detection, dropped when the window closes or the app
 * disconnects. What is stored (requests, connections) carries a coarse H3 cell, never coordinates.
 * Pushes go to the participants concerned only, through the hub.
 */
import { latLngToCell } from "h3-js";
import type { Clock, IdGenerator } from "../platform/clock.ts";
import { derivedUuid } from "../platform/derived-uuid.ts";
import type { Principal } from "../platform/http/auth.ts";
import { problemKinds } from "../platform/http/problems.ts";
import { decideGoAvailable } from "./domain/availability.ts";
import { distanceM, type LocationReport } from "./domain/geo.ts";
import { areNear, decideLocation, reachM } from "./domain/proximity.ts";
import { type Connection, type ConnectionRequest, decideRequest, pointsFor } from "./domain/requests.ts";
import type { CommunityRules } from "./domain/rules.ts";
import type { NearbyOfficersIndex } from "./geo/port.ts";
import type { Hub } from "./hub.ts";
import type { CommunityStore } from "./store.ts";

/** Privacy: stored cells are H3 resolution 7 (about 5 km²). */
export const cellResolution = 7;

/** A refusal with a stable code (problemKinds over HTTP, the same code over WebSocket). */
export class CommunityError extends Error {
  readonly code: string;
  readonly field: string | undefined;
  constructor(code: string, detail?: string, field?: string) {
    super(detail ?? (problemKinds as Readonly<Record<string, { title: string }>>)[code]?.title ?? code);
    this.name = "CommunityError";
    this.code = code;
    this.field = field;
  }
}

/** What a participant shows of another (identity's public profile, else the username). */
export interface ParticipantView {
  readonly userId: string;
  readonly displayName: string;
  readonly avatarUrl: string | null;
  readonly agency: string | null;
  readonly verified: boolean;
}

export type ParticipantViews = (userIds: readonly string[]) => Promise<ReadonlyMap<string, ParticipantView>>;

export interface LocationInput {
  readonly lat: number;
  readonly lon: number;
  readonly accuracyM: number;
}

export interface CommunityServiceDeps {
  readonly rules: CommunityRules & { readonly nearbyOfficersMax: number };
  readonly index: NearbyOfficersIndex;
  readonly store: CommunityStore;
  readonly hub: Hub;
  readonly clock: Clock;
  readonly ids: IdGenerator;
  readonly participants: ParticipantViews;
}

export const connectionIdOf = (requestId: string) => derivedUuid(`community-connection:${requestId}`);

export function connectionView(c: Connection) {
  return {
    id: c.id,
    requestId: c.requestId,
    officerId: c.officerId,
    citizenId: c.citizenId,
    kind: c.kind,
    rewarded: c.rewarded,
    pointsEach: c.pointsEach.toString(),
    cell: c.cell,
    atMs: c.atMs,
  };
}

export function requestView(r: ConnectionRequest) {
  return {
    id: r.id,
    citizenId: r.citizenId,
    officerId: r.officerId,
    kind: r.kind,
    cell: r.cell,
    createdAtMs: r.createdAtMs,
    expiresAtMs: r.expiresAtMs,
  };
}

function assertRole(principal: Principal, role: "officer" | "citizen") {
  if (!principal.roles.includes(role))
    throw new CommunityError(role === "citizen" ? "not_citizen" : "forbidden", `Requires role ${role}`);
}

/** This process's live state: exact positions, in memory only, and the officers' window timers. */
interface Live {
  readonly lastReports: Map<string, LocationReport>;
  readonly expiryTimers: Map<string, ReturnType<typeof setTimeout>>;
}

/** Checks a report against the user's previous one (not yet kept: the caller keeps it when used). */
function checkedReport(
  deps: CommunityServiceDeps,
  live: Live,
  userId: string,
  input: LocationInput,
): LocationReport {
  const point = { lat: input.lat, lon: input.lon };
  const report = { point, accuracyM: input.accuracyM, atMs: deps.clock.nowMs() };
  const decision = decideLocation(deps.rules, live.lastReports.get(userId), report);
  if (decision.kind === "rejected")
    throw new CommunityError(decision.code, undefined, "field" in decision ? decision.field : undefined);
  return report;
}

async function closeWindow(
  deps: CommunityServiceDeps,
  live: Live,
  officerId: string,
  reason: "stopped" | "expired",
) {
  clearTimeout(live.expiryTimers.get(officerId));
  live.expiryTimers.delete(officerId);
  live.lastReports.delete(officerId);
  await deps.index.remove(officerId);
  deps.hub.send(officerId, { type: "availability", available: false, reason });
}

/**
 * The end of a window this process opened (its timer, set for `untilMs`). In distributed mode the
 * officer may have renewed the window through another API process since: the index then holds a
 * window open after `untilMs`, and only this process's timer is dropped (the renewing process's
 * timer closes it).
 */
async function expireWindow(deps: CommunityServiceDeps, live: Live, officerId: string, untilMs: number) {
  // Unreadable index: close as before this check (a renewed window is then closed early).
  const renewed = await deps.index.positionOf(officerId, untilMs).catch(() => undefined);
  if (renewed === undefined) return closeWindow(deps, live, officerId, "expired");
  live.expiryTimers.delete(officerId);
  live.lastReports.delete(officerId);
}

async function goAvailable(
  deps: CommunityServiceDeps,
  live: Live,
  principal: Principal,
  input: LocationInput & { windowMs?: number | undefined },
) {
  assertRole(principal, "officer");
  const nowMs = deps.clock.nowMs();
  const decision = decideGoAvailable(deps.rules, principal.userId, nowMs, input.windowMs);
  if (decision.kind === "rejected") throw new CommunityError(decision.code, undefined, decision.field);
  const report = checkedReport(deps, live, principal.userId, input);
  const { untilMs } = decision.availability;
  const officerId = principal.userId;
  await deps.index.put({ officerId, point: report.point, accuracyM: report.accuracyM, untilMs });
  live.lastReports.set(officerId, report);
  clearTimeout(live.expiryTimers.get(officerId));
  const timer = setTimeout(() => void expireWindow(deps, live, officerId, untilMs), untilMs - nowMs);
  timer.unref();
  live.expiryTimers.set(officerId, timer);
  await notifyCitizensNear(deps, live, officerId, report);
  return { available: true as const, untilMs };
}

/**
 * Tells the citizens connected here who are near an officer that just went available (the others
 * learn of the officer with their next location). A scan of this process's citizens: the fallback
 * until citizens are indexed too.
 */
async function notifyCitizensNear(
  deps: CommunityServiceDeps,
  live: Live,
  officerId: string,
  at: LocationReport,
) {
  const near: [string, number][] = [];
  for (const [userId, report] of live.lastReports)
    if (userId !== officerId && !live.expiryTimers.has(userId) && areNear(deps.rules, report, at))
      near.push([userId, distanceM(report.point, at.point)]);
  if (near.length === 0) return;
  const profile = (await deps.participants([officerId])).get(officerId) ?? null;
  for (const [citizenId, distance] of near)
    deps.hub.send(citizenId, {
      type: "officer_nearby",
      officer: { officerId, distanceM: Math.round(distance), profile },
    });
}

/** An available officer's position, or a citizen's (answered with the officers near them). */
async function reportLocation(
  deps: CommunityServiceDeps,
  live: Live,
  principal: Principal,
  input: LocationInput,
) {
  const nowMs = deps.clock.nowMs();
  const isOfficer = principal.roles.includes("officer");
  const open = isOfficer ? await deps.index.positionOf(principal.userId, nowMs) : undefined;
  if (open === undefined && !principal.roles.includes("citizen")) {
    if (isOfficer)
      throw new CommunityError("officer_not_available", "Go available before sharing your location");
    throw new CommunityError("forbidden", "Requires role officer or citizen");
  }
  const report = checkedReport(deps, live, principal.userId, input);
  live.lastReports.set(principal.userId, report);
  if (open !== undefined) {
    await deps.index.put({ ...open, point: report.point, accuracyM: report.accuracyM });
    return { as: "officer" as const, officers: [] };
  }
  return { as: "citizen" as const, officers: await nearbyOfficers(deps, report, nowMs) };
}

async function nearbyOfficers(deps: CommunityServiceDeps, report: LocationReport, nowMs: number) {
  const { rules } = deps;
  const radiusM = rules.proximityThresholdM + rules.accuracyAllowanceMaxM;
  const found = await deps.index.near(report.point, radiusM, rules.nearbyOfficersMax, nowMs);
  const near = found.filter((o) => o.distanceM <= reachM(rules, report.accuracyM, o.accuracyM));
  const views = await deps.participants(near.map((o) => o.officerId));
  return near.map((o) => ({
    officerId: o.officerId,
    distanceM: Math.round(o.distanceM),
    profile: views.get(o.officerId) ?? null,
  }));
}

async function requestConnection(
  deps: CommunityServiceDeps,
  live: Live,
  principal: Principal,
  input: { officerId: string; virtual?: boolean | undefined },
) {
  const nowMs = deps.clock.nowMs();
  const officerAt = await deps.index.positionOf(input.officerId, nowMs);
  const citizenAt = live.lastReports.get(principal.userId);
  const facts = {
    requestId: deps.ids.uuid(),
    citizenId: principal.userId,
    citizenRoles: principal.roles,
    officerId: input.officerId,
    officerAvailable: officerAt !== undefined,
    virtual: input.virtual === true,
    citizenAt,
    officerAt: officerAt && { point: officerAt.point, accuracyM: officerAt.accuracyM, atMs: nowMs },
    cell: citizenAt ? latLngToCell(citizenAt.point.lat, citizenAt.point.lon, cellResolution) : "",
    nowMs,
  };
  const decision = await deps.store.request(principal.userId, input.officerId, nowMs, (stored) =>
    decideRequest(deps.rules, { ...facts, ...stored }),
  );
  if (decision.kind === "rejected") throw new CommunityError(decision.code);
  const request = requestView(decision.request);
  const citizen = (await deps.participants([principal.userId])).get(principal.userId);
  deps.hub.send(input.officerId, { type: "request", request, citizen: citizen ?? null });
  return request;
}

async function answerRequest(
  deps: CommunityServiceDeps,
  principal: Principal,
  input: { requestId: string; action: "accept" | "decline" },
) {
  assertRole(principal, "officer");
  const result = await deps.store.answer({
    ...input,
    officerId: principal.userId,
    connectionIdOf,
    pointsOf: (request) => pointsFor(deps.rules, request.kind),
    nowMs: deps.clock.nowMs(),
  });
  const { decision, request } = result;
  if (decision.kind === "rejected") throw new CommunityError(decision.code);
  if (decision.kind === "declined") {
    deps.hub.send(request?.citizenId ?? "", { type: "declined", requestId: input.requestId });
    return { outcome: "declined" as const, requestId: input.requestId };
  }
  const connection = result.connection && connectionView(result.connection);
  // Only a new connection is announced; a replay answers the officer alone.
  if (decision.kind === "accepted" && connection && request) {
    deps.hub.send(request.citizenId, { type: "connection", connection });
    for (const { userId, trophy } of result.trophies)
      deps.hub.send(userId, { type: "trophy", trophy, connectionId: connection.id });
  }
  return { outcome: "accepted" as const, replayed: decision.kind === "replayed", connection };
}

export type CommunityService = ReturnType<typeof createCommunityService>;

export function createCommunityService(deps: CommunityServiceDeps) {
  const live: Live = { lastReports: new Map(), expiryTimers: new Map() };
  return {
    goAvailable: (principal: Principal, input: LocationInput & { windowMs?: number | undefined }) =>
      goAvailable(deps, live, principal, input),
    async stop(principal: Principal) {
      assertRole(principal, "officer");
      const open = await deps.index.positionOf(principal.userId, deps.clock.nowMs());
      if (open !== undefined) await closeWindow(deps, live, principal.userId, "stopped");
      return { available: false as const, wasAvailable: open !== undefined };
    },
    reportLocation: (principal: Principal, input: LocationInput) =>
      reportLocation(deps, live, principal, input),
    request: (principal: Principal, input: { officerId: string; virtual?: boolean | undefined }) =>
      requestConnection(deps, live, principal, input),
    answer: (principal: Principal, input: { requestId: string; action: "accept" | "decline" }) =>
      answerRequest(deps, principal, input),
    /** The app closed: forget the user's exact position (an officer's window stays until it ends or they stop). */
    forget(userId: string) {
      if (!live.expiryTimers.has(userId)) live.lastReports.delete(userId);
    },
    close() {
      for (const timer of live.expiryTimers.values()) clearTimeout(timer);
      live.expiryTimers.clear();
      live.lastReports.clear();
    },
  };
}
