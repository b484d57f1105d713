/**
 * The screening review queue in a real browser against the real platform: two transfers a rule
 * held (a large amount to a first-time counterparty; the payer's wallet says "Held for review") are
 * listed with why; a compliance officer approves one (posted: the payee is paid) and rejects the
 * other (voided), each with a reason.
 */
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { describe, it } from "node:test";
import { apiClient, testAdmin } from "../support/platform.ts";
import {
  desktop,
  platformAndBrowser,
  signInThroughUi,
  skipReason,
  transferThroughUi,
  uniqueUsername,
  watchConsole,
} from "./browser.ts";

const reason = await skipReason();
const password = "correct horse battery staple";

function idOfToken(token: string): string {
  return JSON.parse(Buffer.from(token.split(".")[1] ?? "", "base64url").toString("utf8")).sub as string;
}

describe("screening reviews in the browser", { skip: reason ?? false, timeout: 180_000 }, () => {
  const started = platformAndBrowser({
    risk: { rules: [{ kind: "first_counterparty_amount", amountsOver: { EUR: "1000" } }] },
  });

  it("a compliance officer approves one held transfer and rejects another, with reasons", async () => {
    const base = started.platform.url;
    const api = apiClient(base);
    const admin = api.as(await api.signIn(testAdmin.username, testAdmin.password));
    const payerName = uniqueUsername("payer");
    const payer = api.as(await api.signUp(payerName, password));
    const payee = api.as(await api.signUp(uniqueUsername("payee"), password));
    const from = (await payer.post("/v1/accounts", { id: randomUUID(), asset: "EUR" })).body.iban as string;
    const to = (await payee.post("/v1/accounts", { id: randomUUID(), asset: "EUR" })).body.iban as string;
    const deposit = { id: randomUUID(), type: "deposit", iban: from, amount: "100000", branch: "Utrecht" };
    assert.equal((await admin.post("/v1/operations", deposit)).status, 201);
    const held: string[] = [];
    // The payer's wallet says the transfer is held for review (money reserved, not moved).
    const payerContext = await started.browser.newContext(desktop);
    const payerPage = await payerContext.newPage();
    await signInThroughUi(payerPage, base, payerName, password);
    const sent = await transferThroughUi(payerPage, base, { from, to, amount: "50.00" });
    assert.equal(sent.status, "held");
    await payerPage.getByRole("heading", { name: "Held for review" }).waitFor();
    await payerContext.close();
    const viaWallet = await (async () => {
      for (let attempt = 0; attempt < 100; attempt++) {
        const items = (await admin.get("/v1/risk/reviews?state=open")).body.items as {
          id: string;
          from: string;
        }[];
        const found = items.find((item) => item.from === from);
        if (found) return found.id;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      throw new Error("no review for the wallet's transfer");
    })();
    held.push(viaWallet);
    const id = randomUUID();
    const answer = await payer.post("/v1/transfers", { id, from, to, amount: "7000", asset: "EUR" });
    assert.deepEqual([answer.status, answer.body.heldForReview], [201, true], JSON.stringify(answer.body));
    held.push(id);
    const officerName = uniqueUsername("officer");
    const officerToken = await api.signUp(officerName, password);
    const granted = await admin.call("PUT", `/v1/admin/users/${idOfToken(officerToken)}/roles/compliance`);
    assert.equal(granted.status, 200, JSON.stringify(granted.body));

    const context = await started.browser.newContext(desktop);
    const console = watchConsole(context);
    const page = await context.newPage();
    await signInThroughUi(page, base, officerName, password);
    await page.getByRole("link", { name: "Reviews" }).first().click();
    const card = (id: string) => page.locator(`[data-testid=review][data-id="${id}"]`);
    // Reviews are opened from the ledger's outcomes, just behind the API: refresh until both show.
    for (let attempt = 0; attempt < 50 && !(await card(held[1] ?? "").isVisible()); attempt++) {
      await page.waitForTimeout(200);
      await page.getByRole("button", { name: "Refresh" }).click();
    }
    const [approveId = "", rejectId = ""] = held;
    await card(approveId).waitFor();
    assert.match(
      (await card(approveId).textContent()) ?? "",
      /€50\.00.*first-time counterparty.*above 1000/s,
    );

    await card(approveId).getByRole("textbox").fill("Invoice checked with the payer");
    await card(approveId).getByRole("button", { name: "Approve" }).click();
    await card(approveId).waitFor({ state: "detached" });
    await card(rejectId).getByRole("textbox").fill("Payer says it is not theirs");
    await card(rejectId).getByRole("button", { name: "Reject" }).click();
    await card(rejectId).waitFor({ state: "detached" });

    await page.getByRole("button", { name: "Decided" }).click();
    await card(approveId).waitFor();
    assert.equal(await card(approveId).getAttribute("data-state"), "approved");
    assert.equal(await card(rejectId).getAttribute("data-state"), "rejected");
    assert.equal(
      await card(rejectId).getByTestId("review-reason").textContent(),
      "Payer says it is not theirs",
    );
    assert.equal((await payee.get(`/v1/accounts/${to}`)).body.balance, "5000");
    const payerAccount = (await payer.get(`/v1/accounts/${from}`)).body;
    assert.deepEqual([payerAccount.balance, payerAccount.availableBalance], ["95000", "95000"]);
    assert.deepEqual(console.errors, []);
    await context.close();
  });
});
