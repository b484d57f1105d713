/**
 * Notifying an app that is closed (issue 16): a Web Push message to the browser's push service,
 * which wakes the PWA's service worker to show it. The port knows subscriptions and notifications;
 * the adapter (web-push-sender.ts) speaks the Web Push protocol (RFC 8030, VAPID RFC 8292,
 * aes128gcm payload encryption RFC 8291).
 */

/** What the browser's `PushManager.subscribe()` returned, as its `toJSON()` gives it. */
export interface PushSubscription {
  /** The push service's URL for this browser (https). */
  readonly endpoint: string;
  readonly keys: {
    /** The browser's P-256 public key, uncompressed point, base64url. */
    readonly p256dh: string;
    /** The 16-byte authentication secret, base64url. */
    readonly auth: string;
  };
}

/** What the service worker shows (the JSON payload it receives). */
export interface PushNotification {
  readonly title: string;
  readonly body: string;
  /** Where a tap on the notification opens the app (a path of the app). */
  readonly url?: string;
  /** A newer notification with the same tag replaces the older one on the device. */
  readonly tag?: string;
}

export type PushUrgency = "very-low" | "low" | "normal" | "high";

export interface PushDelivery {
  /** How long the push service keeps the message for an offline device, seconds. */
  readonly ttlS?: number;
  readonly urgency?: PushUrgency;
  /** A newer message with the same topic replaces one not yet delivered (≤ 32 base64url characters). */
  readonly topic?: string;
}

/**
 * `accepted`: the push service took the message (it delivers when the device is reachable).
 * `gone`: the subscription is no more (404/410): forget it, do not retry.
 */
export type PushResult = "accepted" | "gone";

/** The push service refused the message or could not be reached; `statusCode` when it answered. */
export class PushFailedError extends Error {
  readonly statusCode: number | undefined;

  constructor(message: string, statusCode: number | undefined, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "PushFailedError";
    this.statusCode = statusCode;
  }
}

export interface PushSender {
  send(
    subscription: PushSubscription,
    notification: PushNotification,
    delivery?: PushDelivery,
  ): Promise<PushResult>;
}
