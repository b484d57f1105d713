/**
 * Hey Blue!'s map in a real browser: the platform configured with a tile server (a loopback HTTP
 * server answering every /tiles/{z}/{x}/{y}.png with a small PNG, a stand-in for a real tile server
 * such as tile.openstreetmap.org) and its attribution. The citizen's screen shows a map instead of
 * the radar, with the tiles from the stand-in and the attribution; an officer going available
 * appears on it live (pushed over the one community socket), named, with their distance, and the
 * citizen connects from the marker's popup. The list stays, and the page stays accessible.
 */
import assert from "node:assert/strict";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { after, describe, it } from "node:test";
import {
  assertAccessible,
  assertNoSidewaysScroll,
  desktop,
  phone,
  platformAndBrowser,
  screenshot,
  skipReason,
  watchConsole,
} from "./browser.ts";
import { participant, signedIn } from "./community-participants.ts";

const reason = await skipReason();

const station = { latitude: 52.37, longitude: 4.89, accuracy: 5 };
/** 40 m north of the officer: near (the default threshold is 100 m). */
const corner = { ...station, latitude: station.latitude + 40 / 111_195 };
const attribution = "© Stand-in Tiles & contributors";

/** A 1×1 PNG: every tile the stand-in serves. */
const tilePng = Buffer.from(
  "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==",
  "base64",
);

/** The stand-in tile server: records the tile paths asked for; anything else is a 404. */
async function standInTileServer(): Promise<{ server: Server; url: string; requested: string[] }> {
  const requested: string[] = [];
  const server = createServer((request, response) => {
    const path = request.url ?? "";
    if (request.method !== "GET" || !/^\/tiles\/\d+\/\d+\/\d+\.png$/.test(path)) {
      response.writeHead(404).end();
      return;
    }
    requested.push(path);
    response.writeHead(200, { "content-type": "image/png", "cache-control": "no-store" }).end(tilePng);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return { server, url: `http://127.0.0.1:${port}`, requested };
}

describe("Hey Blue!'s map, where tiles are configured", { skip: reason ?? false, timeout: 180_000 }, () => {
  let tiles: Awaited<ReturnType<typeof standInTileServer>> | undefined;
  const started = platformAndBrowser(async () => {
    tiles = await standInTileServer();
    return {
      community: { mapTileUrl: `${tiles.url}/tiles/{z}/{x}/{y}.png`, mapAttribution: attribution },
    };
  });
  after(async () => {
    tiles?.server.closeAllConnections();
    await new Promise((resolve) => tiles?.server.close(resolve));
  });

  it("the citizen sees the map with tiles and attribution, an officer appears live, and a request from the marker", async () => {
    const base = started.platform.url;
    const stand = tiles;
    assert.ok(stand);
    const officerName = await participant(base, "officer", "officer");
    const citizenName = await participant(base, "citizen", "citizen");
    const officerContext = await started.browser.newContext(desktop);
    const citizenContext = await started.browser.newContext(phone);
    const officerConsole = watchConsole(officerContext);
    const citizenConsole = watchConsole(citizenContext);

    // The citizen first: the map, centred on them, its tiles from the stand-in, its attribution shown.
    const citizen = await signedIn(citizenContext, base, citizenName, corner);
    const map = citizen.getByTestId("community-map");
    await map.waitFor();
    await citizen.getByTestId("sharing-status").filter({ hasText: "Sharing your location" }).waitFor();
    await map.locator("img.leaflet-tile-loaded").first().waitFor({ timeout: 15_000 });
    assert.ok(stand.requested.length > 0, "tiles were asked of the stand-in tile server");
    assert.ok(
      stand.requested.every((path) => /^\/tiles\/1[5-9]\/\d+\/\d+\.png$/.test(path)),
      `street-level tiles around the citizen: ${stand.requested.join(", ")}`,
    );
    assert.ok(await map.getByText(attribution, { exact: true }).isVisible(), "the attribution is shown");
    assert.equal(await citizen.locator(".radar").count(), 0, "a map instead of the radar");
    assert.equal(await map.locator(".community-map-you").count(), 1, "the citizen is on the map");

    // An officer goes available 40 m away: pushed to the citizen, on the map and in the list.
    const officer = await signedIn(officerContext, base, officerName, station);
    await officer.getByRole("button", { name: "Go available" }).click();
    await officer.getByTestId("availability-countdown").waitFor();
    const marker = map.locator(`.community-map-officer[title="${officerName}"]`);
    await marker.waitFor({ timeout: 15_000 });
    assert.equal(await marker.textContent(), officerName.charAt(0).toUpperCase());
    await citizen
      .getByRole("list", { name: "Available officers near you" })
      .getByRole("listitem")
      .filter({ hasText: officerName })
      .waitFor();
    await assertAccessible(citizen, "citizen, map with an officer");
    await assertNoSidewaysScroll(citizen, "citizen, map with an officer");

    // The marker's popup names the officer with their distance, and asks to connect.
    await marker.click();
    const popup = map.locator(".community-map-popup");
    await popup.waitFor();
    assert.match((await popup.textContent()) ?? "", new RegExp(`^${officerName}(39|40|41) m away`));
    await screenshot(citizen, "phone-community-map");
    // The map is aria-hidden (the list is the accessible way): found by its text, not its role.
    await popup.locator("button", { hasText: /^Connect$/ }).click();
    await citizen.getByTestId("citizen-outcome").filter({ hasText: "Waiting for" }).waitFor();

    await officer.getByRole("button", { name: `Accept ${citizenName}` }).click();
    await citizen.getByTestId("citizen-outcome").filter({ hasText: "You're connected" }).waitFor();
    await marker.click();
    await popup.getByText("Connected", { exact: true }).waitFor();

    assert.deepEqual(officerConsole.errors, []);
    assert.deepEqual(citizenConsole.errors, []);
    await officerContext.close();
    await citizenContext.close();
  });
});
