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
import { decideGoAvailable } from "./domain/availability.ts";
import type { LocationReport } from "./domain/geo.ts";
import { decideLocation, reachM } from "./domain/proximity.ts";
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
    super(detail ?? code);
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

export type CommunityService = ReturnType<typeof createCommunityService>;

export function createCommunityService(deps: CommunityServiceDeps) {
  const { rules, index, hub, clock } = deps;
  const lastReports = new Map<string, LocationReport>();
  const expiryTimers = new Map<string, ReturnType<typeof setTimeout>>();

  /** Checks a report against the user's previous one; keeps it as the latest when accepted. */
  const accept = (userId: string, input: LocationInput): LocationReport => {
    const report = {
      point: { lat: input.lat, lon: input.lon },
      accuracyM: input.accuracyM,
      atMs: clock.nowMs(),
    };
    const decision = decideLocation(rules, lastReports.get(userId), report);
    if (decision.kind === "rejected")
      throw new CommunityError(decision.code, undefined, "field" in decision ? decision.field : undefined);
    return report;
  };

  const closeWindow = async (officerId: string, reason: "stopped" | "expired") => {
    clearTimeout(expiryTimers.get(officerId));
    expiryTimers.delete(officerId);
    lastReports.delete(officerId);
    await index.remove(officerId);
    hub.send(officerId, { type: "availability", available: false, reason });
  };

  return {
    async goAvailable(principal: Principal, input: LocationInput & { windowMs?: number | undefined }) {
      assertRole(principal, "officer");
      const nowMs = clock.nowMs();
      const decision = decideGoAvailable(rules, principal.userId, nowMs, input.windowMs);
      if (decision.kind === "rejected") throw new CommunityError(decision.code, undefined, decision.field);
      const report = accept(principal.userId, input);
      const { untilMs } = decision.availability;
      await index.put({
        officerId: principal.userId,
        point: report.point,
        accuracyM: report.accuracyM,
        untilMs,
      });
      lastReports.set(principal.userId, report);
      clearTimeout(expiryTimers.get(principal.userId));
      const timer = setTimeout(() => void closeWindow(principal.userId, "expired"), untilMs - nowMs);
      timer.unref();
      expiryTimers.set(principal.userId, timer);
      return { available: true as const, untilMs };
    },

    async stop(principal: Principal) {
      assertRole(principal, "officer");
      const open = await index.positionOf(principal.userId, clock.nowMs());
      if (open !== undefined) await closeWindow(principal.userId, "stopped");
      return { available: false as const, wasAvailable: open !== undefined };
    },

    /** An available officer's position, or a citizen's (answered with the officers near them). */
    async reportLocation(principal: Principal, input: LocationInput) {
      const nowMs = clock.nowMs();
      const open = principal.roles.includes("officer")
        ? await index.positionOf(principal.userId, nowMs)
        : undefined;
      if (open === undefined && !principal.roles.includes("citizen")) {
        if (principal.roles.includes("officer"))
          throw new CommunityError("officer_not_available", "Go available before sharing your location");
        throw new CommunityError("forbidden", "Requires role officer or citizen");
      }
      const report = accept(principal.userId, input);
      lastReports.set(principal.userId, report);
      if (open !== undefined) {
        await index.put({ ...open, point: report.point, accuracyM: report.accuracyM });
        return { as: "officer" as const, officers: [] };
      }
      return { as: "citizen" as const, officers: await nearbyOfficers(report, nowMs) };
    },

    async request(principal: Principal, input: { officerId: string; virtual?: boolean | undefined }) {
      const nowMs = clock.nowMs();
      const officerAt = await index.positionOf(input.officerId, nowMs);
      const citizenAt = lastReports.get(principal.userId);
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
        decideRequest(rules, { ...facts, ...stored }),
      );
      if (decision.kind === "rejected") throw new CommunityError(decision.code);
      const request = requestView(decision.request);
      const citizen = (await deps.participants([principal.userId])).get(principal.userId);
      hub.send(input.officerId, { type: "request", request, citizen: citizen ?? null });
      return request;
    },

    async answer(principal: Principal, input: { requestId: string; action: "accept" | "decline" }) {
      assertRole(principal, "officer");
      const result = await deps.store.answer({
        ...input,
        officerId: principal.userId,
        connectionIdOf,
        pointsOf: (request) => pointsFor(rules, request.kind),
        nowMs: clock.nowMs(),
      });
      const { decision, request } = result;
      if (decision.kind === "rejected") throw new CommunityError(decision.code);
      if (decision.kind === "declined") {
        hub.send(request?.citizenId ?? "", { type: "declined", requestId: input.requestId });
        return { outcome: "declined" as const, requestId: input.requestId };
      }
      const connection = result.connection && connectionView(result.connection);
      if (decision.kind === "accepted" && connection && request) {
        hub.send(request.citizenId, { type: "connection", connection });
        for (const { userId, trophy } of result.trophies)
          hub.send(userId, { type: "trophy", trophy, connectionId: connection.id });
      }
      return { outcome: "accepted" as const, replayed: decision.kind === "replayed", connection };
    },

    /** The app closed: forget the user's exact position (an officer's window stays until it ends or they stop). */
    forget(userId: string) {
      if (!expiryTimers.has(userId)) lastReports.delete(userId);
    },

    close() {
      for (const timer of expiryTimers.values()) clearTimeout(timer);
      expiryTimers.clear();
      lastReports.clear();
    },
  };

  async function nearbyOfficers(report: LocationReport, nowMs: number) {
    const radiusM = rules.proximityThresholdM + rules.accuracyAllowanceMaxM;
    const found = await index.near(report.point, radiusM, rules.nearbyOfficersMax, nowMs);
    const near = found.filter((o) => o.distanceM <= reachM(rules, report.accuracyM, o.accuracyM));
    const views = await deps.participants(near.map((o) => o.officerId));
    return near.map((o) => ({
      officerId: o.officerId,
      distanceM: Math.round(o.distanceM),
      profile: views.get(o.officerId) ?? null,
    }));
  }
}
