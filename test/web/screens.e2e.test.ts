/**
 * Every main page at phone (390×844) and desktop (1440×900) size, with real data made through the
 * UI and the API: no console errors anywhere, and a screenshot of each into docs/screenshots/ for
 * the README. Also checks the PWA basics (manifest, service worker, offline page) and the admin
 * dashboard's live charts.
 */
import assert from "node:assert/strict";
import { mkdir } from "node:fs/promises";
import { after, before, describe, it } from "node:test";
import type { Browser, BrowserContextOptions, Page } from "playwright-core";
import {
  adminCredentials,
  depositAsAdmin,
  desktop,
  launchBrowser,
  openAccountThroughUi,
  type Platform,
  phone,
  registerThroughUi,
  screenshotsDir,
  signInThroughUi,
  skipReason,
  startPlatform,
  transferThroughUi,
  uniqueUsername,
  watchConsole,
} from "./browser.ts";

const reason = await skipReason();

async function shoot(page: Page, name: string): Promise<void> {
  await page.evaluate(() => document.fonts.ready);
  // Let entrance animations and live flashes settle so screenshots are stable.
  await page.waitForTimeout(1800);
  await page.screenshot({ path: new URL(`${name}.png`, screenshotsDir).pathname });
}

describe("main pages at phone and desktop size", { skip: reason ?? false, timeout: 240_000 }, () => {
  let platform: Platform;
  let browser: Browser;

  before(async () => {
    platform = await startPlatform();
    browser = await launchBrowser();
    await mkdir(screenshotsDir, { recursive: true });
  });

  after(async () => {
    await browser?.close();
    await platform?.stop();
  });

  for (const [size, options] of [
    ["phone", phone],
    ["desktop", desktop],
  ] as const satisfies readonly (readonly [string, BrowserContextOptions])[]) {
    it(`wallet pages render without console errors (${size})`, async () => {
      const base = platform.url;
      const context = await browser.newContext(options);
      const console = watchConsole(context);
      const page = await context.newPage();

      await page.goto(`${base}/signin`);
      await page.getByRole("heading", { name: "Sign in" }).waitFor();
      await shoot(page, `${size}-signin`);

      // A friend's account to send to, then our own user with two funded accounts and some history.
      const friendContext = await browser.newContext(options);
      const friendPage = await friendContext.newPage();
      await registerThroughUi(friendPage, base, uniqueUsername("friend"));
      const friend = await openAccountThroughUi(friendPage, base);
      await friendContext.close();

      await registerThroughUi(page, base, uniqueUsername("dana"));
      const main = await openAccountThroughUi(page, base, "EUR");
      await shoot(page, `${size}-account-opened`);
      const points = await openAccountThroughUi(page, base, "PTS");
      await depositAsAdmin(base, main.iban, "250000");
      await depositAsAdmin(base, points.iban, "1200");
      for (const [amount, description] of [
        ["42.50", "Dinner at Moeders"],
        ["9.99", "Music subscription"],
        ["120", "Rent share"],
      ] as const) {
        const sent = await transferThroughUi(page, base, {
          from: main.iban,
          to: friend.iban,
          amount,
          description,
        });
        assert.equal(sent.status, "confirmed");
      }
      await shoot(page, `${size}-transfer-confirmed`);

      await page.goto(`${base}/`);
      await page.locator(".account-card").nth(1).waitFor();
      await page.locator(".account-card .amount").filter({ hasText: "€2,327.51" }).waitFor();
      await shoot(page, `${size}-accounts`);

      await page.goto(`${base}/accounts/${main.iban}`);
      await page.getByTestId("transactions").getByText("Rent share").waitFor();
      await shoot(page, `${size}-history`);

      await page.goto(`${base}/transfer?from=${main.iban}`);
      await page.getByLabel("To (IBAN)").fill(friend.iban);
      await page.getByLabel("Amount").fill("15");
      await page.getByLabel("Description (optional)").fill("Cinema tickets");
      await shoot(page, `${size}-transfer`);

      // Keyboard: the skip link is the first stop and moves focus to the content.
      await page.goto(`${base}/`);
      // Wait for the app to render: a Tab pressed before that lands on the bare document (seen under load).
      await page.locator(".account-card").first().waitFor();
      await page.keyboard.press("Tab");
      assert.equal(await page.evaluate(() => document.activeElement?.textContent), "Skip to content");

      await page.getByRole("button", { name: "Notifications" }).click();
      await page.getByRole("dialog", { name: "Notifications" }).waitFor();
      await shoot(page, `${size}-notifications`);
      await page.keyboard.press("Escape");

      assert.deepEqual(console.errors, []);
      await context.close();
    });
  }

  it("is an installable PWA with an offline page", async () => {
    const base = platform.url;
    const context = await browser.newContext(desktop);
    const console = watchConsole(context);
    const page = await context.newPage();
    await page.goto(`${base}/signin`);
    const manifest = await page.evaluate(async () => {
      const link = document.querySelector<HTMLLinkElement>("link[rel=manifest]");
      return link
        ? ((await (await fetch(link.href)).json()) as { display: string; icons: { sizes: string }[] })
        : null;
    });
    assert.ok(manifest, "index.html links a manifest");
    assert.equal(manifest.display, "standalone");
    assert.ok(manifest.icons.some((icon) => icon.sizes === "512x512"));
    const controlled = await page.evaluate(async () => {
      const registration = await navigator.serviceWorker.ready;
      return registration.active?.scriptURL ?? null;
    });
    assert.match(controlled ?? "", /\/sw\.js$/);
    // Offline, a reload is answered from the cached shell.
    await page.reload();
    await context.setOffline(true);
    await page.reload();
    await page.getByRole("heading", { name: "Sign in" }).waitFor();
    await context.setOffline(false);
    const offlinePage = await page.evaluate(async () => (await fetch("/offline.html")).status);
    assert.equal(offlinePage, 200);
    assert.deepEqual(
      console.errors.filter((error) => !/ERR_INTERNET_DISCONNECTED/.test(error)),
      [],
    );
    await context.close();
  });

  for (const [size, options] of [
    ["phone", phone],
    ["desktop", desktop],
  ] as const satisfies readonly (readonly [string, BrowserContextOptions])[]) {
    it(`back office renders live charts and the latest transactions (${size})`, async () => {
      const base = platform.url;
      const admin = adminCredentials();
      const context = await browser.newContext(options);
      const console = watchConsole(context);
      const page = await context.newPage();
      await signInThroughUi(page, base, admin.username, admin.password);
      await page.goto(`${base}/admin`);
      await page.getByRole("heading", { name: "Throughput" }).waitFor();
      assert.equal(await page.locator(".chart canvas").count(), 3);
      await shoot(page, `${size}-dashboard`);
      await page.goto(`${base}/admin/transactions`);
      await page.getByRole("heading", { name: "Latest transactions" }).first().waitFor();
      await shoot(page, `${size}-latest-transactions`);
      assert.deepEqual(console.errors, []);
      await context.close();
    });
  }
});
