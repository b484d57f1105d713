import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { manualClock } from "../../platform/clock.ts";
import { createLocalRevocations } from "./revocations.ts";
import { coarseIp } from "./sessions.ts";
import { decideRefresh, type SessionRecord } from "./store.ts";

const session: SessionRecord = {
  id: "s",
  userId: "u",
  device: "d",
  ipCoarse: "127.0.0.0/24",
  createdAtMs: 0,
  lastUsedAtMs: 0,
};

describe("refresh decision", () => {
  test("a current token rotates; a spent one is reuse; revoked and expired are refused", () => {
    assert.equal(decideRefresh(undefined, 10).kind, "unknown");
    assert.equal(decideRefresh({ session, rotatedAtMs: undefined, expiresAtMs: 11 }, 10).kind, "rotated");
    assert.equal(decideRefresh({ session, rotatedAtMs: 5, expiresAtMs: 11 }, 10).kind, "reused");
    assert.equal(decideRefresh({ session, rotatedAtMs: undefined, expiresAtMs: 10 }, 10).kind, "expired");
    const revoked = { ...session, revokedAtMs: 3, revokedReason: "logout" as const };
    // Revoked wins over reuse: the family is already dead, nothing more to revoke.
    assert.equal(decideRefresh({ session: revoked, rotatedAtMs: 5, expiresAtMs: 11 }, 10).kind, "revoked");
  });
});

describe("coarse client address", () => {
  test("IPv4 /24, IPv6 /48, mapped IPv4 as IPv4, junk as unknown", () => {
    assert.equal(coarseIp("203.0.113.77"), "203.0.113.0/24");
    assert.equal(coarseIp("::ffff:203.0.113.77"), "203.0.113.0/24");
    assert.equal(coarseIp("2001:db8:abcd:12::1"), "2001:db8:abcd::/48");
    assert.equal(coarseIp("2001:db8::1"), "2001:db8:0::/48");
    assert.equal(coarseIp("not an address"), "unknown");
  });
});

describe("local revocation set", () => {
  test("remembers a session for keepMs, then forgets it", () => {
    const clock = manualClock(0);
    const set = createLocalRevocations(clock, 1_000);
    set.add("a");
    clock.advance(999);
    assert.equal(set.has("a"), true);
    clock.advance(1);
    assert.equal(set.has("a"), false);
    set.add("b");
    assert.equal(set.size, 1, "expired entries are pruned on add");
  });
});
