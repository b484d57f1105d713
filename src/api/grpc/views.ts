/**
 * Ledger values as the messages of proto/ledgerflow/v1 (field names as in the .proto files: the
 * loader keeps their case). Money leaves as decimal strings of minor units, times as RFC 3339.
 */

import type {
  ClientBranch,
  ClientInteraction,
  ClientOperation,
  ClientTransaction,
} from "../../insights/index.ts";
import {
  type AccountState,
  type BalanceChanged,
  type CommandOutcome,
  type CommandResult,
  type CommandStatusView,
  reasonText,
} from "../../ledger/index.ts";

export interface OutcomeMessage {
  id: string;
  status: "COMMAND_STATUS_PENDING" | "COMMAND_STATUS_CONFIRMED" | "COMMAND_STATUS_FAILED";
  reason?: string;
  reason_text?: string;
  transfer_id?: string;
  phase?: string;
  iban?: string;
  held_for_review?: boolean;
  review_id?: string;
}

const statusNames = {
  PENDING: "COMMAND_STATUS_PENDING",
  CONFIRMED: "COMMAND_STATUS_CONFIRMED",
  FAILED: "COMMAND_STATUS_FAILED",
} as const;

function confirmedFields(result: Readonly<Record<string, string | undefined>>) {
  return {
    ...(result.transferId === undefined ? {} : { transfer_id: result.transferId }),
    ...(result.phase === undefined ? {} : { phase: result.phase }),
    ...(result.iban === undefined ? {} : { iban: result.iban }),
    ...(result.reviewId === undefined ? {} : { held_for_review: true, review_id: result.reviewId }),
  };
}

function failedFields(reason: string) {
  return { reason, reason_text: reasonText(reason) };
}

/** A command service outcome (a conflict was thrown by the command service). */
export function outcomeMessage(outcome: CommandOutcome): OutcomeMessage {
  const base = { id: outcome.id, status: statusNames[outcome.status] };
  if (outcome.status === "CONFIRMED") return { ...base, ...confirmedFields(outcome.result) };
  if (outcome.status === "FAILED") return { ...base, ...failedFields(outcome.reason) };
  return base;
}

export function statusMessage(view: CommandStatusView): OutcomeMessage {
  const base = { id: view.id, status: statusNames[view.status] };
  if (view.status === "FAILED") return { ...base, ...failedFields(view.reason ?? "rejected") };
  if (view.status === "CONFIRMED") return { ...base, ...confirmedFields(view) };
  return base;
}

/** An outcome pushed by the ledger's notifier. */
export function resultMessage(result: CommandResult): OutcomeMessage {
  const base = { id: result.commandId, status: statusNames[result.status] };
  if (result.status === "FAILED") return { ...base, ...failedFields(result.reason ?? "rejected") };
  return { ...base, ...confirmedFields(result.result) };
}

export function balanceChangeMessage(event: BalanceChanged) {
  return {
    command_id: event.commandId,
    iban: event.iban,
    asset: event.asset,
    new_balance: event.newBalance.toString(),
    changed_by: event.changedBy.toString(),
    counterparty: event.counterpartyIban,
    description: event.description,
    at: new Date(event.atMs).toISOString(),
  };
}

export function accountMessage(account: AccountState) {
  return {
    id: account.id,
    iban: account.iban,
    asset: account.asset,
    balance: account.balance.toString(),
    available_balance: (account.balance - account.debitsPending).toString(),
  };
}

const at = (ms: number) => new Date(ms).toISOString();

export function transactionMessage(t: ClientTransaction) {
  return {
    id: t.id,
    command_id: t.commandId,
    iban: t.iban,
    counterparty: t.counterparty,
    ...(t.counterpartyClientId === undefined ? {} : { counterparty_client_id: t.counterpartyClientId }),
    amount: t.amount.toString(),
    asset: t.asset,
    description: t.description,
    at: at(t.atMs),
  };
}

export function operationMessage(o: ClientOperation) {
  return {
    id: o.id,
    type: o.kind === "deposit" ? "OPERATION_TYPE_DEPOSIT" : "OPERATION_TYPE_WITHDRAWAL",
    iban: o.iban,
    branch_id: o.branchId,
    branch: o.branchName,
    amount: o.amount.toString(),
    asset: o.asset,
    at: at(o.atMs),
  };
}

export function interactionMessage(
  i: ClientInteraction & { readonly counterpartyUsername: string | undefined },
) {
  return {
    counterparty_client_id: i.counterpartyClientId,
    ...(i.counterpartyUsername === undefined ? {} : { counterparty_username: i.counterpartyUsername }),
    counterparty_iban: i.counterpartyIban,
    count: String(i.count),
    totals: i.totals.map((t) => ({
      asset: t.asset,
      sent_count: String(t.sentCount),
      sent: t.sent.toString(),
      received_count: String(t.receivedCount),
      received: t.received.toString(),
    })),
    first_at: at(i.firstAtMs),
    last_at: at(i.lastAtMs),
  };
}

export function branchMessage(b: ClientBranch) {
  return {
    branch_id: b.branchId,
    name: b.name,
    deposits: String(b.deposits),
    withdrawals: String(b.withdrawals),
    first_at: at(b.firstAtMs),
    last_at: at(b.lastAtMs),
  };
}
