import { z } from "zod";

/**
 * Free text that goes to PostgreSQL: text columns cannot hold NUL, so a request carrying one is a
 * 400 naming the field here, never a 500 there. Routes use it in their schemas, so the document
 * states it and fuzzers generate within it.
 */
// biome-ignore lint/suspicious/noControlCharactersInRegex: NUL is exactly what is refused
export const noNulPattern = /^[^\u0000]*$/;
export const noNulMessage = "must not contain NUL characters";

// What String.prototype.trim strips (ECMAScript WhiteSpace and LineTerminator), spelled out so the
// document's pattern means the same in every regex engine: Python's \s, which fuzzers use, differs.
const trimmed = "\\t\\n\\v\\f\\r \\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000\\ufeff";

/** The document's pattern: no NUL and at least `visibleMin` characters that trimming keeps. */
export function freeTextPattern(visibleMin: number): string {
  return `^[^\\u0000]*(?:[^${trimmed}\\u0000][^\\u0000]*){${visibleMin}}$`;
}

const codePointsOf = (text: string): number => {
  let count = 0;
  for (const _ of text) count++;
  return count;
};

/**
 * Text counted as JSON Schema counts it, in code points (64 emoji are 64 characters, not 128 UTF-16
 * units), without NUL. The document states exactly what the server takes, both ways: a request it
 * allows is never a 400, and one it refuses is never accepted.
 */
export function boundedText(lengthMin: number, lengthMax: number) {
  return z
    .string()
    .max(lengthMax * 2) // a cheap bound before counting: a code point takes at most two units
    .superRefine((text, context) => {
      if (text.includes("\u0000")) context.addIssue({ code: "custom", message: noNulMessage });
      const length = codePointsOf(text);
      if (length < lengthMin || length > lengthMax)
        context.addIssue({ code: "custom", message: `must have ${lengthMin} to ${lengthMax} characters` });
    })
    .meta({ minLength: lengthMin, maxLength: lengthMax, pattern: noNulPattern.source });
}

/**
 * A free-text field, trimmed: at most `lengthMax` code points as sent, and at least `lengthMin`
 * once leading and trailing spaces are gone (the document's pattern: that many characters trimming
 * keeps, which is the same thing), so a name of only spaces is refused by both.
 */
export function freeText(lengthMin: number, lengthMax: number) {
  return z
    .string()
    .max(lengthMax * 2)
    .superRefine((text, context) => {
      if (text.includes("\u0000")) context.addIssue({ code: "custom", message: noNulMessage });
      const length = codePointsOf(text);
      const kept = codePointsOf(text.trim());
      if (length > lengthMax || kept < lengthMin) {
        const message = `must have ${lengthMin} to ${lengthMax} characters, not counting leading and trailing spaces`;
        context.addIssue({ code: "custom", message });
      }
    })
    .trim()
    .meta({ minLength: lengthMin, maxLength: lengthMax, pattern: freeTextPattern(lengthMin) });
}
