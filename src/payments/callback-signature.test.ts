import assert from "node:assert/strict";
import { test } from "node:test";
import { manualClock } from "../platform/clock.ts";
import { createEventDeduplicator, signCallback, verifyCallbackSignature } from "./callback-signature.ts";

const secret = "whsec_test";
const body = '{"eventId":"e1","status":"succeeded","amount":"1000"}';
const t = 1_700_000_000_000;
const toleranceMs = 300_000;

test("a signature made with the shared secret verifies", () => {
  const header = signCallback(secret, body, t);
  assert.match(header, /^t=1700000000000,v1=[0-9a-f]{64}$/);
  assert.deepEqual(verifyCallbackSignature(secret, header, body, t + 1_000, toleranceMs), {
    ok: true,
    timestampMs: t,
  });
  assert.equal(verifyCallbackSignature(secret, header, Buffer.from(body), t, toleranceMs).ok, true);
});

test("tampered body, wrong secret, stale or future timestamp are rejected with stable codes", () => {
  const header = signCallback(secret, body, t);
  const code = (result: ReturnType<typeof verifyCallbackSignature>) => (result.ok ? "ok" : result.code);
  assert.equal(
    code(verifyCallbackSignature(secret, header, body.replace("1000", "9000"), t, toleranceMs)),
    "signature_mismatch",
  );
  assert.equal(code(verifyCallbackSignature("other", header, body, t, toleranceMs)), "signature_mismatch");
  assert.equal(
    code(verifyCallbackSignature(secret, header, body, t + toleranceMs + 1, toleranceMs)),
    "timestamp_out_of_tolerance",
  );
  assert.equal(
    code(verifyCallbackSignature(secret, header, body, t - toleranceMs - 1, toleranceMs)),
    "timestamp_out_of_tolerance",
  );
  // Moving the timestamp to look fresh breaks the signature, since the timestamp is signed.
  const refreshed = header.replace(`t=${t}`, `t=${t + 1}`);
  assert.equal(code(verifyCallbackSignature(secret, refreshed, body, t, toleranceMs)), "signature_mismatch");
});

test("malformed or missing headers are rejected", () => {
  const code = (header: string | undefined) => {
    const result = verifyCallbackSignature(secret, header, body, t, toleranceMs);
    return result.ok ? "ok" : result.code;
  };
  assert.equal(code(undefined), "signature_missing");
  assert.equal(code(""), "signature_missing");
  assert.equal(code("garbage"), "signature_malformed");
  assert.equal(code(`t=${t}`), "signature_malformed");
  assert.equal(code(`t=abc,v1=${"0".repeat(64)}`), "signature_malformed");
  assert.equal(code(`t=${t},v1=xyz`), "signature_malformed");
});

test("any of several v1 signatures may match (secret rotation); unknown schemes are ignored", () => {
  const fresh = signCallback(secret, body, t).split("v1=")[1];
  const header = `t=${t},v0=legacy,v1=${"ab".repeat(32)},v1=${fresh}`;
  assert.equal(verifyCallbackSignature(secret, header, body, t, toleranceMs).ok, true);
});

test("the deduplicator recognises a replayed event id within its retention", () => {
  const clock = manualClock();
  const dedupe = createEventDeduplicator({ clock, retentionMs: 1_000 });
  assert.equal(dedupe.firstSeen("e1"), true);
  assert.equal(dedupe.firstSeen("e1"), false);
  clock.advance(500);
  assert.equal(dedupe.firstSeen("e2"), true);
  clock.advance(600);
  // e1 has aged out (and its signature would now be outside tolerance); e2 has not.
  assert.equal(dedupe.firstSeen("e1"), true);
  assert.equal(dedupe.firstSeen("e2"), false);
});
