/**
 * Web Push for Hey Blue! (the server side: /v1/community/push/*): with it on, a closed app is woken
 * by its service worker (public/sw.js) when a request or a connection concerns the user. This
 * browser's subscription is made with the server's VAPID public key and registered with the API;
 * turning it off removes it from the API, then from the browser.
 */
import { ApiError, request } from "./api.ts";

/** Whether this browser can receive Web Push at all (a service worker, PushManager, notifications). */
export function pushSupported(): boolean {
  return (
    typeof window !== "undefined" &&
    window.isSecureContext &&
    "serviceWorker" in navigator &&
    "PushManager" in window &&
    "Notification" in window
  );
}

/** The server's VAPID public key, or undefined when the server has Web Push off (or the user may not use it). */
export async function serverPushKey(signal?: AbortSignal): Promise<string | undefined> {
  try {
    const answer = await request<{ publicKey: string | null }>("/v1/community/push/public-key", {
      ...(signal ? { signal } : {}),
    });
    return answer.body.publicKey ?? undefined;
  } catch (error) {
    if (error instanceof ApiError && error.status === 403) return undefined;
    throw error;
  }
}

/** base64url (the VAPID key as the server gives it) → the bytes PushManager.subscribe takes. */
export function keyBytes(base64url: string): Uint8Array<ArrayBuffer> {
  const base64 = base64url.replaceAll("-", "+").replaceAll("_", "/");
  const binary = atob(base64 + "=".repeat((4 - (base64.length % 4)) % 4));
  const bytes = new Uint8Array(new ArrayBuffer(binary.length));
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

/** How long turning push on waits for the app's service worker (it installs on the first visit). */
const workerWaitMs = 10_000;

/** The app's service worker registration, once active; an error when there is none in time. */
async function activeRegistration(): Promise<ServiceWorkerRegistration> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error("The app's service worker isn't running. Reload the page and try again.")),
      workerWaitMs,
    );
  });
  try {
    return await Promise.race([navigator.serviceWorker.ready, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** This browser's current push subscription, if it has one (without waiting for a worker). */
export async function currentSubscription(): Promise<PushSubscription | null> {
  const registration = await navigator.serviceWorker.getRegistration();
  return (await registration?.pushManager.getSubscription()) ?? null;
}

/** What the API stores of a subscription (its `toJSON()` also carries fields the API refuses). */
function registrationBody(subscription: PushSubscription) {
  const { keys } = subscription.toJSON();
  return { endpoint: subscription.endpoint, keys: { p256dh: keys?.p256dh ?? "", auth: keys?.auth ?? "" } };
}

/**
 * Subscribes this browser with the server's key and registers the subscription with the API. Call
 * after permission was granted. A subscription the API refused is undone in the browser too.
 */
export async function turnPushOn(publicKey: string): Promise<void> {
  const registration = await activeRegistration();
  const subscription = await registration.pushManager
    .subscribe({ userVisibleOnly: true, applicationServerKey: keyBytes(publicKey) })
    .catch((error: unknown) => {
      // E.g. no push service reachable from this browser ("Registration failed - …").
      const why = error instanceof Error ? ` (${error.message})` : "";
      throw new Error(`This browser couldn't set up notifications${why}.`);
    });
  try {
    await request("/v1/community/push/subscriptions", {
      method: "PUT",
      body: registrationBody(subscription),
    });
  } catch (error) {
    await subscription.unsubscribe().catch(() => false);
    throw error;
  }
}

/** Removes this browser's subscription from the API (already gone there is fine), then from the browser. */
export async function turnPushOff(): Promise<void> {
  const subscription = await currentSubscription();
  if (subscription === null) return;
  try {
    await request("/v1/community/push/subscriptions", {
      method: "DELETE",
      body: { endpoint: subscription.endpoint },
    });
  } catch (error) {
    if (!(error instanceof ApiError && error.status === 404)) throw error;
  }
  await subscription.unsubscribe();
}
