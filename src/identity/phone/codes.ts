/**
 * One-time codes and phone numbers, without I/O: six digits drawn uniformly from injected
 * randomness, stored only as an HMAC (a stolen table cannot be brute-forced offline without the
 * key), and numbers normalised to E.164 by libphonenumber-js.
 */
import { createHmac, hkdfSync, timingSafeEqual } from "node:crypto";
import { type CountryCode, parsePhoneNumberFromString } from "libphonenumber-js/max";
import type { Random } from "../../platform/clock.ts";

export const codeLength = 6;
const codeSpace = 10 ** codeLength;
// The largest multiple of 10^6 below 2^32: draws at or above it are discarded (no modulo bias).
const drawLimit = Math.floor(2 ** 32 / codeSpace) * codeSpace;

export function drawCode(random: Random): string {
  for (;;) {
    const draw = Buffer.from(random.bytes(4)).readUInt32BE(0);
    if (draw < drawLimit) return String(draw % codeSpace).padStart(codeLength, "0");
  }
}

/** The key of the codes' HMAC: derived from the access-token secret under a label of its own. */
export function codeKeyOf(secret: Uint8Array): Buffer {
  return Buffer.from(hkdfSync("sha256", secret, "", "ledgerflow phone code v1", 32));
}

/** Bound to the user and the number, so a hash cannot be moved to another row. */
export function hashCode(key: Buffer, userId: string, phoneE164: string, code: string): Buffer {
  return createHmac("sha256", key).update(`${userId}\n${phoneE164}\n${code}`).digest();
}

export function codeMatches(expected: Buffer, actual: Buffer): boolean {
  return expected.length === actual.length && timingSafeEqual(expected, actual);
}

/** E.164 (`+31612345678`) of a valid number, or undefined. */
export function normalisePhone(input: string, defaultCountry: string | undefined): string | undefined {
  const parsed = parsePhoneNumberFromString(input, defaultCountry as CountryCode | undefined);
  return parsed?.isValid() ? parsed.number : undefined;
}
