import type { Clock } from "../../platform/clock.ts";
import { UnavailableError } from "../../platform/errors.ts";
import { connectRedisPair } from "../../platform/redis.ts";
import { createLocalRevocations, type RevocationSet } from "./revocations.ts";

/** The channel every API instance listens on; a message is one revoked session id. */
export const revocationChannel = "ledgerflow:identity:session-revoked";

export interface RedisRevocationsOptions {
  readonly url: string;
  /** How long a revocation matters: the access token lifetime plus the clock tolerance. */
  readonly keepMs: number;
  readonly onConnectionError?: (error: Error) => void;
  readonly commandTimeoutMs?: number;
}

/**
 * Revocations shared through Redis pub/sub: `revoke` adds locally and publishes; every instance's
 * subscriber adds what it hears. Reads never touch the network (one Set lookup per request).
 * A revocation published while an instance was disconnected is not heard by it; that instance
 * reloads revocations from PostgreSQL when it starts (module.ts), and the window is bounded by the
 * access-token lifetime. `revoke` throws UnavailableError when Redis is down, so the caller knows
 * the revocation did not reach the other instances (the session row is revoked either way).
 */
export async function createRedisRevocations(
  clock: Clock,
  options: RedisRevocationsOptions,
): Promise<RevocationSet & { readonly ready: Promise<void> }> {
  const local = createLocalRevocations(clock, options.keepMs);
  const { client, subscriber, subscriberConnected } = connectRedisPair(options, 1_000);
  const ready = (async () => {
    await subscriberConnected;
    await subscriber.subscribe(revocationChannel, (message) => local.add(message));
  })();
  ready.catch((error: Error) => options.onConnectionError?.(error));
  return {
    ready,
    async revoke(sessionId) {
      local.add(sessionId);
      try {
        await client.publish(revocationChannel, sessionId);
      } catch (error) {
        throw new UnavailableError("Redis (session revocations)", { cause: error });
      }
    },
    isRevoked: (sessionId) => local.has(sessionId),
    remember: (sessionId) => local.add(sessionId),
    async close() {
      await Promise.allSettled([subscriber.quit(), client.quit()]);
    },
  };
}
