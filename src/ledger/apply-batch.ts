/**
 * Applies a batch of ledger commands with exactly-once effect: in one store transaction it skips
 * commands already decided (idempotency), locks the touched state in a global order, runs the pure
 * decider, and persists state, outcomes and outgoing events together.
 */

import { assert } from "../platform/errors.ts";
import type { TopicCodec } from "../platform/log/topic-codecs.ts";
import { actorOf } from "./command-gateway.ts";
import { decide, evolve, screenedParty, WorkingSet } from "./domain/decide.ts";
import { type IbanFormat, ibanFor } from "./domain/iban.ts";
import type { BalanceChanged, LedgerEvent, MoneyTransferConfirmed, OutcomeEvent } from "./domain/types.ts";
import { balanceChangedToAvro, type CommandEnvelope, outcomeToAvro } from "./schemas.ts";
import type { CommandScreening, ScreeningRequest } from "./screening.ts";
import {
  type LedgerStore,
  type LedgerTransaction,
  type OutgoingEvent,
  outcomeStatus,
  type StoredOutcome,
} from "./store.ts";
import { tokenHashMatches } from "./token-hash.ts";

export interface ApplyBatchDeps {
  readonly store: LedgerStore;
  readonly outcomeCodec: TopicCodec;
  readonly balanceChangedCodec: TopicCodec;
  readonly ibanFormat: IbanFormat;
  readonly nowMs: () => number;
  /** Screens the parties of movements before the batch is decided (screening.ts); none when absent. */
  readonly screening?: CommandScreening;
}

export interface BatchResult {
  /** The outcome of every command in the batch, in batch order (first outcome for duplicates). */
  readonly outcomes: readonly StoredOutcome[];
  readonly appliedCount: number;
  readonly duplicateCount: number;
}

export async function applyCommandBatch(
  deps: ApplyBatchDeps,
  batch: readonly CommandEnvelope[],
): Promise<BatchResult> {
  return deps.store.transaction(async (tx) => {
    const known = await tx.findOutcomes(unique(batch.map((e) => e.command.commandId)));
    const fresh = firstOccurrences(batch).filter((e) => !known.has(e.command.commandId));
    const nowMs = deps.nowMs();
    const state = await loadWorkingSet(tx, fresh);
    const screening = deps.screening
      ? await deps.screening.screen(screeningRequests(fresh, state), tx.session)
      : undefined;
    const serials = await tx.allocateAccountSerials(
      fresh.filter((e) => e.command.type === "CreateAccount").length,
    );
    let nextSerial = 0;
    const ibanForNewAccount = (): string => {
      const serial = serials[nextSerial++];
      assert(serial !== undefined, "a serial was allocated for every account creation");
      return ibanFor(deps.ibanFormat, serial);
    };

    const decided = new Map<string, StoredOutcome>();
    const movements: MoneyTransferConfirmed[] = [];
    const balanceChanges: BalanceChanged[] = [];
    const outgoing: OutgoingEvent[] = [];
    for (const envelope of fresh) {
      const events = decide(envelope.command, state, {
        nowMs,
        ibanForNewAccount,
        tokenHashMatches,
        ...(screening ? { screening } : {}),
      });
      for (const event of events) evolve(state, event);
      const outcome = outcomeOf(events);
      decided.set(envelope.command.commandId, storedOutcome(envelope, outcome, nowMs));
      outgoing.push(outcomeRecord(deps.outcomeCodec, envelope, outcome));
      for (const event of events) {
        if (event.type === "MoneyTransferConfirmed") movements.push(event);
        if (event.type === "BalanceChanged") {
          balanceChanges.push(event);
          outgoing.push({
            topic: deps.balanceChangedCodec.topic,
            key: event.iban,
            value: deps.balanceChangedCodec.encode(balanceChangedToAvro(event)),
          });
        }
      }
    }

    await tx.persist({
      createdAccounts: [...state.createdAccounts].map((id) => mustGet(state.accounts, id)),
      updatedAccounts: [...state.changedAccounts]
        .filter((id) => !state.createdAccounts.has(id))
        .map((id) => mustGet(state.accounts, id)),
      movements,
      balanceChanges,
      outcomes: [...decided.values()],
      outgoing,
      nowMs,
    });

    const outcomes = batch.map((e) => {
      const outcome = decided.get(e.command.commandId) ?? known.get(e.command.commandId);
      assert(outcome, "every command in a batch has an outcome");
      return outcome;
    });
    return { outcomes, appliedCount: decided.size, duplicateCount: batch.length - decided.size };
  });
}

async function loadWorkingSet(tx: LedgerTransaction, fresh: readonly CommandEnvelope[]): Promise<WorkingSet> {
  const state = new WorkingSet();
  const pendingIds: string[] = [];
  const accountIds: string[] = [];
  const ibans: string[] = [];
  for (const { command } of fresh) {
    if (command.type === "CreateAccount") accountIds.push(command.accountId);
    else if (command.type === "TransferMoney") ibans.push(command.debitIban, command.creditIban);
    else pendingIds.push(command.pendingId);
  }
  // Lock order is global (pending transfers by id, then accounts by id), so handlers never deadlock.
  for (const pending of await tx.lockPendingTransfers(unique(pendingIds))) {
    state.loadPending(pending);
    accountIds.push(pending.debitAccountId, pending.creditAccountId);
  }
  for (const account of await tx.lockAccounts(unique(accountIds), unique(ibans))) state.load(account);
  return state;
}

function screeningRequests(fresh: readonly CommandEnvelope[], state: WorkingSet): ScreeningRequest[] {
  const requests: ScreeningRequest[] = [];
  for (const { command, issuedAtMs } of fresh) {
    if (command.type !== "TransferMoney") continue;
    const screened = screenedParty(command, state, tokenHashMatches);
    if (!screened) continue;
    const { account, role } = screened;
    requests.push({
      commandId: command.commandId,
      kind: command.kind,
      partyRole: role,
      party: { iban: account.iban, userId: account.ownerId },
      counterpartyIban: account.iban === command.creditIban ? command.debitIban : command.creditIban,
      actorId: command.authorization.actorId,
      amount: command.amount,
      asset: command.asset,
      issuedAtMs,
    });
  }
  return requests;
}

function outcomeOf(events: readonly LedgerEvent[]): OutcomeEvent {
  const first = events[0];
  assert(
    first && first.type !== "BalanceChanged",
    "the decider answers every command with its outcome first",
  );
  return first;
}

function storedOutcome(envelope: CommandEnvelope, outcome: OutcomeEvent, nowMs: number): StoredOutcome {
  const { command } = envelope;
  const base = {
    commandId: command.commandId,
    fingerprint: command.fingerprint,
    type: command.type,
    status: outcomeStatus(outcome),
    actorId: actorOf(command),
    issuedAtMs: envelope.issuedAtMs,
    decidedAtMs: nowMs,
  };
  switch (outcome.type) {
    case "AccountCreationConfirmed":
      return { ...base, result: { accountId: outcome.account.id, iban: outcome.account.iban } };
    case "MoneyTransferConfirmed":
      return {
        ...base,
        result: {
          transferId: outcome.transferId,
          phase: outcome.phase,
          ...(outcome.reviewId === undefined ? {} : { reviewId: outcome.reviewId }),
        },
      };
    case "AccountCreationFailed":
    case "MoneyTransferFailed":
      return { ...base, reason: outcome.reason, result: {} };
  }
}

function outcomeRecord(codec: TopicCodec, envelope: CommandEnvelope, outcome: OutcomeEvent): OutgoingEvent {
  const value = codec.encode(
    outcomeToAvro({ outcome, fingerprint: envelope.command.fingerprint, issuedAtMs: envelope.issuedAtMs }),
  );
  return { topic: codec.topic, key: envelope.command.commandId, value };
}

function firstOccurrences(batch: readonly CommandEnvelope[]): CommandEnvelope[] {
  const seen = new Set<string>();
  return batch.filter((e) => !seen.has(e.command.commandId) && seen.add(e.command.commandId));
}

function unique<T>(items: readonly T[]): T[] {
  return [...new Set(items)];
}

function mustGet<K, V>(map: ReadonlyMap<K, V>, key: K): V {
  const value = map.get(key);
  assert(value !== undefined, "changed state is in the working set");
  return value;
}
