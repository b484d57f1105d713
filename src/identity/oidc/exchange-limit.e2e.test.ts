import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import {
  apiClient,
  startTestPlatform,
  type TestPlatform,
  testAdmin,
  testJwtSecret,
} from "../../../test/support/platform.ts";

describe("refused sign-in ticket exchanges are limited per client, on the login limiter's budget", () => {
  const failuresMax = 3;
  let running: TestPlatform;

  before(async () => {
    running = await startTestPlatform({
      auth: {
        adminUsername: testAdmin.username,
        adminPassword: testAdmin.password,
        jwtSecret: testJwtSecret,
        registrationsPerClientMax: 100,
        loginClientFailuresMax: failuresMax,
      },
    });
  });
  after(() => running?.stop());

  test("after the budget, 429 with Retry-After; each refused ticket before it is a 401", async () => {
    const api = apiClient(running.url);
    for (let attempt = 1; attempt <= failuresMax; attempt++) {
      const refused = await api.call("POST", "/v1/auth/oidc/exchange", { ticket: `not-a-ticket-${attempt}` });
      assert.equal(refused.status, 401, `attempt ${attempt}: ${JSON.stringify(refused.body)}`);
    }
    const limited = await api.call("POST", "/v1/auth/oidc/exchange", { ticket: "not-a-ticket-4" });
    assert.equal(limited.status, 429, JSON.stringify(limited.body));
    assert.equal(limited.body.code, "rate_limited");
    assert.ok(Number(limited.headers.get("retry-after")) > 0);
  });
});
