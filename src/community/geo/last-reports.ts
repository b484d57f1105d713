/**
 * Each user's last accepted location report, for impossible-jump detection (domain/proximity.ts
 * `decideLocation` judges a report against it). Kept a short while after the report (`untilMs`,
 * `lastReportTtlMs` after it; an officer's, through their window), also after the app disconnects,
 * so a user who reconnects (to this or, in distributed mode, another API process) is still checked.
 * Exact coordinates: in memory (embedded) or in Redis with a TTL (distributed), never stored.
 *
 * Adapters: the memory one below; `adapters/redis-last-reports.ts`.
 */
import type { LocationReport } from "../domain/geo.ts";
import { ExpiryHeap } from "./adapters/expiry-heap.ts";

export interface LastReports {
  /** The user's last report, if one is kept and its `untilMs` is after `nowMs`. */
  get(userId: string, nowMs: number): Promise<LocationReport | undefined>;
  /** Keeps `report` as the user's last, until `untilMs`. */
  set(userId: string, report: LocationReport, untilMs: number): Promise<void>;
  /** Removes up to `max` reports expired at `nowMs` (a timer calls it; Redis expires by itself). */
  purgeExpired(nowMs: number, max?: number): Promise<number>;
  close(): Promise<void>;
}

interface Kept {
  readonly userId: string;
  readonly report: LocationReport;
  readonly untilMs: number;
}

/** In memory: a map, and a heap by `untilMs` so that purging costs O(log n) per report. */
export function createMemoryLastReports(options: { purgeBatchMax?: number } = {}): LastReports & {
  readonly size: number;
} {
  const kept = new Map<string, Kept>();
  const expiry = new ExpiryHeap<Kept>();
  const purgeBatchMax = options.purgeBatchMax ?? 1_024;
  return {
    get size() {
      return kept.size;
    },
    async get(userId, nowMs) {
      const found = kept.get(userId);
      return found !== undefined && found.untilMs > nowMs ? found.report : undefined;
    },
    async set(userId, report, untilMs) {
      const entry = { userId, report, untilMs };
      kept.set(userId, entry);
      expiry.push(untilMs, entry);
    },
    async purgeExpired(nowMs, max = purgeBatchMax) {
      let removed = 0;
      for (let popped = 0; popped < max; popped++) {
        const next = expiry.popUntil(nowMs);
        if (next === undefined) break;
        // A heap item of a report replaced since is stale: the map holds the newer one.
        if (kept.get(next.item.userId) === next.item) {
          kept.delete(next.item.userId);
          removed++;
        }
      }
      if (expiry.size > 2 * kept.size + 1_024) expiry.rebuild([...kept.values()].map((k) => [k.untilMs, k]));
      return removed;
    },
    async close() {
      kept.clear();
      expiry.rebuild([]);
    },
  };
}
