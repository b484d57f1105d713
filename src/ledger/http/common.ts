import { createHash } from "node:crypto";
import type { FastifyReply, FastifyRequest } from "fastify";
import { z } from "zod";
import { isStaff, type Principal } from "../../platform/http/auth.ts";
import { ProblemError, rejectionProblem } from "../../platform/http/problems.ts";

export { isStaff, preferredWaitMs, principalOf } from "../../platform/http/auth.ts";

import type { Clock, Random } from "../../platform/clock.ts";
import type { AccountClaims } from "../account-claims.ts";
import type { AcceptedCommands, CommandGateway, Submission } from "../command-gateway.ts";
import { isValidIban, normalizeIban } from "../domain/iban.ts";
import { amountMax, assets, parsePositiveAmount } from "../domain/money.ts";
import type { AccountState } from "../domain/types.ts";
import type { LiveStats } from "../live-stats.ts";
import type { LedgerNotifications } from "../notifications.ts";
import type { LedgerQueries } from "../queries.ts";

export interface LedgerHttpDeps {
  readonly gateway: CommandGateway;
  readonly accepted: AcceptedCommands;
  readonly queries: LedgerQueries;
  readonly notifications: LedgerNotifications;
  readonly clock: Clock;
  readonly waitMsMax: number;
  readonly transfersPerBatchMax: number;
  /** Longest timeout a client may give a hold. */
  readonly holdTimeoutMsMax: number;
  readonly authenticate: (request: FastifyRequest, reply: FastifyReply) => Promise<void>;
  /** Draws account tokens (see newAccountToken): the system's cryptographic randomness in production. */
  readonly random: Random;
  /** Who claimed an account id first (see openAccount). */
  readonly accountClaims: AccountClaims;
  readonly liveStats: LiveStats;
}

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

/** The account if `principal` may see it; others' accounts look exactly like missing ones. */
export async function visibleAccount(
  queries: LedgerQueries,
  principal: Principal,
  iban: string,
): Promise<AccountState> {
  const account = await queries.accountByIban(iban);
  if (!account || (account.ownerId !== principal.userId && !isStaff(principal))) {
    throw new ProblemError("not_found", { detail: "No such account" });
  }
  return account;
}

export function accountView(account: AccountState) {
  return {
    id: account.id,
    iban: account.iban,
    asset: account.asset,
    balance: account.balance.toString(),
    availableBalance: (account.balance - account.debitsPending).toString(),
    overdraftLimit: account.overdraftLimit.toString(),
    status: "CONFIRMED" as const,
  };
}

/** Sends a command endpoint's answer (problem details get their media type). */
export function sendAnswer(reply: FastifyReply, answer: ReturnType<typeof submissionReply>): FastifyReply {
  if (answer.problem) reply.type("application/problem+json");
  return reply.code(answer.status).send(answer.body);
}

/** Turns a submission into the HTTP answer shared by every command endpoint. */
export function submissionReply(
  submission: Submission,
  commandId: string,
  confirmedBody: (result: Readonly<Record<string, string>>) => Record<string, unknown>,
  pendingBody: Record<string, unknown> = {},
): { status: number; body: Record<string, unknown>; problem?: true } {
  switch (submission.kind) {
    case "accepted":
      return { status: 202, body: { id: commandId, status: "PENDING", ...pendingBody } };
    case "conflict":
      throw new ProblemError("conflict", {
        detail: `Id ${commandId} was already used for a different request`,
      });
    case "decided": {
      const { result } = submission;
      if (result.status === "CONFIRMED") {
        return { status: 201, body: { id: commandId, status: "CONFIRMED", ...confirmedBody(result.result) } };
      }
      const reason = result.reason ?? "rejected";
      return {
        status: 422,
        problem: true,
        body: rejectionProblem(reason, { status: "FAILED", id: commandId, detail: reasonText(reason) }),
      };
    }
  }
}

const reasonTexts: Record<string, string> = {
  insufficient_funds: "The account does not have enough available funds",
  invalid_token: "The account token is wrong",
  same_account: "Source and destination are the same account",
  unknown_account: "No such account",
  asset_mismatch: "The accounts or the amount are in different assets",
  account_exists: "An account with this id exists already",
  balance_overflow: "The balance would exceed the largest supported amount",
  unknown_asset: "Unknown asset",
  fraudulent: "Screening found the payee or customer on a screening list; nothing was booked",
  pending_transfer_not_found: "No such hold",
  pending_transfer_already_posted: "The hold was posted already",
  pending_transfer_already_voided: "The hold was voided already",
  pending_transfer_expired: "The hold expired",
  amount_exceeds_pending: "The amount is more than the hold reserved",
};

export function reasonText(reason: string): string {
  return reasonTexts[reason] ?? reason.replaceAll("_", " ");
}

export const problemResponse = z
  .object({
    type: z.string(),
    title: z.string(),
    status: z.union([z.number(), z.string()]),
    code: z.string(),
  })
  .loose()
  .describe("RFC 9457 problem details");
