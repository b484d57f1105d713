/**
 * Every main page at phone (390×844) and desktop (1440×900) size, with real data made through the
 * UI and the API: no console errors anywhere, 0 serious or critical axe-core violations on every
 * page, and a screenshot of each into docs/screenshots/ for the README. Also checks the PWA basics
 * (manifest, service worker, offline page), the wallet's receipts and notifications (one per
 * movement, each opening its receipt), and the back office on a phone: admins land on the
 * dashboard, reach every page through the menu, titles whole, tables without sideways scrolling.
 */
import assert from "node:assert/strict";
import { mkdir } from "node:fs/promises";
import { after, before, describe, it } from "node:test";
import type { Browser, BrowserContextOptions, Page } from "playwright-core";
import {
  adminCredentials,
  assertAccessible,
  assertNoSidewaysScroll,
  assertTitleWhole,
  customerWithAccount,
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
      await assertAccessible(page, `${size} sign in`);
      await page.goto(`${base}/register`);
      await page.getByRole("button", { name: "Create account" }).waitFor();
      await assertAccessible(page, `${size} register`);

      // A friend's account to send to, then our own user with two funded accounts and some history.
      const friendContext = await browser.newContext(options);
      const friendPage = await friendContext.newPage();
      await registerThroughUi(friendPage, base, uniqueUsername("friend"));
      const friend = await openAccountThroughUi(friendPage, base);
      await friendContext.close();

      await registerThroughUi(page, base, uniqueUsername("dana"));
      await assertAccessible(page, `${size} accounts (empty)`);
      await page.goto(`${base}/accounts/new`);
      // The currencies come from the server's configuration (GBP is configured, it was left out before).
      await page.getByRole("radio", { name: /GBP/ }).waitFor();
      await assertAccessible(page, `${size} open account`);
      const main = await openAccountThroughUi(page, base, "EUR");
      assert.match(
        (await page.getByTestId("token-explanation").textContent()) ?? "",
        /send money from this account without\s+your password/,
      );
      await shoot(page, `${size}-account-opened`);
      await assertAccessible(page, `${size} account opened`);
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
      await assertAccessible(page, `${size} transfer confirmed`);

      await page.goto(`${base}/`);
      await page.locator(".account-card").nth(1).waitFor();
      await page.locator(".account-card .amount").filter({ hasText: "€2,327.51" }).waitFor();
      await shoot(page, `${size}-accounts`);
      await assertAccessible(page, `${size} accounts`);

      await page.goto(`${base}/accounts/${main.iban}`);
      await page.getByTestId("transactions").getByText("Rent share").waitFor();
      await shoot(page, `${size}-history`);
      await assertAccessible(page, `${size} history`);
      // Each history row opens its receipt, verified in the browser.
      await page.getByRole("link", { name: /Rent share.*Open its receipt/ }).click();
      await page.getByTestId("receipt-amount").filter({ hasText: "€120.00" }).waitFor();
      await page.getByTestId("verdict").filter({ hasText: "Verified" }).waitFor({ timeout: 30_000 });
      await shoot(page, `${size}-receipt-from-history`);
      await assertAccessible(page, `${size} receipt`);

      // More than the balance: said before sending, and Send is disabled.
      await page.goto(`${base}/transfer?from=${main.iban}`);
      await page.getByLabel("To (IBAN)").fill(friend.iban);
      await page.getByLabel("Amount").fill("5000");
      await page.getByText("That's more than the €2,327.51 available in this account").waitFor();
      assert.equal(await page.getByRole("button", { name: /^Send/ }).isDisabled(), true);

      await page.goto(`${base}/transfer?from=${main.iban}`);
      await page.getByLabel("To (IBAN)").fill(friend.iban);
      await page.getByLabel("Amount").fill("15");
      await page.getByLabel("Description (optional)").fill("Cinema tickets");
      await shoot(page, `${size}-transfer`);
      await assertAccessible(page, `${size} transfer`);

      // Keyboard: the skip link is the first stop and moves focus to the content.
      await page.goto(`${base}/`);
      // Wait for the app to render: a Tab pressed before that lands on the bare document (seen under load).
      await page.locator(".account-card").first().waitFor();
      await page.keyboard.press("Tab");
      assert.equal(await page.evaluate(() => document.activeElement?.textContent), "Skip to content");

      await page.getByRole("button", { name: /^Notifications/ }).click();
      const drawer = page.getByRole("dialog", { name: "Notifications" });
      await drawer.waitFor();
      await shoot(page, `${size}-notifications`);
      await assertAccessible(page, `${size} notifications`);
      // One entry per movement (from the server's inbox): three transfers sent, two deposits, no
      // second "confirmed".
      const titles = await drawer.locator(".notification strong").allTextContents();
      assert.equal(titles.filter((title) => /sent$/.test(title)).length, 3, titles.join(" | "));
      assert.equal(titles.filter((title) => /deposited$/.test(title)).length, 2, titles.join(" | "));
      assert.equal(titles.length, 5, titles.join(" | "));
      assert.equal(titles.filter((title) => /Transfer confirmed/.test(title)).length, 0);
      await drawer.locator(".notification").filter({ hasText: "€120.00 sent" }).click();
      await page.getByTestId("receipt-amount").filter({ hasText: "€120.00" }).waitFor();
      await page.goto(`${base}/notifications`);
      await page.locator(".notification").first().waitFor();
      await assertAccessible(page, `${size} activity`);

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
    it(`back office: dashboard landing, menu navigation, readable tables (${size})`, async () => {
      const base = platform.url;
      const admin = adminCredentials();
      // Traffic with deliberate rejections: they are business outcomes, not technical failures.
      const customer = await customerWithAccount(base, uniqueUsername("eve"));
      const payee = await customerWithAccount(base, uniqueUsername("frank"));
      for (let i = 0; i < 3; i++) {
        const rejected = await fetch(`${base}/v1/transfers`, {
          method: "POST",
          headers: {
            authorization: `Bearer ${customer.token}`,
            "content-type": "application/json",
            prefer: "wait=5",
          },
          body: JSON.stringify({
            id: crypto.randomUUID(),
            from: customer.iban,
            to: payee.iban,
            amount: "100",
            asset: "EUR",
          }),
        });
        assert.equal(rejected.status, 422, "insufficient funds");
      }
      const context = await browser.newContext(options);
      const console = watchConsole(context);
      const page = await context.newPage();
      await signInThroughUi(page, base, admin.username, admin.password);
      // Admins land on the dashboard.
      await page.getByRole("heading", { name: "Throughput" }).waitFor();
      assert.equal(new URL(page.url()).pathname, "/admin");
      await page.getByRole("heading", { name: "Rejected", exact: true }).waitFor();
      await page.locator(".chart canvas").nth(3).waitFor();
      assert.equal(
        await page.locator(".chart canvas").count(),
        4,
        "throughput, latency, confirmed, rejected",
      );
      const technical = page.locator(".kpi").filter({ hasText: "Processed without error" });
      assert.match((await technical.locator(".kpi-value").textContent()) ?? "", /^100$/);
      await assertTitleWhole(page, `${size} dashboard`);
      await assertNoSidewaysScroll(page, `${size} dashboard`);
      await shoot(page, `${size}-dashboard`);
      await assertAccessible(page, `${size} dashboard`);

      if (size === "phone") {
        // Every back-office page through the menu in the tab bar (not links at the page's end).
        await page.getByRole("navigation", { name: "Main" }).getByRole("button", { name: "Menu" }).click();
        const menu = page.getByRole("dialog", { name: "Menu" });
        await menu.waitFor();
        for (const name of ["Dashboard", "Transactions", "Gateways", "Payment lookup", "Dead letters"])
          await menu.getByRole("link", { name, exact: true }).waitFor();
        await shoot(page, `${size}-menu`);
        await assertAccessible(page, `${size} menu`);
        await menu.getByRole("link", { name: "Transactions", exact: true }).click();
      } else {
        await page.getByRole("link", { name: "Transactions", exact: true }).click();
      }
      await page.getByRole("heading", { name: "Latest transactions" }).first().waitFor();
      const rows = page.getByTestId("latest-transactions").locator("tbody tr");
      await rows.first().waitFor();
      await assertTitleWhole(page, `${size} latest transactions`);
      await assertNoSidewaysScroll(page, `${size} latest transactions`);
      // The amount is on screen, not behind a sideways scroll.
      const amount = await rows.first().locator(".cell-amount").boundingBox();
      const viewport = page.viewportSize();
      assert.ok(amount && viewport && amount.x >= 0 && amount.x + amount.width <= viewport.width);
      await shoot(page, `${size}-latest-transactions`);
      await assertAccessible(page, `${size} latest transactions`);
      // A row opens its detail.
      await rows.first().getByRole("link").click();
      const detail = page.getByTestId("transaction-detail");
      await detail.waitFor();
      await detail.getByText(/Transfer id/).waitFor();
      await shoot(page, `${size}-transaction-detail`);
      await assertAccessible(page, `${size} transaction detail`);
      assert.deepEqual(console.errors, []);
      await context.close();
    });
  }
});
