/**
 * The payments language. A payment moves money between a customer's ledger account and the outside
 * world through one external gateway: a deposit (pay-in) credits the customer when the gateway
 * captured the money; a withdrawal (pay-out) reserves the customer's funds at once and posts the
 * reservation when the gateway paid out, or voids it when no gateway could.
 *
 * Public status: PENDING → SUCCESS | FAILURE, and SUCCESS → REVERSED (chargeback / return).
 * `stage` says what the payment waits for while PENDING (and while a reversal settles).
 */

export type PaymentDirection = "deposit" | "withdrawal";
export type PaymentStatus = "PENDING" | "SUCCESS" | "FAILURE" | "REVERSED";

export type PaymentStage =
  /** Withdrawal: waiting for the ledger to reserve the funds. */
  | "reserving"
  /** Choosing and calling gateways. */
  | "routing"
  /** A gateway accepted the payment but has not finished it (pending, or a timeout being resolved). */
  | "awaiting_gateway"
  /** A gateway captured the money; the ledger is being updated. */
  | "settling"
  /** No gateway paid out: the withdrawal's reservation is being released. */
  | "releasing"
  /** The gateway reversed a succeeded payment; the ledger is being compensated. */
  | "reversing"
  | "done";

/** How one call to one gateway ended. */
export type AttemptOutcome =
  | "succeeded"
  | "declined"
  | "pending"
  /** Processor error (5xx): nothing captured, safe to go elsewhere. */
  | "error"
  /** Outage or refused connection: nothing captured. */
  | "unavailable"
  /** The gateway's own rate limit answered 429: nothing captured. */
  | "rate_limited"
  /** The gateway cannot serve this payment (422): nothing stored. */
  | "unsupported"
  /** Timed out; the status check proved it never took effect. */
  | "timeout_not_executed"
  /** Timed out and the status could not be learned yet: never retried elsewhere until known. */
  | "unknown";

export interface SkippedGateway {
  readonly gateway: string;
  readonly reason: string;
}

export interface Attempt {
  readonly no: number;
  readonly gateway: string;
  readonly startedAtMs: number;
  /** Why this gateway was chosen (explainable routing). */
  readonly why: string;
  /** Gateways not chosen for this attempt, and why. */
  readonly skipped: readonly SkippedGateway[];
  readonly finishedAtMs?: number;
  readonly outcome?: AttemptOutcome;
  readonly latencyMs?: number;
  readonly detail?: string;
  readonly gatewayPaymentId?: string;
}

export interface PaymentState {
  readonly id: string;
  readonly direction: PaymentDirection;
  readonly ownerId: string;
  readonly iban: string;
  readonly amount: bigint;
  readonly asset: string;
  readonly region?: string;
  readonly method?: string;
  readonly fingerprint: string;
  readonly status: PaymentStatus;
  readonly stage: PaymentStage;
  readonly reason?: string;
  /** The gateway that captured (or holds) the payment. */
  readonly gateway?: string;
  readonly gatewayPaymentId?: string;
  /** Ledger transfer that reserved (withdrawal) or credited (deposit) the money. */
  readonly ledgerTransferId?: string;
  readonly attempts: readonly Attempt[];
  readonly createdAtMs: number;
  readonly updatedAtMs: number;
  readonly version: number;
}

interface CommandBase {
  readonly paymentId: string;
}

export interface RequestPayment extends CommandBase {
  readonly type: "RequestPayment";
  readonly direction: PaymentDirection;
  readonly ownerId: string;
  readonly iban: string;
  readonly amount: bigint;
  readonly asset: string;
  readonly region?: string;
  readonly method?: string;
  readonly fingerprint: string;
}

export interface RecordReservation extends CommandBase {
  readonly type: "RecordReservation";
  readonly ok: boolean;
  readonly transferId: string;
  readonly reason?: string;
}

export interface StartAttempt extends CommandBase {
  readonly type: "StartAttempt";
  readonly gateway: string;
  readonly why: string;
  readonly skipped: readonly SkippedGateway[];
}

export interface FinishAttempt extends CommandBase {
  readonly type: "FinishAttempt";
  readonly no: number;
  readonly outcome: AttemptOutcome;
  readonly latencyMs: number;
  readonly detail?: string;
  readonly gatewayPaymentId?: string;
}

/** A final answer from the gateway holding the payment: callback or status poll. */
export interface RecordGatewayResult extends CommandBase {
  readonly type: "RecordGatewayResult";
  readonly gateway: string;
  readonly result: "succeeded" | "failed" | "not_executed";
  readonly reason?: string;
  readonly gatewayPaymentId?: string;
}

/** Every candidate failed or none exists. */
export interface GiveUp extends CommandBase {
  readonly type: "GiveUp";
  readonly reason: string;
  readonly skipped: readonly SkippedGateway[];
}

export interface RecordSettlement extends CommandBase {
  readonly type: "RecordSettlement";
  readonly transferId: string;
}

export interface RecordRelease extends CommandBase {
  readonly type: "RecordRelease";
}

export interface ReversePayment extends CommandBase {
  readonly type: "ReversePayment";
  readonly gateway: string;
  readonly reason: string;
}

export interface RecordReversalSettlement extends CommandBase {
  readonly type: "RecordReversalSettlement";
  readonly transferId: string;
  /** Empty when the compensation went through; the ledger's rejection code otherwise. */
  readonly ledgerRejection?: string;
}

export type PaymentCommand =
  | RequestPayment
  | RecordReservation
  | StartAttempt
  | FinishAttempt
  | RecordGatewayResult
  | GiveUp
  | RecordSettlement
  | RecordRelease
  | ReversePayment
  | RecordReversalSettlement;

interface EventBase {
  readonly paymentId: string;
  readonly atMs: number;
}

export type PaymentEvent =
  | (EventBase & {
      readonly type: "PaymentRequested";
      readonly direction: PaymentDirection;
      readonly ownerId: string;
      readonly iban: string;
      readonly amount: bigint;
      readonly asset: string;
      readonly region?: string;
      readonly method?: string;
      readonly fingerprint: string;
    })
  | (EventBase & { readonly type: "FundsReserved"; readonly transferId: string })
  | (EventBase & { readonly type: "ReservationRejected"; readonly reason: string })
  | (EventBase & {
      readonly type: "AttemptStarted";
      readonly no: number;
      readonly gateway: string;
      readonly why: string;
      readonly skipped: readonly SkippedGateway[];
    })
  | (EventBase & {
      readonly type: "AttemptFinished";
      readonly no: number;
      readonly outcome: AttemptOutcome;
      readonly latencyMs: number;
      readonly detail?: string;
      readonly gatewayPaymentId?: string;
    })
  | (EventBase & {
      readonly type: "PaymentCaptured";
      readonly gateway: string;
      readonly gatewayPaymentId?: string;
    })
  | (EventBase & { readonly type: "PaymentHeldByGateway"; readonly gateway: string })
  | (EventBase & { readonly type: "GatewayReleased"; readonly gateway: string })
  | (EventBase & { readonly type: "PaymentDeclined"; readonly gateway: string; readonly reason: string })
  | (EventBase & {
      readonly type: "RoutingExhausted";
      readonly reason: string;
      readonly skipped: readonly SkippedGateway[];
    })
  | (EventBase & { readonly type: "PaymentSucceeded"; readonly transferId: string })
  | (EventBase & { readonly type: "PaymentFailed"; readonly reason: string })
  | (EventBase & { readonly type: "ReversalRequested"; readonly gateway: string; readonly reason: string })
  | (EventBase & {
      readonly type: "PaymentReversed";
      readonly transferId: string;
      readonly ledgerRejection?: string;
    });

/** Stable rejection codes of the decider. */
export type PaymentRejection =
  | "unknown_payment"
  | "payment_exists"
  | "not_in_stage"
  | "unknown_attempt"
  | "not_reversible";

export type Decision =
  | { readonly ok: true; readonly events: readonly PaymentEvent[] }
  | { readonly ok: false; readonly code: PaymentRejection };
