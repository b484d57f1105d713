/**
 * Random transfers for load, Open Bank Mark style: mostly valid ones between random accounts, and a
 * share meant to fail for each business reason the ledger checks.
 */
import type { IdGenerator, Random } from "../../platform/clock.ts";
import type { LoadAccount } from "./setup.ts";

export const failureKinds = ["insufficient_funds", "invalid_token", "same_account"] as const;
export type TransferKind = "valid" | (typeof failureKinds)[number];

export interface PlannedTransfer {
  readonly kind: TransferKind;
  readonly body: {
    readonly id: string;
    readonly from: string;
    readonly to: string;
    readonly amount: string;
    readonly asset: "EUR";
    readonly description: string;
    readonly token?: string;
  };
  /** Whose access token sends it: the source account's owner. */
  readonly accessToken: string;
}

export interface TransferPlanOptions {
  readonly failShare: number;
  /** Valid transfers move 1..amountMax minor units. */
  readonly amountMax: number;
  /** More than any account can hold: the amount of transfers meant to fail for lack of funds. */
  readonly excessiveAmount: bigint;
  /** Share of valid transfers authorised by the account token rather than by ownership. */
  readonly tokenShare: number;
}

const pick = <T>(random: Random, items: readonly T[]): T =>
  items[Math.floor(random.next() * items.length)] as T;

export function planTransfer(
  random: Random,
  ids: IdGenerator,
  accounts: readonly LoadAccount[],
  options: TransferPlanOptions,
): PlannedTransfer {
  const from = pick(random, accounts);
  let to = pick(random, accounts);
  for (let tries = 0; to === from && accounts.length > 1 && tries < 10; tries += 1)
    to = pick(random, accounts);
  const kind: TransferKind = random.next() < options.failShare ? pick(random, failureKinds) : "valid";
  const id = ids.uuid();
  const base = { id, from: from.iban, asset: "EUR" as const, description: `load ${kind}` };
  const accessToken = from.owner.accessToken;
  const amount = String(1 + Math.floor(random.next() * options.amountMax));
  switch (kind) {
    case "insufficient_funds":
      return {
        kind,
        accessToken,
        body: { ...base, to: to.iban, amount: options.excessiveAmount.toString() },
      };
    case "invalid_token":
      return { kind, accessToken, body: { ...base, to: to.iban, amount, token: `wrong-${id}` } };
    case "same_account":
      return { kind, accessToken, body: { ...base, to: from.iban, amount } };
    case "valid":
      return random.next() < options.tokenShare
        ? { kind, accessToken, body: { ...base, to: to.iban, amount, token: from.token } }
        : { kind, accessToken, body: { ...base, to: to.iban, amount } };
  }
}

/** Classifies an answer to `POST /v1/transfers` (waited or not) as an outcome label. */
export function outcomeOf(status: number, body: unknown): string {
  if (status === 201) return "confirmed";
  if (status === 202) return "pending";
  const code = (body as { code?: unknown } | undefined)?.code;
  if (status === 422 && typeof code === "string") return `failed:${code}`;
  return typeof code === "string" ? `http_${status}:${code}` : `http_${status}`;
}
