import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { ibanFor, isValidIban, normalizeIban } from "./iban.ts";

test("known valid IBANs pass the mod-97 check", () => {
  for (const iban of ["GB82 WEST 1234 5698 7654 32", "NL91ABNA0417164300", "DE89370400440532013000"]) {
    assert.equal(isValidIban(iban), true, iban);
  }
});

test("a single changed digit or swapped pair is detected", () => {
  assert.equal(isValidIban("NL91ABNA0417164301"), false);
  assert.equal(isValidIban("NL91ABNA0417163400"), false);
  assert.equal(isValidIban("NL19ABNA0417164300"), false);
});

test("malformed text is rejected, not thrown on", () => {
  for (const text of ["", "NL", "12345", "NL91 ABNA 0417 1643 00 '; DROP TABLE", "ÑL91ABNA0417164300"]) {
    assert.equal(isValidIban(text), false, text);
  }
});

test("every generated IBAN is valid and has the configured bank code", () => {
  fc.assert(
    fc.property(fc.bigInt({ min: 0n, max: 9_999_999_999n }), (serial) => {
      const iban = ibanFor({ country: "NL", bankCode: "OPEN" }, serial);
      assert.equal(iban.length, 18);
      assert.equal(iban.slice(4, 8), "OPEN");
      assert.equal(isValidIban(iban), true);
      assert.equal(normalizeIban(iban), iban);
    }),
  );
});
