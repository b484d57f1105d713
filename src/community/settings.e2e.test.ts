/**
 * GET /v1/community/settings on started platforms: the map the web app shows (tile server and
 * attribution) where one is configured, null where none is; for officers and citizens only; and
 * documented with its response schema in the OpenAPI document.
 */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { apiClient, startTestPlatform, type TestPlatform, testAdmin } from "../../test/support/platform.ts";

const map = {
  tileUrl: "https://tiles.example/{z}/{x}/{y}.png",
  attribution: "© Example Tiles contributors",
};

let withMap: TestPlatform;
let withoutMap: TestPlatform;

before(async () => {
  withMap = await startTestPlatform({
    community: { mapTileUrl: map.tileUrl, mapAttribution: map.attribution },
  });
  withoutMap = await startTestPlatform();
});
after(async () => {
  await withMap?.stop();
  await withoutMap?.stop();
});

/** A signed-up user holding `role` (granted by the admin), signed in again so the token carries it. */
async function holding(url: string, username: string, role?: "citizen" | "officer") {
  const client = apiClient(url);
  const token = await client.signUp(username);
  if (role === undefined) return client.as(token);
  const admin = client.as(await client.signIn(testAdmin.username, testAdmin.password));
  const found = await admin.get(`/v1/admin/users?search=${username}`);
  const id = found.body.items[0].id as string;
  assert.equal((await admin.call("PUT", `/v1/admin/users/${id}/roles/${role}`)).status, 200);
  return client.as(await client.signIn(username, "correct horse battery staple"));
}

test("a configured map is told to officers and citizens; none: null", async () => {
  for (const role of ["citizen", "officer"] as const) {
    const settings = await (await holding(withMap.url, `map-${role}`, role)).get("/v1/community/settings");
    assert.equal(settings.status, 200);
    assert.deepEqual(settings.body, { map });
  }
  const none = await (await holding(withoutMap.url, "no-map-citizen", "citizen")).get(
    "/v1/community/settings",
  );
  assert.equal(none.status, 200);
  assert.deepEqual(none.body, { map: null });
});

test("anonymous callers and customers without a community role are refused", async () => {
  const anonymous = await apiClient(withMap.url).call("GET", "/v1/community/settings");
  assert.equal(anonymous.status, 401);
  const customer = await (await holding(withMap.url, "map-customer")).get("/v1/community/settings");
  assert.equal(customer.status, 403);
});

test("the OpenAPI document describes the settings and their response", async () => {
  const document = (await (await fetch(`${withMap.url}/openapi.json`)).json()) as {
    paths: Record<string, Record<string, { responses: Record<string, unknown> }>>;
  };
  const operation = document.paths["/v1/community/settings"]?.get;
  assert.ok(operation, "GET /v1/community/settings is documented");
  assert.match(JSON.stringify(operation.responses["200"]), /tileUrl/);
});

test("a tile URL without its attribution: the platform does not start", async () => {
  await assert.rejects(
    startTestPlatform({ community: { mapTileUrl: map.tileUrl } }),
    /LEDGERFLOW_COMMUNITY_MAP_ATTRIBUTION is required when LEDGERFLOW_COMMUNITY_MAP_TILE_URL is set/,
  );
});
