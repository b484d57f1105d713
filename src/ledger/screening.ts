/**
 * The ledger's screening port: before the handler decides a batch, the party a movement would pay
 * (a transfer's receiver, a deposit's or withdrawal's customer) is screened by whatever the
 * composition root plugs in here (the risk context's screener). The ledger knows nothing of lists;
 * it obeys the verdict: `block` fails the command with reason `fraudulent`, nothing booked; `hold`
 * books it as a pending transfer (funds reserved, nothing posted) marked with the review's id, which
 * only that review's decision posts or voids, or the pending sweeper expires after the timeout.
 *
 * One outcome per command under redelivery: only commands without an outcome are screened, and the
 * screener records its non-clear decisions in the batch's own transaction (`within`), so a decision
 * is recorded exactly when the batch's outcomes are. A redelivered command whose batch committed is
 * answered from its stored outcome, never screened again (whatever the lists say now); one whose
 * batch did not commit left no outcome and no decision, and is screened as if for the first time.
 * This costs a cleared transfer no round trip: nothing is read, nothing is written.
 */
import type { SqlSession } from "../platform/db/pool.ts";
import type { ScreeningVerdict, TransferKind } from "./domain/types.ts";

export type { ScreeningVerdict };
/** The batch's transaction, as the screener may write to it (its decision records). */
export type ScreeningTransaction = SqlSession;

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
  /**
   * Verdicts by command id; a request without one is clear. Records what must be kept of the
   * decisions within the batch's transaction. Throws when it cannot decide (the batch is retried).
   */
  screen(
    requests: readonly ScreeningRequest[],
    within: ScreeningTransaction,
  ): Promise<ReadonlyMap<string, ScreeningVerdict>>;
}

/** No screening (tests of the ledger alone, tools). */
export const noScreening: CommandScreening = { screen: async () => new Map() };
