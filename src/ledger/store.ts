/**
 * The ledger's storage port. One `LedgerTransaction` is one atomic unit: what the handler decided for
 * a batch (state changes, outcomes, outgoing events) commits together or not at all.
 */
import type { SqlSession } from "../platform/db/pool.ts";
import type {
  AccountState,
  BalanceChanged,
  LedgerCommand,
  MoneyTransferConfirmed,
  OutcomeEvent,
  PendingTransferState,
} from "./domain/types.ts";

export interface StoredOutcome {
  readonly commandId: string;
  readonly fingerprint: string;
  readonly type: LedgerCommand["type"];
  readonly status: "CONFIRMED" | "FAILED";
  readonly reason?: string;
  readonly result: Readonly<Record<string, string>>;
  readonly actorId: string;
  readonly issuedAtMs: number;
  readonly decidedAtMs: number;
}

export interface OutgoingEvent {
  readonly topic: string;
  readonly key: string;
  readonly value: Uint8Array;
}

export interface BatchChanges {
  readonly createdAccounts: readonly AccountState[];
  readonly updatedAccounts: readonly AccountState[];
  /** Movements to record (single, pending) and completions of pending transfers (posted, voided, expired). */
  readonly movements: readonly MoneyTransferConfirmed[];
  readonly balanceChanges: readonly BalanceChanged[];
  readonly outcomes: readonly StoredOutcome[];
  readonly outgoing: readonly OutgoingEvent[];
  readonly nowMs: number;
}

export interface LedgerTransaction {
  /**
   * The transaction's SQL session, only lent to the screening port (screening.ts): what the screener
   * records there commits with the batch's outcomes or not at all.
   */
  readonly session: SqlSession;
  findOutcomes(commandIds: readonly string[]): Promise<ReadonlyMap<string, StoredOutcome>>;
  /** Locks (FOR UPDATE, in pending-id order) and returns these pending transfers. */
  lockPendingTransfers(ids: readonly string[]): Promise<readonly PendingTransferState[]>;
  /** Locks (FOR UPDATE, in account-id order: deadlock-free across handlers) and returns these accounts. */
  lockAccounts(ids: readonly string[], ibans: readonly string[]): Promise<readonly AccountState[]>;
  /** Fresh account serial numbers, for IBANs. */
  allocateAccountSerials(count: number): Promise<readonly bigint[]>;
  persist(changes: BatchChanges): Promise<void>;
}

export interface LedgerStore {
  transaction<T>(work: (tx: LedgerTransaction) => Promise<T>): Promise<T>;
}

export function outcomeStatus(outcome: OutcomeEvent): "CONFIRMED" | "FAILED" {
  return outcome.type === "AccountCreationConfirmed" || outcome.type === "MoneyTransferConfirmed"
    ? "CONFIRMED"
    : "FAILED";
}
