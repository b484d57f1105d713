/**
 * The wallet in a real browser against the real platform: register → open an account → receive a
 * deposit (live) → transfer → see it in history; a rejected transfer explained in words; and one
 * user's transfer showing up live in another user's balance, in a second browser context.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  depositAsAdmin,
  desktop,
  openAccountThroughUi,
  phone,
  platformAndBrowser,
  registerThroughUi,
  skipReason,
  transferThroughUi,
  uniqueUsername,
  watchConsole,
} from "./browser.ts";

const reason = await skipReason();

describe("wallet in the browser", { skip: reason ?? false, timeout: 180_000 }, () => {
  const started = platformAndBrowser();

  it("registers, opens an account, receives a deposit live, transfers and finds it in history", async () => {
    const context = await started.browser.newContext(phone);
    const console = watchConsole(context);
    const page = await context.newPage();
    const base = started.platform.url;

    await registerThroughUi(page, base, uniqueUsername("alice"));
    const alice = await openAccountThroughUi(page, base);
    assert.match(alice.iban, /^[A-Z]{2}[0-9]{2}[A-Z0-9]{11,30}$/);
    assert.ok(alice.token.length >= 8, "the one-time secret token is shown");

    // A second account (of the same user) to send money to.
    const savings = await openAccountThroughUi(page, base);

    await page.getByRole("link", { name: "Go to account" }).click();
    await page.goto(`${base}/accounts/${alice.iban}`);
    const balance = page.locator(".hero-card .amount");
    await assert.doesNotReject(balance.filter({ hasText: "€0.00" }).waitFor());
    await depositAsAdmin(base, alice.iban, "10000");
    // No reload: the balance follows the balanceChanged subscription.
    await balance.filter({ hasText: "€100.00" }).waitFor({ timeout: 10_000 });

    const sent = await transferThroughUi(page, base, {
      from: alice.iban,
      to: savings.iban,
      amount: "12.34",
      description: "Groceries",
    });
    assert.equal(sent.status, "confirmed");

    await page.goto(`${base}/accounts/${alice.iban}`);
    const history = page.getByTestId("transactions").first();
    await history.getByText("Groceries").waitFor();
    const rows = await page.locator(".transaction").allInnerTexts();
    assert.ok(
      rows.some((row) => row.includes("Groceries") && row.includes("−€12.34")),
      rows.join("\n"),
    );
    assert.ok(
      rows.some((row) => row.includes("+€100.00")),
      rows.join("\n"),
    );
    await page.locator(".hero-card .amount").filter({ hasText: "€87.66" }).waitFor();

    // More than the balance: the form says so before anything is sent, and Send stays disabled.
    await page.goto(`${base}/transfer?from=${alice.iban}`);
    await page.getByLabel("To (IBAN)").fill(savings.iban);
    await page.getByLabel("Amount").fill("1000");
    await page.getByText("That's more than the €87.66 available in this account").waitFor();
    assert.equal(await page.getByRole("button", { name: /^Send/ }).isDisabled(), true);

    assert.deepEqual(console.errors, []);
    await context.close();
  });

  it("shows one user's transfer live in another user's balance", async () => {
    const base = started.platform.url;
    const senderContext = await started.browser.newContext(desktop);
    const receiverContext = await started.browser.newContext(phone);
    const senderConsole = watchConsole(senderContext);
    const receiverConsole = watchConsole(receiverContext);
    const sender = await senderContext.newPage();
    const receiver = await receiverContext.newPage();

    await registerThroughUi(sender, base, uniqueUsername("bob"));
    const bob = await openAccountThroughUi(sender, base);
    await depositAsAdmin(base, bob.iban, "5000");

    await registerThroughUi(receiver, base, uniqueUsername("carol"));
    const carol = await openAccountThroughUi(receiver, base);
    await receiver.getByRole("link", { name: "Back to accounts" }).click();
    const carolBalance = receiver.locator(`.account-card .amount`);
    await carolBalance.filter({ hasText: "€0.00" }).waitFor();
    await receiver.getByText("Live", { exact: true }).waitFor();
    await receiver.evaluate(() => {
      (window as unknown as { notReloaded: boolean }).notReloaded = true;
    });

    const sent = await transferThroughUi(sender, base, {
      from: bob.iban,
      to: carol.iban,
      amount: "7.50",
      description: "Lunch",
    });
    assert.equal(sent.status, "confirmed");

    await carolBalance.filter({ hasText: "€7.50" }).waitFor({ timeout: 10_000 });
    assert.equal(
      await receiver.evaluate(() => (window as unknown as { notReloaded?: boolean }).notReloaded),
      true,
    );
    // The notification badge and the activity list are fed by the same push.
    await receiver.getByRole("button", { name: /Notifications, \d+ new/ }).waitFor();
    await receiver.getByText("€7.50 received").first().waitFor();

    assert.deepEqual(senderConsole.errors, []);
    assert.deepEqual(receiverConsole.errors, []);
    await senderContext.close();
    await receiverContext.close();
  });
});
