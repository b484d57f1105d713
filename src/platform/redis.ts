/**
 * Redis connections as every adapter of distributed mode opens them (login limiter, session
 * revocations, screening lists, nearby indexes, the community fan-out), and Lua scripts run by
 * their SHA-1. One place for what each used to spell out: connect in the background (start-up does
 * not depend on Redis being up; commands wait for the connection, bounded by their timeout),
 * reconnect with capped backoff, and always listen for 'error' (an 'error' event without a
 * listener would crash the process).
 */
import { createHash } from "node:crypto";
import { createClient, ErrorReply } from "@redis/client";

export interface RedisConnectionOptions {
  readonly url: string;
  /** Default 2 s. */
  readonly connectTimeoutMs?: number;
  /** How long a command may wait, for the connection included; the adapter's default otherwise. */
  readonly commandTimeoutMs?: number;
  /** Commands queued while disconnected before new ones fail at once (unbounded when unset). */
  readonly commandsQueuedMax?: number;
  /** Default 2 s. */
  readonly reconnectDelayMaxMs?: number;
  /** Told of each connection error; the client reconnects by itself. */
  readonly onConnectionError?: (error: Error) => void;
}

const reconnectDelayBaseMs = 50;

/** A client connecting in the background; returned at once. */
export function connectRedis(options: RedisConnectionOptions, defaultCommandTimeoutMs: number) {
  const reconnectDelayMaxMs = options.reconnectDelayMaxMs ?? 2_000;
  const client = createClient({
    url: options.url,
    socket: {
      connectTimeout: options.connectTimeoutMs ?? 2_000,
      reconnectStrategy: (retries) => Math.min(reconnectDelayBaseMs * 2 ** retries, reconnectDelayMaxMs),
    },
    commandOptions: { timeout: options.commandTimeoutMs ?? defaultCommandTimeoutMs },
    ...(options.commandsQueuedMax === undefined ? {} : { commandsQueueMaxLength: options.commandsQueuedMax }),
  });
  client.on("error", (error: Error) => options.onConnectionError?.(error));
  // With a reconnect strategy that never gives up, connect() settles only once connected or closed.
  client.connect().catch((error: Error) => options.onConnectionError?.(error));
  return client;
}

export type RedisClient = ReturnType<typeof connectRedis>;

/** A client and a second connection for SUBSCRIBE (a subscribed connection runs nothing else). */
export function connectRedisPair(options: RedisConnectionOptions, defaultCommandTimeoutMs: number) {
  const client = connectRedis(options, defaultCommandTimeoutMs);
  const subscriber = client.duplicate();
  subscriber.on("error", (error: Error) => options.onConnectionError?.(error));
  const subscriberConnected = subscriber.connect();
  subscriberConnected.catch((error: Error) => options.onConnectionError?.(error));
  return { client, subscriber, subscriberConnected };
}

export interface RedisScript {
  readonly source: string;
  readonly sha1: string;
}

export const redisScript = (source: string): RedisScript => ({
  source,
  sha1: createHash("sha1").update(source).digest("hex"),
});

/** Runs a script by its SHA-1, sending its source once when Redis lacks it. */
export async function runRedisScript(
  client: RedisClient,
  script: RedisScript,
  call: { keys: string[]; arguments: string[] },
): Promise<unknown> {
  try {
    return await client.evalSha(script.sha1, call);
  } catch (error) {
    // The script cache is empty after a Redis restart or SCRIPT FLUSH: send the source once.
    if (!(error instanceof ErrorReply && error.message.startsWith("NOSCRIPT"))) throw error;
    return await client.eval(script.source, call);
  }
}
