/**
 * Hey Blue! in real browsers against the real platform: two browser contexts, an officer and a
 * citizen (roles granted by the admin through the API), each with a granted geolocation 40 m apart.
 * The officer goes available, the citizen sees them with their distance and asks to connect, the
 * officer sees the request and accepts, the citizen sees the outcome, and both see their points on
 * the Community page and on their profile's Community card. No console errors.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { Page } from "playwright-core";
import {
  adminCredentials,
  assertAccessible,
  assertNoSidewaysScroll,
  desktop,
  login,
  phone,
  platformAndBrowser,
  screenshot,
  skipReason,
  testPassword,
  watchConsole,
} from "./browser.ts";
import { call, participant, signedIn } from "./community-participants.ts";

const reason = await skipReason();

const station = { latitude: 52.37, longitude: 4.89, accuracy: 5 };
/** 40 m north of the officer: near (the default threshold is 100 m). */
const corner = { ...station, latitude: station.latitude + 40 / 111_195 };
/** Another town, for the second test (the first test's officer is still available at the station). */
const square = { latitude: 51.92, longitude: 4.48, accuracy: 5 };
const squareCorner = { ...square, latitude: square.latitude + 60 / 111_195 };

/** The profile's Community card follows the events through the log: reload until it shows `points`. */
async function profileShowsPoints(page: Page, base: string, points: string): Promise<void> {
  const card = page.getByRole("region", { name: "Community" });
  for (let attempt = 0; attempt < 30; attempt++) {
    await page.goto(`${base}/profile`);
    await card.waitFor();
    const text = (await card.textContent()) ?? "";
    if (new RegExp(`Points earned\\s*${points}(?!\\d)`).test(text)) return;
    await page.waitForTimeout(500);
  }
  assert.fail(
    `the profile's Community card never showed ${points} points: ${(await card.textContent()) ?? ""}`,
  );
}

describe("Hey Blue! in the browser", { skip: reason ?? false, timeout: 180_000 }, () => {
  const started = platformAndBrowser();

  it("an officer goes available, a nearby citizen connects, both see the outcome and their points", async () => {
    const base = started.platform.url;
    const officerName = await participant(base, "officer", "officer");
    const citizenName = await participant(base, "citizen", "citizen");
    const officerContext = await started.browser.newContext(desktop);
    const citizenContext = await started.browser.newContext(phone);
    const officerConsole = watchConsole(officerContext);
    const citizenConsole = watchConsole(citizenContext);

    const officer = await signedIn(officerContext, base, officerName, station);
    await officer.getByText("Connected", { exact: true }).waitFor();
    await officer.getByLabel("Window length").selectOption("15");
    await officer.getByRole("button", { name: "Go available" }).click();
    const countdown = officer.getByTestId("availability-countdown");
    await countdown.waitFor();
    assert.match((await countdown.textContent()) ?? "", /Available · 1[45]:\d\d left/);
    await assertAccessible(officer, "officer, available");

    // The citizen's page shares their position over the socket and lists the officer near them.
    const citizen = await signedIn(citizenContext, base, citizenName, corner);
    const officers = citizen.getByRole("list", { name: "Available officers near you" });
    const listed = officers.getByRole("listitem").filter({ hasText: officerName });
    await listed.waitFor({ timeout: 15_000 });
    assert.match((await listed.getByText(/ m away$/).textContent()) ?? "", /^(39|40|41) m away$/);
    // No tile server configured: the radar, and no map (once the settings have been asked).
    await citizen.waitForLoadState("networkidle");
    await citizen.locator(".radar").waitFor();
    assert.equal(await citizen.getByTestId("community-map").count(), 0, "no map without tiles");
    await assertAccessible(citizen, "citizen, officer nearby");
    await assertNoSidewaysScroll(citizen, "citizen, officer nearby");
    await screenshot(citizen, "phone-community-citizen");

    await citizen.getByRole("button", { name: `Connect with ${officerName}`, exact: true }).click();
    await citizen.getByTestId("citizen-outcome").filter({ hasText: "Waiting for" }).waitFor();

    // The officer is told at once (pushed, announced in the live region) and accepts.
    const requests = officer.getByRole("list", { name: "Incoming requests" });
    await requests.getByRole("listitem").filter({ hasText: citizenName }).waitFor({ timeout: 10_000 });
    assert.match((await officer.getByTestId("community-announcer").textContent()) ?? "", /New request from/);
    await screenshot(officer, "desktop-community-officer-request");
    await officer.getByRole("button", { name: `Accept ${citizenName}` }).click();
    const accepted = officer.getByTestId("request-outcome");
    await accepted.filter({ hasText: `Connected with ${citizenName}` }).waitFor();
    assert.match((await accepted.textContent()) ?? "", /You both earn 10 points/);

    // The citizen sees the outcome, pushed over the same socket.
    const outcome = citizen.getByTestId("citizen-outcome").filter({ hasText: "You're connected" });
    await outcome.waitFor({ timeout: 10_000 });
    assert.match((await outcome.textContent()) ?? "", /You're connected with .*\n?[\s\S]*\+10 points/);
    await screenshot(citizen, "phone-community-connected");

    // Points and the first trophy, on the page and (through the log) on the profile.
    for (const page of [officer, citizen]) {
      await page.getByTestId("community-points").filter({ hasText: /^10$/ }).waitFor({ timeout: 10_000 });
      await page.getByRole("list", { name: "Trophies" }).getByText("First connection").waitFor();
    }
    await profileShowsPoints(officer, base, "10");
    await profileShowsPoints(citizen, base, "10");

    assert.deepEqual(officerConsole.errors, []);
    assert.deepEqual(citizenConsole.errors, []);
    await officerContext.close();
    await citizenContext.close();
  });

  it("an officer declines and stops: the citizen is told; without motion when the user asks for less", async () => {
    const base = started.platform.url;
    const officerName = await participant(base, "officer", "officer");
    const citizenName = await participant(base, "citizen", "citizen");
    const officerContext = await started.browser.newContext(phone);
    const citizenContext = await started.browser.newContext({ ...desktop, reducedMotion: "reduce" });
    const officerConsole = watchConsole(officerContext);
    const citizenConsole = watchConsole(citizenContext);

    // The citizen is here first: the officer going available is pushed to them (officer_nearby).
    const citizen = await signedIn(citizenContext, base, citizenName, squareCorner);
    await citizen.getByText("No available officers near you right now.", { exact: false }).waitFor();
    await citizen.getByTestId("sharing-status").filter({ hasText: "Sharing your location" }).waitFor();
    const officer = await signedIn(officerContext, base, officerName, square);
    await officer.getByRole("button", { name: "Go available" }).click();
    await officer.getByTestId("availability-countdown").waitFor();
    // A reload keeps the window (the server keeps it; the page remembers its end).
    await officer.reload();
    await officer.getByTestId("availability-countdown").waitFor();
    await officer.getByText("Connected", { exact: true }).waitFor();
    const listed = citizen
      .getByRole("list", { name: "Available officers near you" })
      .getByRole("listitem")
      .filter({ hasText: officerName });
    await listed.waitFor({ timeout: 10_000 });
    const sweep = await citizen.locator(".radar-sweep").evaluate((e) => getComputedStyle(e).animationName);
    assert.equal(sweep, "none", "no radar sweep under prefers-reduced-motion");

    await citizen.getByRole("button", { name: `Connect virtually with ${officerName}` }).click();
    await officer.getByRole("listitem").filter({ hasText: "Virtual request" }).waitFor();
    await screenshot(officer, "phone-community-officer-request");
    await officer.getByRole("button", { name: `Decline ${citizenName}` }).click();
    await officer
      .getByTestId("request-outcome")
      .filter({ hasText: `You declined ${citizenName}` })
      .waitFor();
    await citizen.getByTestId("citizen-outcome").filter({ hasText: "can't connect right now" }).waitFor();
    assert.match(
      (await citizen.getByTestId("community-announcer").textContent()) ?? "",
      /can't connect right now/,
    );

    await officer.getByRole("button", { name: "Stop" }).click();
    await officer.getByRole("button", { name: "Go available" }).waitFor();
    await officer.getByRole("region", { name: "On duty" }).getByText("You're no longer available.").waitFor();
    await assertNoSidewaysScroll(officer, "officer on a phone");
    await assertAccessible(officer, "officer, stopped");
    await citizen.getByTestId("community-points").filter({ hasText: /^0$/ }).waitFor();

    assert.deepEqual(officerConsole.errors, []);
    assert.deepEqual(citizenConsole.errors, []);
    await officerContext.close();
    await citizenContext.close();
  });

  it("both share a connection: waiting for the other side, then shared with its card", async () => {
    const base = started.platform.url;
    const officerName = await participant(base, "officer", "officer");
    const citizenName = await participant(base, "citizen", "citizen");
    // Connected through the API (the two tests above cover connecting in the browser).
    const officerToken = await login(base, officerName, testPassword);
    const citizenToken = await login(base, citizenName, testPassword);
    const admin = adminCredentials();
    const adminToken = await login(base, admin.username, admin.password);
    const found = await call(base, "GET", `/v1/admin/users?search=${officerName}`, adminToken);
    const officerId = (found.items as { id: string; username: string }[]).find(
      (u) => u.username === officerName,
    )?.id;
    await call(base, "POST", "/v1/community/availability", officerToken, {
      lat: 48.85,
      lon: 2.35,
      accuracyM: 5,
    });
    const asked = await call(base, "POST", "/v1/community/requests", citizenToken, {
      officerId,
      virtual: true,
    });
    await call(base, "POST", `/v1/community/requests/${asked.id}/accept`, officerToken);
    const officerContext = await started.browser.newContext(desktop);
    const citizenContext = await started.browser.newContext(phone);
    const officerConsole = watchConsole(officerContext);
    const citizenConsole = watchConsole(citizenContext);
    const citizen = await signedIn(citizenContext, base, citizenName, square);
    const connections = citizen.getByRole("list", { name: "Latest connections" });
    await connections.getByText("Not shared").waitFor();
    await connections.getByRole("button", { name: "Share" }).click();
    await connections.getByText("Waiting for the other side to agree").waitFor();

    const officer = await signedIn(officerContext, base, officerName, square);
    const officerList = officer.getByRole("list", { name: "Latest connections" });
    await officerList.getByText("The other side wants to share this").waitFor();
    await officerList.getByRole("button", { name: "Share" }).click();
    await officerList.getByText("Shared", { exact: true }).waitFor();
    const card = officerList.getByRole("img", { name: "Share card of this connection" });
    await card.waitFor();
    await officer.waitForFunction(
      () => (document.querySelector("img.share-card") as HTMLImageElement | null)?.naturalWidth === 1200,
    );
    await card.scrollIntoViewIfNeeded();
    await screenshot(officer, "desktop-community-shared");
    await citizen.reload();
    await citizen
      .getByRole("list", { name: "Latest connections" })
      .getByText("Shared", { exact: true })
      .waitFor();
    await assertAccessible(officer, "officer, connection shared");

    assert.deepEqual(officerConsole.errors, []);
    assert.deepEqual(citizenConsole.errors, []);
    await officerContext.close();
    await citizenContext.close();
  });
});
