/** The social posting settings: no URL, nothing posted; URLs need the secret, which has no default. */
import assert from "node:assert/strict";
import { test } from "node:test";
import { loadConfig } from "../../app/config.ts";
import { ConfigError } from "../../platform/config.ts";
import { socialSettingsSchema, webhooksOf } from "./config.ts";

test("no webhook: nothing is posted; the defaults are bounds, never a secret", () => {
  const settings = socialSettingsSchema.parse({});
  assert.equal(webhooksOf(settings), undefined);
  assert.equal(settings.socialWebhookSecret, undefined);
  assert.deepEqual(
    [settings.socialTimeoutMs, settings.socialAttemptsMax, settings.socialBackoffBaseMs],
    [5_000, 5, 2_000],
  );
});

test("URLs from the environment, comma-separated; without the secret a ConfigError", () => {
  const env = { LEDGERFLOW_COMMUNITY_SOCIAL_WEBHOOK_URLS: "https://a.example/hook, http://127.0.0.1:9/x" };
  const config = loadConfig(env, {});
  assert.deepEqual(config.community.socialWebhookUrls, ["https://a.example/hook", "http://127.0.0.1:9/x"]);
  assert.throws(() => webhooksOf(config.community), ConfigError);
  const secret = "s".repeat(32);
  const signed = loadConfig({ ...env, LEDGERFLOW_COMMUNITY_SOCIAL_WEBHOOK_SECRET: secret }, {});
  assert.deepEqual(webhooksOf(signed.community), {
    urls: ["https://a.example/hook", "http://127.0.0.1:9/x"],
    secret,
  });
});

test("a URL that is not http(s), a short secret or too many URLs are refused", () => {
  for (const bad of [
    { socialWebhookUrls: "ftp://a.example/x" },
    { socialWebhookUrls: "not a url" },
    { socialWebhookUrls: Array.from({ length: 11 }, (_, i) => `https://h${i}.example/`) },
    { socialWebhookSecret: "short" },
  ])
    assert.equal(socialSettingsSchema.safeParse(bad).success, false, JSON.stringify(bad));
});
