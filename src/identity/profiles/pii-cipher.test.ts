import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { test } from "node:test";
import { systemRandom } from "../../platform/clock.ts";
import { createPiiCipher, parsePiiKey, piiKeyIdOf } from "./pii-cipher.ts";

const keyA = randomBytes(32);
const keyB = randomBytes(32);

test("round trip; the stored value shows neither the text nor the key, and names the key", () => {
  const cipher = createPiiCipher(keyA, [], systemRandom);
  const stored = cipher.encrypt("email", "alice@example.com");
  assert.doesNotMatch(stored, /alice/);
  assert.equal(cipher.keyIdOf(stored), piiKeyIdOf(keyA));
  assert.equal(cipher.decrypt("email", stored), "alice@example.com");
  assert.notEqual(cipher.encrypt("email", "alice@example.com"), stored, "a fresh nonce each time");
});

test("tampering, another field's value, or an unknown key fail to decrypt", () => {
  const cipher = createPiiCipher(keyA, [], systemRandom);
  const stored = cipher.encrypt("legalName", "Alice Liddell");
  const parts = stored.split(".");
  const body = Buffer.from(parts[4] ?? "", "base64url");
  body[0] = (body[0] ?? 0) ^ 1;
  parts[4] = body.toString("base64url");
  assert.throws(() => cipher.decrypt("legalName", parts.join(".")));
  assert.throws(() => cipher.decrypt("email", stored), "bound to its field");
  assert.throws(() => createPiiCipher(keyB, [], systemRandom).decrypt("legalName", stored), /not configured/);
});

test("rotation: a new key writes, the previous one still reads", () => {
  const old = createPiiCipher(keyA, [], systemRandom).encrypt("email", "bob@example.com");
  const rotated = createPiiCipher(keyB, [keyA], systemRandom);
  assert.equal(rotated.decrypt("email", old), "bob@example.com");
  assert.equal(rotated.keyIdOf(rotated.encrypt("email", "x")), piiKeyIdOf(keyB));
});

test("a configured key must be 32 bytes", () => {
  assert.equal(parsePiiKey(keyA.toString("base64")).byteLength, 32);
  assert.throws(() => parsePiiKey("c2hvcnQ"), /32 bytes/);
});
