/**
 * The Web Push adapter, on `web-push` (the web-push-libs project's Node library): it signs a VAPID
 * JWT for the push service's origin, encrypts the payload for the browser's keys (aes128gcm) and
 * POSTs it. The VAPID private key stays in this closure: never logged, never in an error.
 */
import type { Agent } from "node:https";
import webPush from "web-push";
import type { VapidKeys } from "./config.ts";
import {
  type PushDelivery,
  PushFailedError,
  type PushNotification,
  type PushResult,
  type PushSender,
  type PushSubscription,
} from "./port.ts";

export interface WebPushSenderOptions {
  readonly vapid: VapidKeys;
  /** Default `ttlS` of a message (default 900 s: a notification about someone nearby goes stale). */
  readonly ttlS?: number;
  /** Bound on one request (socket inactivity), ms (default 10,000). */
  readonly timeoutMs?: number;
  /** An HTTPS agent: keep-alive to the push services, or a private CA (the loopback stand-in's). */
  readonly agent?: Agent;
}

/** A push message's record is 4,096 bytes; encryption takes 103 of them (RFC 8291 §4). */
export const payloadBytesMax = 3_993;

function payloadOf(notification: PushNotification): string {
  const payload = JSON.stringify(notification);
  if (Buffer.byteLength(payload) > payloadBytesMax)
    throw new RangeError(`a push notification is at most ${payloadBytesMax} bytes of JSON`);
  return payload;
}

function assertEndpoint(endpoint: string): void {
  let url: URL;
  try {
    url = new URL(endpoint);
  } catch {
    throw new RangeError("a push subscription's endpoint must be an https URL");
  }
  if (url.protocol !== "https:") throw new RangeError("a push subscription's endpoint must be an https URL");
}

/** web-push rejects with a WebPushError carrying the push service's status. */
function statusOf(error: unknown): number | undefined {
  const status = (error as { statusCode?: unknown } | null)?.statusCode;
  return typeof status === "number" ? status : undefined;
}

function assertDelivery(delivery: PushDelivery): void {
  if (delivery.ttlS !== undefined && !(Number.isInteger(delivery.ttlS) && delivery.ttlS >= 0))
    throw new RangeError("ttlS must be an integer ≥ 0");
  if (delivery.topic !== undefined && !/^[A-Za-z0-9_-]{1,32}$/.test(delivery.topic))
    throw new RangeError("a push topic is 1 to 32 base64url characters");
}

export function createWebPushSender(options: WebPushSenderOptions): PushSender {
  const { subject, publicKey, privateKey } = options.vapid;
  // Validates the keys and subject once, at start, rather than at the first notification.
  webPush.getVapidHeaders("https://push.example", subject, publicKey, privateKey, "aes128gcm");
  const vapidDetails = { subject, publicKey, privateKey };
  return {
    async send(subscription: PushSubscription, notification: PushNotification, delivery: PushDelivery = {}) {
      assertEndpoint(subscription.endpoint);
      assertDelivery(delivery);
      const payload = payloadOf(notification);
      try {
        await webPush.sendNotification(subscription, payload, {
          vapidDetails,
          TTL: delivery.ttlS ?? options.ttlS ?? 900,
          urgency: delivery.urgency ?? "normal",
          ...(delivery.topic === undefined ? {} : { topic: delivery.topic }),
          contentEncoding: "aes128gcm",
          timeout: options.timeoutMs ?? 10_000,
          ...(options.agent === undefined ? {} : { agent: options.agent }),
        });
        return "accepted" satisfies PushResult;
      } catch (error) {
        const statusCode = statusOf(error);
        if (statusCode === 404 || statusCode === 410) return "gone" satisfies PushResult;
        const why = statusCode === undefined ? "could not be reached" : `answered ${statusCode}`;
        // The cause is web-push's error: the push service's status, headers and body, no key.
        throw new PushFailedError(`the push service ${why}`, statusCode, { cause: error });
      }
    },
  };
}
