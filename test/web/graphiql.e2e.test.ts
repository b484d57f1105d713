/**
 * The GraphQL explorer in a real browser: /graphql opens GraphiQL (bundled, nothing loaded from
 * elsewhere), prefilled with the wallet's session token, and runs a query against the platform.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  customerWithAccount,
  desktop,
  platformAndBrowser,
  screenshot,
  signInThroughUi,
  skipReason,
  testPassword,
  uniqueUsername,
  watchConsole,
} from "./browser.ts";

const reason = await skipReason();

describe("GraphQL explorer in the browser", { skip: reason ?? false, timeout: 180_000 }, () => {
  const started = platformAndBrowser();

  it("opens GraphiQL at /graphql and runs a query with the signed-in user's token", async () => {
    const base = started.platform.url;
    const username = uniqueUsername("explorer");
    const customer = await customerWithAccount(base, username);
    const context = await started.browser.newContext(desktop);
    const console = watchConsole(context);
    const page = await context.newPage();
    const elsewhere: string[] = [];
    page.on("request", (request) => {
      if (!request.url().startsWith(base) && !request.url().startsWith(base.replace(/^http/, "ws")))
        elsewhere.push(request.url());
    });
    await signInThroughUi(page, base, username, testPassword);
    await page.goto(`${base}/graphql`);
    const execute = page.locator(".graphiql-execute-button");
    await execute.waitFor({ timeout: 30_000 });
    await page.getByText("query MyAccounts").waitFor();
    await execute.click();
    const response = page.locator(".result-window");
    await response.getByText(customer.iban).waitFor({ timeout: 15_000 });
    await screenshot(page, "graphiql-desktop");
    assert.deepEqual(elsewhere, [], "nothing is loaded from outside the platform");
    assert.deepEqual(console.errors, []);
    await context.close();
  });
});
