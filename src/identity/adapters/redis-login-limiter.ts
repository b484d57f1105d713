import { createHash } from "node:crypto";
import { createClient, ErrorReply } from "@redis/client";
import type { Clock } from "../../platform/clock.ts";
import { assert, UnavailableError } from "../../platform/errors.ts";
import type { LimitKey, LimitRules, LoginLimiter } from "../login-limiter.ts";
import { defaultLimitRules } from "../login-limiter.ts";

/**
 * The login limiter of distributed mode: the same fixed windows as `createMemoryLoginLimiter`, kept
 * in one Redis so that every API process behind the balancer draws on one budget per key.
 *
 * Each key is a hash `ledgerflow:login:<scope>:<id>` = { startMs, failures }. `admit` and `forgive`
 * are each one Lua script, so a check and its increments are atomic across processes. Windows are
 * judged by the caller's injected clock (passed in as ARGV), never by Redis TIME, so a manual clock
 * drives this adapter exactly as it drives the memory one; PEXPIRE (set to the window when it
 * starts) only lets Redis drop a window once it is over. All keys of one call go to one server, so
 * this expects a single Redis (or a primary with replicas), not Redis Cluster.
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
const reconnectDelayBaseMs = 50;

/**
 * KEYS: one hash per limit key. ARGV[1]: now (ms, the caller's clock); ARGV[2i], ARGV[2i + 1]:
 * failuresMax and windowMs of KEYS[i]. Returns 0 after counting one attempt against every key, or,
 * counting nothing, the seconds until every blocked key's window is over.
 */
const admitScript = `
local now = tonumber(ARGV[1])
local waitMs = 0
for i, key in ipairs(KEYS) do
  local failuresMax = tonumber(ARGV[2 * i])
  local windowMs = tonumber(ARGV[2 * i + 1])
  local window = redis.call('HMGET', key, 'startMs', 'failures')
  local startMs = tonumber(window[1])
  local failures = tonumber(window[2])
  if startMs and failures and now - startMs < windowMs and failures >= failuresMax then
    waitMs = math.max(waitMs, startMs + windowMs - now)
  end
end
if waitMs > 0 then
  return math.ceil(waitMs / 1000)
end
for i, key in ipairs(KEYS) do
  local windowMs = tonumber(ARGV[2 * i + 1])
  local startMs = tonumber(redis.call('HGET', key, 'startMs'))
  if startMs and now - startMs < windowMs then
    redis.call('HINCRBY', key, 'failures', 1)
  else
    redis.call('HSET', key, 'startMs', ARGV[1], 'failures', 1)
    redis.call('PEXPIRE', key, windowMs)
  end
end
return 0
`;

/** KEYS as for admit. ARGV[1]: now (ms); ARGV[i + 1]: windowMs of KEYS[i]. Never below zero. */
const forgiveScript = `
local now = tonumber(ARGV[1])
for i, key in ipairs(KEYS) do
  local windowMs = tonumber(ARGV[i + 1])
  local window = redis.call('HMGET', key, 'startMs', 'failures')
  local startMs = tonumber(window[1])
  local failures = tonumber(window[2])
  if startMs and failures and now - startMs < windowMs and failures > 0 then
    redis.call('HINCRBY', key, 'failures', -1)
  end
end
return 0
`;

interface Script {
  readonly source: string;
  readonly sha1: string;
}

const script = (source: string): Script => ({
  source,
  sha1: createHash("sha1").update(source).digest("hex"),
});

const admitLua = script(admitScript);
const forgiveLua = script(forgiveScript);

/**
 * Connects in the background and returns at once: commands issued before the connection is ready
 * wait for it (bounded by `commandTimeoutMs`), so start-up does not depend on Redis being up, and
 * only logins fail (503) while it is down.
 */
export function createRedisLoginLimiter(clock: Clock, options: RedisLoginLimiterOptions): RedisLoginLimiter {
  const rules = options.rules ?? defaultLimitRules;
  for (const rule of Object.values(rules)) {
    assert(
      Number.isSafeInteger(rule.failuresMax) && rule.failuresMax > 0,
      "failuresMax is a positive integer",
    );
    assert(Number.isSafeInteger(rule.windowMs) && rule.windowMs > 0, "windowMs is a positive integer");
  }
  const reconnectDelayMaxMs = options.reconnectDelayMaxMs ?? 2_000;
  const client = createClient({
    url: options.url,
    socket: {
      connectTimeout: options.connectTimeoutMs ?? 2_000,
      reconnectStrategy: (retries) => Math.min(reconnectDelayBaseMs * 2 ** retries, reconnectDelayMaxMs),
    },
    commandOptions: { timeout: options.commandTimeoutMs ?? 1_000 },
    commandsQueueMaxLength: options.commandsQueuedMax ?? 10_000,
  });
  // An 'error' event without a listener would crash the process; the client reconnects by itself.
  client.on("error", (error: Error) => options.onConnectionError?.(error));
  // With a reconnect strategy that never gives up, connect() settles only once connected or closed.
  client.connect().catch((error: Error) => options.onConnectionError?.(error));

  async function run(lua: Script, keys: readonly LimitKey[], args: readonly string[]): Promise<unknown> {
    const call = { keys: keys.map(redisKey), arguments: [String(clock.nowMs()), ...args] };
    try {
      try {
        return await client.evalSha(lua.sha1, call);
      } catch (error) {
        // The script cache is empty after a Redis restart or SCRIPT FLUSH: send the source once.
        if (!(error instanceof ErrorReply && error.message.startsWith("NOSCRIPT"))) throw error;
        return await client.eval(lua.source, call);
      }
    } catch (error) {
      throw isUnavailable(error) ? new UnavailableError("Redis (login limiter)", { cause: error }) : error;
    }
  }

  return {
    async admit(keys) {
      if (keys.length === 0) return 0;
      const args = keys.flatMap((key) => {
        const rule = rules[key.scope];
        return [String(rule.failuresMax), String(rule.windowMs)];
      });
      const waitS = await run(admitLua, keys, args);
      assert(typeof waitS === "number" && Number.isSafeInteger(waitS) && waitS >= 0, "admit answers seconds");
      return waitS;
    },

    async forgive(keys) {
      if (keys.length === 0) return;
      await run(
        forgiveLua,
        keys,
        keys.map((key) => String(rules[key.scope].windowMs)),
      );
    },

    async close() {
      // destroy, not close: close() waits for replies that never come while Redis is down.
      if (client.isOpen) client.destroy();
    },
  };
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
