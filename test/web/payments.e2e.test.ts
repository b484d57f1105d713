/**
 * Payments, receipts and the back office in a real browser against the real platform (simulated
 * gateways, tokens, the dead-letter API):
 * - a customer deposits and withdraws through the payments flow, sees SUCCESS and the balance
 *   change live, opens the receipt and sees it verified in the browser (WebCrypto);
 * - an admin disables a gateway and sees its state change there and on the dashboard, re-weights,
 *   edits routing rules, adds and removes a gateway; looks a payment up with its routing reasons;
 * - the dead-letter page lists a poison record and replays it.
 * No console errors on any page; phone and desktop screenshots of each new page.
 */
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { mkdir } from "node:fs/promises";
import { after, before, describe, it } from "node:test";
import type { Browser, BrowserContextOptions, Page } from "playwright-core";
import {
  adminCredentials,
  assertAccessible,
  assertNoSidewaysScroll,
  customerWithAccount,
  depositThroughApi,
  desktop,
  launchBrowser,
  login,
  openAccountThroughUi,
  type Platform,
  phone,
  registerThroughUi,
  screenshot,
  screenshotsDir,
  signInThroughUi,
  skipReason,
  startPlatform,
  transferThroughUi,
  uniqueUsername,
  watchConsole,
} from "./browser.ts";

const reason = await skipReason();
const sizes = [
  ["phone", phone],
  ["desktop", desktop],
] as const satisfies readonly (readonly [string, BrowserContextOptions])[];

async function paymentThroughUi(
  page: Page,
  base: string,
  payment: { kind: "Deposit" | "Withdraw"; amount: string },
): Promise<{ id: string; status: string; seen: string[] }> {
  await page.goto(`${base}/payments`);
  await page.getByRole("heading", { name: "Add or withdraw money" }).waitFor();
  // Statuses as the page shows them, recorded in the page so none is missed between polls.
  await page.evaluate(() => {
    const seen: string[] = [];
    (window as unknown as { seenStatuses: string[] }).seenStatuses = seen;
    new MutationObserver(() => {
      const status = document.querySelector("[data-testid=payment-status]")?.getAttribute("data-status");
      if (status && seen.at(-1) !== status) seen.push(status);
    }).observe(document.body, { subtree: true, childList: true, attributes: true });
  });
  await page.getByRole("radio", { name: payment.kind }).check();
  await page.getByLabel("Amount").fill(payment.amount);
  await page.getByRole("button", { name: new RegExp(`^${payment.kind} `) }).click();
  await page.waitForURL(/\/payments\?id=/);
  await page.waitForFunction(
    () =>
      /^(SUCCESS|FAILURE)$/.test(
        document.querySelector("[data-testid=payment-status]")?.getAttribute("data-status") ?? "",
      ),
    undefined,
    { timeout: 20_000 },
  );
  const id = new URL(page.url()).searchParams.get("id") ?? "";
  const seen = await page.evaluate(() => (window as unknown as { seenStatuses: string[] }).seenStatuses);
  return { id, status: (await page.getByTestId("payment-status").getAttribute("data-status")) ?? "", seen };
}

async function adminApi(base: string) {
  const admin = adminCredentials();
  const token = await login(base, admin.username, admin.password);
  return async <T>(path: string): Promise<T> => {
    const response = await fetch(`${base}${path}`, { headers: { authorization: `Bearer ${token}` } });
    assert.equal(response.status, 200, `${path}: ${response.status}`);
    return (await response.json()) as T;
  };
}

interface GatewayJson {
  name: string;
  enabled: boolean;
  weight: number;
  amountMax: string | null;
}

describe("payments, receipts and the back office in the browser", {
  skip: reason ?? false,
  timeout: 300_000,
}, () => {
  let platform: Platform;
  let browser: Browser;
  const paymentIds: string[] = [];

  before(async () => {
    platform = await startPlatform();
    browser = await launchBrowser();
    await mkdir(screenshotsDir, { recursive: true });
  });

  after(async () => {
    await browser?.close();
    await platform?.stop();
  });

  for (const [size, options] of sizes) {
    it(`deposits and withdraws with live status and balance, and verifies the receipt (${size})`, async () => {
      const base = platform.url;
      const context = await browser.newContext(options);
      const console = watchConsole(context);
      const page = await context.newPage();
      await registerThroughUi(page, base, uniqueUsername("payer"));
      const account = await openAccountThroughUi(page, base, "EUR");

      await page.goto(`${base}/payments`);
      await page.getByLabel("Amount").fill("250");
      await screenshot(page, `${size}-payment`);

      const deposit = await paymentThroughUi(page, base, { kind: "Deposit", amount: "250" });
      assert.equal(deposit.status, "SUCCESS");
      paymentIds.push(deposit.id);
      // Pending from the click until the gateway and the ledger are done, then SUCCESS.
      assert.deepEqual(deposit.seen, ["PENDING", "SUCCESS"]);
      // No reload and no account refetch: the balance follows the balanceChanged subscription.
      await page.getByTestId("payment-balance").filter({ hasText: "€250.00" }).waitFor({ timeout: 10_000 });
      await page.getByRole("heading", { name: "Deposit succeeded" }).waitFor();
      await screenshot(page, `${size}-payment-success`);

      await page.getByRole("link", { name: "View receipt" }).click();
      await page.waitForURL(/\/receipts\//);
      await page
        .getByTestId("verdict")
        .filter({ hasText: /^Verified$/ })
        .waitFor({ timeout: 30_000 });
      assert.equal(await page.getByTestId("receipt-amount").textContent(), "€250.00");
      assert.match((await page.getByTestId("block-height").textContent()) ?? "", /^\d+$/);
      assert.match((await page.getByTestId("path-length").textContent()) ?? "", /^\d+ hash(es)?$/);
      assert.equal(await page.locator(".check-bad").count(), 0);
      assert.ok((await page.locator(".check-ok").count()) >= 7);
      await page.locator(".toast").waitFor({ state: "detached", timeout: 8_000 });
      await screenshot(page, `${size}-receipt`);

      const withdrawal = await paymentThroughUi(page, base, { kind: "Withdraw", amount: "40" });
      assert.equal(withdrawal.status, "SUCCESS");
      paymentIds.push(withdrawal.id);
      await page.getByTestId("payment-balance").filter({ hasText: "€210.00" }).waitFor({ timeout: 10_000 });
      await page.getByRole("heading", { name: "Withdrawal succeeded" }).waitFor();

      if (size === "phone") {
        // A transfer's receipt verifies too.
        const savings = await openAccountThroughUi(page, base, "EUR");
        const sent = await transferThroughUi(page, base, {
          from: account.iban,
          to: savings.iban,
          amount: "10",
        });
        assert.equal(sent.status, "confirmed");
        await page.getByRole("link", { name: "Receipt" }).click();
        await page
          .getByTestId("verdict")
          .filter({ hasText: /^Verified$/ })
          .waitFor({ timeout: 30_000 });
        assert.equal(await page.getByTestId("receipt-amount").textContent(), "€10.00");
      }
      await page.goto(`${base}/accounts/${account.iban}`);
      await page
        .locator(".hero-card .amount")
        .filter({ hasText: size === "phone" ? "€200.00" : "€210.00" })
        .waitFor();
      assert.deepEqual(console.errors, []);
      await context.close();
    });
  }

  it("an admin disables a gateway and sees it there and on the dashboard; re-weights, edits rules, adds and removes", async () => {
    const base = platform.url;
    const fetchAdmin = await adminApi(base);
    const gatewayNamed = async (name: string) =>
      (await fetchAdmin<{ gateways: GatewayJson[] }>("/v1/admin/gateways")).gateways.find(
        (g) => g.name === name,
      );
    const context = await browser.newContext(desktop);
    const console = watchConsole(context);
    const page = await context.newPage();
    const admin = adminCredentials();
    await signInThroughUi(page, base, admin.username, admin.password);
    await page.getByRole("link", { name: "Gateways", exact: true }).click();
    const card = page.getByTestId("gateway-e-wallet");
    await card.waitFor();
    const total = (await fetchAdmin<{ gateways: GatewayJson[] }>("/v1/admin/gateways")).gateways.length;
    assert.notEqual(await card.getByTestId("gateway-state").textContent(), "Disabled");
    await page
      .getByTestId("gateways-summary")
      .filter({ hasText: `${total} of ${total} gateways` })
      .waitFor();

    await page.getByLabel("e-wallet enabled").uncheck();
    await card.getByTestId("gateway-state").filter({ hasText: "Disabled" }).waitFor();
    await page
      .getByTestId("gateways-summary")
      .filter({ hasText: `${total - 1} of ${total} gateways` })
      .waitFor();
    assert.equal((await gatewayNamed("e-wallet"))?.enabled, false);

    await page.getByRole("link", { name: "Dashboard", exact: true }).click();
    await page
      .getByTestId("gateways-available")
      .filter({ hasText: `${total - 1} of ${total} available` })
      .waitFor();
    await page.getByTestId("chip-e-wallet").filter({ hasText: "Disabled" }).waitFor();
    await page.getByRole("heading", { name: "Throughput" }).waitFor();
    await screenshot(page, "desktop-dashboard-gateways");

    await page.getByRole("link", { name: "Gateways", exact: true }).click();
    await page.getByLabel("e-wallet enabled").check();
    await card
      .getByTestId("gateway-state")
      .filter({ hasText: /Healthy|Probing|Demoted/ })
      .waitFor();
    assert.equal((await gatewayNamed("e-wallet"))?.enabled, true);

    const sepa = page.getByTestId("gateway-sepa-instant");
    await sepa.getByLabel("Weight").fill("150");
    await sepa.getByRole("button", { name: "Set" }).click();
    await page.getByText("sepa-instant updated.").waitFor();
    assert.equal((await gatewayNamed("sepa-instant"))?.weight, 150);

    const custody = page.getByTestId("gateway-custody-bank");
    await custody.getByText("Routing rules").click();
    await custody.getByLabel("Max amount (empty: none)").fill("5000000");
    await custody.getByRole("button", { name: "Save rules" }).click();
    await page.getByText("custody-bank updated.").waitFor();
    assert.equal((await gatewayNamed("custody-bank"))?.amountMax, "5000000");

    await page.getByRole("button", { name: "Add gateway" }).click();
    const form = page.locator("form.add-gateway");
    await form.getByLabel("Name").fill("test-rail");
    await form.getByLabel("URL").fill("http://127.0.0.1:9/");
    await form.getByLabel("Methods").fill("bank_transfer");
    await form.getByRole("button", { name: "Add gateway" }).click();
    await page.getByTestId("gateway-test-rail").waitFor();
    assert.ok(await gatewayNamed("test-rail"));
    await page.getByRole("button", { name: "Remove test-rail" }).click();
    await page.getByTestId("gateway-test-rail").getByRole("button", { name: "Remove", exact: true }).click();
    await page.getByTestId("gateway-test-rail").waitFor({ state: "detached" });
    assert.equal(await gatewayNamed("test-rail"), undefined);
    assert.deepEqual(console.errors, []);
    await context.close();
  });

  it("the payments explorer shows each attempt with the routing reason", async () => {
    const base = platform.url;
    const [depositId] = paymentIds;
    assert.ok(depositId, "the wallet test made a deposit");
    const context = await browser.newContext(desktop);
    const console = watchConsole(context);
    const page = await context.newPage();
    const admin = adminCredentials();
    await signInThroughUi(page, base, admin.username, admin.password);
    await page.getByRole("link", { name: "Payment lookup", exact: true }).click();
    await page.getByLabel("Payment id").fill(depositId);
    await page.getByRole("button", { name: "Search" }).click();
    const found = page.getByTestId("explored-payment");
    await found.getByRole("heading", { name: "Deposit succeeded" }).waitFor();
    const attempts = found.getByTestId("attempts").locator("li.attempt");
    assert.ok((await attempts.count()) >= 1);
    const last = attempts.last();
    assert.match((await last.textContent()) ?? "", /Why this gateway: .*\S/);
    // A gateway may accept first and answer later; the attempt then ends as the payment did.
    assert.match((await last.locator(".pill").textContent()) ?? "", /^(Succeeded|Accepted, then succeeded)$/);
    assert.deepEqual(console.errors, []);
    await context.close();
  });

  it("the dead-letter page lists a poison record and replays it", async (t) => {
    const base = platform.url;
    if (!platform.platform) return t.skip("needs the platform in this process to produce a poison record");
    const key = `poison-${randomUUID().slice(0, 8)}`;
    await platform.platform.log
      .producer()
      .send([{ topic: "ledger.commands", key, value: Uint8Array.from([0xba, 0xad, 0xf0, 0x0d]) }]);
    const fetchAdmin = await adminApi(base);
    const letters = async () =>
      (await fetchAdmin<{ items: { key: string }[] }>("/v1/admin/dlq")).items.filter((l) => l.key === key);
    for (let i = 0; i < 100 && (await letters()).length === 0; i++)
      await new Promise((r) => setTimeout(r, 100));
    assert.equal((await letters()).length, 1);

    const context = await browser.newContext(desktop);
    const console = watchConsole(context);
    const page = await context.newPage();
    const admin = adminCredentials();
    await signInThroughUi(page, base, admin.username, admin.password);
    await page.getByRole("link", { name: "Dead letters", exact: true }).click();
    const letter = page.locator(`[data-testid=dead-letter][data-key="${key}"]`);
    await letter.waitFor();
    assert.match((await letter.textContent()) ?? "", /poison_message/);
    assert.match((await letter.textContent()) ?? "", /ledger\.commands · partition \d+ · offset \d+/);
    await letter.getByText(/^Value · 4 bytes/).click();
    assert.equal(await letter.getByTestId("dead-letter-value").textContent(), "baadf00d");
    await letter.getByRole("button", { name: /^Replay / }).click();
    await page.getByText(/^Replayed to ledger\.commands, partition \d+, offset \d+\.$/).waitFor();
    await letter.getByTestId("replayed").waitFor();
    // Still garbage: the replayed copy is dead-lettered again, and shows up after a refresh.
    for (let i = 0; i < 100 && (await letters()).length < 2; i++)
      await new Promise((r) => setTimeout(r, 100));
    await page.getByRole("button", { name: "Refresh" }).click();
    await page.locator(`[data-testid=dead-letter][data-key="${key}"]`).nth(1).waitFor();
    await screenshot(page, "desktop-dead-letters");
    assert.deepEqual(console.errors, []);
    await context.close();
  });

  it("back-office pages at phone and desktop size (screenshots)", async () => {
    const base = platform.url;
    // Traffic for the sparklines: deposits over every method while the gateways page polls.
    const customer = await customerWithAccount(base, uniqueUsername("traffic"));
    const admin = adminCredentials();
    const pages: Page[] = [];
    const contexts = await Promise.all(sizes.map(([, options]) => browser.newContext(options)));
    const consoles = contexts.map((context) => watchConsole(context));
    for (const context of contexts) {
      const page = await context.newPage();
      await signInThroughUi(page, base, admin.username, admin.password);
      await page.goto(`${base}/admin/gateways`);
      await page.getByTestId("gateway-card-acquirer").waitFor();
      pages.push(page);
    }
    const methods = ["card", "sepa_instant", "ewallet", "bank_transfer"];
    for (let i = 0; i < 48; i++) {
      const answer = await depositThroughApi(base, customer.token, {
        iban: customer.iban,
        amount: String(1000 + i * 37),
        method: methods[i % methods.length] ?? "card",
      });
      paymentIds.push(answer.id);
      await new Promise((r) => setTimeout(r, 150));
    }
    for (const [index, [size]] of sizes.entries()) {
      const page = pages[index];
      assert.ok(page);
      await page.locator(".sparkline").first().waitFor();
      await screenshot(page, `${size}-gateways`);
      await assertAccessible(page, `${size} gateways`);
      // Search by IBAN: the customer's 48 deposits, newest first, 25 a page, rows open the payment.
      await page.goto(`${base}/admin/payments`);
      await page.getByLabel("IBAN or payment id").fill(customer.iban);
      await page.getByLabel("Status").selectOption("SUCCESS");
      await page.getByRole("button", { name: "Search" }).click();
      const results = page.getByTestId("payment-results").locator("tbody tr");
      await results.nth(24).waitFor();
      assert.equal(await results.count(), 25);
      assert.match(page.url(), /iban=.*status=SUCCESS/);
      await assertNoSidewaysScroll(page, size);
      await screenshot(page, `${size}-payments-search`);
      await assertAccessible(page, `${size} payments search`);
      // The next page appends below (some of the 48 deposits may have failed at a flaky gateway).
      await page.getByRole("button", { name: "Load more" }).click();
      await results.nth(25).waitFor();
      await results.first().getByRole("link").click();
      await page.getByTestId("explored-payment").waitFor();
      assert.match(page.url(), /\/admin\/payments\?id=/);
      await page.goto(`${base}/admin/payments?id=${paymentIds.at(-1)}`);
      await page.getByTestId("explored-payment").waitFor();
      await screenshot(page, `${size}-payments-explorer`);
      await assertAccessible(page, `${size} payment`);
      await page.goto(`${base}/admin/dlq`);
      await page.getByTestId("dead-letter").first().waitFor();
      if (size === "phone") await screenshot(page, `${size}-dead-letters`);
      await assertAccessible(page, `${size} dead letters`);
    }
    for (const console of consoles) assert.deepEqual(console.errors, []);
    for (const context of contexts) await context.close();
  });
});
