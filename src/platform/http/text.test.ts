import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { boundedText, freeText, freeTextPattern } from "./text.ts";

describe("freeText", () => {
  const reason = freeText(1, 10);
  const agency = freeText(2, 10);

  test("trims, and refuses text that is only spaces (the document's pattern says so too)", () => {
    assert.equal(reason.parse("  why  "), "why");
    for (const blank of [" ", "\t\n", "\u00a0\u3000", "\ufeff"]) {
      assert.equal(reason.safeParse(blank).success, false, JSON.stringify(blank));
      assert.doesNotMatch(blank, new RegExp(freeTextPattern(1), "u"));
    }
    assert.equal(agency.safeParse(" a ").success, false);
    assert.equal(agency.parse(" ab "), "ab");
  });

  test("counts code points as JSON Schema does: ten emoji fit ten characters", () => {
    assert.equal(reason.parse("😀".repeat(10)), "😀".repeat(10));
    assert.equal(reason.safeParse("😀".repeat(11)).success, false);
  });

  test("what the document refuses, the server refuses: too long as sent, even if trimming shortens it", () => {
    assert.equal(reason.safeParse(`${"a".repeat(10)} `).success, false);
    assert.equal(boundedText(1, 3).safeParse("abcd").success, false);
    assert.equal(boundedText(1, 3).parse("😀😀😀"), "😀😀😀");
    assert.equal(boundedText(1, 3).safeParse("").success, false);
  });

  test("refuses NUL", () => {
    assert.equal(reason.safeParse("a\u0000b").success, false);
    assert.doesNotMatch("a\u0000b", new RegExp(freeTextPattern(1), "u"));
  });

  test("every string the document's pattern and length admit, the server takes", () => {
    const pattern = new RegExp(freeTextPattern(2), "u");
    const alphabet = [" ", "\t", "\u001c", "\u0085", "\ufeff", "\u00a0", "a", "é", "😀", "\u2028", "\u0000"];
    let admitted = 0;
    for (const a of alphabet)
      for (const b of alphabet)
        for (const c of alphabet) {
          const text = a + b + c;
          if (!pattern.test(text)) continue;
          admitted++;
          assert.equal(agency.safeParse(text).success, true, JSON.stringify(text));
        }
    assert.ok(admitted > 100, `only ${admitted} strings admitted`);
  });

  test("the document states code-point limits and the pattern", async () => {
    const { z } = await import("zod");
    const schema = z.toJSONSchema(freeText(1, 64), { io: "input" }) as Record<string, unknown>;
    assert.equal(schema.maxLength, 64);
    assert.equal(schema.minLength, 1);
    assert.equal(schema.pattern, freeTextPattern(1));
  });
});
