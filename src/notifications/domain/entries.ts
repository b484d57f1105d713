/**
 * Which users hear of a ledger outcome, and what: pure (owners are looked up by the caller).
 * Each entry's id is derived from the outcome, the user and the kind, so the projection and the
 * live push name the same notification and a replayed outcome adds nothing.
 */

export const notificationKinds = [
  /** Money left one of the user's accounts to another account (a transfer, or a posted hold). */
  "sent",
  /** Money arrived from another account. */
  "received",
  /** Money paid in: a cash deposit or a payment through a gateway. */
  "deposit",
  /** Money paid out: a cash withdrawal or a payment through a gateway. */
  "withdrawal",
  /** A payout's reservation was released without paying out (the payment failed or was cancelled). */
  "withdrawal_cancelled",
  /** The user placed a hold: money reserved on their account. */
  "hold_placed",
  /** A hold was voided or expired: the reserved money is available again. */
  "hold_released",
] as const;
export type NotificationKind = (typeof notificationKinds)[number];

/** The part of a published MoneyTransferConfirmed outcome an inbox needs. */
export interface Movement {
  readonly commandId: string;
  readonly transferId: string;
  readonly kind: string;
  readonly phase: string;
  readonly debitIban: string;
  readonly creditIban: string;
  readonly amount: bigint;
  readonly asset: string;
  readonly description: string;
  readonly atMs: number;
}

export interface InboxEntry {
  readonly id: string;
  readonly userId: string;
  readonly kind: NotificationKind;
  /** The user's account. */
  readonly iban: string;
  /** The other side ("" when it is one of the bank's own accounts). */
  readonly counterparty: string;
  readonly amount: bigint;
  readonly asset: string;
  readonly description: string;
  readonly transferId: string;
  readonly commandId: string;
  readonly atMs: number;
}

export interface Parties {
  /** Owner of the debited account, unless it is one of the bank's own (system) accounts. */
  readonly debitOwner: string | undefined;
  readonly creditOwner: string | undefined;
}

type Side = "debit" | "credit";

/** Who hears what of a movement, by transfer kind and phase. */
function recipients(movement: Movement): readonly [Side, NotificationKind][] {
  const moved = movement.phase === "single" || movement.phase === "posted";
  const released = movement.phase === "voided" || movement.phase === "expired";
  switch (movement.kind) {
    case "deposit":
      return moved ? [["credit", "deposit"]] : [];
    case "withdrawal":
      if (moved) return [["debit", "withdrawal"]];
      return released ? [["debit", "withdrawal_cancelled"]] : [];
    default:
      if (moved)
        return [
          ["debit", "sent"],
          ["credit", "received"],
        ];
      if (movement.phase === "pending") return [["debit", "hold_placed"]];
      return released ? [["debit", "hold_released"]] : [];
  }
}

export function entriesOf(
  movement: Movement,
  parties: Parties,
  idOf: (name: string) => string,
): InboxEntry[] {
  const entries: InboxEntry[] = [];
  for (const [side, kind] of recipients(movement)) {
    const userId = side === "debit" ? parties.debitOwner : parties.creditOwner;
    if (userId === undefined) continue;
    const otherOwner = side === "debit" ? parties.creditOwner : parties.debitOwner;
    const other = side === "debit" ? movement.creditIban : movement.debitIban;
    entries.push({
      id: idOf(`notification:${movement.commandId}:${userId}:${kind}`),
      userId,
      kind,
      iban: side === "debit" ? movement.debitIban : movement.creditIban,
      // The bank's cash and clearing accounts mean nothing to a customer.
      counterparty: otherOwner === undefined ? "" : other,
      amount: movement.amount,
      asset: movement.asset,
      description: movement.description,
      transferId: movement.transferId,
      commandId: movement.commandId,
      atMs: movement.atMs,
    });
  }
  return entries;
}
