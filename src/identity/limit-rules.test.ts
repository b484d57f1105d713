import assert from "node:assert/strict";
import { test } from "node:test";
import { ConfigError, loadConfig } from "../app/config.ts";
import { defaultLimitRules } from "./login-limiter.ts";
import { limitRulesOf } from "./module.ts";

test("the config's default limits are the documented defaultLimitRules", () => {
  assert.deepEqual(limitRulesOf(loadConfig({}).auth), defaultLimitRules);
});

test("every login and registration limit is set from its LEDGERFLOW_* variable", () => {
  const config = loadConfig({
    LEDGERFLOW_LOGIN_CLIENT_FAILURES_MAX: "50",
    LEDGERFLOW_LOGIN_USER_CLIENT_FAILURES_MAX: "3",
    LEDGERFLOW_LOGIN_FAILURES_WINDOW_MS: "60000",
    LEDGERFLOW_LOGIN_USERNAME_FAILURES_UNDELAYED_MAX: "0",
    LEDGERFLOW_LOGIN_USERNAME_DELAY_BASE_MS: "500",
    LEDGERFLOW_LOGIN_USERNAME_DELAY_MAX_MS: "8000",
    LEDGERFLOW_LOGIN_USERNAME_WINDOW_MS: "120000",
    LEDGERFLOW_DEVICE_FAILURES_MAX: "4",
    LEDGERFLOW_REGISTRATIONS_PER_CLIENT_MAX: "2",
    LEDGERFLOW_REGISTRATIONS_WINDOW_MS: "7200000",
    LEDGERFLOW_PASSWORD_HASH_CONCURRENCY_MAX: "1",
    LEDGERFLOW_PASSWORD_HASH_QUEUED_MAX: "0",
    LEDGERFLOW_DEVICE_TRUST_TTL_MS: "86400000",
  });
  assert.deepEqual(limitRulesOf(config.auth), {
    client: { kind: "block", attemptsMax: 50, windowMs: 60_000 },
    userClient: { kind: "block", attemptsMax: 3, windowMs: 60_000 },
    username: {
      kind: "delay",
      attemptsUndelayedMax: 0,
      delayBaseMs: 500,
      delayMaxMs: 8_000,
      windowMs: 120_000,
    },
    device: { kind: "block", attemptsMax: 4, windowMs: 60_000 },
    registration: { kind: "block", attemptsMax: 2, windowMs: 7_200_000 },
  });
  assert.equal(config.auth.passwordHashConcurrencyMax, 1);
  assert.equal(config.auth.passwordHashQueuedMax, 0);
  assert.equal(config.auth.deviceTrustTtlMs, 86_400_000);
});

test("a delay maximum below its base, or a short device secret, is refused at start", () => {
  assert.throws(
    () =>
      loadConfig({
        LEDGERFLOW_LOGIN_USERNAME_DELAY_BASE_MS: "5000",
        LEDGERFLOW_LOGIN_USERNAME_DELAY_MAX_MS: "1000",
      }),
    ConfigError,
  );
  assert.throws(() => loadConfig({ LEDGERFLOW_DEVICE_SECRET: "too short" }), ConfigError);
});
