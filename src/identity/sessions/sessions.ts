/**
 * Sign-in sessions with rotating refresh tokens (OAuth 2.0 Security BCP, RFC 9700 §4.14.2):
 * a short-lived access token carries the session id (`sid`); a long-lived refresh token is replaced
 * on every use; a replaced token presented again revokes the whole session (its family), because
 * either the client or a thief holds a copy. Revoked sessions enter the revocation set, so their
 * access tokens stop working on every instance at once, not only when they expire.
 */
import { createHash } from "node:crypto";
import { isIPv4, isIPv6 } from "node:net";
import type { Clock, IdGenerator, Random } from "../../platform/clock.ts";
import type { AuthEvents } from "../events.ts";
import type { UserStore } from "../store.ts";
import type { AccessTokens } from "../tokens.ts";
import type { RevocationSet } from "./revocations.ts";
import type { RevokedReason, SessionRecord, SessionStore } from "./store.ts";

/** 256 random bits, base64url: 43 characters. Longer input is refused before hashing. */
const refreshTokenBytes = 32;
export const refreshTokenLengthMax = 128;
export const deviceLengthMax = 200;
/** Sessions listed per user (the oldest beyond it are still valid, just not shown). */
export const sessionsListedMax = 100;

export interface ClientInfo {
  /** The User-Agent header, if any. */
  readonly device?: string | undefined;
  readonly ip: string;
}

export interface SessionUser {
  readonly id: string;
  readonly username: string;
  readonly roles: readonly import("../store.ts").Role[];
}

export interface IssuedSession {
  readonly sessionId: string;
  readonly accessToken: string;
  readonly expiresInS: number;
  readonly refreshToken: string;
  readonly refreshExpiresInS: number;
}

export type RefreshResult =
  | ({ readonly ok: true; readonly user: SessionUser } & IssuedSession)
  | { readonly ok: false; readonly code: "refresh_token_invalid"; readonly reason: string };

export interface SessionView {
  readonly id: string;
  readonly device: string;
  readonly ipCoarse: string;
  readonly createdAtMs: number;
  readonly lastUsedAtMs: number;
}

export interface Sessions {
  start(user: SessionUser, client: ClientInfo): Promise<IssuedSession>;
  refresh(refreshToken: string, client: ClientInfo): Promise<RefreshResult>;
  /** Revokes the session of a refresh token, or the given session of `userId`; false when none was live. */
  logout(
    by: { refreshToken?: string; sessionId?: string; userId?: string },
    client: ClientInfo,
  ): Promise<boolean>;
  list(userId: string): Promise<readonly SessionView[]>;
  /** A user revokes one of their sessions (or an admin, with `actor`); false when not theirs or not live. */
  revoke(userId: string, sessionId: string, actor?: string): Promise<boolean>;
  /** Ends every session of a user (password reset, role change); the revoked ids. */
  revokeAllOf(userId: string, reason: RevokedReason): Promise<readonly string[]>;
  isRevoked(sessionId: string): boolean;
}

export interface SessionsDeps {
  readonly store: SessionStore;
  readonly users: Pick<UserStore, "findById">;
  readonly tokens: AccessTokens;
  readonly revocations: RevocationSet;
  readonly events: AuthEvents;
  readonly clock: Clock;
  readonly ids: IdGenerator;
  readonly random: Random;
  readonly refreshTokenTtlMs: number;
}

export function hashRefreshToken(token: string): Buffer {
  return createHash("sha256").update(token).digest();
}

export function createSessions(deps: SessionsDeps): Sessions {
  const { store, tokens, revocations, events, clock } = deps;

  const nextToken = () => newRefreshToken(deps);

  async function issue(user: SessionUser, sessionId: string, refreshToken: string): Promise<IssuedSession> {
    const access = await tokens.issue({ ...user, sessionId });
    const refreshExpiresInS = Math.floor(deps.refreshTokenTtlMs / 1000);
    return { sessionId, ...access, refreshToken, refreshExpiresInS };
  }

  async function revoked(
    session: SessionRecord,
    kind: "logout" | "session_revoked",
    client?: ClientInfo,
    actor?: string,
  ) {
    await revocations.revoke(session.id);
    await events.publish({
      kind,
      userId: session.userId,
      sessionId: session.id,
      clientIp: client === undefined ? undefined : coarseIp(client.ip),
      actor,
      atMs: clock.nowMs(),
    });
  }

  return {
    async start(user, client) {
      const next = nextToken();
      const session: SessionRecord = {
        id: deps.ids.uuid(),
        userId: user.id,
        device: deviceOf(client.device),
        ipCoarse: coarseIp(client.ip),
        createdAtMs: next.createdAtMs,
        lastUsedAtMs: next.createdAtMs,
      };
      await store.create(session, next);
      return issue(user, session.id, next.token);
    },

    refresh: (refreshToken, client) => refresh(deps, nextToken, issue, refreshToken, client),

    async logout(by, client) {
      const ended = await endByLogout(deps, by);
      if (ended === undefined) return false;
      await revoked(ended, "logout", client);
      return true;
    },

    list: async (userId) => (await store.liveOf(userId, sessionsListedMax)).map(viewOf),

    async revoke(userId, sessionId, actor) {
      const ended = await store.revoke(sessionId, "revoked", clock.nowMs(), userId);
      if (ended === undefined) return false;
      await revoked(ended, "session_revoked", undefined, actor);
      return true;
    },

    async revokeAllOf(userId, reason) {
      const ids = await store.revokeAllOf(userId, reason, clock.nowMs());
      for (const id of ids) await revocations.revoke(id);
      return ids;
    },

    isRevoked: (sessionId) => revocations.isRevoked(sessionId),
  };
}

function newRefreshToken(deps: SessionsDeps) {
  const token = Buffer.from(deps.random.bytes(refreshTokenBytes)).toString("base64url");
  const createdAtMs = deps.clock.nowMs();
  return {
    token,
    hash: hashRefreshToken(token),
    createdAtMs,
    expiresAtMs: createdAtMs + deps.refreshTokenTtlMs,
  };
}

/** The session a logout names (by its refresh token, else the caller's access token), now revoked. */
async function endByLogout(
  deps: SessionsDeps,
  by: { refreshToken?: string | undefined; sessionId?: string | undefined; userId?: string | undefined },
): Promise<SessionRecord | undefined> {
  const session =
    by.refreshToken !== undefined && by.refreshToken.length <= refreshTokenLengthMax
      ? await deps.store.sessionOfToken(hashRefreshToken(by.refreshToken))
      : undefined;
  const sessionId = session?.id ?? by.sessionId;
  if (sessionId === undefined) return undefined;
  return deps.store.revoke(sessionId, "logout", deps.clock.nowMs(), session ? undefined : by.userId);
}

function viewOf({ id, device, ipCoarse, createdAtMs, lastUsedAtMs }: SessionRecord): SessionView {
  return { id, device, ipCoarse, createdAtMs, lastUsedAtMs };
}

async function refresh(
  deps: SessionsDeps,
  nextToken: () => { token: string; hash: Buffer; createdAtMs: number; expiresAtMs: number },
  issue: (user: SessionUser, sessionId: string, refreshToken: string) => Promise<IssuedSession>,
  refreshToken: string,
  client: ClientInfo,
): Promise<RefreshResult> {
  const refused = (reason: string) => ({ ok: false, code: "refresh_token_invalid", reason }) as const;
  if (refreshToken.length === 0 || refreshToken.length > refreshTokenLengthMax) return refused("malformed");
  const next = nextToken();
  const ip = coarseIp(client.ip);
  const decision = await deps.store.refresh(hashRefreshToken(refreshToken), next, ip);
  const atMs = deps.clock.nowMs();
  if (decision.kind === "unknown") return refused("unknown");
  const { session } = decision;
  const audit = { userId: session.userId, sessionId: session.id, clientIp: ip, atMs };
  if (decision.kind === "reused") {
    // The family is revoked in the store already; its access tokens die everywhere now.
    await deps.revocations.revoke(session.id);
    await deps.events.publish({
      kind: "refresh_reuse_detected",
      ...audit,
      detail: "replayed refresh token; session revoked",
    });
    return refused("reused");
  }
  if (decision.kind !== "rotated") {
    await deps.events.publish({ kind: "refresh_refused", ...audit, detail: decision.kind });
    return refused(decision.kind);
  }
  const user = await deps.users.findById(session.userId);
  if (user === undefined) return refused("unknown_user");
  const issued = await issue(user, session.id, next.token);
  await deps.events.publish({ kind: "refreshed", ...audit, username: user.username });
  return { ok: true, user: { id: user.id, username: user.username, roles: user.roles }, ...issued };
}

function deviceOf(userAgent: string | undefined): string {
  const text = (userAgent ?? "").replace(/[\p{Cc}]/gu, " ").trim();
  return text.length === 0 ? "unknown" : text.slice(0, deviceLengthMax);
}

/** IPv4 → its /24, IPv6 → its /48: enough to recognise a network, not a household. */
export function coarseIp(ip: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip)?.[1];
  const address = mapped ?? ip;
  if (isIPv4(address)) return `${address.split(".").slice(0, 3).join(".")}.0/24`;
  if (isIPv6(address)) {
    const [head = ""] = address.split("::");
    const groups = head.split(":").filter(Boolean).slice(0, 3);
    while (groups.length < 3) groups.push("0");
    return `${groups.join(":")}::/48`;
  }
  return "unknown";
}
