/**
 * Per-client limits behind a reverse proxy: X-Forwarded-For names the client only when the
 * connecting address is a configured trusted proxy. Shown with the registration limit (2 here).
 */
import assert from "node:assert/strict";
import { after, describe, test } from "node:test";
import {
  apiClient,
  startTestPlatform,
  type TestPlatform,
  testAdmin,
  testJwtSecret,
} from "../../test/support/platform.ts";
import { ConfigError } from "../platform/config.ts";
import { loadConfig } from "./config.ts";

const started: TestPlatform[] = [];
after(async () => {
  for (const platform of started) await platform.stop();
});

async function platformWith(trustedProxies: string | undefined) {
  const platform = await startTestPlatform({
    http: { port: 0, ...(trustedProxies === undefined ? {} : { trustedProxies }) },
    auth: {
      adminUsername: testAdmin.username,
      adminPassword: testAdmin.password,
      jwtSecret: testJwtSecret,
      registrationsPerClientMax: 2,
    },
  });
  started.push(platform);
  const api = apiClient(platform.url);
  let n = 0;
  return (forwardedFor: string) =>
    api.call(
      "POST",
      "/v1/auth/register",
      { username: `proxied-${++n}`, password: "correct horse battery staple" },
      { "x-forwarded-for": forwardedFor },
    );
}

describe("trusted proxies", () => {
  test("behind a trusted proxy each forwarded client has its own limit", async () => {
    const register = await platformWith("127.0.0.1");
    assert.equal((await register("198.51.100.1")).status, 201);
    assert.equal((await register("198.51.100.1")).status, 201);
    assert.equal((await register("198.51.100.1")).status, 429);
    assert.equal((await register("198.51.100.2")).status, 201, "another client behind the proxy");
  });

  test("without one, X-Forwarded-For is ignored: a client cannot pick a fresh address per request", async () => {
    const register = await platformWith(undefined);
    assert.equal((await register("203.0.113.1")).status, 201);
    assert.equal((await register("203.0.113.2")).status, 201);
    assert.equal((await register("203.0.113.3")).status, 429);
  });

  test("the setting takes addresses and CIDRs only", () => {
    const config = loadConfig({ LEDGERFLOW_TRUSTED_PROXIES: "10.0.0.0/8, 2001:db8::1" }, {});
    assert.deepEqual(config.http.trustedProxies, ["10.0.0.0/8", "2001:db8::1"]);
    for (const bad of ["true", "10.0.0.0/33", "proxy.local", "1.2.3.4/8/1"])
      assert.throws(() => loadConfig({ LEDGERFLOW_TRUSTED_PROXIES: bad }, {}), ConfigError, bad);
  });
});
