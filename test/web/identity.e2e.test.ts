/**
 * The web app's identity screens in Chromium: sign-in through a real OpenID provider (oidc-provider
 * on loopback, its development login and consent pages) and registration completed by phone
 * verification, with the development SMS sink's code shown on the page (embedded mode).
 */
import assert from "node:assert/strict";
import { after, describe, test } from "node:test";
import type { Page } from "playwright-core";
import { startTestProvider, type TestProvider } from "../support/oidc-provider.ts";
import { freePort } from "../support/ports.ts";
import {
  assertAccessible,
  desktop,
  phone,
  platformAndBrowser,
  skipReason,
  testPassword,
  uniqueUsername,
  watchConsole,
} from "./browser.ts";

const skip = await skipReason();

describe("identity in the browser: provider sign-in and phone verification", { skip }, () => {
  let provider: TestProvider | undefined;
  const started = platformAndBrowser(async () => {
    const port = await freePort();
    provider = await startTestProvider({
      redirectUris: [`http://127.0.0.1:${port}/v1/auth/oidc/test-idp/callback`],
      accounts: { "web-user": { email: "web.user@example.test", emailVerified: true } },
    });
    return {
      http: { port },
      oidc: {
        providers: [
          { id: "test-idp", issuer: provider.issuer, clientId: provider.clientId, displayName: "Test IdP" },
        ],
        clientSecrets: { "test-idp": provider.clientSecret },
      },
    };
  });
  after(async () => {
    await provider?.stop();
  });

  /** Number, code from the development sink's note on the page, verified, on to the accounts. */
  async function verifyPhone(page: Page, number: string): Promise<void> {
    await page.getByRole("heading", { name: "Verify your phone" }).waitFor();
    await page.getByLabel("Phone number").fill(number);
    await page.getByRole("button", { name: "Send code" }).click();
    const code = (await page.getByTestId("dev-code").textContent()) ?? "";
    assert.match(code, /^[0-9]{6}$/);
    await assertAccessible(page, "phone verification, code step");
    await page.getByLabel("Code").fill(code);
    await page.getByRole("button", { name: "Verify" }).click();
    await page.getByText(/is verified/).waitFor();
    await page.getByRole("button", { name: "Continue" }).click();
    await page.getByRole("heading", { name: "Your accounts" }).waitFor();
  }

  test("sign in with the provider's button, then verify the phone", async () => {
    const context = await started.browser.newContext(desktop);
    const consoleWatch = watchConsole(context);
    const page = await context.newPage();
    const base = started.platform.url;
    await page.goto(`${base}/signin`);
    await page.getByRole("link", { name: "Continue with Test IdP" }).click();
    // The provider's own (development) login and consent pages.
    await page.locator("input[name=login]").fill("web-user");
    await page.locator("input[name=password]").fill("any password");
    await page.getByRole("button", { name: "Sign-in" }).click();
    await page.getByRole("button", { name: "Continue" }).click();
    await page.waitForURL(`${base}/verify-phone?welcome=1`);
    assert.ok(!page.url().includes("ticket"), "the ticket is gone from the address bar");
    await verifyPhone(page, "+31 6 2345 6789");
    const platformErrors = consoleWatch.errors.filter((error) => error.startsWith(base));
    assert.deepEqual(platformErrors, []);
    await context.close();
  });

  test("registration continues with phone verification (the dev code shown on the page)", async () => {
    const context = await started.browser.newContext(phone);
    const consoleWatch = watchConsole(context);
    const page = await context.newPage();
    const base = started.platform.url;
    await page.goto(`${base}/register`);
    await page.getByLabel("Username").fill(uniqueUsername("phone"));
    await page.getByLabel("Password").fill(testPassword);
    await page.getByRole("button", { name: "Create account" }).click();
    await page.getByText("One more step").waitFor();
    await assertAccessible(page, "phone verification, number step");
    await verifyPhone(page, "+31 6 3456 7890");
    assert.deepEqual(consoleWatch.errors, []);
    await context.close();
  });
});
