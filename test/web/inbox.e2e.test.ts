/**
 * The notification inbox in a real browser: "Recent activity" and the bell read the server's inbox,
 * so notifications and the unread count survive signing out and in again; new ones arrive live.
 */
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { describe, it } from "node:test";
import type { Page } from "playwright-core";
import {
  customerWithAccount,
  depositAsAdmin,
  desktop,
  phone,
  platformAndBrowser,
  screenshot,
  signInThroughUi,
  skipReason,
  testPassword,
  uniqueUsername,
  watchConsole,
} from "./browser.ts";

const reason = await skipReason();

async function transfer(base: string, token: string, from: string, to: string, amount: string) {
  const response = await fetch(`${base}/v1/transfers`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${token}`, prefer: "wait=5" },
    body: JSON.stringify({ id: randomUUID(), from, to, amount, asset: "EUR", description: "Lunch" }),
  });
  assert.equal(response.status, 201, await response.text());
}

async function signOut(page: Page): Promise<void> {
  await page.getByRole("button", { name: "Sign out" }).first().click();
  await page.getByRole("button", { name: "Sign in", exact: true }).waitFor();
}

describe("notification inbox in the browser", { skip: reason ?? false, timeout: 180_000 }, () => {
  const started = platformAndBrowser();

  it("keeps notifications and the unread count across signing out and in; new ones arrive live", async () => {
    const base = started.platform.url;
    const aliceName = uniqueUsername("alice");
    const alice = await customerWithAccount(base, aliceName);
    const bob = await customerWithAccount(base, uniqueUsername("bob"));
    await depositAsAdmin(base, alice.iban, "10000");
    await transfer(base, alice.token, alice.iban, bob.iban, "1234");

    const context = await started.browser.newContext(desktop);
    const console = watchConsole(context);
    const page = await context.newPage();
    await signInThroughUi(page, base, aliceName, testPassword);
    const recent = page.locator("section", { has: page.getByRole("heading", { name: "Recent activity" }) });
    await recent.getByText("€12.34 sent").waitFor();
    await recent.getByText("€100.00 deposited").waitFor();
    await page.getByRole("button", { name: "Notifications, 2 new" }).waitFor();

    // Opening the drawer reads them, on the server too.
    await page.getByRole("button", { name: "Notifications, 2 new" }).click();
    await page.getByRole("button", { name: "Close notifications" }).click();
    await page.getByRole("button", { name: "Notifications", exact: true }).waitFor();

    await signOut(page);
    await signInThroughUi(page, base, aliceName, testPassword);
    await recent.getByText("€12.34 sent").waitFor();
    await recent.getByText("€100.00 deposited").waitFor();
    await page.getByRole("button", { name: "Notifications", exact: true }).waitFor();
    await page.getByText("Live", { exact: true }).waitFor();

    // Bob pays Alice back while she looks: pushed, counted, and still there after signing in again.
    await transfer(base, bob.token, bob.iban, alice.iban, "100");
    await recent.getByText("€1.00 received").waitFor({ timeout: 10_000 });
    await page.getByRole("button", { name: "Notifications, 1 new" }).waitFor();
    await signOut(page);
    await signInThroughUi(page, base, aliceName, testPassword);
    await recent.getByText("€1.00 received").waitFor();
    await page.getByRole("button", { name: "Notifications, 1 new" }).waitFor();
    assert.equal(await recent.locator(".notification").count(), 3);
    assert.deepEqual(console.errors, []);
    await context.close();

    // The Activity page on a phone, after signing in again.
    const phoneContext = await started.browser.newContext(phone);
    const phonePage = await phoneContext.newPage();
    await signInThroughUi(phonePage, base, aliceName, testPassword);
    await phonePage.goto(`${base}/notifications`);
    await phonePage.getByText("€1.00 received").first().waitFor();
    // Reading the Activity page reads them all, on the server too.
    await phonePage.getByRole("button", { name: "Notifications", exact: true }).waitFor();
    await screenshot(phonePage, "activity-inbox-phone");
    const unread = await phonePage.evaluate(async () => {
      const token = JSON.parse(sessionStorage.getItem("ledgerflow.session") ?? "{}").token;
      const response = await fetch("/v1/notifications/unread", {
        headers: { authorization: `Bearer ${token}` },
      });
      return response.json();
    });
    assert.deepEqual(unread, { unread: 0 });
    await phoneContext.close();
  });
});
