/**
 * Client insights in a real browser against the real platform: the wallet's "People you paid"
 * (one tap opens the transfer form with the person filled in), and the back office's client
 * insight page (search by username: interactions, branches, operations) and branches page (an
 * admin sets the address and zip code).
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  adminCredentials,
  depositAsAdmin,
  desktop,
  openAccountThroughUi,
  phone,
  platformAndBrowser,
  registerThroughUi,
  signInThroughUi,
  skipReason,
  transferThroughUi,
  uniqueUsername,
  watchConsole,
} from "./browser.ts";

const reason = await skipReason();

describe("client insights in the browser", { skip: reason ?? false, timeout: 180_000 }, () => {
  const started = platformAndBrowser();
  let payer = "";
  let payee = "";

  it("People you paid lists who I sent money to; one tap starts a transfer to them", async () => {
    const base = started.platform.url;
    const bobContext = await started.browser.newContext(phone);
    const bobPage = await bobContext.newPage();
    payee = uniqueUsername("bob");
    await registerThroughUi(bobPage, base, payee);
    const bob = await openAccountThroughUi(bobPage, base);
    await bobContext.close();

    const context = await started.browser.newContext(phone);
    const console = watchConsole(context);
    const page = await context.newPage();
    payer = uniqueUsername("alice");
    await registerThroughUi(page, base, payer);
    const alice = await openAccountThroughUi(page, base);
    await depositAsAdmin(base, alice.iban, "10000");
    const sent = await transferThroughUi(page, base, { from: alice.iban, to: bob.iban, amount: "12.50" });
    assert.equal(sent.status, "confirmed");

    await page.goto(base);
    const people = page.getByTestId("people-you-paid");
    // The projection runs behind the API: the list fills in once it has the transfer.
    for (let attempt = 0; attempt < 50; attempt++) {
      if (await people.getByText(payee).isVisible()) break;
      await page.waitForTimeout(200);
      await page.reload();
    }
    await people.getByText(payee).waitFor();
    assert.match((await people.textContent()) ?? "", /1× · €12\.50/);
    await people.getByRole("link", { name: new RegExp(`^${payee}.*Pay again$`) }).click();
    await page.getByLabel("To (IBAN)").waitFor();
    assert.equal((await page.getByLabel("To (IBAN)").inputValue()).replace(/\s+/g, ""), bob.iban);
    assert.equal(await page.locator("select#from").inputValue(), alice.iban);
    assert.deepEqual(console.errors, []);
    await context.close();
  });

  it("the back office finds a client by username and shows interactions, branches and operations", async () => {
    const base = started.platform.url;
    const context = await started.browser.newContext(desktop);
    const console = watchConsole(context);
    const page = await context.newPage();
    const admin = adminCredentials();
    await signInThroughUi(page, base, admin.username, admin.password);
    await page.goto(`${base}/admin/clients`);
    await page.getByLabel("Client id or username").fill(payer);
    await page.getByRole("button", { name: "Look up" }).click();
    await page.getByTestId("client-profile").getByRole("heading", { name: payer }).waitFor();
    const interactions = page.getByTestId("client-interactions");
    await interactions.getByText(payee).waitFor();
    assert.match((await interactions.textContent()) ?? "", /€12\.50/);
    await page.getByTestId("client-branches").getByText("amsterdam-centraal").waitFor();
    assert.match(
      (await page.getByTestId("client-operations").textContent()) ?? "",
      /deposit of €100\.00 at amsterdam-centraal/,
    );

    await page.goto(`${base}/admin/branches`);
    const branch = page.getByTestId("branch").filter({ hasText: "amsterdam-centraal" });
    await branch.getByLabel("Address", { exact: true }).fill("Stationsplein 1, Amsterdam");
    await branch.getByLabel("Zip code").fill("1012 AB");
    await branch.getByRole("button", { name: "Save" }).click();
    await branch
      .getByTestId("branch-address")
      .filter({ hasText: "Stationsplein 1, Amsterdam, 1012 AB" })
      .waitFor();
    await page.reload();
    await page
      .getByTestId("branch")
      .filter({ hasText: "amsterdam-centraal" })
      .getByTestId("branch-address")
      .filter({ hasText: "1012 AB" })
      .waitFor();
    assert.deepEqual(console.errors, []);
    await context.close();
  });
});
