import { ErrorReply } from "@redis/client";
import type { Clock } from "../../platform/clock.ts";
import { assert, UnavailableError } from "../../platform/errors.ts";
import { connectRedis, type RedisScript, redisScript, runRedisScript } from "../../platform/redis.ts";
import type { LimitKey, LimitRule, LimitRules, LoginLimiter } from "../login-limiter.ts";
import { defaultLimitRules, validateLimitRules } from "../login-limiter.ts";

/**
 * The login limiter of distributed mode: the same rules as `createMemoryLoginLimiter` (block and
 * delay, see login-limiter.ts), kept in one Redis so that every API process behind the balancer
 * draws on one budget per key.
 *
 * Each key is a hash `ledgerflow:login:<scope>:<id>` = { startMs, lastMs, attempts }. `admit` and
 * `forgive` are each one Lua script, so a check and its increments are atomic across processes.
 * Windows are judged by the caller's injected clock (passed in as ARGV), never by Redis TIME, so a
 * manual clock drives this adapter exactly as it drives the memory one; PEXPIRE (the block window
 * when it starts, the delay window at every attempt) only lets Redis drop a key once it is over.
 * All keys of one call go to one server, so this expects a single Redis (or a primary with
 * replicas), not Redis Cluster.
 *
 * Fails closed: when Redis cannot answer within `commandTimeoutMs`, `admit` and `forgive` throw
 * UnavailableError (HTTP 503 at the login route); nobody is let in unchecked.
 */
export interface RedisLoginLimiter extends LoginLimiter {
  /** Drops the connection; commands still waiting fail with UnavailableError. */
  close(): Promise<void>;
}

export interface RedisLoginLimiterOptions {
  /** `redis[s]://[[user][:password]@]host[:port][/db]` */
  readonly url: string;
  readonly rules?: LimitRules;
  /** Bound on one TCP (and TLS) connect attempt. */
  readonly connectTimeoutMs?: number;
  /** Bound on one command, including time spent queued while the connection is re-established. */
  readonly commandTimeoutMs?: number;
  /** Reconnect attempts back off exponentially up to this delay, and never give up. */
  readonly reconnectDelayMaxMs?: number;
  /** Commands waiting for the connection; beyond it a login fails at once instead of queueing. */
  readonly commandsQueuedMax?: number;
  /** Connection errors (each failed reconnect attempt, too): log them; the limiter keeps going. */
  readonly onConnectionError?: (error: Error) => void;
}

const keyPrefix = "ledgerflow:login:";
const argsPerKey = 5;

/**
 * Shared by both scripts: `live(i, now)` answers whether KEYS[i]'s counter is within its window,
 * with its fields. ARGV[1]: now (ms, the caller's clock); per key i, ARGV[5i - 3 .. 5i + 1]: kind
 * (0 block, 1 delay), attemptsMax (block) or attemptsUndelayedMax (delay), windowMs, delayBaseMs,
 * delayMaxMs.
 */
const ruleLua = `
local function arg(i, n) return tonumber(ARGV[${argsPerKey} * (i - 1) + 1 + n]) end
local function live(i, now)
  local c = redis.call('HMGET', KEYS[i], 'startMs', 'lastMs', 'attempts')
  local startMs, lastMs, attempts = tonumber(c[1]), tonumber(c[2]), tonumber(c[3])
  if not (startMs and lastMs and attempts) then return nil end
  local since = startMs
  if arg(i, 1) == 1 then since = lastMs end
  if now - since < arg(i, 3) then return startMs, lastMs, attempts end
  return nil
end
`;

/** Returns 0 after counting one attempt against every key, or, counting nothing, the seconds to wait. */
const admitScript = `${ruleLua}
local now = tonumber(ARGV[1])
local waitMs = 0
for i = 1, #KEYS do
  local startMs, lastMs, attempts = live(i, now)
  if startMs then
    if arg(i, 1) == 0 then
      if attempts >= arg(i, 2) then waitMs = math.max(waitMs, startMs + arg(i, 3) - now) end
    else
      local excess = attempts - arg(i, 2)
      if excess >= 0 then
        local delay = math.min(arg(i, 5), arg(i, 4) * 2 ^ math.min(excess, 40))
        waitMs = math.max(waitMs, lastMs + delay - now)
      end
    end
  end
end
if waitMs > 0 then return math.ceil(waitMs / 1000) end
for i = 1, #KEYS do
  if live(i, now) then
    redis.call('HINCRBY', KEYS[i], 'attempts', 1)
    redis.call('HSET', KEYS[i], 'lastMs', ARGV[1])
  else
    redis.call('HSET', KEYS[i], 'startMs', ARGV[1], 'lastMs', ARGV[1], 'attempts', 1)
    redis.call('PEXPIRE', KEYS[i], arg(i, 3))
  end
  if arg(i, 1) == 1 then redis.call('PEXPIRE', KEYS[i], arg(i, 3)) end
end
return 0
`;

/** Same ARGV as admit. Takes one attempt back from every live counter; never below zero. */
const forgiveScript = `${ruleLua}
local now = tonumber(ARGV[1])
for i = 1, #KEYS do
  local startMs, lastMs, attempts = live(i, now)
  if startMs and attempts > 0 then redis.call('HINCRBY', KEYS[i], 'attempts', -1) end
end
return 0
`;

const script = redisScript;

const admitLua = script(admitScript);
const forgiveLua = script(forgiveScript);

/**
 * Connects in the background and returns at once: commands issued before the connection is ready
 * wait for it (bounded by `commandTimeoutMs`), so start-up does not depend on Redis being up, and
 * only logins fail (503) while it is down.
 */
export function createRedisLoginLimiter(clock: Clock, options: RedisLoginLimiterOptions): RedisLoginLimiter {
  const rules = options.rules ?? defaultLimitRules;
  validateLimitRules(rules);
  const client = connectRedis({ ...options, commandsQueuedMax: options.commandsQueuedMax ?? 10_000 }, 1_000);

  async function run(lua: RedisScript, keys: readonly LimitKey[], args: readonly string[]): Promise<unknown> {
    const call = { keys: keys.map(redisKey), arguments: [String(clock.nowMs()), ...args] };
    try {
      return await runRedisScript(client, lua, call);
    } catch (error) {
      throw isUnavailable(error) ? new UnavailableError("Redis (login limiter)", { cause: error }) : error;
    }
  }

  const ruleArgs = (keys: readonly LimitKey[]): string[] =>
    keys.flatMap((key) => ruleArguments(rules[key.scope]));

  return {
    async admit(keys) {
      if (keys.length === 0) return 0;
      const waitS = await run(admitLua, keys, ruleArgs(keys));
      assert(typeof waitS === "number" && Number.isSafeInteger(waitS) && waitS >= 0, "admit answers seconds");
      return waitS;
    },

    async forgive(keys) {
      if (keys.length === 0) return;
      await run(forgiveLua, keys, ruleArgs(keys));
    },

    async close() {
      // destroy, not close: close() waits for replies that never come while Redis is down.
      if (client.isOpen) client.destroy();
    },
  };
}

function ruleArguments(rule: LimitRule): string[] {
  const args =
    rule.kind === "block"
      ? [0, rule.attemptsMax, rule.windowMs, 0, 0]
      : [1, rule.attemptsUndelayedMax, rule.windowMs, rule.delayBaseMs, rule.delayMaxMs];
  return args.map(String);
}

function redisKey(key: LimitKey): string {
  return `${keyPrefix}${key.scope}:${key.id}`;
}

/** Error replies that mean "not now" (loading, busy script, failover); anything else from Redis is a bug. */
const transientReply = /^(LOADING|BUSY|READONLY|MASTERDOWN|TRYAGAIN|CLUSTERDOWN|NOREPLICAS|OOM)\b/;

/**
 * Every failure other than an error reply comes from the connection: refused, reset, closed,
 * timed out, offline queue full. Those, and transient replies, are the server being unavailable.
 */
function isUnavailable(error: unknown): boolean {
  if (error instanceof ErrorReply) return transientReply.test(error.message);
  return true;
}
