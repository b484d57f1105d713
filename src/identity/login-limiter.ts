import type { Clock } from "../platform/clock.ts";
import { assert } from "../platform/errors.ts";

/**
 * Counts attempts per key and answers whether the next one may go ahead. Two kinds of rule:
 *
 * - `block`: after `attemptsMax` attempts in a fixed window (from the first attempt) the key is
 *   refused until the window ends. Used where the key belongs to the one trying: a client address,
 *   a (username, client) pair, a device cookie, registrations per client.
 * - `delay`: after `attemptsUndelayedMax` attempts each further attempt must wait a delay that
 *   doubles per attempt, from `delayBaseMs` up to `delayMaxMs`, after the previous one; the count
 *   is forgotten `windowMs` after the last attempt. Used for a username across all clients, so an
 *   attacker can slow a victim's untrusted logins down but never lock the victim out (OWASP
 *   Authentication Cheat Sheet, "Account lockout" and "device cookies").
 *
 * Which keys an attempt is counted against is the policy of `loginLimitKeys`.
 *
 * An attempt is counted *before* the password is checked (`admit`) and taken back when it succeeds
 * (`forgive`): counting only after a failed check would let a burst of concurrent guesses all pass
 * the check before any failure is recorded. A refused attempt counts against no key, so an attacker
 * hammering a blocked (username, client) pair adds nothing to the username's delay.
 *
 * Async so that a Redis adapter can implement it: `createMemoryLoginLimiter` serves embedded mode,
 * `createRedisLoginLimiter` (adapters/redis-login-limiter.ts) distributed mode, where every API
 * process must draw on one budget. Both pass the same behavioural cases (login-limiter.cases.ts).
 */
export interface LoginLimiter {
  /**
   * If no key refuses, counts one attempt against every key and returns 0; otherwise counts
   * nothing and returns the seconds until every key may try again.
   */
  admit(keys: readonly LimitKey[]): Promise<number>;
  /** The admitted attempt succeeded: it no longer counts. */
  forgive(keys: readonly LimitKey[]): Promise<void>;
}

export const limitScopes = ["client", "userClient", "username", "device", "registration"] as const;
export type LimitScope = (typeof limitScopes)[number];

export interface LimitKey {
  readonly scope: LimitScope;
  readonly id: string;
}

export interface BlockRule {
  readonly kind: "block";
  readonly attemptsMax: number;
  readonly windowMs: number;
}

export interface DelayRule {
  readonly kind: "delay";
  readonly attemptsUndelayedMax: number;
  readonly delayBaseMs: number;
  readonly delayMaxMs: number;
  /** Quiet time after the last attempt that resets the count. */
  readonly windowMs: number;
}

export type LimitRule = BlockRule | DelayRule;
export type LimitRules = Readonly<Record<LimitScope, LimitRule>>;

const minuteMs = 60 * 1000;

/**
 * Defaults (config `auth.*`, README "Login and registration limits"):
 * - per client address: 100 failures / 15 min. Large, because many users can share an address
 *   (NAT, offices); it still stops one client spraying a common password over many usernames.
 * - per (username, client): 5 failures / 15 min: online guessing from one place.
 * - per username, any untrusted client: 10 free failures, then 1 s, 2 s, 4 s … up to 60 s between
 *   attempts, reset after an hour without one. Never a lockout.
 * - per device cookie: 10 failures / 15 min, then that cookie alone is locked out.
 * - registrations per client: 10 / hour.
 */
export const defaultLimitRules: LimitRules = {
  client: { kind: "block", attemptsMax: 100, windowMs: 15 * minuteMs },
  userClient: { kind: "block", attemptsMax: 5, windowMs: 15 * minuteMs },
  username: {
    kind: "delay",
    attemptsUndelayedMax: 10,
    delayBaseMs: 1_000,
    delayMaxMs: minuteMs,
    windowMs: 60 * minuteMs,
  },
  device: { kind: "block", attemptsMax: 10, windowMs: 15 * minuteMs },
  registration: { kind: "block", attemptsMax: 10, windowMs: 60 * minuteMs },
};

export interface LoginSource {
  /** Case-folded username (`usernameKey`). */
  readonly username: string;
  /** Client address as the edge saw it. */
  readonly client: string;
  /** Id of a device cookie that is valid for this username, if the client sent one. */
  readonly deviceId?: string | undefined;
}

/**
 * The keys a login attempt is counted against. A trusted device (valid device cookie for this
 * username) is counted only against its own cookie: attacks from untrusted clients, even from the
 * same address, cannot lock it out, and a stolen cookie still gets only `device.attemptsMax` tries.
 */
export function loginLimitKeys(source: LoginSource): LimitKey[] {
  if (source.deviceId !== undefined) return [{ scope: "device", id: source.deviceId }];
  return [
    { scope: "client", id: source.client },
    // Length-prefixed: a login username is not yet validated and may contain any separator.
    { scope: "userClient", id: `${source.username.length}:${source.username}:${source.client}` },
    { scope: "username", id: source.username },
  ];
}

export function validateLimitRules(rules: LimitRules): void {
  for (const rule of Object.values(rules)) {
    const counts = rule.kind === "block" ? rule.attemptsMax : rule.attemptsUndelayedMax;
    assert(Number.isSafeInteger(counts) && counts >= 0, "attempt counts are non-negative integers");
    assert(Number.isSafeInteger(rule.windowMs) && rule.windowMs > 0, "windowMs is a positive integer");
    if (rule.kind === "delay") {
      assert(Number.isSafeInteger(rule.delayBaseMs) && rule.delayBaseMs > 0, "delayBaseMs is positive");
      assert(
        Number.isSafeInteger(rule.delayMaxMs) && rule.delayMaxMs >= rule.delayBaseMs,
        "delayMaxMs ≥ base",
      );
    }
  }
}

// 2^40 × any positive base exceeds any sane delayMaxMs; capping the exponent keeps it finite.
const delayDoublingsMax = 40;

/** The wait a delay rule asks for after `attempts` attempts; shared with the Redis script. */
export function requiredDelayMs(rule: DelayRule, attempts: number): number {
  const excess = attempts - rule.attemptsUndelayedMax;
  if (excess < 0) return 0;
  return Math.min(rule.delayMaxMs, rule.delayBaseMs * 2 ** Math.min(excess, delayDoublingsMax));
}

export interface MemoryLoginLimiterOptions {
  readonly rules?: LimitRules;
  /** Most keys tracked; beyond it the key touched longest ago is forgotten first. */
  readonly keysMax?: number;
}

interface Counter {
  /** First attempt of the current window (block rules). */
  startMs: number;
  /** Latest counted attempt (delay rules; also the eviction order). */
  lastMs: number;
  attempts: number;
}

export function createMemoryLoginLimiter(
  clock: Clock,
  options: MemoryLoginLimiterOptions = {},
): LoginLimiter {
  const rules = options.rules ?? defaultLimitRules;
  validateLimitRules(rules);
  const keysMax = options.keysMax ?? 100_000;
  assert(keysMax > 0, "keysMax is positive");
  const longestWindowMs = Math.max(...Object.values(rules).map((rule) => rule.windowMs));
  // Insertion order == last-counted order (counting re-inserts its key), so the first entries were
  // touched longest ago: expiry and eviction only ever look at the front.
  const counters = new Map<string, Counter>();
  const mapKey = (key: LimitKey): string => `${key.scope}:${key.id}`;

  function live(key: LimitKey, nowMs: number): Counter | undefined {
    const counter = counters.get(mapKey(key));
    if (counter === undefined) return undefined;
    const rule = rules[key.scope];
    const sinceMs = rule.kind === "block" ? counter.startMs : counter.lastMs;
    return nowMs - sinceMs < rule.windowMs ? counter : undefined;
  }

  const waitMs = (key: LimitKey, nowMs: number): number =>
    waitMsOf(rules[key.scope], live(key, nowMs), nowMs);

  function count(key: LimitKey, nowMs: number): void {
    const k = mapKey(key);
    const counter = live(key, nowMs) ?? { startMs: nowMs, lastMs: nowMs, attempts: 0 };
    counter.attempts += 1;
    counter.lastMs = nowMs;
    counters.delete(k);
    counters.set(k, counter);
    while (counters.size > keysMax) {
      const oldest = counters.keys().next();
      if (oldest.done === true) break;
      counters.delete(oldest.value);
    }
  }

  function dropExpired(nowMs: number): void {
    for (const [key, counter] of counters) {
      if (nowMs - counter.lastMs < longestWindowMs) break;
      counters.delete(key);
    }
  }

  return {
    async admit(keys) {
      const nowMs = clock.nowMs();
      dropExpired(nowMs);
      const wait = Math.max(0, ...keys.map((key) => waitMs(key, nowMs)));
      if (wait > 0) return Math.ceil(wait / 1000);
      for (const key of keys) count(key, nowMs);
      return 0;
    },

    async forgive(keys) {
      const nowMs = clock.nowMs();
      for (const key of keys) {
        // A window that ended since `admit` no longer holds that attempt.
        const counter = live(key, nowMs);
        if (counter !== undefined) counter.attempts = Math.max(0, counter.attempts - 1);
      }
    },
  };
}

/** How long a live counter (undefined: none, or its window is over) makes the next attempt wait. */
function waitMsOf(rule: LimitRule, counter: Counter | undefined, nowMs: number): number {
  if (counter === undefined) return 0;
  if (rule.kind === "block") {
    return counter.attempts < rule.attemptsMax ? 0 : counter.startMs + rule.windowMs - nowMs;
  }
  return Math.max(0, counter.lastMs + requiredDelayMs(rule, counter.attempts) - nowMs);
}

/** Runs `work` for an admitted attempt; an infrastructure failure is not the client's attempt. */
export async function uncountedOnError<T>(
  limiter: Pick<LoginLimiter, "forgive">,
  keys: readonly LimitKey[],
  work: () => Promise<T>,
): Promise<T> {
  try {
    return await work();
  } catch (error) {
    await limiter.forgive(keys);
    throw error;
  }
}

/**
 * One attempt from a client address on the client budget (passkey sign-ins, sign-in tickets: what
 * cannot be guessed but costs a lookup per try). Refused with the seconds to wait, or the work's
 * answer: counted unless it `succeeded`, and not counted when the work fails (infrastructure).
 */
export async function attemptFromClient<T>(
  limiter: Pick<LoginLimiter, "admit" | "forgive"> | undefined,
  clientIp: string,
  work: () => Promise<T>,
  succeeded: (answer: T) => boolean,
): Promise<{ readonly refusedForS: number } | { readonly answer: T }> {
  if (limiter === undefined) return { answer: await work() };
  const keys: LimitKey[] = clientIp === "" ? [] : [{ scope: "client", id: clientIp }];
  const refusedForS = await limiter.admit(keys);
  if (refusedForS > 0) return { refusedForS };
  const answer = await uncountedOnError(limiter, keys, work);
  if (succeeded(answer)) await limiter.forgive(keys);
  return { answer };
}
