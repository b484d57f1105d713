import type { Clock } from "../../platform/clock.ts";

export type RateDecision =
  | { readonly allowed: true }
  | { readonly allowed: false; readonly retryAfterMs: number };

/**
 * Token bucket: `burst` tokens, refilled at `requestsPerSecond`. Time comes from the injected clock,
 * so a test with a manual clock sees exactly `burst` admissions and then refusals.
 */
export function createTokenBucket(clock: Clock, limit: { requestsPerSecond: number; burst: number }) {
  let tokens = limit.burst;
  let refilledAtMs = clock.nowMs();
  return {
    take(): RateDecision {
      const nowMs = clock.nowMs();
      tokens = Math.min(
        limit.burst,
        tokens + (Math.max(0, nowMs - refilledAtMs) * limit.requestsPerSecond) / 1000,
      );
      refilledAtMs = nowMs;
      if (tokens >= 1) {
        tokens -= 1;
        return { allowed: true };
      }
      return { allowed: false, retryAfterMs: Math.ceil(((1 - tokens) * 1000) / limit.requestsPerSecond) };
    },
  };
}

export type TokenBucket = ReturnType<typeof createTokenBucket>;
