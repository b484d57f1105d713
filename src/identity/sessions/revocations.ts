/**
 * The revocation set every API instance checks access tokens against (their `sid`). An entry is
 * kept as long as an access token of that session can still be valid (its lifetime plus the clock
 * tolerance); after that the token has expired anyway. Embedded mode: this process's memory.
 * Distributed mode (`redis-revocations.ts`): the same memory set per instance, fed by Redis pub/sub
 * so that a revocation reaches every instance at once, and reloaded from PostgreSQL at start.
 */
import type { Clock } from "../../platform/clock.ts";

export interface RevocationSet {
  /** Revokes here and, in distributed mode, on every instance. */
  revoke(sessionId: string): Promise<void>;
  isRevoked(sessionId: string): boolean;
  /** Adds to this instance only (the start-up reload: the others know already). */
  remember(sessionId: string): void;
  close(): Promise<void>;
}

/** Bounded: beyond this many live entries the oldest go first (they are also the first to expire). */
export const revocationsMax = 1_000_000;

export interface LocalRevocations {
  add(sessionId: string): void;
  has(sessionId: string): boolean;
  readonly size: number;
}

export function createLocalRevocations(clock: Clock, keepMs: number): LocalRevocations {
  // Insertion order is expiry order (one keepMs for all), so pruning reads from the front.
  const expiresAtMs = new Map<string, number>();
  function prune() {
    const nowMs = clock.nowMs();
    for (const [id, atMs] of expiresAtMs) {
      if (atMs > nowMs && expiresAtMs.size <= revocationsMax) break;
      expiresAtMs.delete(id);
    }
  }
  return {
    add(sessionId) {
      expiresAtMs.delete(sessionId);
      expiresAtMs.set(sessionId, clock.nowMs() + keepMs);
      prune();
    },
    has(sessionId) {
      const atMs = expiresAtMs.get(sessionId);
      return atMs !== undefined && atMs > clock.nowMs();
    },
    get size() {
      return expiresAtMs.size;
    },
  };
}

export function createMemoryRevocations(clock: Clock, keepMs: number): RevocationSet {
  const local = createLocalRevocations(clock, keepMs);
  return {
    revoke: async (sessionId) => local.add(sessionId),
    isRevoked: (sessionId) => local.has(sessionId),
    remember: (sessionId) => local.add(sessionId),
    close: async () => {},
  };
}
