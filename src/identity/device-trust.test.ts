import assert from "node:assert/strict";
import { test } from "node:test";
import { manualClock, seededIds, seededRandom } from "../platform/clock.ts";
import { createDeviceTrust, deviceKeyOf, deviceTokenLengthMax } from "./device-trust.ts";

const key = new Uint8Array(32).fill(3);

test("a device token names its user and device, and is valid until it expires", () => {
  const clock = manualClock();
  const trust = createDeviceTrust({ key, ttlMs: 60_000 }, clock, seededIds(seededRandom(1)));
  const token = trust.issue("alice");
  assert.ok(token.length < deviceTokenLengthMax);
  const deviceId = trust.deviceIdOf(token, "alice");
  assert.match(deviceId ?? "", /^[0-9a-f-]{36}$/);
  assert.notEqual(trust.deviceIdOf(trust.issue("alice"), "alice"), deviceId, "each login a new device id");
  assert.equal(trust.deviceIdOf(token, "bob"), undefined);
  clock.advance(59_999);
  assert.equal(trust.deviceIdOf(token, "alice"), deviceId);
  clock.advance(1);
  assert.equal(trust.deviceIdOf(token, "alice"), undefined);
});

test("altered, re-signed with another key, or junk: not trusted", () => {
  const clock = manualClock();
  const trust = createDeviceTrust({ key, ttlMs: 60_000 }, clock, seededIds(seededRandom(1)));
  const other = createDeviceTrust(
    { key: new Uint8Array(32).fill(4), ttlMs: 60_000 },
    clock,
    seededIds(seededRandom(1)),
  );
  const [payload, signature] = trust.issue("alice").split(".");
  const claims = JSON.parse(Buffer.from(payload ?? "", "base64url").toString());
  const longer = Buffer.from(JSON.stringify({ ...claims, e: claims.e + 1 })).toString("base64url");
  for (const candidate of [
    `${longer}.${signature}`,
    other.issue("alice"),
    `${payload}.${signature}.x`,
    `${payload}`,
    "",
    "a".repeat(deviceTokenLengthMax + 1),
    undefined,
  ]) {
    assert.equal(trust.deviceIdOf(candidate, "alice"), undefined, String(candidate));
  }
});

test("without its own secret the device key is derived from the access-token secret, never equal to it", () => {
  const accessTokenSecret = new Uint8Array(48).fill(7);
  const derived = deviceKeyOf(undefined, accessTokenSecret);
  assert.equal(derived.byteLength, 32);
  assert.deepEqual(deviceKeyOf(undefined, accessTokenSecret), derived);
  assert.notDeepEqual(derived, accessTokenSecret.slice(0, 32));
  assert.deepEqual(deviceKeyOf("s".repeat(32), accessTokenSecret), new TextEncoder().encode("s".repeat(32)));
});
