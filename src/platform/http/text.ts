/**
 * Free text that goes to PostgreSQL: text columns cannot hold NUL, so a request carrying one is a
 * 400 naming the field here, never a 500 there. Routes use it in their schemas, so the document
 * states it and fuzzers generate within it.
 */
// biome-ignore lint/suspicious/noControlCharactersInRegex: NUL is exactly what is refused
export const noNulPattern = /^[^\u0000]*$/;
export const noNulMessage = "must not contain NUL characters";
