/**
 * The ledger decider: pure functions, no I/O, no clock (time comes in `context`), no randomness.
 * `decide` answers one command against the current state with events; `evolve` folds an event into
 * the state. The handler runs them over a batch-local working set, then persists what changed.
 */
import { assert } from "../../platform/errors.ts";
import { amountMax, isKnownAsset } from "./money.ts";
import type {
  AccountState,
  BalanceChanged,
  CreateAccount,
  LedgerCommand,
  LedgerEvent,
  MoneyTransferConfirmed,
  PendingTransferState,
  PostPendingTransfer,
  RejectionReason,
  ScreeningVerdict,
  TransferMoney,
  VoidPendingTransfer,
} from "./types.ts";

export interface LedgerView {
  accountById(id: string): AccountState | undefined;
  accountByIban(iban: string): AccountState | undefined;
  pendingTransfer(id: string): PendingTransferState | undefined;
}

export interface DecideContext {
  readonly nowMs: number;
  /** Screening verdicts of this batch's movements, by command id (absent: clear). */
  readonly screening?: ReadonlyMap<string, ScreeningVerdict>;
  /** IBAN for the account a CreateAccount would open (allocated by the handler beforehand). */
  readonly ibanForNewAccount: () => string;
  /**
   * Whether a presented token hash is the account's stored one. Injected so the comparison can be
   * constant-time (node:crypto's timingSafeEqual, see ledger/token-hash.ts) while the domain stays
   * pure; accounts without a token (stored "") must match nothing.
   */
  readonly tokenHashMatches: (stored: string, presented: string) => boolean;
}

export function decide(command: LedgerCommand, view: LedgerView, context: DecideContext): LedgerEvent[] {
  switch (command.type) {
    case "CreateAccount":
      return decideCreateAccount(command, view, context);
    case "TransferMoney":
      return decideTransfer(command, view, context);
    case "PostPendingTransfer":
      return decidePost(command, view, context);
    case "VoidPendingTransfer":
      return decideVoid(command, view, context);
  }
}

function decideCreateAccount(
  command: CreateAccount,
  view: LedgerView,
  context: DecideContext,
): LedgerEvent[] {
  const failed = (reason: RejectionReason): LedgerEvent[] => [
    {
      type: "AccountCreationFailed",
      commandId: command.commandId,
      accountId: command.accountId,
      reason,
      atMs: context.nowMs,
    },
  ];
  if (!isKnownAsset(command.asset)) return failed("unknown_asset");
  if (view.accountById(command.accountId)) return failed("account_exists");
  assert(command.overdraftLimit >= 0n, "overdraft limit is never negative");
  const account: AccountState = {
    id: command.accountId,
    iban: context.ibanForNewAccount(),
    ownerId: command.ownerId,
    asset: command.asset,
    balance: 0n,
    debitsPending: 0n,
    creditsPending: 0n,
    overdraftLimit: command.overdraftLimit,
    system: command.system,
    tokenHash: command.tokenHash,
  };
  return [{ type: "AccountCreationConfirmed", commandId: command.commandId, account, atMs: context.nowMs }];
}

function transferFailed(
  command: { commandId: string },
  reason: RejectionReason,
  nowMs: number,
): LedgerEvent[] {
  return [{ type: "MoneyTransferFailed", commandId: command.commandId, reason, atMs: nowMs }];
}

/** Why `command` may not be screened or move money at all: unknown things and missing authority. */
function requestRejection(
  command: TransferMoney,
  debit: AccountState | undefined,
  credit: AccountState | undefined,
  tokenHashMatches: DecideContext["tokenHashMatches"],
): RejectionReason | undefined {
  if (!isKnownAsset(command.asset)) return "unknown_asset";
  if (command.debitIban === command.creditIban) return "same_account";
  if (!debit || !credit) return "unknown_account";
  const auth = command.authorization;
  // A non-owner without the token learns nothing about the account: it is "unknown" to them.
  if (auth.kind === "owner" && debit.ownerId !== auth.actorId) return "unknown_account";
  // A wrong token tells a non-owner as little as a missing account does; only the owner hears why.
  if (auth.kind === "token" && !tokenHashMatches(debit.tokenHash, auth.tokenHash))
    return debit.ownerId === auth.actorId ? "invalid_token" : "unknown_account";
  return undefined;
}

/**
 * The account a movement is screened on, when it is to be screened: a transfer's receiver, the
 * customer of a deposit (credited) or withdrawal (debited); never a system account, and not for a
 * command that fails before screening (so an unauthorised caller cannot probe the lists).
 */
export function screenedParty(
  command: TransferMoney,
  view: LedgerView,
  tokenHashMatches: DecideContext["tokenHashMatches"],
): { readonly role: "receiver" | "customer"; readonly account: AccountState } | undefined {
  const debit = view.accountByIban(command.debitIban);
  const credit = view.accountByIban(command.creditIban);
  if (requestRejection(command, debit, credit, tokenHashMatches) || !debit || !credit) return undefined;
  const account = command.kind === "withdrawal" ? debit : credit;
  if (account.system) return undefined;
  return { role: command.kind === "transfer" ? "receiver" : "customer", account };
}

/** Why `command` may not move money between these accounts, if it may not. */
function transferRejection(
  command: TransferMoney,
  debit: AccountState | undefined,
  credit: AccountState | undefined,
  screening: ScreeningVerdict | undefined,
  tokenHashMatches: DecideContext["tokenHashMatches"],
): RejectionReason | undefined {
  const rejected = requestRejection(command, debit, credit, tokenHashMatches);
  if (rejected || !debit || !credit) return rejected ?? "unknown_account";
  if (screening?.decision === "block") return "fraudulent";
  if (debit.asset !== command.asset || credit.asset !== command.asset) return "asset_mismatch";
  if (!debit.system && available(debit) < command.amount) return "insufficient_funds";
  if (credit.balance + credit.creditsPending + command.amount > amountMax) return "balance_overflow";
  if (debit.balance - debit.debitsPending - command.amount < -amountMax) return "balance_overflow";
  // Reservations are stored in 64-bit columns too.
  const reserves = command.pendingTimeoutMs !== undefined || screening?.decision === "hold";
  if (reserves && debit.debitsPending + command.amount > amountMax) return "balance_overflow";
  if (reserves && credit.creditsPending + command.amount > amountMax) return "balance_overflow";
  return undefined;
}

/** What the account may still spend: posted balance, less reservations, plus its overdraft. */
export function available(account: AccountState): bigint {
  return account.balance - account.debitsPending + account.overdraftLimit;
}

function decideTransfer(command: TransferMoney, view: LedgerView, context: DecideContext): LedgerEvent[] {
  assert(command.amount > 0n && command.amount <= amountMax, "transfer amount validated at the edge");
  const askedTimeoutMs = command.pendingTimeoutMs;
  assert(
    askedTimeoutMs === undefined || (Number.isSafeInteger(askedTimeoutMs) && askedTimeoutMs >= 0),
    "pending timeout validated at the edge",
  );
  const debit = view.accountByIban(command.debitIban);
  const credit = view.accountByIban(command.creditIban);
  const screening = context.screening?.get(command.commandId);
  const rejection = transferRejection(command, debit, credit, screening, context.tokenHashMatches);
  if (rejection) return transferFailed(command, rejection, context.nowMs);
  assert(debit && credit, "accounts exist when the transfer is not rejected");
  // Held for review: booked as a pending transfer (funds reserved, nothing posted) for the review's
  // timeout, whatever the client asked; a client's own hold becomes the review's.
  const held = screening?.decision === "hold" ? screening : undefined;
  const timeoutMs = held ? held.timeoutMs : command.pendingTimeoutMs;
  const pending = timeoutMs !== undefined;
  const confirmed: MoneyTransferConfirmed = {
    type: "MoneyTransferConfirmed",
    commandId: command.commandId,
    transferId: command.commandId,
    kind: command.kind,
    phase: pending ? "pending" : "single",
    debitAccountId: debit.id,
    creditAccountId: credit.id,
    debitIban: debit.iban,
    creditIban: credit.iban,
    amount: command.amount,
    asset: command.asset,
    description: command.description,
    ...(pending ? { expiresAtMs: context.nowMs + (timeoutMs ?? 0) } : {}),
    ...(held ? { reviewId: held.reviewId } : {}),
    ...(command.branch === undefined ? {} : { branch: command.branch }),
    atMs: context.nowMs,
  };
  return pending ? [confirmed] : [confirmed, ...balanceChanges(confirmed, debit, credit)];
}

function balanceChanges(
  movement: MoneyTransferConfirmed,
  debit: AccountState,
  credit: AccountState,
): BalanceChanged[] {
  const common = {
    type: "BalanceChanged",
    commandId: movement.commandId,
    asset: movement.asset,
    description: movement.description,
    atMs: movement.atMs,
  } as const;
  return [
    {
      ...common,
      accountId: debit.id,
      iban: debit.iban,
      newBalance: debit.balance - movement.amount,
      changedBy: -movement.amount,
      counterpartyIban: credit.iban,
    },
    {
      ...common,
      accountId: credit.id,
      iban: credit.iban,
      newBalance: credit.balance + movement.amount,
      changedBy: movement.amount,
      counterpartyIban: debit.iban,
    },
  ];
}

/**
 * Why a post or void of `pending` is refused, if it is. A customer who may not debit the account
 * learns nothing about the pending transfer: to them it does not exist. Platform components (no
 * authorization) and operators may complete any pending transfer; customers only holds (kind
 * transfer), never a payment's reservation.
 */
function pendingRejection(
  command: PostPendingTransfer | VoidPendingTransfer,
  pending: PendingTransferState | undefined,
  view: LedgerView,
  nowMs: number,
  tokenHashMatches: DecideContext["tokenHashMatches"],
): RejectionReason | undefined {
  if (!pending) return "pending_transfer_not_found";
  const auth = command.authorization;
  // Reservations of deposits and withdrawals belong to the payment that made them, not the customer.
  if (auth && auth.kind !== "operator" && pending.kind !== "transfer") return "pending_transfer_not_found";
  const debit = view.accountById(pending.debitAccountId);
  if (auth?.kind === "owner" && debit?.ownerId !== auth.actorId) return "pending_transfer_not_found";
  if (auth?.kind === "token" && !tokenHashMatches(debit?.tokenHash ?? "", auth.tokenHash))
    return debit?.ownerId === auth.actorId ? "invalid_token" : "pending_transfer_not_found";
  if (pending.state === "posted") return "pending_transfer_already_posted";
  if (pending.state === "voided") return "pending_transfer_already_voided";
  if (pending.reviewId !== undefined && !decidesReview(command, pending.reviewId)) return "under_review";
  if (pending.state === "expired" || nowMs >= pending.expiresAtMs) return "pending_transfer_expired";
  return undefined;
}

/** Whether `command` may complete a transfer held for review: the review's decision, or expiry. */
function decidesReview(command: PostPendingTransfer | VoidPendingTransfer, reviewId: string): boolean {
  if (command.reviewId === reviewId) return true;
  return command.type === "VoidPendingTransfer" && command.cause === "expired" && !command.authorization;
}

function completion(
  command: PostPendingTransfer | VoidPendingTransfer,
  pending: PendingTransferState,
  view: LedgerView,
  phase: "posted" | "voided" | "expired",
  nowMs: number,
): { event: MoneyTransferConfirmed; debit: AccountState; credit: AccountState } {
  const debit = view.accountById(pending.debitAccountId);
  const credit = view.accountById(pending.creditAccountId);
  assert(debit && credit, "a pending transfer's accounts exist");
  const event: MoneyTransferConfirmed = {
    type: "MoneyTransferConfirmed",
    commandId: command.commandId,
    transferId: pending.id,
    kind: pending.kind,
    phase,
    debitAccountId: debit.id,
    creditAccountId: credit.id,
    debitIban: debit.iban,
    creditIban: credit.iban,
    amount: pending.amount,
    asset: pending.asset,
    description: pending.description,
    atMs: nowMs,
  };
  return { event, debit, credit };
}

/** Posts the pending transfer, in full or (with `amount`) in part: the rest of the reservation is released. */
function decidePost(command: PostPendingTransfer, view: LedgerView, context: DecideContext): LedgerEvent[] {
  assert(
    command.amount === undefined || (command.amount > 0n && command.amount <= amountMax),
    "post amount validated at the edge",
  );
  const pending = view.pendingTransfer(command.pendingId);
  const rejection = pendingRejection(command, pending, view, context.nowMs, context.tokenHashMatches);
  if (rejection) return transferFailed(command, rejection, context.nowMs);
  assert(pending, "pending transfer exists when not rejected");
  if (command.amount !== undefined && command.amount > pending.amount)
    return transferFailed(command, "amount_exceeds_pending", context.nowMs);
  const { event, debit, credit } = completion(command, pending, view, "posted", context.nowMs);
  const posted = { ...event, amount: command.amount ?? pending.amount };
  return [posted, ...balanceChanges(posted, debit, credit)];
}

function decideVoid(command: VoidPendingTransfer, view: LedgerView, context: DecideContext): LedgerEvent[] {
  const pending = view.pendingTransfer(command.pendingId);
  // Voiding releases a reservation, so it is allowed after the timeout too (that is what the sweeper does).
  const rejection = pendingRejection(
    command,
    pending,
    view,
    Number.NEGATIVE_INFINITY,
    context.tokenHashMatches,
  );
  if (rejection) return transferFailed(command, rejection, context.nowMs);
  assert(pending, "pending transfer exists when not rejected");
  const phase = command.cause === "expired" || context.nowMs >= pending.expiresAtMs ? "expired" : "voided";
  return [completion(command, pending, view, phase, context.nowMs).event];
}

/** The state a batch works on: accounts and pending transfers touched by the batch. */
export class WorkingSet implements LedgerView {
  readonly accounts = new Map<string, AccountState>();
  readonly ibans = new Map<string, string>();
  readonly pendings = new Map<string, PendingTransferState>();
  /** Ids of accounts and pending transfers changed since loading, for persistence. */
  readonly changedAccounts = new Set<string>();
  readonly createdAccounts = new Set<string>();
  readonly changedPendings = new Set<string>();

  load(account: AccountState): void {
    this.accounts.set(account.id, account);
    this.ibans.set(account.iban, account.id);
  }
  loadPending(pending: PendingTransferState): void {
    this.pendings.set(pending.id, pending);
  }
  accountById(id: string): AccountState | undefined {
    return this.accounts.get(id);
  }
  accountByIban(iban: string): AccountState | undefined {
    const id = this.ibans.get(iban);
    return id === undefined ? undefined : this.accounts.get(id);
  }
  pendingTransfer(id: string): PendingTransferState | undefined {
    return this.pendings.get(id);
  }
  put(account: AccountState): void {
    this.load(account);
    this.changedAccounts.add(account.id);
  }
  putPending(pending: PendingTransferState): void {
    this.pendings.set(pending.id, pending);
    this.changedPendings.add(pending.id);
  }
}

/** Folds one event into the working set. BalanceChanged is derived, so it changes nothing here. */
export function evolve(state: WorkingSet, event: LedgerEvent): void {
  switch (event.type) {
    case "AccountCreationConfirmed":
      state.put(event.account);
      state.createdAccounts.add(event.account.id);
      return;
    case "MoneyTransferConfirmed":
      evolveMovement(state, event);
      return;
    case "AccountCreationFailed":
    case "MoneyTransferFailed":
    case "BalanceChanged":
      return;
  }
}

function evolveMovement(state: WorkingSet, event: MoneyTransferConfirmed): void {
  const debit = state.accountById(event.debitAccountId);
  const credit = state.accountById(event.creditAccountId);
  assert(debit && credit, "movement accounts are in the working set");
  const amount = event.amount;
  switch (event.phase) {
    case "single":
      state.put({ ...debit, balance: debit.balance - amount });
      state.put({ ...credit, balance: credit.balance + amount });
      break;
    case "pending":
      state.put({ ...debit, debitsPending: debit.debitsPending + amount });
      state.put({ ...credit, creditsPending: credit.creditsPending + amount });
      state.putPending({
        id: event.transferId,
        kind: event.kind,
        debitAccountId: debit.id,
        creditAccountId: credit.id,
        amount,
        asset: event.asset,
        description: event.description,
        expiresAtMs: event.expiresAtMs ?? event.atMs,
        state: "pending",
        ...(event.reviewId === undefined ? {} : { reviewId: event.reviewId }),
      });
      break;
    case "posted":
    case "voided":
    case "expired": {
      const pending = state.pendingTransfer(event.transferId);
      assert(pending?.state === "pending", "only a pending transfer completes");
      assert(amount <= pending.amount, "a completion moves at most the reserved amount");
      // The whole reservation is released; a (partial) post moves the event's amount.
      const reserved = pending.amount;
      const posted = event.phase === "posted" ? amount : 0n;
      state.put({ ...debit, debitsPending: debit.debitsPending - reserved, balance: debit.balance - posted });
      state.put({
        ...credit,
        creditsPending: credit.creditsPending - reserved,
        balance: credit.balance + posted,
      });
      state.putPending({ ...pending, state: event.phase });
      break;
    }
  }
  assertAccountInvariants(state.accountById(debit.id));
  assertAccountInvariants(state.accountById(credit.id));
}

function assertAccountInvariants(account: AccountState | undefined): void {
  assert(account, "account present");
  assert(
    account.debitsPending >= 0n && account.creditsPending >= 0n,
    `pending amounts of ${account.id} are never negative`,
  );
  if (!account.system) {
    assert(available(account) >= 0n, `account ${account.id} is not overdrawn beyond its limit`);
  }
}
