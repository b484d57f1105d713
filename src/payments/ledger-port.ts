/**
 * The payments context's view of the ledger: the four movements a payment makes, each a ledger
 * command with an id derived from the payment id, so repeating a step (after a crash, or from
 * another instance) is answered with the first outcome instead of moving money again.
 */
import { fingerprintOf, type LedgerApi, type LedgerCommand } from "../ledger/index.ts";
import { derivedUuid } from "../platform/derived-uuid.ts";
import type { PaymentState } from "./domain/types.ts";

export const clearingAccountName = "payments-clearing";

export type LedgerAnswer =
  | { readonly kind: "confirmed"; readonly transferId: string }
  | { readonly kind: "rejected"; readonly reason: string }
  /** Not decided within the wait: try again later (the command id keeps it idempotent). */
  | { readonly kind: "later" };

export interface PaymentsLedger {
  reserve(payment: PaymentState): Promise<LedgerAnswer>;
  settle(payment: PaymentState): Promise<LedgerAnswer>;
  release(payment: PaymentState): Promise<LedgerAnswer>;
  reverse(payment: PaymentState): Promise<LedgerAnswer>;
}

export const ledgerCommandId = (paymentId: string, step: "reserve" | "settle" | "release" | "reverse") =>
  derivedUuid(`payment:${paymentId}:${step}`);

/** The token (receipt) id of a payment's completed movement. */
export const paymentTokenId = (paymentId: string) => ledgerCommandId(paymentId, "settle");

const actor = { kind: "operator", actorId: "payments-orchestrator" } as const;
/** A reservation outlives any payment: gateways answer or time out long before. */
const reservationTimeoutMs = 7 * 24 * 3_600_000;

export function createPaymentsLedger(deps: {
  ledger: Pick<LedgerApi, "submit" | "systemAccountIban">;
  waitMs: number;
}): PaymentsLedger {
  const ibanOf = (name: string, asset: string) => deps.ledger.systemAccountIban(name, asset);

  const submit = async (command: LedgerCommand): Promise<LedgerAnswer> => {
    const submission = await deps.ledger.submit(command, deps.waitMs);
    if (submission.kind === "accepted") return { kind: "later" };
    if (submission.kind === "conflict") return { kind: "rejected", reason: "command_id_conflict" };
    const { result } = submission;
    if (result.status === "CONFIRMED")
      return { kind: "confirmed", transferId: result.result.transferId ?? "" };
    return { kind: "rejected", reason: result.reason ?? "rejected" };
  };

  const transfer = async (
    payment: PaymentState,
    step: "reserve" | "settle" | "reverse",
    kind: "deposit" | "withdrawal",
    fromCustomer: boolean,
    description: string,
    pending: boolean,
  ) => {
    const clearing = await ibanOf(clearingAccountName, payment.asset);
    const commandId = ledgerCommandId(payment.id, step);
    return submit({
      type: "TransferMoney",
      commandId,
      fingerprint: fingerprintOf({ type: "PaymentMovement", payment: payment.id, step }),
      kind,
      debitIban: fromCustomer ? payment.iban : clearing,
      creditIban: fromCustomer ? clearing : payment.iban,
      amount: payment.amount,
      asset: payment.asset,
      description,
      authorization: actor,
      ...(pending ? { pendingTimeoutMs: reservationTimeoutMs } : {}),
    });
  };

  const via = (payment: PaymentState) => (payment.gateway ? ` via ${payment.gateway}` : "");

  return {
    reserve: (payment) =>
      transfer(payment, "reserve", "withdrawal", true, `Withdrawal ${payment.id} (reserved)`, true),
    settle(payment) {
      if (payment.direction === "deposit")
        return transfer(payment, "settle", "deposit", false, `Deposit${via(payment)}`, false);
      return submit({
        type: "PostPendingTransfer",
        commandId: ledgerCommandId(payment.id, "settle"),
        fingerprint: fingerprintOf({ type: "PaymentMovement", payment: payment.id, step: "settle" }),
        pendingId: ledgerCommandId(payment.id, "reserve"),
      });
    },
    release: (payment) =>
      submit({
        type: "VoidPendingTransfer",
        commandId: ledgerCommandId(payment.id, "release"),
        fingerprint: fingerprintOf({ type: "PaymentMovement", payment: payment.id, step: "release" }),
        pendingId: ledgerCommandId(payment.id, "reserve"),
        cause: "voided",
      }),
    reverse: (payment) =>
      payment.direction === "deposit"
        ? transfer(payment, "reverse", "withdrawal", true, `Reversal of deposit${via(payment)}`, false)
        : transfer(payment, "reverse", "deposit", false, `Returned withdrawal${via(payment)}`, false),
  };
}
