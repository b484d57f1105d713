/** The Web Push settings: a secret with no default; all three VAPID settings or none. */
import assert from "node:assert/strict";
import { test } from "node:test";
import webPush from "web-push";
import { ConfigError } from "../../platform/config.ts";
import { pushSettingsSchema, vapidOf } from "./config.ts";

const keys = webPush.generateVAPIDKeys();
const subject = "mailto:ops@ledgerflow.example";

test("no VAPID setting: Web Push is off; the defaults are bounds, never a key", () => {
  const settings = pushSettingsSchema.parse({});
  assert.equal(vapidOf(settings), undefined);
  assert.deepEqual(settings, { pushTtlS: 900, pushTimeoutMs: 10_000 });
});

test("all three: the keys; some of them: a ConfigError naming the variables", () => {
  const all = {
    pushVapidSubject: subject,
    pushVapidPublicKey: keys.publicKey,
    pushVapidPrivateKey: keys.privateKey,
  };
  assert.deepEqual(vapidOf(pushSettingsSchema.parse(all)), { subject, ...keys });
  assert.throws(
    () => vapidOf(pushSettingsSchema.parse({ ...all, pushVapidPrivateKey: undefined })),
    ConfigError,
  );
});

test("keys of the wrong length or alphabet and a subject that is not mailto:/https: are refused", () => {
  for (const bad of [
    { pushVapidPublicKey: keys.privateKey },
    { pushVapidPrivateKey: keys.publicKey },
    { pushVapidPrivateKey: `${keys.privateKey.slice(1)}+` },
    { pushVapidSubject: "http://ledgerflow.example" },
  ])
    assert.equal(pushSettingsSchema.safeParse(bad).success, false, JSON.stringify(Object.keys(bad)));
});
