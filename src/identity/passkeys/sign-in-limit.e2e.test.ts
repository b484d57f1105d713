import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import {
  apiClient,
  startTestPlatform,
  type TestPlatform,
  testAdmin,
  testJwtSecret,
} from "../../../test/support/platform.ts";

// A well-formed assertion no passkey ever signed: each attempt costs the server a lookup.
const forgedAssertion = {
  credential: {
    id: "AAAAAAAAAAAAAAAAAAAAAA",
    rawId: "AAAAAAAAAAAAAAAAAAAAAA",
    type: "public-key",
    response: { clientDataJSON: "e30", authenticatorData: "AAAA", signature: "AAAA" },
    clientExtensionResults: {},
  },
};

describe("passkey sign-in is limited per client, on the same budget as passwords", () => {
  const failuresMax = 3;
  let running: TestPlatform;
  let api: ReturnType<typeof apiClient>;

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
    api = apiClient(running.url);
  });
  after(() => running?.stop());

  test("failed passkey sign-ins are refused with 429 and Retry-After once the client's budget is spent", async () => {
    for (let attempt = 1; attempt <= failuresMax; attempt++) {
      const refused = await api.call("POST", "/v1/auth/passkeys/verify", forgedAssertion);
      assert.equal(refused.status, 401, `attempt ${attempt}: ${JSON.stringify(refused.body)}`);
      assert.equal(refused.body.code, "passkey_sign_in_failed");
    }
    const limited = await api.call("POST", "/v1/auth/passkeys/verify", forgedAssertion);
    assert.equal(limited.status, 429, JSON.stringify(limited.body));
    assert.equal(limited.body.code, "rate_limited");
    assert.ok(Number(limited.headers.get("retry-after")) > 0, "says when to come back");
    // One budget: the same client's password logins wait too, even with the right password.
    const password = await api.call("POST", "/v1/auth/login", testAdmin);
    assert.equal(password.status, 429, JSON.stringify(password.body));
  });
});
