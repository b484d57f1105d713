/**
 * Resolvers: the GraphQL face of the same ledger operations the REST API offers. Writes go through
 * the ledger's command service (the one REST calls), and reads through its queries and visibility
 * rules, so both edges accept, refuse and hide exactly the same things.
 */
import { z } from "zod";
import {
  accountView,
  type BalanceChanged,
  type CommandOutcome,
  type CommandStatusView,
  type HistoryItem,
  holdInput,
  ibanOrFail,
  type LatestTransfer,
  type LedgerApi,
  openAccountInput,
  parsePositiveAmount,
  postHoldInput,
  transferInput,
  visibleAccount,
  visibleHold,
  voidHoldInput,
} from "../../ledger/index.ts";
import { type InboxApi, type InboxEntry, notificationViewOf } from "../../notifications/index.ts";
import type { Principal } from "../../platform/http/auth.ts";
import { ProblemError } from "../../platform/http/problems.ts";
import { validationProblem } from "./errors.ts";
import { eventStream } from "./event-stream.ts";
import type { ResolverMap } from "./schema.ts";

// A type alias, not an interface: graphql-http wants a context assignable to a record.
export type GraphqlContext = {
  readonly principal: Principal;
};

export interface ResolverDeps {
  readonly ledger: LedgerApi;
  /** Each user's notifications as they arrive (the notifications module). */
  readonly inbox: InboxApi;
  /** Events a subscriber may fall behind before its subscription ends with rate_limited. */
  readonly subscriptionBufferedMax: number;
  /** How long `commandOutcome` waits for an undecided command before completing without a result. */
  readonly commandOutcomeWaitMsMax: number;
}

export type Direction = "IN" | "OUT" | "ANY";

const pageSizeMax = 500;
const cursorPattern = /^[0-9]{1,19}$/;
const commandId = z.uuid();

interface CommandResultView {
  readonly id: string;
  readonly status: "PENDING" | "CONFIRMED" | "FAILED";
  readonly reason?: string | undefined;
  readonly iban?: string | undefined;
  readonly token?: string | undefined;
  readonly phase?: string | undefined;
  readonly heldForReview?: boolean | undefined;
  readonly reviewId?: string | undefined;
}

interface HoldArgs {
  id: string;
  from: string;
  to: string;
  amount: string;
  asset: string;
  timeoutMs: number;
  description?: string | null;
  token?: string | null;
  waitSeconds?: number | null;
}

export function ledgerResolvers(deps: ResolverDeps): ResolverMap {
  return {
    Query: queryResolvers(deps),
    Mutation: mutationResolvers(deps),
    Subscription: subscriptionResolvers(deps),
  };
}

function queryResolvers(deps: ResolverDeps) {
  const { queries, commands } = deps.ledger;
  return {
    account: async (_: unknown, args: { iban: string }, context: GraphqlContext) =>
      accountView(await visibleAccount(queries, context.principal, ibanOrFail(args.iban, "iban"))),

    accounts: async (_: unknown, _args: unknown, context: GraphqlContext) =>
      (await queries.accountsOfOwner(context.principal.userId)).map(accountView),

    transactionsByIban: async (
      _: unknown,
      args: { iban: string; first?: number | null; after?: string | null },
      context: GraphqlContext,
    ) => {
      const iban = ibanOrFail(args.iban, "iban");
      const first = pageSizeOrFail(args.first, "first");
      const after = args.after ?? undefined;
      if (after !== undefined && !cursorPattern.test(after)) {
        throw new ProblemError("validation_failed", {
          field: "after",
          detail: "after must be a nextCursor",
        });
      }
      const account = await visibleAccount(queries, context.principal, iban);
      const page = await queries.history(account.id, after, first + 1);
      const items = page.slice(0, first);
      return {
        items: items.map((item) => transactionView(item, account.asset)),
        nextCursor: page.length > first ? (items.at(-1)?.cursor ?? null) : null,
      };
    },

    allLastTransactions: async (_: unknown, args: { first?: number | null }, context: GraphqlContext) => {
      if (!context.principal.roles.includes("admin")) {
        throw new ProblemError("forbidden", { detail: "Requires role admin" });
      }
      return (await queries.latestTransfers(pageSizeOrFail(args.first, "first"))).map(transferView);
    },

    command: async (_: unknown, args: { id: string }, context: GraphqlContext) =>
      commands.commandStatus(context.principal, commandIdOrFail(args.id)),

    hold: async (_: unknown, args: { id: string }, context: GraphqlContext) =>
      visibleHold(queries, context.principal, commandIdOrFail(args.id)),
  };
}

function mutationResolvers(deps: ResolverDeps) {
  const { commands } = deps.ledger;
  return {
    createAccount: async (
      _: unknown,
      args: { id: string; asset: string; waitSeconds?: number | null },
      context: GraphqlContext,
    ): Promise<CommandResultView> => {
      const input = parsed(openAccountInput, { id: args.id, asset: args.asset });
      const waitMs = waitMsOrFail(args.waitSeconds, commands.waitMsMax);
      const { outcome, token } = await commands.openAccount(context.principal, input, waitMs);
      const result = commandResult(outcome);
      return result.status === "FAILED" || token === undefined ? result : { ...result, token };
    },

    moneyTransfer: async (
      _: unknown,
      args: {
        id: string;
        from: string;
        to: string;
        amount: string;
        asset: string;
        description?: string | null;
        token?: string | null;
        waitSeconds?: number | null;
      },
      context: GraphqlContext,
    ): Promise<CommandResultView> => {
      const { waitSeconds, ...fields } = args;
      const input = parsed(transferInput, withoutNulls(fields));
      const waitMs = waitMsOrFail(waitSeconds, commands.waitMsMax);
      return commandResult((await commands.transfer(context.principal, input, waitMs)).outcome);
    },

    ...holdMutations(commands),
  };
}

function subscriptionResolvers(deps: ResolverDeps) {
  const { queries, notifications, commands } = deps.ledger;
  return {
    balanceChanged: {
      subscribe: async (
        _: unknown,
        args: { iban: string; minAmount?: string | null; direction?: Direction | null },
        context: GraphqlContext,
      ) => {
        const iban = ibanOrFail(args.iban, "iban");
        const minAmount = minAmountOrFail(args.minAmount);
        const direction = args.direction ?? "ANY";
        const account = await visibleAccount(queries, context.principal, iban);
        return eventStream<BalanceChanged>({
          bufferedMax: deps.subscriptionBufferedMax,
          overflowError: tooSlow,
          start: (sink) =>
            notifications.onBalanceChanged((event) => {
              if (event.iban === account.iban && wanted(event.changedBy, minAmount, direction))
                sink.push(event);
            }),
        });
      },
      resolve: (event: BalanceChanged) => balanceChangeView(event),
    },

    notificationAdded: {
      subscribe: (_: unknown, _args: unknown, context: GraphqlContext) =>
        eventStream<InboxEntry>({
          bufferedMax: deps.subscriptionBufferedMax,
          overflowError: tooSlow,
          start: (sink) => deps.inbox.onNotification(context.principal.userId, (entry) => sink.push(entry)),
        }),
      resolve: (entry: InboxEntry) => notificationViewOf({ ...entry, read: false }),
    },

    commandOutcome: {
      subscribe: (_: unknown, args: { id: string }, context: GraphqlContext) => {
        const id = commandIdOrFail(args.id);
        return eventStream<CommandResultView>({
          bufferedMax: 1,
          overflowError: tooSlow,
          start: (sink) => {
            // Registered before reading the store, so an outcome landing in between is not missed.
            const waiter = notifications.waitFor(id, deps.commandOutcomeWaitMsMax);
            const deliver = async () => {
              if ((await queries.outcome(id)) === undefined && (await waiter.promise) === undefined) {
                // Not decided within the wait (or unsubscribed): one last look at the store.
                if ((await queries.outcome(id)) === undefined) return sink.end();
              }
              const status = await commands.commandStatus(context.principal, id);
              sink.push(commandResultOfStatus(status));
              sink.end();
            };
            deliver().catch((error: unknown) => sink.fail(error));
            return () => waiter.cancel();
          },
        });
      },
      resolve: (result: CommandResultView) => result,
    },
  };
}

/** createHold, postHold and voidHold: through the ledger's command service, like the REST routes. */
function holdMutations(commands: LedgerApi["commands"]) {
  return {
    createHold: async (_: unknown, args: HoldArgs, context: GraphqlContext): Promise<CommandResultView> => {
      const { waitSeconds, ...fields } = args;
      const input = parsed(holdInput(commands.holdTimeoutMsMax), withoutNulls(fields));
      const waitMs = waitMsOrFail(waitSeconds, commands.waitMsMax);
      return commandResult((await commands.hold(context.principal, input, waitMs)).outcome);
    },
    postHold: async (
      _: unknown,
      args: {
        id: string;
        holdId: string;
        amount?: string | null;
        token?: string | null;
        waitSeconds?: number | null;
      },
      context: GraphqlContext,
    ): Promise<CommandResultView> => {
      const { waitSeconds, holdId, ...fields } = args;
      const input = parsed(postHoldInput, withoutNulls(fields));
      const waitMs = waitMsOrFail(waitSeconds, commands.waitMsMax);
      const { outcome } = await commands.postHold(context.principal, holdIdOrFail(holdId), input, waitMs);
      return commandResult(outcome);
    },
    voidHold: async (
      _: unknown,
      args: { id: string; holdId: string; token?: string | null; waitSeconds?: number | null },
      context: GraphqlContext,
    ): Promise<CommandResultView> => {
      const { waitSeconds, holdId, ...fields } = args;
      const input = parsed(voidHoldInput, withoutNulls(fields));
      const waitMs = waitMsOrFail(waitSeconds, commands.waitMsMax);
      const { outcome } = await commands.voidHold(context.principal, holdIdOrFail(holdId), input, waitMs);
      return commandResult(outcome);
    },
  };
}

/** The GraphQL answer to a command's outcome (a conflict was thrown by the command service). */
export function commandResult(outcome: CommandOutcome): CommandResultView {
  switch (outcome.status) {
    case "PENDING":
      return { id: outcome.id, status: "PENDING" };
    case "FAILED":
      return { id: outcome.id, status: "FAILED", reason: outcome.reason };
    case "CONFIRMED":
      return {
        id: outcome.id,
        status: "CONFIRMED",
        iban: outcome.result.iban,
        phase: outcome.result.phase,
        ...heldFields(outcome.result.reviewId),
      };
  }
}

/** A transfer screening held for review: confirmed as a pending transfer the review decides. */
function heldFields(reviewId: string | undefined): Pick<CommandResultView, "heldForReview" | "reviewId"> {
  return reviewId === undefined ? {} : { heldForReview: true, reviewId };
}

function commandResultOfStatus(status: CommandStatusView): CommandResultView {
  return {
    id: status.id,
    status: status.status,
    reason: status.reason,
    iban: status.iban,
    phase: status.phase,
    ...heldFields(status.reviewId),
  };
}

/** Whether a change of `changedBy` (signed) passes a subscriber's filter. */
export function wanted(changedBy: bigint, minAmount: bigint, direction: Direction): boolean {
  if (direction === "IN" && changedBy <= 0n) return false;
  if (direction === "OUT" && changedBy >= 0n) return false;
  return (changedBy < 0n ? -changedBy : changedBy) >= minAmount;
}

function balanceChangeView(event: BalanceChanged) {
  return {
    commandId: event.commandId,
    iban: event.iban,
    asset: event.asset,
    newBalance: event.newBalance.toString(),
    changedBy: event.changedBy.toString(),
    direction: event.changedBy < 0n ? "OUT" : "IN",
    counterparty: event.counterpartyIban,
    description: event.description,
    at: new Date(event.atMs).toISOString(),
  };
}

function transactionView(item: HistoryItem, asset: string) {
  return {
    id: item.id,
    amount: item.amount.toString(),
    asset,
    counterparty: item.counterparty,
    description: item.description,
    balanceAfter: item.balanceAfter.toString(),
    at: new Date(item.atMs).toISOString(),
  };
}

function transferView(transfer: LatestTransfer) {
  return {
    id: transfer.id,
    kind: transfer.kind,
    phase: transfer.phase,
    from: transfer.from,
    to: transfer.to,
    amount: transfer.amount.toString(),
    asset: transfer.asset,
    description: transfer.description,
    at: new Date(transfer.atMs).toISOString(),
  };
}

function tooSlow(): ProblemError {
  return new ProblemError("rate_limited", {
    detail: "The subscriber fell too far behind and missed events; subscribe again",
  });
}

function parsed<S extends z.ZodType>(schema: S, input: unknown): z.infer<S> {
  const result = schema.safeParse(input);
  if (!result.success) throw validationProblem(result.error);
  return result.data;
}

/** GraphQL passes an explicit null for an optional argument; the REST schemas expect it absent. */
function withoutNulls<T extends Record<string, unknown>>(fields: T): { [K in keyof T]: Exclude<T[K], null> } {
  return Object.fromEntries(Object.entries(fields).filter(([, value]) => value !== null)) as {
    [K in keyof T]: Exclude<T[K], null>;
  };
}

function pageSizeOrFail(first: number | null | undefined, field: string): number {
  const size = first ?? 50;
  if (!Number.isInteger(size) || size < 1 || size > pageSizeMax) {
    throw new ProblemError("validation_failed", {
      field,
      detail: `${field} must be between 1 and ${pageSizeMax}`,
    });
  }
  return size;
}

function waitMsOrFail(waitSeconds: number | null | undefined, waitMsMax: number): number {
  const seconds = waitSeconds ?? 0;
  if (!Number.isInteger(seconds) || seconds < 0) {
    throw new ProblemError("validation_failed", {
      field: "waitSeconds",
      detail: "waitSeconds must be a whole number of seconds, 0 or more",
    });
  }
  return Math.min(seconds * 1000, waitMsMax);
}

function commandIdOrFail(id: string): string {
  if (!commandId.safeParse(id).success) {
    throw new ProblemError("validation_failed", { field: "id", detail: "id must be a UUID" });
  }
  return id;
}

function holdIdOrFail(id: string): string {
  if (!commandId.safeParse(id).success) {
    throw new ProblemError("validation_failed", { field: "holdId", detail: "holdId must be a UUID" });
  }
  return id;
}

function minAmountOrFail(text: string | null | undefined): bigint {
  if (text === null || text === undefined || text === "0") return 0n;
  const amount = parsePositiveAmount(text);
  if (amount === undefined) {
    throw new ProblemError("validation_failed", {
      field: "minAmount",
      detail: "minAmount must be a whole number of minor units, 0 or more",
    });
  }
  return amount;
}
