/**
 * The ledger's screening port: before the handler decides a batch, the party a movement would pay
 * (a transfer's receiver, a deposit's or withdrawal's customer) is screened by whatever the
 * composition root plugs in here (the risk context's screener). The ledger knows nothing of lists;
 * it obeys the verdict: `block` fails the command with reason `fraudulent`, nothing booked; `hold`
 * books it as a pending transfer (funds reserved, nothing posted) marked with the review's id, which
 * only that review's decision posts or voids, or the pending sweeper expires after the timeout.
 *
 * Determinism under redelivery is the screener's promise: it records a non-clear decision before
 * answering and answers a command it has decided before with that same decision, so a batch that
 * is redelivered after a crash (or a list change) decides as the first delivery did.
 */
import type { ScreeningVerdict, TransferKind } from "./domain/types.ts";

export type { ScreeningVerdict };

export interface ScreeningRequest {
  readonly commandId: string;
  readonly kind: TransferKind;
  /** Whose side is screened: the receiver of a transfer, the customer of a cash operation. */
  readonly partyRole: "receiver" | "customer";
  readonly party: { readonly iban: string; readonly userId: string };
  readonly counterpartyIban: string;
  /** Who asked for the movement. */
  readonly actorId: string;
  readonly amount: bigint;
  readonly asset: string;
  /** When the command was accepted: the same on every delivery (rules count in its time, not now). */
  readonly issuedAtMs: number;
}

export interface CommandScreening {
  /** Verdicts by command id; a request without one is clear. Throws when it cannot decide (retried). */
  screen(requests: readonly ScreeningRequest[]): Promise<ReadonlyMap<string, ScreeningVerdict>>;
}

/** No screening (tests of the ledger alone, tools). */
export const noScreening: CommandScreening = { screen: async () => new Map() };
