import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { amountMax, assets, formatAmount, isKnownAsset, parsePositiveAmount } from "./money.ts";

const eur = { code: "EUR", scale: 2 };
const pts = { code: "PTS", scale: 0 };
const btcLike = { code: "XBT", scale: 8 };

test("amountMax is the largest signed 64-bit integer (PostgreSQL bigint, Avro long)", () => {
  assert.equal(amountMax, 9_223_372_036_854_775_807n);
  assert.equal(BigInt.asIntN(64, amountMax), amountMax);
  assert.notEqual(BigInt.asIntN(64, amountMax + 1n), amountMax + 1n);
});

test("parsePositiveAmount accepts positive decimal integers up to 2^63-1", () => {
  assert.equal(parsePositiveAmount("1"), 1n);
  assert.equal(parsePositiveAmount("10"), 10n);
  assert.equal(parsePositiveAmount("12345"), 12_345n);
  assert.equal(parsePositiveAmount("9223372036854775807"), amountMax);
  assert.equal(parsePositiveAmount("9223372036854775806"), amountMax - 1n);
  assert.equal(parsePositiveAmount("999999999999999999"), 999_999_999_999_999_999n);
});

test("parsePositiveAmount rejects zero, negatives, fractions, exponents and padding", () => {
  const rejected = [
    "0",
    "-0",
    "-1",
    "+1",
    "1.5",
    "1.0",
    ".5",
    "1e3",
    "1E3",
    "0x10",
    "0b1",
    "1n",
    "1_000",
    "1,000",
    " 1",
    "1 ",
    "\t1",
    "1\n",
    "\n1",
    "01",
    "00",
    "007",
    "",
    "-",
    "NaN",
    "Infinity",
    "null",
  ];
  for (const text of rejected) assert.equal(parsePositiveAmount(text), undefined, JSON.stringify(text));
});

test("parsePositiveAmount rejects values beyond 64 bits, however long", () => {
  assert.equal(parsePositiveAmount("9223372036854775808"), undefined);
  assert.equal(parsePositiveAmount("9999999999999999999"), undefined);
  assert.equal(parsePositiveAmount("10000000000000000000"), undefined);
  assert.equal(parsePositiveAmount("1".repeat(40)), undefined);
  assert.equal(parsePositiveAmount("9".repeat(40)), undefined);
  assert.equal(parsePositiveAmount("1".repeat(100_000)), undefined);
});

test("parsePositiveAmount rejects non-ASCII digits", () => {
  const rejected = [
    "１", // fullwidth one
    "١٢٣", // Arabic-Indic
    "۱", // extended Arabic-Indic
    "१", // Devanagari
    "𝟏", // mathematical bold one
    "1\u200b", // zero-width space
    "\u00a01", // no-break space
    "¹", // superscript one
    "Ⅰ", // Roman numeral one
  ];
  for (const text of rejected) assert.equal(parsePositiveAmount(text), undefined, JSON.stringify(text));
});

test("parsePositiveAmount round-trips every amount in range and nothing outside it", () => {
  fc.assert(
    fc.property(fc.bigInt({ min: 1n, max: amountMax }), (amount) => {
      assert.equal(parsePositiveAmount(amount.toString()), amount);
    }),
    { numRuns: 2_000 },
  );
  fc.assert(
    fc.property(fc.bigInt({ min: amountMax + 1n, max: 10n ** 60n }), (amount) => {
      assert.equal(parsePositiveAmount(amount.toString()), undefined);
    }),
    { numRuns: 500 },
  );
  fc.assert(
    fc.property(fc.string({ unit: "binary", maxLength: 30 }), (text) => {
      const parsed = parsePositiveAmount(text);
      if (parsed === undefined) return;
      // Whatever is accepted is exactly the canonical decimal form of a positive 64-bit value.
      assert.equal(parsed.toString(), text);
      assert.ok(parsed > 0n && parsed <= amountMax);
    }),
    { numRuns: 2_000 },
  );
});

test("formatAmount places the decimal point by the asset's scale", () => {
  assert.equal(formatAmount(12_345n, eur), "123.45");
  assert.equal(formatAmount(100n, eur), "1.00");
  assert.equal(formatAmount(5n, eur), "0.05");
  assert.equal(formatAmount(50n, eur), "0.50");
  assert.equal(formatAmount(0n, eur), "0.00");
  assert.equal(formatAmount(-5n, eur), "-0.05");
  assert.equal(formatAmount(-12_345n, eur), "-123.45");
  assert.equal(formatAmount(42n, pts), "42");
  assert.equal(formatAmount(0n, pts), "0");
  assert.equal(formatAmount(-42n, pts), "-42");
  assert.equal(formatAmount(1n, btcLike), "0.00000001");
  assert.equal(formatAmount(amountMax, eur), "92233720368547758.07");
  assert.equal(formatAmount(-amountMax, eur), "-92233720368547758.07");
});

test("formatAmount loses nothing: removing the point gives back the minor units", () => {
  fc.assert(
    fc.property(
      fc.bigInt({ min: -amountMax, max: amountMax }),
      fc.constantFrom(eur, pts, btcLike),
      (amount, asset) => {
        const text = formatAmount(amount, asset);
        assert.match(text, asset.scale === 0 ? /^-?(0|[1-9][0-9]*)$/ : /^-?(0|[1-9][0-9]*)\.[0-9]+$/);
        const fraction = text.split(".")[1] ?? "";
        assert.equal(fraction.length, asset.scale);
        assert.equal(BigInt(text.replace(".", "")), amount);
      },
    ),
    { numRuns: 2_000 },
  );
});

test("the configured assets are known, anything else (including prototype keys) is not", () => {
  for (const code of Object.keys(assets)) assert.equal(isKnownAsset(code), true, code);
  assert.equal(assets.EUR?.scale, 2);
  assert.equal(assets.PTS?.scale, 0);
  for (const code of ["", "eur", "XXX", "toString", "__proto__", "constructor", "hasOwnProperty", "EUR "]) {
    assert.equal(isKnownAsset(code), false, code);
  }
});
