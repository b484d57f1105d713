/**
 * The hub across API processes (distributed mode): a push for a user connected to another process
 * reaches them through Redis pub/sub. Each process subscribes to a channel per user it holds a
 * socket for (subscribed on the user's first socket, unsubscribed on their last), so a push costs
 * one PUBLISH and reaches only the processes that hold that user: no process hears everyone's.
 *
 * `send` delivers to this process's sockets at once and publishes for the others; a process skips
 * what it published itself (the message names its sender), so nobody gets a push twice.
 * Pushes are best effort, as on one process: a user who is offline, or a process cut off from
 * Redis, misses them; what matters (requests, connections) is also readable over REST.
 */
import { connectRedisPair } from "../platform/redis.ts";
import type { Hub, Push } from "./hub.ts";

export const pushChannelPrefix = "ledgerflow:community:push:";

export interface RedisHubOptions {
  readonly url: string;
  /** This process's id, to skip its own messages. */
  readonly instanceId: string;
  readonly onConnectionError?: (error: Error) => void;
  readonly commandTimeoutMs?: number;
}

export interface RedisHub extends Hub {
  readonly ready: Promise<void>;
  close(): Promise<void>;
}

interface Envelope {
  readonly from: string;
  readonly push: Push;
}

export function createRedisHub(local: Hub, options: RedisHubOptions): RedisHub {
  const { client, subscriber, subscriberConnected } = connectRedisPair(options, 1_000);
  const report = (error: unknown) => options.onConnectionError?.(error as Error);
  const ready = subscriberConnected.then(() => undefined);
  ready.catch(report);

  const deliverRemote = (userId: string) => (message: string) => {
    const envelope = JSON.parse(message) as Envelope;
    if (envelope.from !== options.instanceId) local.send(userId, envelope.push);
  };
  return {
    ready,
    send(userId, push) {
      const here = local.send(userId, push);
      const envelope: Envelope = { from: options.instanceId, push };
      client.publish(pushChannelPrefix + userId, JSON.stringify(envelope)).catch(report);
      return here;
    },
    join(userId, sink) {
      const leave = local.join(userId, sink);
      // The user's first socket here: listen for what other processes send them.
      if (local.sizeOf(userId) === 1)
        void ready
          .then(() => subscriber.subscribe(pushChannelPrefix + userId, deliverRemote(userId)))
          .catch(report);
      return () => {
        const last = leave();
        if (last) void ready.then(() => subscriber.unsubscribe(pushChannelPrefix + userId)).catch(report);
        return last;
      };
    },
    size: () => local.size(),
    sizeOf: (userId) => local.sizeOf(userId),
    async close() {
      await Promise.allSettled([subscriber.quit(), client.quit()]);
    },
  };
}
