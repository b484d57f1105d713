/**
 * The session store port: sign-in sessions (refresh-token families) and their refresh tokens, kept
 * as SHA-256 hashes. Adapter: `postgres.ts`. The refresh decision itself is pure (`decideRefresh`).
 */

export type RevokedReason = "logout" | "revoked" | "reuse" | "password_reset";

export interface SessionRecord {
  readonly id: string;
  readonly userId: string;
  readonly device: string;
  readonly ipCoarse: string;
  readonly createdAtMs: number;
  readonly lastUsedAtMs: number;
  readonly revokedAtMs?: number | undefined;
  readonly revokedReason?: RevokedReason | undefined;
}

/** A refresh token as found by its hash, with its session. */
export interface FoundToken {
  readonly session: SessionRecord;
  readonly rotatedAtMs: number | undefined;
  readonly expiresAtMs: number;
}

export interface NextToken {
  readonly hash: Uint8Array;
  readonly createdAtMs: number;
  readonly expiresAtMs: number;
}

/** What a presented refresh token leads to (decided by `decideRefresh`, applied by the store). */
export type RefreshDecision =
  | { readonly kind: "unknown" }
  | { readonly kind: "expired"; readonly session: SessionRecord }
  | { readonly kind: "revoked"; readonly session: SessionRecord }
  | { readonly kind: "reused"; readonly session: SessionRecord }
  | { readonly kind: "rotated"; readonly session: SessionRecord };

export interface SessionStore {
  create(session: SessionRecord, token: NextToken): Promise<void>;
  /**
   * In one transaction, with the token row locked: decides (`decideRefresh`) and applies it. Rotated:
   * the token is marked, its successor stored, the session's last use and address updated. Reused:
   * the whole session (family) is revoked with reason `reuse`.
   */
  refresh(
    tokenHash: Uint8Array,
    next: NextToken,
    ipCoarse: string,
  ): Promise<RefreshDecision & { readonly revokedNow?: boolean }>;
  /** The session of a refresh token, if the token is known. */
  sessionOfToken(tokenHash: Uint8Array): Promise<SessionRecord | undefined>;
  /** Revokes a live session (of `userId` when given); undefined when none was live. */
  revoke(
    sessionId: string,
    reason: RevokedReason,
    atMs: number,
    userId?: string,
  ): Promise<SessionRecord | undefined>;
  /** Revokes every live session of a user; the revoked ids. */
  revokeAllOf(userId: string, reason: RevokedReason, atMs: number): Promise<readonly string[]>;
  /** A user's live sessions, most recently used first, at most `limit`. */
  liveOf(userId: string, limit: number): Promise<readonly SessionRecord[]>;
  /** Sessions revoked at or after `sinceMs` (reloaded into the revocation set at start). */
  revokedSince(sinceMs: number): Promise<readonly string[]>;
}

/** Pure: the fate of a presented refresh token. A rotated token presented again is reuse. */
export function decideRefresh(found: FoundToken | undefined, nowMs: number): RefreshDecision {
  if (found === undefined) return { kind: "unknown" };
  const { session } = found;
  if (session.revokedAtMs !== undefined) return { kind: "revoked", session };
  if (found.rotatedAtMs !== undefined) return { kind: "reused", session };
  if (found.expiresAtMs <= nowMs) return { kind: "expired", session };
  return { kind: "rotated", session };
}
