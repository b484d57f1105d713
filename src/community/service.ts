/**
 * The community service: where the edges' messages (WebSocket, REST) meet the deciders. Exact
 * positions live in memory (embedded) or Redis (distributed) only: available officers in the
 * officers index through their window, citizens sharing their position in the citizens index (a
 * short TTL after each update; removed when the app closes), each user's last report for jump
 * detection (a short TTL). What is stored (requests, connections) carries a coarse H3 cell, never
 * coordinates.
 * Pushes go to the participants concerned only, through the hub.
 */
import { latLngToCell } from "h3-js";
import type { Clock, IdGenerator } from "../platform/clock.ts";
import { derivedUuid } from "../platform/derived-uuid.ts";
import type { Principal } from "../platform/http/auth.ts";
import { problemKinds } from "../platform/http/problems.ts";
import { decideGoAvailable } from "./domain/availability.ts";
import type { LocationReport } from "./domain/geo.ts";
import { decideNearbyNotices } from "./domain/nearby-notices.ts";
import { decideLocation, reachM } from "./domain/proximity.ts";
import { type Connection, type ConnectionRequest, decideRequest, pointsFor } from "./domain/requests.ts";
import type { CommunityRules } from "./domain/rules.ts";
import type { LastReports } from "./geo/last-reports.ts";
import type { NearbyIndex } from "./geo/port.ts";
import type { Hub } from "./hub.ts";
import type { RequestExpiry } from "./request-expiry.ts";
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

/** Limits of the service beside the programme's rules (config.ts). */
export interface ServiceLimits {
  readonly nearbyOfficersMax: number;
  readonly nearbyCitizensMax: number;
  readonly citizenPositionTtlMs: number;
  readonly lastReportTtlMs: number;
  /** Also bounds the officers whose told citizens are remembered here. */
  readonly socketsMax: number;
}

export interface CommunityServiceDeps {
  readonly rules: CommunityRules & ServiceLimits;
  /** Available officers (their windows). */
  readonly index: NearbyIndex;
  /** Citizens sharing their position (a short TTL after each update; removed when the app closes). */
  readonly citizens: NearbyIndex;
  readonly lastReports: LastReports;
  readonly expiry: Pick<RequestExpiry, "schedule" | "cancel" | "expireNow">;
  readonly store: CommunityStore;
  readonly hub: Hub;
  readonly clock: Clock;
  readonly ids: IdGenerator;
  readonly participants: ParticipantViews;
  /**
   * Told of what failed where no caller waits (a window's end on its timer, e.g. Redis down): the
   * window's entry still ends by its own end time in every query and is purged later.
   */
  readonly onError: (error: unknown) => void;
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

/**
 * This process's live state: the timers of the officers' windows opened here, and which citizens
 * each of those officers' updates has told of them (per window; bounded, see `rememberTold`).
 */
interface Live {
  readonly expiryTimers: Map<string, ReturnType<typeof setTimeout>>;
  readonly told: Map<string, ToldInWindow>;
}

/** The citizens told of an officer during the window ending at `untilMs` (a renewal moves it on). */
interface ToldInWindow {
  readonly untilMs: number;
  readonly citizenIds: ReadonlySet<string>;
}

/** Checks a report against the user's previous one (not yet kept: the caller keeps it when used). */
async function checkedReport(
  deps: CommunityServiceDeps,
  userId: string,
  input: LocationInput,
  nowMs: number,
): Promise<LocationReport> {
  const point = { lat: input.lat, lon: input.lon };
  const report = { point, accuracyM: input.accuracyM, atMs: nowMs };
  const decision = decideLocation(deps.rules, await deps.lastReports.get(userId, nowMs), report);
  if (decision.kind === "rejected")
    throw new CommunityError(decision.code, undefined, "field" in decision ? decision.field : undefined);
  return report;
}

/** Keeps the report for the user's next jump check: `lastReportTtlMs`, or through an officer's window. */
function keepReport(deps: CommunityServiceDeps, userId: string, report: LocationReport, untilMs = 0) {
  return deps.lastReports.set(userId, report, Math.max(untilMs, report.atMs + deps.rules.lastReportTtlMs));
}

async function closeWindow(
  deps: CommunityServiceDeps,
  live: Live,
  officerId: string,
  reason: "stopped" | "expired",
) {
  clearTimeout(live.expiryTimers.get(officerId));
  live.expiryTimers.delete(officerId);
  await deps.index.remove(officerId);
  deps.hub.send(officerId, { type: "availability", available: false, reason });
  // The citizens told of this officer (and still near at their last update) learn they are gone.
  for (const citizenId of live.told.get(officerId)?.citizenIds ?? [])
    deps.hub.send(citizenId, { type: "officer_left", officerId });
  live.told.delete(officerId);
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
  const report = await checkedReport(deps, principal.userId, input, nowMs);
  const { untilMs } = decision.availability;
  const officerId = principal.userId;
  await deps.index.put({ id: officerId, point: report.point, accuracyM: report.accuracyM, untilMs });
  // On duty, an officer who also holds the citizen role is not among the citizens.
  await deps.citizens.remove(officerId);
  await keepReport(deps, officerId, report, untilMs);
  clearTimeout(live.expiryTimers.get(officerId));
  const timer = setTimeout(
    () => expireWindow(deps, live, officerId, untilMs).catch(deps.onError),
    untilMs - nowMs,
  );
  timer.unref();
  live.expiryTimers.set(officerId, timer);
  await tellCitizensNear(deps, live, { officerId, untilMs }, report);
  return { available: true as const, untilMs };
}

/**
 * The citizens told of the officer in this window: none when what is kept is of an earlier window
 * (closed by a process other than this one, so never cleared here).
 */
function toldInWindow(live: Live, officerId: string, nowMs: number): ReadonlySet<string> {
  const kept = live.told.get(officerId);
  return kept !== undefined && kept.untilMs > nowMs ? kept.citizenIds : new Set();
}

/** Keeps an officer's told citizens, the most recently updated officers last; the oldest go beyond the bound. */
function rememberTold(deps: CommunityServiceDeps, live: Live, officerId: string, kept: ToldInWindow) {
  live.told.delete(officerId);
  if (kept.citizenIds.size > 0) live.told.set(officerId, kept);
  for (const oldest of live.told.keys()) {
    if (live.told.size <= deps.rules.socketsMax) break;
    live.told.delete(oldest);
  }
}

/**
 * Tells the citizens (on any process: the citizens index and the hub) who are within an available
 * officer's range, taking both accuracies into account, that the officer is near: once on entering
 * the range (decideNearbyNotices), on the officer's going available and on each of their moves.
 */
async function tellCitizensNear(
  deps: CommunityServiceDeps,
  live: Live,
  window: { readonly officerId: string; readonly untilMs: number },
  at: LocationReport,
) {
  const { officerId, untilMs } = window;
  const { rules } = deps;
  const radiusM = rules.proximityThresholdM + rules.accuracyAllowanceMaxM;
  const found = await deps.citizens.near(at.point, radiusM, rules.nearbyCitizensMax, at.atMs);
  const inRange = found.filter(
    (c) => c.id !== officerId && c.distanceM <= reachM(rules, at.accuracyM, c.accuracyM),
  );
  const { notify, told } = decideNearbyNotices(
    toldInWindow(live, officerId, at.atMs),
    inRange.map((c) => c.id),
    rules.nearbyCitizensMax,
  );
  rememberTold(deps, live, officerId, { untilMs, citizenIds: told });
  if (notify.length === 0) return;
  const profile = (await deps.participants([officerId])).get(officerId) ?? null;
  const distances = new Map(inRange.map((c) => [c.id, c.distanceM]));
  const shownAt = shownPosition(at.point);
  for (const citizenId of notify)
    deps.hub.send(citizenId, {
      type: "officer_nearby",
      officer: { officerId, distanceM: Math.round(distances.get(citizenId) ?? 0), at: shownAt, profile },
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
  const userId = principal.userId;
  const isOfficer = principal.roles.includes("officer");
  const open = isOfficer ? await deps.index.positionOf(userId, nowMs) : undefined;
  if (open === undefined && !principal.roles.includes("citizen")) {
    if (isOfficer)
      throw new CommunityError("officer_not_available", "Go available before sharing your location");
    throw new CommunityError("forbidden", "Requires role officer or citizen");
  }
  const report = await checkedReport(deps, userId, input, nowMs);
  if (open !== undefined) {
    await deps.index.put({ ...open, point: report.point, accuracyM: report.accuracyM });
    await keepReport(deps, userId, report, open.untilMs);
    await tellCitizensNear(deps, live, { officerId: userId, untilMs: open.untilMs }, report);
    return { as: "officer" as const, officers: [] };
  }
  const untilMs = nowMs + deps.rules.citizenPositionTtlMs;
  await deps.citizens.put({ id: userId, point: report.point, accuracyM: report.accuracyM, untilMs });
  await keepReport(deps, userId, report);
  return { as: "citizen" as const, officers: await nearbyOfficers(deps, report, nowMs) };
}

/**
 * Where a citizen near an officer sees them on the map (the seed's second option: the server
 * computes proximity, so both can be shown): the officer's position rounded to 4 decimal places
 * (about 11 m north–south, less east–west), and only to citizens within range of them, while the
 * officer is available. Never stored; the exact position stays in the index.
 */
export function shownPosition(point: { lat: number; lon: number }) {
  return { lat: Math.round(point.lat * 1e4) / 1e4, lon: Math.round(point.lon * 1e4) / 1e4 };
}

async function nearbyOfficers(deps: CommunityServiceDeps, report: LocationReport, nowMs: number) {
  const { rules } = deps;
  const radiusM = rules.proximityThresholdM + rules.accuracyAllowanceMaxM;
  const found = await deps.index.near(report.point, radiusM, rules.nearbyOfficersMax, nowMs);
  const near = found.filter((o) => o.distanceM <= reachM(rules, report.accuracyM, o.accuracyM));
  const views = await deps.participants(near.map((o) => o.id));
  return near.map((o) => ({
    officerId: o.id,
    distanceM: Math.round(o.distanceM),
    at: shownPosition(o.point),
    profile: views.get(o.id) ?? null,
  }));
}

async function requestConnection(
  deps: CommunityServiceDeps,
  principal: Principal,
  input: { officerId: string; virtual?: boolean | undefined },
) {
  const nowMs = deps.clock.nowMs();
  const officerAt = await deps.index.positionOf(input.officerId, nowMs);
  // The citizen's position while they share it (the citizens index), as of now.
  const sharing = await deps.citizens.positionOf(principal.userId, nowMs);
  const citizenAt = sharing && { point: sharing.point, accuracyM: sharing.accuracyM, atMs: nowMs };
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
  deps.expiry.schedule(decision.request);
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
  if (decision.kind === "rejected") {
    // Found past its expiry before any timer or sweep: tell the citizen now (once, whoever marks it).
    if (decision.code === "request_expired") await deps.expiry.expireNow(input.requestId);
    throw new CommunityError(decision.code);
  }
  deps.expiry.cancel(input.requestId);
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
  const live: Live = { expiryTimers: new Map(), told: new Map() };
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
      requestConnection(deps, principal, input),
    answer: (principal: Principal, input: { requestId: string; action: "accept" | "decline" }) =>
      answerRequest(deps, principal, input),
    /**
     * The app closed: the citizen stops sharing, their position leaves the citizens index (an
     * officer's window stays until it ends or they stop). Their last report stays its short TTL,
     * for the jump check of their next report.
     */
    forget: (userId: string) => deps.citizens.remove(userId),
    close() {
      for (const timer of live.expiryTimers.values()) clearTimeout(timer);
      live.expiryTimers.clear();
      live.told.clear();
    },
  };
}
