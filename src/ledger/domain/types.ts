/**
 * The ledger's language. Commands ask; exactly one outcome event answers each command
 * (…Confirmed or …Failed, named after Open Bank Mark); BalanceChanged follows every posted movement.
 */

export interface AccountState {
  readonly id: string;
  readonly iban: string;
  readonly ownerId: string;
  readonly asset: string;
  /** Posted balance: credits minus debits. */
  readonly balance: bigint;
  /** Reserved by pending (two-phase) transfers out of this account. */
  readonly debitsPending: bigint;
  /** Expected from pending transfers into this account. */
  readonly creditsPending: bigint;
  /** How far below zero the posted balance minus reservations may go. */
  readonly overdraftLimit: bigint;
  /** System accounts (treasury, branch cash, gateway clearing) may go negative without limit. */
  readonly system: boolean;
  /** SHA-256 (hex) of the account's secret token; empty for system accounts. */
  readonly tokenHash: string;
}

export type PendingState = "pending" | "posted" | "voided" | "expired";

export interface PendingTransferState {
  readonly id: string;
  readonly kind: TransferKind;
  readonly debitAccountId: string;
  readonly creditAccountId: string;
  readonly amount: bigint;
  readonly asset: string;
  readonly description: string;
  readonly expiresAtMs: number;
  readonly state: PendingState;
  /** Held for review by screening: only that review's decision (or expiry) completes it. */
  readonly reviewId?: string;
}

/**
 * Screening's answer for one movement (see ../screening.ts): `block` fails it (`fraudulent`);
 * `hold` books it as a pending transfer reserved for `timeoutMs` until review `reviewId` decides.
 */
export type ScreeningVerdict =
  | { readonly decision: "clear" }
  | { readonly decision: "block" }
  | { readonly decision: "hold"; readonly reviewId: string; readonly timeoutMs: number };

/** Who asks for a movement, checked by the decider against the debited account. */
export type Authorization =
  /** The signed-in user; must own the debited account. */
  | { readonly kind: "owner"; readonly actorId: string }
  /** Whoever presents the debited account's secret token (Open Bank Mark's token). */
  | { readonly kind: "token"; readonly actorId: string; readonly tokenHash: string }
  /** A teller, admin or platform component acting on the customer's behalf (cash desk, gateway). */
  | { readonly kind: "operator"; readonly actorId: string };

export type TransferKind = "transfer" | "deposit" | "withdrawal";

interface CommandBase {
  /** Client-chosen UUID: the idempotency key. */
  readonly commandId: string;
  /** Hash of the command's meaningful payload: same id with another fingerprint is a conflict. */
  readonly fingerprint: string;
}

export interface CreateAccount extends CommandBase {
  readonly type: "CreateAccount";
  readonly accountId: string;
  readonly ownerId: string;
  readonly asset: string;
  readonly overdraftLimit: bigint;
  readonly system: boolean;
  readonly tokenHash: string;
}

export interface TransferMoney extends CommandBase {
  readonly type: "TransferMoney";
  readonly kind: TransferKind;
  readonly debitIban: string;
  readonly creditIban: string;
  readonly amount: bigint;
  readonly asset: string;
  readonly description: string;
  readonly authorization: Authorization;
  /** Two-phase: reserve now, post or void later; voided automatically after the timeout. */
  readonly pendingTimeoutMs?: number;
  /** A cash operation's branch, as the teller typed it (its key ignores case: `branchKey`). */
  readonly branch?: string;
  /** How the customer confirmed a large transfer before it was appended (step-up), if they had to. */
  readonly confirmedWith?: "passkey";
}

export interface PostPendingTransfer extends CommandBase {
  readonly type: "PostPendingTransfer";
  readonly pendingId: string;
  /** Posts only this much (at most the pending amount); the rest of the reservation is released. */
  readonly amount?: bigint;
  /** A customer's request, checked against the debited account; absent for platform components. */
  readonly authorization?: Authorization;
  /** The review deciding a transfer held for review (the only post such a transfer accepts). */
  readonly reviewId?: string;
}

export interface VoidPendingTransfer extends CommandBase {
  readonly type: "VoidPendingTransfer";
  readonly pendingId: string;
  /** "expired" when issued by the expiry sweeper. */
  readonly cause: "voided" | "expired";
  /** A customer's request, checked against the debited account; absent for platform components. */
  readonly authorization?: Authorization;
  /** The review rejecting a transfer held for review. */
  readonly reviewId?: string;
}

export type LedgerCommand = CreateAccount | TransferMoney | PostPendingTransfer | VoidPendingTransfer;

/** Stable rejection codes: clients switch on them; never rename one. */
export const rejectionReasons = [
  "account_exists",
  "unknown_asset",
  "unknown_account",
  "same_account",
  "asset_mismatch",
  "invalid_token",
  "insufficient_funds",
  "balance_overflow",
  "pending_transfer_not_found",
  "pending_transfer_already_posted",
  "pending_transfer_already_voided",
  "pending_transfer_expired",
  /** Screening found the party on a list (the risk context's screening log says which entry). */
  "fraudulent",
  "amount_exceeds_pending",
  /** The hold is a transfer held for review by screening: only the review posts or voids it. */
  "under_review",
] as const;
export type RejectionReason = (typeof rejectionReasons)[number];

export interface AccountCreationConfirmed {
  readonly type: "AccountCreationConfirmed";
  readonly commandId: string;
  readonly account: AccountState;
  readonly atMs: number;
}

export interface AccountCreationFailed {
  readonly type: "AccountCreationFailed";
  readonly commandId: string;
  readonly accountId: string;
  readonly reason: RejectionReason;
  readonly atMs: number;
}

export type TransferPhase = "single" | "pending" | "posted" | "voided" | "expired";

export interface MoneyTransferConfirmed {
  readonly type: "MoneyTransferConfirmed";
  readonly commandId: string;
  /** The transfer this command created or completed (a pending transfer's id for post/void). */
  readonly transferId: string;
  readonly kind: TransferKind;
  readonly phase: TransferPhase;
  readonly debitAccountId: string;
  readonly creditAccountId: string;
  readonly debitIban: string;
  readonly creditIban: string;
  /** What moved (posted), or was reserved (pending) or released (voided, expired). */
  readonly amount: bigint;
  readonly asset: string;
  readonly description: string;
  readonly expiresAtMs?: number;
  /** Set on a transfer screening held for review (phase pending): the review that decides it. */
  readonly reviewId?: string;
  /** The branch of a cash operation (deposit, withdrawal), as the teller typed it. */
  readonly branch?: string;
  readonly atMs: number;
}

export interface MoneyTransferFailed {
  readonly type: "MoneyTransferFailed";
  readonly commandId: string;
  readonly reason: RejectionReason;
  readonly atMs: number;
}

export interface BalanceChanged {
  readonly type: "BalanceChanged";
  readonly commandId: string;
  readonly accountId: string;
  readonly iban: string;
  readonly asset: string;
  readonly newBalance: bigint;
  /** Signed: positive for money in. */
  readonly changedBy: bigint;
  readonly counterpartyIban: string;
  readonly description: string;
  readonly atMs: number;
}

export type OutcomeEvent =
  | AccountCreationConfirmed
  | AccountCreationFailed
  | MoneyTransferConfirmed
  | MoneyTransferFailed;
export type LedgerEvent = OutcomeEvent | BalanceChanged;
