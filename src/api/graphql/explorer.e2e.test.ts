/**
 * The GraphQL explorer: GET /graphql from a browser (Accept: text/html) answers the bundled GraphiQL
 * page, whose assets are served by the platform itself (no CDN); GraphQL clients' GETs are untouched;
 * `http.graphqlExplorer` turns it off (default: on in embedded mode, off in distributed mode).
 */
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { after, before, describe, test } from "node:test";
import { startTestPlatform, type TestPlatform } from "../../../test/support/platform.ts";
import { loadConfig } from "../../app/config.ts";
import { defaultGraphqlOptions, wantsHtml } from "./plugin.ts";

const browserAccept = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8";
const built = existsSync(defaultGraphqlOptions.explorerPage);

test("a browser's Accept asks for HTML; GraphQL clients' do not", () => {
  assert.equal(wantsHtml(browserAccept), true);
  assert.equal(wantsHtml("text/html"), true);
  assert.equal(wantsHtml("application/graphql-response+json, application/json"), false);
  assert.equal(wantsHtml("*/*"), false);
  assert.equal(wantsHtml(undefined), false);
  assert.equal(wantsHtml("text/htmlx"), false);
});

test("the explorer is on by default in embedded mode, off in distributed mode, and configurable", () => {
  assert.equal(loadConfig({}, {}).http.graphqlExplorer, true);
  const distributed = {
    mode: "distributed",
    auth: { jwtSecret: "x".repeat(40), piiKey: "A".repeat(43) },
    database: { url: "postgres://127.0.0.1:1/x" },
  };
  assert.equal(loadConfig({}, distributed).http.graphqlExplorer, false);
  assert.equal(loadConfig({ LEDGERFLOW_GRAPHQL_EXPLORER: "true" }, distributed).http.graphqlExplorer, true);
  assert.equal(loadConfig({ LEDGERFLOW_GRAPHQL_EXPLORER: "false" }, {}).http.graphqlExplorer, false);
});

describe("GET /graphql for a browser", {
  skip: built ? false : "web/dist is not built (npm run build:web)",
}, () => {
  let on: TestPlatform;
  let off: TestPlatform;
  before(async () => {
    on = await startTestPlatform();
    off = await startTestPlatform({ http: { port: 0, graphqlExplorer: false } });
  });
  after(async () => {
    await on?.stop();
    await off?.stop();
  });

  test("answers the explorer page, and every asset it loads comes from the platform", async () => {
    const page = await fetch(`${on.url}/graphql`, { headers: { accept: browserAccept } });
    assert.equal(page.status, 200);
    assert.match(page.headers.get("content-type") ?? "", /^text\/html/);
    const html = await page.text();
    assert.match(html, /<div id="graphiql"/);
    assert.doesNotMatch(html, /https?:\/\//, "no CDN: nothing is loaded from elsewhere");
    const assets = [...html.matchAll(/(?:src|href)="(\/assets\/[^"]+)"/g)].map((m) => m[1] as string);
    assert.ok(assets.some((a) => a.endsWith(".js")) && assets.some((a) => a.endsWith(".css")), html);
    for (const asset of assets) {
      const response = await fetch(`${on.url}${asset}`);
      assert.equal(response.status, 200, asset);
      await response.arrayBuffer();
    }
  });

  test("GraphQL clients' GETs are answered as before; off, browsers get GraphQL's answer too", async () => {
    const client = await fetch(`${on.url}/graphql?query=%7B__typename%7D`, {
      headers: { accept: "application/graphql-response+json" },
    });
    assert.equal(client.status, 401);
    assert.match(client.headers.get("content-type") ?? "", /json/);
    await client.text();
    const page = await fetch(`${off.url}/graphql`, { headers: { accept: browserAccept } });
    assert.equal(page.status, 401);
    assert.doesNotMatch(await page.text(), /graphiql/);
  });
});
