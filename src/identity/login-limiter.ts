import type { Clock } from "../platform/clock.ts";
import { assert } from "../platform/errors.ts";

/**
 * Counts login attempts per key (a username, a client IP) in fixed windows; after `failuresMax`
 * failures in a window the key is blocked until that window ends.
 *
 * An attempt is counted *before* the password is checked (`admit`) and taken back when it succeeds
 * (`forgive`): counting only after a failed check would let a burst of concurrent guesses all pass
 * the check before any failure is recorded.
 *
 * Async so that a Redis adapter can implement it: `createMemoryLoginLimiter` serves embedded mode,
 * `createRedisLoginLimiter` (adapters/redis-login-limiter.ts) distributed mode, where every API
 * process must draw on one budget. Both pass the same behavioural cases (login-limiter.cases.ts).
 */
export interface LoginLimiter {
  /**
   * If no key is blocked, counts one attempt against every key and returns 0; otherwise counts
   * nothing and returns the seconds until every key may try again.
   */
  admit(keys: readonly LimitKey[]): Promise<number>;
  /** The admitted attempt succeeded: it no longer counts as a failure. */
  forgive(keys: readonly LimitKey[]): Promise<void>;
}

export type LimitScope = "username" | "ip";

export interface LimitKey {
  readonly scope: LimitScope;
  readonly id: string;
}

export interface LimitRule {
  readonly failuresMax: number;
  readonly windowMs: number;
}

export type LimitRules = Readonly<Record<LimitScope, LimitRule>>;

const fifteenMinutesMs = 15 * 60 * 1000;

/**
 * 10 failures per username per 15 min stops online guessing against one account. The per-IP budget
 * is larger because many users can share one address (NAT, offices), but still stops one client
 * from spraying a common password over many usernames.
 */
export const defaultLimitRules: LimitRules = {
  username: { failuresMax: 10, windowMs: fifteenMinutesMs },
  ip: { failuresMax: 50, windowMs: fifteenMinutesMs },
};

export interface MemoryLoginLimiterOptions {
  readonly rules?: LimitRules;
  /** Most keys tracked; beyond it the key with the oldest window is forgotten first. */
  readonly keysMax?: number;
}

interface Window {
  readonly startMs: number;
  failures: number;
}

export function createMemoryLoginLimiter(
  clock: Clock,
  options: MemoryLoginLimiterOptions = {},
): LoginLimiter {
  const rules = options.rules ?? defaultLimitRules;
  const keysMax = options.keysMax ?? 100_000;
  assert(keysMax > 0, "keysMax is positive");
  // Insertion order == window start order (a new window re-inserts its key), so the first entries
  // are always the oldest windows: expiry and eviction only ever look at the front.
  const windows = new Map<string, Window>();

  const mapKey = (key: LimitKey): string => `${key.scope}:${key.id}`;
  const isOver = (window: Window, rule: LimitRule, nowMs: number): boolean =>
    nowMs - window.startMs >= rule.windowMs;

  function dropExpired(nowMs: number): void {
    const longestWindowMs = Math.max(rules.username.windowMs, rules.ip.windowMs);
    for (const [key, window] of windows) {
      if (nowMs - window.startMs < longestWindowMs) break;
      windows.delete(key);
    }
  }

  function retryAfterMs(key: LimitKey, nowMs: number): number {
    const rule = rules[key.scope];
    const window = windows.get(mapKey(key));
    if (window === undefined || isOver(window, rule, nowMs) || window.failures < rule.failuresMax) return 0;
    return window.startMs + rule.windowMs - nowMs;
  }

  function count(key: LimitKey, nowMs: number): void {
    const k = mapKey(key);
    const window = windows.get(k);
    if (window !== undefined && !isOver(window, rules[key.scope], nowMs)) {
      window.failures += 1;
      return;
    }
    windows.delete(k);
    windows.set(k, { startMs: nowMs, failures: 1 });
    while (windows.size > keysMax) {
      const oldest = windows.keys().next();
      if (oldest.done === true) break;
      windows.delete(oldest.value);
    }
  }

  return {
    async admit(keys) {
      const nowMs = clock.nowMs();
      dropExpired(nowMs);
      const waitMs = Math.max(0, ...keys.map((key) => retryAfterMs(key, nowMs)));
      if (waitMs > 0) return Math.ceil(waitMs / 1000);
      for (const key of keys) count(key, nowMs);
      return 0;
    },

    async forgive(keys) {
      const nowMs = clock.nowMs();
      for (const key of keys) {
        const window = windows.get(mapKey(key));
        // A window that rolled over since `admit` no longer holds that attempt.
        if (window === undefined || isOver(window, rules[key.scope], nowMs)) continue;
        window.failures = Math.max(0, window.failures - 1);
      }
    },
  };
}
