/** The web app's money formatting and parsing: BigInt only, exact for any size. */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { formatIban, isValidIban } from "../../web/src/lib/iban.ts";
import { formatMinor, formatMoney, parseAmountInput } from "../../web/src/lib/money.ts";

describe("formatMinor", () => {
  it("places the decimal point by the asset's scale and groups thousands", () => {
    assert.equal(formatMinor("123456", 2), "1,234.56");
    assert.equal(formatMinor("5", 2), "0.05");
    assert.equal(formatMinor("0", 2), "0.00");
    assert.equal(formatMinor("1200", 0), "1,200");
    assert.equal(formatMinor("-5", 2), "−0.05");
    assert.equal(formatMinor("1234", 2, { sign: "always" }), "+12.34");
  });

  it("stays exact beyond 2^53", () => {
    assert.equal(formatMinor("9223372036854775807", 2), "92,233,720,368,547,758.07");
    assert.equal(formatMinor("9007199254740993", 0), "9,007,199,254,740,993");
  });

  it("shows malformed input unchanged instead of guessing", () => {
    assert.equal(formatMinor("12.5", 2), "12.5");
  });
});

describe("formatMoney", () => {
  it("puts the currency symbol after the sign, and the code after assets without a symbol", () => {
    assert.equal(formatMoney("-1234", "EUR"), "−€12.34");
    assert.equal(formatMoney("100", "USD", { sign: "always" }), "+$1.00");
    assert.equal(formatMoney("1200", "PTS"), "1,200 PTS");
    assert.equal(formatMoney("7", "XYZ"), "7 XYZ");
  });
});

describe("parseAmountInput", () => {
  const ok = (input: string, scale: number) => {
    const parsed = parseAmountInput(input, scale);
    assert.ok(parsed.ok, `${input} parses`);
    return parsed.minor;
  };

  it("turns what people type into exact minor units", () => {
    assert.equal(ok("12.34", 2), "1234");
    assert.equal(ok("12,34", 2), "1234");
    assert.equal(ok("12", 2), "1200");
    assert.equal(ok("0.1", 2), "10");
    assert.equal(ok(".5", 2), "50");
    assert.equal(ok("1,234.50", 2), "123450");
    assert.equal(ok("1.234,50", 2), "123450");
    assert.equal(ok("1 000", 0), "1000");
    assert.equal(ok("0.07", 2), "7");
    assert.equal(ok("92233720368547758.07", 2), "9223372036854775807");
  });

  it("refuses what is not an exact positive amount", () => {
    for (const [input, scale] of [
      ["", 2],
      ["-1", 2],
      ["0", 2],
      ["0.00", 2],
      ["1.234", 2],
      ["1.5", 0],
      ["1e3", 2],
      ["abc", 2],
      ["92233720368547758.08", 2],
      ["1.2.3", 2],
    ] as const) {
      assert.equal(parseAmountInput(input, scale).ok, false, `${input} (scale ${scale}) is refused`);
    }
  });
});

describe("IBAN helpers", () => {
  it("check the mod-97 digits and format in groups of four", () => {
    assert.equal(isValidIban("NL91 ABNA 0417 1643 00"), true);
    assert.equal(isValidIban("NL91ABNA0417164301"), false);
    assert.equal(formatIban("nl91abna0417164300"), "NL91 ABNA 0417 1643 00");
  });
});
