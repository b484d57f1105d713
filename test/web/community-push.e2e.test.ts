/**
 * The Community page's Web Push switch ("Notify me when the app is closed") in Chromium against the
 * real platform (Web Push configured with a generated VAPID key pair).
 *
 * What headless Chromium cannot do here: `pushManager.subscribe()` itself. Without a browser
 * vendor's push service (Chromium registers with Google's, which this loopback-only machine cannot
 * reach, and headless Chromium refuses before trying) it rejects with "AbortError: Registration
 * failed - permission denied" even with the notifications permission granted; the last test shows
 * the switch handling exactly that. The other tests replace PushManager's `subscribe` and
 * `getSubscription` in the page with a stand-in that answers a subscription made by the loopback
 * push service (src/community/push/loopback-push-service.ts: a real P-256 key and auth secret for
 * the server's VAPID key, as a browser would make), and record what the page asked of it. The
 * permission prompt, the service worker, the API calls and the server's storage are all real.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { BrowserContext, Page } from "playwright-core";
import webpush from "web-push";
import {
  type LoopbackPushService,
  startLoopbackPushService,
} from "../../src/community/push/loopback-push-service.ts";
import {
  assertAccessible,
  desktop,
  login,
  phone,
  platformAndBrowser,
  signInThroughUi,
  skipReason,
  testPassword,
  watchConsole,
} from "./browser.ts";
import { call, participant } from "./community-participants.ts";

const reason = await skipReason();
const vapid = webpush.generateVAPIDKeys();
const switchName = "Notify me when the app is closed";

/** A citizen signed up through the API (role granted by the admin); their username and token. */
async function citizen(base: string): Promise<{ username: string; token: string }> {
  const username = await participant(base, "push-citizen", "citizen");
  return { username, token: await login(base, username, testPassword) };
}

async function storedEndpoints(base: string, token: string): Promise<string[]> {
  const answer = await call(base, "GET", "/v1/community/push/subscriptions", token);
  return (answer.items as { endpoint: string }[]).map((item) => item.endpoint);
}

interface StandIn {
  readonly subscribed: { userVisibleOnly: boolean; applicationServerKey: string }[];
  readonly unsubscribed: number;
}

/**
 * In the page, before the app runs: PushManager answers `device` (kept in sessionStorage, so a
 * reload still has it, as a browser keeps its subscription) and records the calls in
 * `window.pushStandIn`.
 */
async function replacePushManager(context: BrowserContext, device: { endpoint: string; keys: object }) {
  await context.addInitScript((subscription) => {
    const calls = { subscribed: [] as unknown[], unsubscribed: 0 };
    (window as unknown as { pushStandIn: typeof calls }).pushStandIn = calls;
    const held = () => sessionStorage.getItem("push-stand-in") === "subscribed";
    const base64url = (bytes: ArrayBuffer | ArrayBufferView) => {
      const view = bytes instanceof ArrayBuffer ? new Uint8Array(bytes) : new Uint8Array(bytes.buffer);
      return btoa(String.fromCharCode(...view))
        .replaceAll("+", "-")
        .replaceAll("/", "_")
        .replace(/=+$/, "");
    };
    const made = {
      endpoint: subscription.endpoint,
      expirationTime: null,
      toJSON: () => ({ endpoint: subscription.endpoint, expirationTime: null, keys: subscription.keys }),
      unsubscribe: async () => {
        calls.unsubscribed++;
        sessionStorage.removeItem("push-stand-in");
        return true;
      },
    };
    PushManager.prototype.subscribe = async (options?: PushSubscriptionOptionsInit) => {
      const key = options?.applicationServerKey;
      calls.subscribed.push({
        userVisibleOnly: options?.userVisibleOnly === true,
        applicationServerKey: typeof key === "string" || key == null ? key : base64url(key),
      });
      sessionStorage.setItem("push-stand-in", "subscribed");
      return made as unknown as PushSubscription;
    };
    PushManager.prototype.getSubscription = async () =>
      (held() ? made : null) as unknown as PushSubscription | null;
  }, device);
}

const standIn = (page: Page) =>
  page.evaluate(() => (window as unknown as { pushStandIn: StandIn }).pushStandIn);

/**
 * The Community page, signed in. A grant denies every permission it does not name (Playwright), so
 * `geolocation: false` leaves the notifications permission unasked ("default").
 */
async function communityPage(
  context: BrowserContext,
  base: string,
  username: string,
  options: { geolocation: boolean } = { geolocation: true },
): Promise<Page> {
  if (options.geolocation) {
    await context.grantPermissions(["geolocation"], { origin: base });
    await context.setGeolocation({ latitude: 52.37, longitude: 4.89, accuracy: 5 });
  }
  const page = await context.newPage();
  await signInThroughUi(page, base, username, testPassword);
  await page.getByRole("link", { name: "Community" }).first().click();
  await page.getByRole("heading", { name: "Your points" }).waitFor();
  // The app's service worker (registered on load) is what push subscriptions belong to.
  await page.evaluate(() => navigator.serviceWorker.ready.then(() => true));
  return page;
}

const pushState = (page: Page) => page.getByTestId("push-state");

async function waitForState(page: Page, state: string): Promise<void> {
  await page.locator(`[data-testid=push-state][data-state=${state}]`).waitFor({ timeout: 15_000 });
  await page.getByText("Working…").waitFor({ state: "hidden" });
}

describe("the Web Push switch with push configured", { skip: reason ?? false, timeout: 180_000 }, () => {
  const started = platformAndBrowser({
    community: {
      pushVapidSubject: "mailto:ops@example.com",
      pushVapidPublicKey: vapid.publicKey,
      pushVapidPrivateKey: vapid.privateKey,
    },
  });
  let pushService: LoopbackPushService;
  before(async () => {
    pushService = await startLoopbackPushService();
  });
  after(() => pushService?.close());

  it("turning it on asks permission, subscribes with the server's key and registers it; off removes it", async () => {
    const base = started.platform.url;
    const user = await citizen(base);
    const device = pushService.subscribe(vapid.publicKey);
    const context = await started.browser.newContext(phone);
    const consoleWatch = watchConsole(context);
    await context.grantPermissions(["notifications"], { origin: base });
    await replacePushManager(context, device);
    const page = await communityPage(context, base, user.username);

    await page.getByRole("heading", { name: "Notifications" }).waitFor();
    const button = page.getByRole("button", { name: switchName });
    await waitForState(page, "off");
    assert.equal(await button.getAttribute("aria-pressed"), "false");
    assert.match((await pushState(page).textContent()) ?? "", /^Off/);
    await assertAccessible(page, "push switch, off");

    await button.click();
    await waitForState(page, "on");
    assert.equal(await button.getAttribute("aria-pressed"), "true");
    assert.match((await pushState(page).textContent()) ?? "", /^On/);
    assert.deepEqual((await standIn(page)).subscribed, [
      { userVisibleOnly: true, applicationServerKey: vapid.publicKey },
    ]);
    assert.deepEqual(await storedEndpoints(base, user.token), [device.endpoint], "the server stored it");
    await assertAccessible(page, "push switch, on");

    // The browser keeps its subscription: a reload shows the switch on.
    await page.reload();
    await waitForState(page, "on");

    await page.getByRole("button", { name: switchName }).click();
    await waitForState(page, "off");
    assert.equal(await page.getByRole("button", { name: switchName }).getAttribute("aria-pressed"), "false");
    assert.deepEqual(await storedEndpoints(base, user.token), [], "the server removed it");
    assert.equal((await standIn(page)).unsubscribed, 1, "the browser's subscription is undone");
    assert.deepEqual(consoleWatch.errors, []);
    await context.close();
  });

  it("a denied permission: the switch says blocked, is disabled, and nothing is subscribed or stored", async () => {
    const base = started.platform.url;
    const user = await citizen(base);
    const context = await started.browser.newContext(desktop);
    // No grant at all: the permission is unasked, and headless Chromium answers the prompt "denied".
    await replacePushManager(context, pushService.subscribe(vapid.publicKey));
    const page = await communityPage(context, base, user.username, { geolocation: false });
    assert.equal(await page.evaluate(() => Notification.permission), "default");
    await waitForState(page, "off");
    await page.getByRole("button", { name: switchName }).click();
    await waitForState(page, "denied");
    assert.match((await pushState(page).textContent()) ?? "", /^Blocked/);
    assert.equal(await page.getByRole("button", { name: switchName }).isDisabled(), true);
    assert.deepEqual((await standIn(page)).subscribed, []);
    assert.deepEqual(await storedEndpoints(base, user.token), []);
    // Denied stays denied on the next visit, before any click.
    await page.reload();
    await waitForState(page, "denied");
    await context.close();
  });

  it("a browser without Push API is told so, with no button", async () => {
    const base = started.platform.url;
    const user = await citizen(base);
    const context = await started.browser.newContext(desktop);
    await context.addInitScript(() => {
      delete (window as unknown as { PushManager?: unknown }).PushManager;
    });
    const page = await communityPage(context, base, user.username);
    await waitForState(page, "unsupported");
    assert.match((await pushState(page).textContent()) ?? "", /can't notify you/);
    assert.equal(await page.getByRole("button", { name: switchName }).count(), 0);
    await context.close();
  });

  it("headless Chromium's own pushManager.subscribe fails here: the switch says why, stays off, stores nothing", async () => {
    const base = started.platform.url;
    const user = await citizen(base);
    const context = await started.browser.newContext(desktop);
    await context.grantPermissions(["notifications"], { origin: base });
    const page = await communityPage(context, base, user.username);
    await waitForState(page, "off");
    await page.getByRole("button", { name: switchName }).click();
    const error = page.getByRole("alert").filter({ hasText: "Registration failed" });
    await error.waitFor({ timeout: 15_000 });
    await waitForState(page, "off");
    assert.equal(await page.getByRole("button", { name: switchName }).getAttribute("aria-pressed"), "false");
    assert.deepEqual(await storedEndpoints(base, user.token), []);
    await context.close();
  });
});

describe("the Web Push switch with push off on the server", {
  skip: reason ?? false,
  timeout: 120_000,
}, () => {
  const started = platformAndBrowser();

  it("is not shown", async () => {
    const base = started.platform.url;
    const user = await citizen(base);
    const context = await started.browser.newContext(desktop);
    const consoleWatch = watchConsole(context);
    await context.grantPermissions(["notifications"], { origin: base });
    const asked = new Promise<number>((resolve) =>
      context.on("response", (response) => {
        if (response.url().endsWith("/v1/community/push/public-key")) resolve(response.status());
      }),
    );
    const page = await communityPage(context, base, user.username);
    assert.equal(await asked, 200, "the page asked the server");
    assert.deepEqual(await call(base, "GET", "/v1/community/push/public-key", user.token), {
      publicKey: null,
    });
    await page.waitForTimeout(300);
    assert.equal(await page.getByRole("heading", { name: "Notifications" }).count(), 0);
    assert.equal(await page.getByRole("button", { name: switchName }).count(), 0);
    assert.deepEqual(consoleWatch.errors, [], "asking costs no failed request");
    await context.close();
  });
});
