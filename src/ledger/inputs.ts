/**
 * The ledger's input vocabulary, shared by every edge (REST, GraphQL, gRPC) and by other
 * contexts' edges: the shapes of amounts, IBANs, assets and descriptions, the commands' input
 * shapes, and the field checks that answer 400 naming the field.
 */
import { createHash } from "node:crypto";
import { z } from "zod";
import type { Random } from "../platform/clock.ts";
import { ProblemError } from "../platform/http/problems.ts";
import { isValidIban, normalizeIban } from "./domain/iban.ts";
import { amountMax, assets, parsePositiveAmount } from "./domain/money.ts";

export const assetCode = z
  .enum(Object.keys(assets) as [string, ...string[]])
  .describe("Asset code, e.g. EUR");

/**
 * A regular expression matching exactly the decimal integers 1…max (no sign, no leading zero), so
 * the OpenAPI document states the range a string amount may take.
 */
export function decimalUpToPattern(max: bigint): string {
  const digits = max.toString();
  const alternatives = digits.length > 1 ? [`[1-9][0-9]{0,${digits.length - 2}}`] : [];
  for (let i = 0; i < digits.length; i++) {
    const digit = Number(digits[i]);
    const lowest = i === 0 ? 1 : 0;
    if (digit - 1 < lowest) continue;
    const rest = digits.length - i - 1;
    const range = digit - 1 === lowest ? String(lowest) : `[${lowest}-${digit - 1}]`;
    alternatives.push(`${digits.slice(0, i)}${range}${rest > 0 ? `[0-9]{${rest}}` : ""}`);
  }
  alternatives.push(digits);
  return `^(?:${alternatives.join("|")})$`;
}

/**
 * Amount in minor units: a decimal-integer string (preferred) or a JSON number whose literal text is
 * a plain integer (the body parser hands such a number over as its text, checked by the same
 * pattern: see api/json-body.ts). The number branch documents the JSON form.
 */
export const amountInput = z
  .union([
    z.string().regex(new RegExp(decimalUpToPattern(amountMax))),
    z.int().min(1).max(Number.MAX_SAFE_INTEGER),
  ])
  .describe(
    'Positive amount in minor units as a decimal-integer string, e.g. "1250" for 12.50 EUR (a JSON number is accepted only when written as a plain integer up to 2^53 - 1: no fraction, no exponent)',
  );

/**
 * An IBAN's shape (ISO 13616: country, check digits, 11–30 letters or digits), in any case, single
 * spaces allowed between the characters after the check digits (the printed form). `format: iban` says the check digits must also be right (checked by ibanOrFail).
 */
export const ibanPattern = /^[A-Za-z]{2}[0-9]{2}(?: ?[A-Za-z0-9]){11,30}$/;

export const ibanInput = z
  .string()
  .regex(ibanPattern)
  .meta({ format: "iban", examples: ["NL39 OPEN 0000 0000 01"] })
  .describe("IBAN, any case, spaces allowed, e.g. NL39 OPEN 0000 0000 01");

// PostgreSQL text cannot hold NUL; refusing it here keeps a bad request from ever reaching the handler.
export const descriptionInput = z
  .string()
  .max(140)
  // biome-ignore lint/suspicious/noControlCharactersInRegex: NUL is exactly what is refused
  .regex(/^[^\u0000]*$/, "must not contain NUL characters")
  .describe("Free text shown to both sides");

/** Opening an account (POST /v1/accounts, createAccount). */
export const openAccountInput = z.strictObject({
  id: z.uuid().describe("Client-chosen UUID: the account id and the idempotency key"),
  asset: assetCode,
});
export type OpenAccountInput = z.infer<typeof openAccountInput>;

/** One transfer (POST /v1/transfers, an item of a batch, moneyTransfer). */
export const transferInput = z.strictObject({
  id: z.uuid().describe("Client-chosen UUID: the transfer id and the idempotency key"),
  from: ibanInput,
  to: ibanInput,
  amount: amountInput,
  asset: assetCode,
  description: descriptionInput.optional(),
  token: z.string().min(1).max(128).optional().describe("The source account's secret token"),
});
export type TransferInput = z.infer<typeof transferInput>;

/** A hold (POST /v1/holds, createHold): a transfer reserved until posted, voided or expired. */
export function holdInput(timeoutMsMax: number) {
  return transferInput.extend({
    id: z.uuid().describe("Client-chosen UUID: the hold id and the idempotency key"),
    timeoutMs: z
      .number()
      .int()
      .min(1)
      .max(timeoutMsMax)
      .describe("Milliseconds until the hold expires: unless posted before, it is voided then"),
  });
}
export type HoldInput = z.infer<ReturnType<typeof holdInput>>;

const tokenInput = z.string().min(1).max(128).describe("The debited account's secret token");

/** Posting a hold, in full or in part (POST /v1/holds/{id}/post, postHold). */
export const postHoldInput = z.strictObject({
  id: z.uuid().describe("Client-chosen UUID of this post: the idempotency key"),
  amount: amountInput
    .optional()
    .describe("Posts only this much (at most the held amount; the rest is released). Default: all of it"),
  token: tokenInput.optional(),
});
export type PostHoldInput = z.infer<typeof postHoldInput>;

/** Voiding a hold (POST /v1/holds/{id}/void, voidHold). */
export const voidHoldInput = z.strictObject({
  id: z.uuid().describe("Client-chosen UUID of this void: the idempotency key"),
  token: tokenInput.optional(),
});
export type VoidHoldInput = z.infer<typeof voidHoldInput>;

/**
 * A branch as the teller types it: "Utrecht", "Amsterdam Zuid", "'s-Hertogenbosch", "amsterdam-centraal".
 * Letters (Latin, with accents), digits, spaces, dashes, dots and apostrophes; starts with a letter,
 * digit or apostrophe and ends with a letter, digit or dot. The pattern is spelled with explicit ranges
 * (no \p{L}) so that every OpenAPI tool (schemathesis' Python regexes) reads it the same. Case does
 * not name another branch: see `branchKey`.
 */
export const branchNameInput = z
  .string()
  .regex(/^[A-Za-z0-9À-ÖØ-öø-ÿ'](?:[A-Za-z0-9À-ÖØ-öø-ÿ' .-]{0,62}[A-Za-z0-9À-ÖØ-öø-ÿ.])?$/)
  .refine((name) => !name.includes("  "), "one space between words")
  .describe('Branch name as typed, e.g. "Utrecht" or "Amsterdam Zuid"; case does not matter');

/** The one key of a branch however its name is cased: "Amsterdam Zuid" and "AMSTERDAM zuid" are one. */
export function branchKey(name: string): string {
  return name.normalize("NFC").toLowerCase();
}

/** A teller's cash deposit or withdrawal at a branch (POST /v1/operations). */
export const operationInput = z.strictObject({
  id: z.uuid().describe("Client-chosen UUID: the idempotency key"),
  type: z.enum(["deposit", "withdrawal"]),
  iban: ibanInput,
  amount: amountInput,
  branch: branchNameInput,
});
export type OperationInput = z.infer<typeof operationInput>;

/** The positive amount, or a 400 naming `field`. */
export function amountOrFail(value: string | number, field: string): bigint {
  const text = typeof value === "number" ? (Number.isSafeInteger(value) ? String(value) : "") : value;
  const amount = parsePositiveAmount(text);
  if (amount === undefined) {
    throw new ProblemError("validation_failed", {
      field,
      detail: `${field} must be a positive whole number of minor units, at most 9223372036854775807`,
    });
  }
  return amount;
}

export function ibanOrFail(value: string, field: string): string {
  const iban = normalizeIban(value);
  if (!isValidIban(iban))
    throw new ProblemError("validation_failed", { field, detail: `${field} is not a valid IBAN` });
  return iban;
}

const accountTokenBytes = 32;

/**
 * A new account's secret token: 256 random bits, unrelated to the account id or anything public.
 * Only its SHA-256 is kept (a 256-bit random secret needs no slow password hash); the plaintext is
 * returned once, to the caller who opened the account.
 */
export function newAccountToken(random: Random): { token: string; tokenHash: string } {
  const token = Buffer.from(random.bytes(accountTokenBytes)).toString("base64url");
  return { token, tokenHash: hashToken(token) };
}

export function hashToken(token: string): string {
  return createHash("sha256").update(token).digest("hex");
}
