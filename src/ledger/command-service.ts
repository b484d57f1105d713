/**
 * The ledger's command service: the one place where an edge's request becomes a ledger command.
 * REST, GraphQL and gRPC call it alike, so every edge validates,
 * authorizes, keeps idempotency and reports outcomes the same way. Edges check only the shape of
 * their input (with the schemas of inputs.ts) and turn a `CommandOutcome` into their own answer.
 */
import type { Clock, Random } from "../platform/clock.ts";
import { isStaff, mayReadAnyAccount, type Principal } from "../platform/http/auth.ts";
import { ProblemError } from "../platform/http/problems.ts";
import type { AccountClaims } from "./account-claims.ts";
import { assertAccountHolder } from "./account-holders.ts";
import {
  type AcceptedCommands,
  type CommandGateway,
  fingerprintOf,
  resultFromStored,
  type Submission,
} from "./command-gateway.ts";
import type {
  Authorization,
  CreateAccount,
  PostPendingTransfer,
  TransferMoney,
  VoidPendingTransfer,
} from "./domain/types.ts";
import {
  amountOrFail,
  branchKey,
  type HoldInput,
  hashToken,
  ibanOrFail,
  newAccountToken,
  type OpenAccountInput,
  type OperationInput,
  type PostHoldInput,
  type TransferInput,
  type VoidHoldInput,
} from "./inputs.ts";
import type { CommandResult, CommandStatus, LedgerNotifications } from "./notifications.ts";
import type { LedgerQueries } from "./queries.ts";
import type { StepUpAssertion, TransferStepUp } from "./step-up.ts";
import { systemAccounts, systemOwnerPrefix } from "./system-accounts.ts";

/**
 * What became of a command, for any edge: still pending, confirmed with its result fields, or
 * failed with a stable reason. A different command under a used id is not an outcome: it is a
 * `conflict` problem, thrown.
 */
export type CommandOutcome =
  | { readonly id: string; readonly status: "PENDING" }
  | { readonly id: string; readonly status: "CONFIRMED"; readonly result: Readonly<Record<string, string>> }
  | { readonly id: string; readonly status: "FAILED"; readonly reason: string };

/** A batch item's outcome (a conflict is a FAILED item there, not an error of the whole batch). */
export interface BatchItemOutcome {
  readonly id: string;
  readonly status: CommandStatus;
  readonly reason?: string | undefined;
}

/** A command's status as its issuer (or staff) may see it, with its result fields. */
export interface CommandStatusView {
  readonly id: string;
  readonly status: CommandStatus;
  readonly reason?: string;
  readonly iban?: string;
  readonly [field: string]: string | undefined;
}

export interface AccountOpening {
  readonly outcome: CommandOutcome;
  /** The account's secret token: only for the request that opened the account, never on a replay. */
  readonly token: string | undefined;
}

export interface TransferSubmitted {
  readonly outcome: CommandOutcome;
  readonly command: TransferMoney;
  /** The transfer needed a passkey confirmation and had one (recorded by identity, by transfer id). */
  readonly confirmedWithPasskey?: true;
}

export interface OperationSubmitted {
  readonly outcome: CommandOutcome;
  readonly iban: string;
  readonly amount: bigint;
  readonly asset: string;
}

/** A post or void of a hold: its outcome, and the hold it completes. */
export interface HoldCompletion {
  readonly outcome: CommandOutcome;
  readonly holdId: string;
}

export interface LedgerCommandService {
  /** The longest an edge may let a caller wait for an outcome. */
  readonly waitMsMax: number;
  /** The longest timeout a client may give a hold (edges state it in their input schema). */
  readonly holdTimeoutMsMax: number;
  openAccount(principal: Principal, input: OpenAccountInput, waitMs: number): Promise<AccountOpening>;
  /** With `assertion`: the passkey confirmation a large transfer needs (see step-up.ts). */
  transfer(
    principal: Principal,
    input: TransferInput,
    waitMs: number,
    assertion?: StepUpAssertion,
  ): Promise<TransferSubmitted>;
  /** Each transfer is a command of its own; a malformed item refuses the whole batch (400 naming it). */
  transferBatch(
    principal: Principal,
    inputs: readonly TransferInput[],
    waitMs: number,
  ): Promise<readonly BatchItemOutcome[]>;
  /** A hold: a transfer reserved until posted, voided or expired (same checks as a transfer). */
  hold(principal: Principal, input: HoldInput, waitMs: number): Promise<TransferSubmitted>;
  /** Posts a hold in full or in part (the rest is released). */
  postHold(
    principal: Principal,
    holdId: string,
    input: PostHoldInput,
    waitMs: number,
  ): Promise<HoldCompletion>;
  /** Voids a hold: the reservation is released, nothing moves. */
  voidHold(
    principal: Principal,
    holdId: string,
    input: VoidHoldInput,
    waitMs: number,
  ): Promise<HoldCompletion>;
  /** A teller's (or admin's) cash deposit or withdrawal; the edge checks the role. */
  operation(principal: Principal, input: OperationInput, waitMs: number): Promise<OperationSubmitted>;
  /** 404 unless `principal` issued the command or is staff. */
  commandStatus(principal: Principal, id: string): Promise<CommandStatusView>;
}

export interface CommandServiceDeps {
  readonly gateway: CommandGateway;
  readonly accepted: AcceptedCommands;
  readonly queries: LedgerQueries;
  readonly notifications: LedgerNotifications;
  readonly clock: Clock;
  /** Draws account tokens: the system's cryptographic randomness in production. */
  readonly random: Random;
  /** Who claimed an account id first (see openAccount). */
  readonly accountClaims: AccountClaims;
  readonly waitMsMax: number;
  readonly holdTimeoutMsMax: number;
  /** Passkey confirmation of large transfers (identity's passkeys); none needed when absent. */
  readonly stepUp?: TransferStepUp;
}

export function createLedgerCommandService(deps: CommandServiceDeps): LedgerCommandService {
  // A branch's cash account per asset is a system account, opened on first use.
  const systemAccountIban = systemAccounts(deps);
  const clamp = (waitMs: number) => Math.max(0, Math.min(waitMs, deps.waitMsMax));
  return {
    waitMsMax: deps.waitMsMax,
    holdTimeoutMsMax: deps.holdTimeoutMsMax,
    openAccount: async (principal, input, waitMs) => {
      assertAccountHolder(principal);
      return openAccount(deps, input, principal, clamp(waitMs));
    },
    transfer: async (principal, input, waitMs, assertion) => {
      assertAccountHolder(principal);
      const command = transferCommand(input, principal, "");
      await assertMayTransfer(deps.queries, command, principal);
      // The command itself records a step-up confirmation (the log keeps how it was authorised).
      const confirmed = await assertStepUp(deps, principal, command, assertion);
      const submitted: TransferMoney = confirmed ? { ...command, confirmedWith: "passkey" } : command;
      return {
        command: submitted,
        ...(confirmed ? { confirmedWithPasskey: true } : {}),
        outcome: outcomeOf(await deps.gateway.submit(submitted, clamp(waitMs)), command.commandId),
      };
    },
    transferBatch: async (principal, inputs, waitMs) => {
      assertAccountHolder(principal);
      return transferBatch(deps, principal, inputs, clamp(waitMs));
    },
    hold: async (principal, input, waitMs) => {
      assertAccountHolder(principal);
      const { timeoutMs, ...transfer } = input;
      const command = transferCommand(transfer, principal, "", timeoutMs);
      await assertMayTransfer(deps.queries, command, principal);
      // A hold of a large amount needs a confirmed transfer: holds carry no assertion.
      await assertStepUp(deps, principal, command, undefined);
      return {
        command,
        outcome: outcomeOf(await deps.gateway.submit(command, clamp(waitMs)), command.commandId),
      };
    },
    postHold: async (principal, holdId, input, waitMs) => {
      assertAccountHolder(principal);
      return completeHold(deps, principal, postHoldCommand(holdId, input, principal), clamp(waitMs));
    },
    voidHold: async (principal, holdId, input, waitMs) => {
      assertAccountHolder(principal);
      return completeHold(deps, principal, voidHoldCommand(holdId, input, principal), clamp(waitMs));
    },
    operation: (principal, input, waitMs) =>
      operation(deps, systemAccountIban, principal, input, clamp(waitMs)),
    commandStatus: (principal, id) => commandStatus(deps, principal, id),
  };
}

/** The outcome of a submission; a different command under a used id is a 409 conflict. */
export function outcomeOf(submission: Submission, id: string): CommandOutcome {
  switch (submission.kind) {
    case "accepted":
      return { id, status: "PENDING" };
    case "conflict":
      throw conflictProblem(id);
    case "decided": {
      const { result } = submission;
      if (result.status === "CONFIRMED") return { id, status: "CONFIRMED", result: result.result };
      return { id, status: "FAILED", reason: result.reason ?? "rejected" };
    }
  }
}

/** The command opening an account for `principal`; it carries only the hash of the account's token. */
export function createAccountCommand(
  input: { readonly id: string; readonly asset: string },
  principal: Principal,
  tokenHash: string,
): CreateAccount {
  const { id, asset } = input;
  return {
    type: "CreateAccount",
    commandId: id,
    fingerprint: fingerprintOf({ type: "CreateAccount", owner: principal.userId, asset }),
    accountId: id,
    ownerId: principal.userId,
    asset,
    overdraftLimit: 0n,
    system: false,
    tokenHash,
  };
}

/**
 * Opens an account for `principal`. The id is claimed before the command is appended: a creation by
 * anyone else under a claimed id is a conflict, even while the first one is undecided. The plaintext
 * token goes to the request that claimed the id and nowhere else; the same owner's replay re-appends
 * the first command (same token hash) and gets no token, so a replay can neither mint a second token
 * nor reveal the first.
 */
async function openAccount(
  deps: CommandServiceDeps,
  input: OpenAccountInput,
  principal: Principal,
  waitMs: number,
): Promise<AccountOpening> {
  const { token, tokenHash } = newAccountToken(deps.random);
  const command = createAccountCommand(input, principal, tokenHash);
  const claim = await deps.accountClaims.claim({
    accountId: command.accountId,
    ownerId: principal.userId,
    fingerprint: command.fingerprint,
    tokenHash,
    claimedAtMs: deps.clock.nowMs(),
  });
  if (claim.kind === "contended") throw conflictProblem(input.id);
  if (claim.kind === "taken") {
    const { existing } = claim;
    if (existing.ownerId !== principal.userId || existing.fingerprint !== command.fingerprint)
      throw conflictProblem(input.id);
    const replay = { ...command, tokenHash: existing.tokenHash };
    return { outcome: outcomeOf(await deps.gateway.submit(replay, waitMs), input.id), token: undefined };
  }
  let submission: Submission;
  try {
    submission = await deps.gateway.submit(command, waitMs);
  } catch (error) {
    // Not appended (or not known to be): the owner's retry claims afresh and gets a token.
    await deps.accountClaims.release(command.accountId, tokenHash).catch(() => {});
    throw error;
  }
  // The id was a command of another kind before (a transfer's id, a system account's): no token,
  // and outcomeOf answers conflict.
  return { outcome: outcomeOf(submission, input.id), token };
}

function conflictProblem(id: string): ProblemError {
  return new ProblemError("conflict", { detail: `Id ${id} was already used for a different request` });
}

/** A customer's transfer; with `pendingTimeoutMs` a hold (a two-phase transfer). */
export function transferCommand(
  input: TransferInput,
  principal: Principal,
  fieldPrefix: string,
  pendingTimeoutMs?: number,
): TransferMoney {
  const debitIban = ibanOrFail(input.from, `${fieldPrefix}from`);
  const creditIban = ibanOrFail(input.to, `${fieldPrefix}to`);
  const amount = amountOrFail(input.amount, `${fieldPrefix}amount`);
  const description = input.description ?? "";
  const authorization: Authorization =
    input.token === undefined
      ? { kind: "owner", actorId: principal.userId }
      : { kind: "token", actorId: principal.userId, tokenHash: hashToken(input.token) };
  return {
    type: "TransferMoney",
    commandId: input.id,
    kind: "transfer",
    // The token is part of the request's meaning but only its hash is kept.
    fingerprint: fingerprintOf({
      type: "TransferMoney",
      actor: principal.userId,
      debitIban,
      creditIban,
      amount,
      asset: input.asset,
      description,
      token: authorization.kind === "token" ? authorization.tokenHash : undefined,
      // Only holds carry the key, so fingerprints of plain transfers stay what they were.
      ...(pendingTimeoutMs === undefined ? {} : { pendingTimeoutMs }),
    }),
    debitIban,
    creditIban,
    amount,
    asset: input.asset,
    description,
    authorization,
    ...(pendingTimeoutMs === undefined ? {} : { pendingTimeoutMs }),
  };
}

/** Without a token only the owner may move money; to anyone else the account does not exist. */
async function assertMayDebit(queries: LedgerQueries, command: TransferMoney, principal: Principal) {
  if (command.authorization.kind !== "owner") return;
  const owner = await queries.ownerOfIban(command.debitIban);
  if (owner !== principal.userId)
    throw new ProblemError("not_found", { field: "from", detail: "No such account" });
}

/**
 * System accounts (branch cash, payments clearing, gateway settlement…) move money only through
 * their own operations: a customer who sends to one would hand money to the bank's books with no
 * payment behind it. Staff may (corrections). Owners are cached, so this costs no round trip after
 * the first transfer to an IBAN, and it shares the batched lookup of the debit check before that.
 */
async function assertMayCredit(
  queries: LedgerQueries,
  command: TransferMoney,
  principal: Principal,
  field = "to",
) {
  if (isStaff(principal)) return;
  const owner = await queries.ownerOfIban(command.creditIban);
  if (owner?.startsWith(systemOwnerPrefix))
    throw new ProblemError("system_account", {
      field,
      detail: `${command.creditIban} is a system account of the bank; send to a customer's account instead`,
    });
}

/**
 * A large transfer is appended only with a passkey confirmation (verified here, before the append);
 * true when it was confirmed. Without a step-up port nothing is needed.
 */
async function assertStepUp(
  deps: CommandServiceDeps,
  principal: Principal,
  command: TransferMoney,
  assertion: StepUpAssertion,
  field = "",
): Promise<boolean> {
  if (deps.stepUp === undefined) return false;
  const decision = await deps.stepUp.confirm(
    {
      userId: principal.userId,
      transferId: command.commandId,
      to: command.creditIban,
      amount: command.amount,
      asset: command.asset,
    },
    assertion,
  );
  if (decision.ok) return decision.confirmed;
  throw new ProblemError("step_up_required", {
    detail: decision.detail,
    ...(field === "" ? {} : { field }),
    extra: { reason: decision.reason, header: "Passkey-Assertion" },
  });
}

/** Both checks of a customer's transfer, looked up together. */
async function assertMayTransfer(queries: LedgerQueries, command: TransferMoney, principal: Principal) {
  await Promise.all([
    assertMayDebit(queries, command, principal),
    assertMayCredit(queries, command, principal),
  ]);
}

/**
 * Many transfers in one produce call. Ids already decided answer from the store; fresh ones are
 * appended together and, when `waitMs` > 0, waited for together.
 */
async function transferBatch(
  deps: CommandServiceDeps,
  principal: Principal,
  inputs: readonly TransferInput[],
  waitMs: number,
): Promise<readonly BatchItemOutcome[]> {
  const commands = inputs.map((input, i) => transferCommand(input, principal, `transfers/${i}/`));
  await Promise.all(
    commands.map((command, i) => assertMayCredit(deps.queries, command, principal, `transfers/${i}/to`)),
  );
  // A batch carries no passkey assertion: a large item must be sent alone, confirmed.
  for (const [i, command] of commands.entries())
    await assertStepUp(deps, principal, command, undefined, `transfers/${i}/amount`);
  const stored = await deps.queries.outcomes(commands.map((c) => c.commandId));
  const known = new Map<string, CommandResult>(stored.map((s) => [s.commandId, resultFromStored(s)]));
  const fresh = commands.filter((c) => !known.has(c.commandId));
  const waiters = waitMs > 0 ? fresh.map((c) => deps.notifications.waitFor(c.commandId, waitMs)) : [];
  try {
    await deps.gateway.submitMany(fresh);
  } catch (error) {
    for (const waiter of waiters) waiter.cancel();
    throw error;
  }
  const decided = new Map(known);
  for (const [i, result] of (await Promise.all(waiters.map((w) => w.promise))).entries()) {
    const command = fresh[i];
    if (command && result) decided.set(command.commandId, result);
  }
  return commands.map((command) => batchItemOutcome(command, decided.get(command.commandId)));
}

function batchItemOutcome(command: TransferMoney, result: CommandResult | undefined): BatchItemOutcome {
  if (!result) return { id: command.commandId, status: "PENDING" };
  if (result.fingerprint !== command.fingerprint)
    return { id: command.commandId, status: "FAILED", reason: "conflict" };
  return result.status === "CONFIRMED"
    ? { id: command.commandId, status: "CONFIRMED" }
    : { id: command.commandId, status: "FAILED", reason: result.reason };
}

async function operation(
  deps: CommandServiceDeps,
  systemAccountIban: (name: string, asset: string) => Promise<string>,
  principal: Principal,
  input: OperationInput,
  waitMs: number,
): Promise<OperationSubmitted> {
  const { id, type, branch } = input;
  const iban = ibanOrFail(input.iban, "iban");
  const amount = amountOrFail(input.amount, "amount");
  const customer = await deps.queries.accountByIban(iban);
  if (!customer) throw new ProblemError("not_found", { field: "iban", detail: "No such account" });
  // Keyed case-insensitively: "Utrecht" and "utrecht" are one branch with one cash account. Names
  // valid before (lowercase only) keep their key, so existing cash accounts stay in use.
  const cash = await systemAccountIban(`branch-cash:${branchKey(branch)}`, customer.asset);
  const [debitIban, creditIban] = type === "deposit" ? [cash, iban] : [iban, cash];
  const command: TransferMoney = {
    type: "TransferMoney",
    commandId: id,
    kind: type,
    fingerprint: fingerprintOf({ type: "Operation", kind: type, iban, amount, branch }),
    debitIban,
    creditIban,
    amount,
    asset: customer.asset,
    description: `${type === "deposit" ? "Cash deposit" : "Cash withdrawal"} at ${branch}`,
    authorization: { kind: "operator", actorId: principal.userId },
    branch,
  };
  const outcome = outcomeOf(await deps.gateway.submit(command, waitMs), id);
  return { outcome, iban, amount, asset: customer.asset };
}

async function commandStatus(
  deps: CommandServiceDeps,
  principal: Principal,
  id: string,
): Promise<CommandStatusView> {
  const stored = await deps.queries.outcome(id);
  if (stored && (stored.actorId === principal.userId || mayReadAnyAccount(principal))) {
    return {
      id,
      status: stored.status,
      ...(stored.reason === undefined ? {} : { reason: stored.reason }),
      ...stored.result,
    };
  }
  if (!stored && deps.accepted.has(id, principal.userId)) return { id, status: "PENDING" };
  throw new ProblemError("not_found", { detail: "No such command" });
}

function authorizationOf(principal: Principal, token: string | undefined): Authorization {
  return token === undefined
    ? { kind: "owner", actorId: principal.userId }
    : { kind: "token", actorId: principal.userId, tokenHash: hashToken(token) };
}

export function postHoldCommand(
  holdId: string,
  input: PostHoldInput,
  principal: Principal,
): PostPendingTransfer {
  const amount = input.amount === undefined ? undefined : amountOrFail(input.amount, "amount");
  const authorization = authorizationOf(principal, input.token);
  return {
    type: "PostPendingTransfer",
    commandId: input.id,
    fingerprint: fingerprintOf({
      type: "PostPendingTransfer",
      actor: principal.userId,
      holdId,
      amount,
      token: authorization.kind === "token" ? authorization.tokenHash : undefined,
    }),
    pendingId: holdId,
    ...(amount === undefined ? {} : { amount }),
    authorization,
  };
}

export function voidHoldCommand(
  holdId: string,
  input: VoidHoldInput,
  principal: Principal,
): VoidPendingTransfer {
  const authorization = authorizationOf(principal, input.token);
  return {
    type: "VoidPendingTransfer",
    commandId: input.id,
    fingerprint: fingerprintOf({
      type: "VoidPendingTransfer",
      actor: principal.userId,
      holdId,
      token: authorization.kind === "token" ? authorization.tokenHash : undefined,
    }),
    pendingId: holdId,
    cause: "voided",
    authorization,
  };
}

/**
 * Without a token only the owner of the debited account may post or void; to anyone else a hold
 * looks like a missing one (404). A hold not created yet is left to the ledger to answer.
 */
async function assertMayComplete(
  queries: LedgerQueries,
  command: PostPendingTransfer | VoidPendingTransfer,
  principal: Principal,
): Promise<void> {
  if (command.authorization?.kind !== "owner") return;
  const hold = await queries.hold(command.pendingId);
  if (hold && (hold.kind !== "transfer" || hold.debitOwnerId !== principal.userId))
    throw new ProblemError("not_found", { detail: "No such hold" });
}

async function completeHold(
  deps: CommandServiceDeps,
  principal: Principal,
  command: PostPendingTransfer | VoidPendingTransfer,
  waitMs: number,
): Promise<HoldCompletion> {
  await assertMayComplete(deps.queries, command, principal);
  const outcome = outcomeOf(await deps.gateway.submit(command, waitMs), command.commandId);
  return { outcome, holdId: command.pendingId };
}
