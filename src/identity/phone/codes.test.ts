import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { seededRandom } from "../../platform/clock.ts";
import { codeKeyOf, codeMatches, drawCode, hashCode, normalisePhone } from "./codes.ts";

describe("one-time codes", () => {
  test("six digits, leading zeros kept, from the injected randomness (same seed, same codes)", () => {
    const first = Array.from(
      { length: 200 },
      (
        (random) => () =>
          drawCode(random)
      )(seededRandom(7)),
    );
    const again = Array.from(
      { length: 200 },
      (
        (random) => () =>
          drawCode(random)
      )(seededRandom(7)),
    );
    assert.deepEqual(first, again);
    for (const code of first) assert.match(code, /^[0-9]{6}$/);
    const zeros = { next: () => 0, bytes: (length: number) => new Uint8Array(length) };
    assert.equal(drawCode(zeros), "000000");
  });

  test("draws past the last whole multiple of 10^6 are discarded (no modulo bias)", () => {
    const draws = [
      [0xff, 0xff, 0xff, 0xff],
      [0, 0, 0x30, 0x39],
    ];
    const random = { next: () => 0, bytes: () => Uint8Array.from(draws.shift() ?? [0, 0, 0, 0]) };
    assert.equal(drawCode(random), "012345");
  });

  test("stored as an HMAC bound to user and number; compared in constant time", () => {
    const key = codeKeyOf(new TextEncoder().encode("a-secret-a-secret-a-secret-a-secret"));
    const stored = hashCode(key, "u-1", "+31612345678", "123456");
    assert.ok(codeMatches(stored, hashCode(key, "u-1", "+31612345678", "123456")));
    assert.ok(!codeMatches(stored, hashCode(key, "u-1", "+31612345678", "123457")));
    assert.ok(!codeMatches(stored, hashCode(key, "u-2", "+31612345678", "123456")));
    assert.ok(!codeMatches(stored, hashCode(key, "u-1", "+31612345679", "123456")));
    assert.ok(!stored.toString("hex").includes("123456"));
  });
});

describe("phone numbers", () => {
  test("normalised to E.164, national numbers read in the default country", () => {
    assert.equal(normalisePhone("+31 6 12345678", undefined), "+31612345678");
    assert.equal(normalisePhone("06-12345678", "NL"), "+31612345678");
    assert.equal(normalisePhone("(201) 555-0123", "US"), "+12015550123");
  });
  test("invalid or ambiguous numbers are refused", () => {
    assert.equal(normalisePhone("06-12345678", undefined), undefined);
    assert.equal(normalisePhone("+31 6 123", undefined), undefined);
    assert.equal(normalisePhone("not a number", "NL"), undefined);
  });
});
