/**
 * Staying signed in: the web app keeps its refresh token in an httpOnly cookie, refreshes silently
 * when the access token no longer works, resumes in a new tab, and signing out ends it for good.
 * The profile, sessions-and-devices and admin users pages.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  adminCredentials,
  assertAccessible,
  desktop,
  platformAndBrowser,
  registerThroughUi,
  signInThroughUi,
  skipReason,
  testPassword,
  uniqueUsername,
  watchConsole,
} from "./browser.ts";

const reason = await skipReason();

describe("sessions in the browser", { skip: reason ?? false, timeout: 180_000 }, () => {
  const started = platformAndBrowser();

  it("refreshes silently, resumes in a new tab, and sign-out ends the session", async () => {
    const base = started.platform.url;
    const context = await started.browser.newContext(desktop);
    const console = watchConsole(context);
    console.allowRejections();
    const page = await context.newPage();
    await registerThroughUi(page, base, uniqueUsername("stayer"));

    const cookies = await context.cookies(`${base}/v1/auth/refresh`);
    const refresh = cookies.find((c) => c.name === "ledgerflow_refresh");
    assert.ok(refresh, "the refresh token is a cookie");
    assert.equal(refresh.httpOnly, true);
    assert.equal(refresh.sameSite, "Strict");
    assert.equal(refresh.path, "/v1/auth");
    assert.equal(await page.evaluate(() => document.cookie.includes("ledgerflow_refresh")), false);

    // An access token that no longer works (expired or revoked): the app refreshes and carries on.
    await page.evaluate(() => {
      const stored = JSON.parse(sessionStorage.getItem("ledgerflow.session") ?? "{}");
      sessionStorage.setItem("ledgerflow.session", JSON.stringify({ ...stored, token: "e30.e30.broken" }));
    });
    const refreshed = page.waitForResponse((r) => r.url().endsWith("/v1/auth/refresh") && r.status() === 200);
    await page.reload();
    await refreshed;
    await page.getByRole("heading", { name: "Your accounts" }).waitFor();
    const token = await page.evaluate(
      () => JSON.parse(sessionStorage.getItem("ledgerflow.session") ?? "{}").token,
    );
    assert.notEqual(token, "e30.e30.broken");

    // A new tab has no stored token: it resumes from the cookie instead of asking to sign in.
    const tab = await context.newPage();
    await tab.goto(`${base}/`);
    await tab.getByRole("heading", { name: "Your accounts" }).waitFor();
    await tab.close();

    const loggedOut = page.waitForResponse((r) => r.url().endsWith("/v1/auth/logout"));
    await page.getByRole("button", { name: "Sign out" }).first().click();
    assert.equal((await loggedOut).status(), 204);
    await page.getByRole("button", { name: "Sign in", exact: true }).waitFor();
    // The old access token is revoked on the server, not only forgotten here.
    const status = await page.evaluate(
      async (bearer) =>
        (await fetch("/v1/me/sessions", { headers: { authorization: `Bearer ${bearer}` } })).status,
      token,
    );
    assert.equal(status, 401);
    const another = await context.newPage();
    await another.goto(`${base}/`);
    await another.getByRole("button", { name: "Sign in", exact: true }).waitFor();
    await context.close();
  });

  it("profile page edits display name and ZIP (a bad ZIP is named); sessions page signs another device out; admins see users with roles", async () => {
    const base = started.platform.url;
    const context = await started.browser.newContext(desktop);
    const page = await context.newPage();
    const username = uniqueUsername("pages");
    await registerThroughUi(page, base, username);
    // A second device: a plain API login with its own user agent.
    const other = await fetch(`${base}/v1/auth/login`, {
      method: "POST",
      headers: { "content-type": "application/json", "user-agent": "Other Phone" },
      body: JSON.stringify({ username, password: testPassword }),
    });
    assert.equal(other.status, 200);
    const otherRefresh = ((await other.json()) as { refreshToken: string }).refreshToken;

    await page.goto(`${base}/profile`);
    await page.getByLabel("Display name").fill("Pat Pages");
    await page.getByLabel("ZIP code").fill("ABCDE");
    await page.getByRole("button", { name: "Save profile" }).click();
    await page.getByText("a US ZIP code").first().waitFor();
    await page.getByLabel("ZIP code").fill("94110");
    await page.getByRole("button", { name: "Save profile" }).click();
    await page.getByText("Profile saved.").waitFor();
    await page.reload();
    assert.equal(await page.getByLabel("Display name").inputValue(), "Pat Pages");
    assert.equal(await page.getByLabel("ZIP code").inputValue(), "94110");
    // The community numbers (projected from Hey Blue! connections): none yet for a new user.
    const community = page.getByRole("region", { name: "Community" });
    await community.getByText("No trophies yet.").waitFor();
    assert.deepEqual(await community.locator("dd").allTextContents(), ["0", "0", "none yet"]);

    await page.goto(`${base}/sessions`);
    await page.getByText("This device", { exact: true }).waitFor();
    await page.locator("li strong", { hasText: "Other Phone" }).waitFor();
    await page.getByRole("button", { name: "Sign out Other Phone" }).click();
    await page.locator("li strong", { hasText: "Other Phone" }).waitFor({ state: "detached" });
    const refused = await fetch(`${base}/v1/auth/refresh`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ refreshToken: otherRefresh }),
    });
    assert.equal(refused.status, 401, "the signed-out device cannot refresh");
    await context.close();

    const adminContext = await started.browser.newContext(desktop);
    const adminPage = await adminContext.newPage();
    const { username: adminName, password } = adminCredentials();
    await signInThroughUi(adminPage, base, adminName, password);
    await adminPage.goto(`${base}/admin/users`);
    await adminPage.getByLabel("Search users").fill(username);
    await adminPage.getByLabel("Search users").press("Enter");
    const row = adminPage.getByRole("row", { name: new RegExp(username) });
    await row.getByText("Pat Pages").waitFor();
    await row.getByText("customer").waitFor();
    // Roles from the back office: grant teller, revoke customer, and a last role cannot go.
    await row.getByLabel(`Role to grant ${username}`).selectOption("teller");
    await row.getByRole("button", { name: "Grant" }).click();
    await row.getByRole("button", { name: `Revoke teller from ${username}` }).waitFor();
    await row.getByRole("button", { name: `Revoke customer from ${username}` }).click();
    await row
      .getByRole("button", { name: `Revoke customer from ${username}` })
      .waitFor({ state: "detached" });
    await row.getByRole("button", { name: `Revoke teller from ${username}` }).click();
    await adminPage.getByText("A user keeps at least one role").waitFor();
    const login = await fetch(`${base}/v1/auth/login`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ username: adminName, password }),
    }).then((r) => r.json() as Promise<{ accessToken: string }>);
    const roles = await fetch(`${base}/v1/admin/users?search=${username}`, {
      headers: { authorization: `Bearer ${login.accessToken}` },
    }).then((r) => r.json() as Promise<{ items: { username: string; roles: string[] }[] }>);
    assert.deepEqual(roles.items.find((u) => u.username === username)?.roles, ["teller"]);
    await assertAccessible(adminPage, "admin users");

    // An officer's agency and badge, verified by an admin from the same page.
    const officerName = uniqueUsername("officer");
    const json = { "content-type": "application/json" };
    await fetch(`${base}/v1/auth/register`, {
      method: "POST",
      headers: json,
      body: JSON.stringify({ username: officerName, password: testPassword }),
    });
    const officerLogin = await fetch(`${base}/v1/auth/login`, {
      method: "POST",
      headers: json,
      body: JSON.stringify({ username: officerName, password: testPassword }),
    }).then((r) => r.json() as Promise<{ accessToken: string }>);
    const edited = await fetch(`${base}/v1/me/profile`, {
      method: "PATCH",
      headers: { ...json, authorization: `Bearer ${officerLogin.accessToken}` },
      body: JSON.stringify({ officer: { agency: "Utrecht Centrum", badgeNumber: "UT-1234" } }),
    });
    assert.equal(edited.status, 200);
    await adminPage.getByLabel("Search users").fill(officerName);
    await adminPage.getByLabel("Search users").press("Enter");
    const officerRow = adminPage.getByRole("row", { name: new RegExp(officerName) });
    await officerRow.getByRole("button", { name: `Verify ${officerName}` }).click();
    await officerRow.getByText("(verified)").waitFor();
    await adminContext.close();
  });
});
