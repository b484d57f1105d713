/**
 * Wakes a closed app: the pushes that need the user's answer or tell them an outcome (a request for
 * an officer; a connection, a decline or a request that expired unanswered for a citizen) also go out as Web Push to every browser the
 * user subscribed. The service worker shows one only when no window of the app is visible, so an
 * open app is not told twice. Best effort: a failed push is logged, a gone subscription forgotten,
 * and nothing waits for the push services.
 */
import type pino from "pino";
import type { Hub, Push } from "../hub.ts";
import type { PushNotification, PushSender } from "./port.ts";
import type { PushSubscriptions } from "./subscriptions.ts";

export interface WebPushDeps {
  readonly sender: PushSender;
  readonly subscriptions: PushSubscriptions;
  readonly logger: pino.Logger;
}

const nameIn = (value: unknown): string => {
  const name = (value as { displayName?: unknown } | null)?.displayName;
  return typeof name === "string" ? name : "A citizen";
};

/** What the device shows for a push, or undefined for pushes an open app alone needs. */
export function notificationOf(push: Push): PushNotification | undefined {
  switch (push.type) {
    case "request":
      return {
        title: "Someone wants to connect",
        body: `${nameIn(push.citizen)} asks to connect with you. Open the app to answer.`,
        url: "/community",
        tag: "community-request",
      };
    case "connection":
      return {
        title: "Connected",
        body: "Your connection was accepted.",
        url: "/community",
        tag: "community",
      };
    case "request_expired":
      return {
        title: "No answer this time",
        body: "The officer did not answer your request in time.",
        url: "/community",
        tag: "community",
      };
    case "declined":
      return {
        title: "Not this time",
        body: "The officer declined your request.",
        url: "/community",
        tag: "community",
      };
    default:
      return undefined;
  }
}

async function pushTo(deps: WebPushDeps, userId: string, notification: PushNotification): Promise<void> {
  for (const subscription of await deps.subscriptions.of(userId)) {
    try {
      const result = await deps.sender.send(subscription, notification, { urgency: "high" });
      if (result === "gone") await deps.subscriptions.forget(subscription.endpoint);
    } catch (error) {
      deps.logger.warn({ err: error }, "community: a Web Push failed");
    }
  }
}

export function webPushingHub(hub: Hub, deps: WebPushDeps): Hub {
  return {
    ...hub,
    send(userId, push) {
      const here = hub.send(userId, push);
      const notification = notificationOf(push);
      if (notification !== undefined)
        pushTo(deps, userId, notification).catch((error: unknown) =>
          deps.logger.warn({ err: error }, "community: Web Push subscriptions unreadable"),
        );
      return here;
    },
  };
}
