/**
 * The map settings, read from the environment as at start: unset is no map; a bad template, markup
 * in the attribution, or a tile URL without an attribution stops the start.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { ConfigError, readConfig } from "../platform/config.ts";
import { communityConfig } from "./config.ts";
import { mapOf } from "./map-settings.ts";

const osm = "https://tile.openstreetmap.org/{z}/{x}/{y}.png";
const attribution = "© OpenStreetMap contributors";

const read = (env: Record<string, string>) => readConfig([communityConfig], env, {});
const communityOf = (env: Record<string, string>) =>
  (read(env) as unknown as { community: Parameters<typeof mapOf>[0] }).community;

test("unset: no map (the web app shows its radar)", () => {
  assert.equal(mapOf(communityOf({})), null);
});

test("a tile URL template with its attribution: the map", () => {
  const community = communityOf({
    LEDGERFLOW_COMMUNITY_MAP_TILE_URL: osm,
    LEDGERFLOW_COMMUNITY_MAP_ATTRIBUTION: attribution,
  });
  assert.deepEqual(mapOf(community), { tileUrl: osm, attribution });
  const loopback = "http://127.0.0.1:8081/tiles/{z}/{x}/{y}.png?style=plain";
  assert.equal(
    mapOf(
      communityOf({
        LEDGERFLOW_COMMUNITY_MAP_TILE_URL: loopback,
        LEDGERFLOW_COMMUNITY_MAP_ATTRIBUTION: attribution,
      }),
    )?.tileUrl,
    loopback,
  );
});

test("a bad template is a config error naming the field", () => {
  for (const bad of [
    "ftp://tiles.example/{z}/{x}/{y}.png",
    "https://tiles.example/{z}/{x}.png",
    "https://tiles.example/{z}/{x}/{y}/{y}.png",
    "https://{s}.tile.openstreetmap.org/{z}/{x}/{y}.png",
    "https://user:secret@tiles.example/{z}/{x}/{y}.png",
    "javascript:alert(1)//{z}/{x}/{y}",
    "tiles/{z}/{x}/{y}.png",
  ])
    assert.throws(
      () =>
        read({ LEDGERFLOW_COMMUNITY_MAP_TILE_URL: bad, LEDGERFLOW_COMMUNITY_MAP_ATTRIBUTION: attribution }),
      (error: unknown) =>
        error instanceof ConfigError &&
        /community\.mapTileUrl: an http\(s\) URL template/.test(error.message),
      bad,
    );
});

test("a tile URL without an attribution is a config error naming the attribution", () => {
  assert.throws(
    () => mapOf(communityOf({ LEDGERFLOW_COMMUNITY_MAP_TILE_URL: osm })),
    (error: unknown) =>
      error instanceof ConfigError &&
      /LEDGERFLOW_COMMUNITY_MAP_ATTRIBUTION is required when LEDGERFLOW_COMMUNITY_MAP_TILE_URL is set/.test(
        error.message,
      ),
  );
  assert.throws(
    () =>
      read({
        LEDGERFLOW_COMMUNITY_MAP_TILE_URL: osm,
        LEDGERFLOW_COMMUNITY_MAP_ATTRIBUTION: "<a href='https://evil.example'>map</a>",
      }),
    (error: unknown) =>
      error instanceof ConfigError && /community\.mapAttribution: plain text/.test(error.message),
  );
});
