/**
 * Screening names, cached: without it, every ledger batch screened while a name list is in force
 * waits for an identity query (a database round trip) before it can be decided, though a receiver's
 * name rarely changes and the same receivers come back again and again.
 *
 * Freshness, in this order:
 * - A poll (every `pollIntervalMs`, one indexed query) asks identity which profiles changed since
 *   the last one and evicts the names fetched before the change. It looks back `overlapMs` further
 *   than the newest change it saw, and counts a name fetched up to `overlapMs` after a change as
 *   fetched before it: so a change stamped by a lagging clock, committed late, or committed while a
 *   lookup of the old name was in flight (which may store the old name after the eviction) is
 *   evicted again on a later poll. A name fetched well after the change stays, however often the
 *   poll sees that change again.
 * - While polls fail, nothing cached is trusted: names are asked of identity on every batch, as
 *   without the cache, until a poll succeeds again.
 * - Whatever the polls say, an entry older than `ttlMs` is asked again.
 * A user without a profile (no name) is cached too: most receivers may have none.
 * Bounded: at most `entriesMax` users, least recently used evicted first.
 */
import type { PartyNames } from "./screenings.ts";

/** Identity's answers: names (as PartyNames) and which profiles changed. */
export interface PartyNameSource extends PartyNames {
  /** Users whose screening name may have changed at or after `sinceMs`, oldest first, at most `limit`. */
  changedSince(sinceMs: number, limit: number): Promise<readonly { userId: string; atMs: number }[]>;
}

export interface PartyNameCacheLimits {
  readonly ttlMs: number;
  readonly entriesMax: number;
  readonly pollIntervalMs: number;
  /** How far each poll looks back before the newest change it saw. */
  readonly overlapMs: number;
  /** Changes read per poll; more than that and the whole cache is dropped (then refilled). */
  readonly changesPerPollMax: number;
}

export interface CachedPartyNames extends PartyNames {
  /** One poll for changed profiles (the module runs it every `pollIntervalMs`); throws what identity threw. */
  poll(): Promise<void>;
  /** Users cached now (for tests and metrics). */
  size(): number;
}

interface Entry {
  /** Undefined: the user has no (named) profile. */
  readonly name: string | undefined;
  readonly fetchedAtMs: number;
}

export function cachedPartyNames(
  source: PartyNameSource,
  limits: PartyNameCacheLimits,
  nowMs: () => number,
): CachedPartyNames {
  const entries = new Map<string, Entry>();
  let cursorMs = nowMs();
  let lastPollOkAtMs = cursorMs;
  // Cached entries are trusted only while polls succeed: a poll missed for longer than this means
  // changes may be unseen.
  const trustedWhile = () => nowMs() - lastPollOkAtMs <= limits.pollIntervalMs * 2 + limits.overlapMs;

  const remember = (userId: string, name: string | undefined, fetchedAtMs: number) => {
    entries.delete(userId); // re-inserted last: Map order is recency order
    entries.set(userId, { name, fetchedAtMs });
    while (entries.size > limits.entriesMax) {
      const oldest = entries.keys().next().value;
      if (oldest === undefined) break;
      entries.delete(oldest);
    }
  };

  return {
    async namesOf(userIds) {
      const now = nowMs();
      const trusted = trustedWhile();
      const names = new Map<string, string>();
      const misses: string[] = [];
      for (const userId of new Set(userIds)) {
        const entry = trusted ? entries.get(userId) : undefined;
        if (entry === undefined || now - entry.fetchedAtMs >= limits.ttlMs) {
          misses.push(userId);
          continue;
        }
        remember(userId, entry.name, entry.fetchedAtMs);
        if (entry.name !== undefined) names.set(userId, entry.name);
      }
      if (misses.length === 0) return names;
      const fetched = await source.namesOf(misses);
      for (const userId of misses) {
        const name = fetched.get(userId);
        remember(userId, name, now);
        if (name !== undefined) names.set(userId, name);
      }
      return names;
    },
    async poll() {
      const startedAtMs = nowMs();
      const changes = await source.changedSince(cursorMs - limits.overlapMs, limits.changesPerPollMax);
      if (changes.length >= limits.changesPerPollMax) entries.clear();
      for (const change of changes) {
        const entry = entries.get(change.userId);
        if (entry !== undefined && entry.fetchedAtMs <= change.atMs + limits.overlapMs)
          entries.delete(change.userId);
        cursorMs = Math.max(cursorMs, change.atMs);
      }
      lastPollOkAtMs = startedAtMs;
    },
    size: () => entries.size,
  };
}
