import type { FastifyReply } from "fastify";
import { z } from "zod";
import { mayReadAnyAccount, type PreHandler, type Principal } from "../../platform/http/auth.ts";
import { ProblemError, rejectionProblem } from "../../platform/http/problems.ts";

export { isStaff, mayReadAnyAccount, preferredWaitMs, principalOf } from "../../platform/http/auth.ts";

import type { CommandOutcome, LedgerCommandService } from "../command-service.ts";
import type { AccountState } from "../domain/types.ts";
import type { LiveStats } from "../live-stats.ts";
import type { LedgerQueries } from "../queries.ts";

export { accountHolderRoles } from "../account-holders.ts";

/** What the ledger's REST routes use: the command service for writes, the queries for reads. */
export interface LedgerHttpDeps {
  readonly commands: LedgerCommandService;
  readonly queries: LedgerQueries;
  readonly waitMsMax: number;
  readonly transfersPerBatchMax: number;
  /** Longest timeout a client may give a hold. */
  readonly holdTimeoutMsMax: number;
  readonly authenticate: PreHandler;
  readonly liveStats: LiveStats;
}

/** The account if `principal` may see it; others' accounts look exactly like missing ones. */
export async function visibleAccount(
  queries: LedgerQueries,
  principal: Principal,
  iban: string,
): Promise<AccountState> {
  const account = await queries.accountByIban(iban);
  if (!account || (account.ownerId !== principal.userId && !mayReadAnyAccount(principal))) {
    throw new ProblemError("not_found", { detail: "No such account" });
  }
  return account;
}

export function accountView(account: AccountState) {
  return {
    id: account.id,
    iban: account.iban,
    asset: account.asset,
    balance: account.balance.toString(),
    availableBalance: (account.balance - account.debitsPending).toString(),
    overdraftLimit: account.overdraftLimit.toString(),
    status: "CONFIRMED" as const,
  };
}

/** Sends a command endpoint's answer (problem details get their media type). */
export function sendAnswer(reply: FastifyReply, answer: ReturnType<typeof outcomeReply>): FastifyReply {
  if (answer.problem) reply.type("application/problem+json");
  return reply.code(answer.status).send(answer.body);
}

/** Turns a command's outcome into the HTTP answer shared by every command endpoint. */
export function outcomeReply(
  outcome: CommandOutcome,
  confirmedBody: (result: Readonly<Record<string, string>>) => Record<string, unknown>,
  pendingBody: Record<string, unknown> = {},
): { status: number; body: Record<string, unknown>; problem?: true } {
  const { id } = outcome;
  switch (outcome.status) {
    case "PENDING":
      return { status: 202, body: { id, status: "PENDING", ...pendingBody } };
    case "CONFIRMED":
      return {
        status: 201,
        body: { id, status: "CONFIRMED", ...confirmedBody(outcome.result), ...held(outcome) },
      };
    case "FAILED": {
      const { reason } = outcome;
      return {
        status: 422,
        problem: true,
        body: rejectionProblem(reason, { status: "FAILED", id, detail: reasonText(reason) }),
      };
    }
  }
}

/**
 * A transfer screening held for review is CONFIRMED as a pending transfer (funds reserved, nothing
 * moved): the answer says so, with the review that decides it (approved: posted; rejected: voided).
 */
function held(outcome: CommandOutcome): Record<string, unknown> {
  const reviewId = outcome.status === "CONFIRMED" ? outcome.result.reviewId : undefined;
  return reviewId === undefined ? {} : { heldForReview: true, reviewId };
}

const reasonTexts: Record<string, string> = {
  insufficient_funds: "The account does not have enough available funds",
  invalid_token: "The account token is wrong",
  same_account: "Source and destination are the same account",
  unknown_account: "No such account",
  asset_mismatch: "The accounts or the amount are in different assets",
  account_exists: "An account with this id exists already",
  balance_overflow: "The balance would exceed the largest supported amount",
  unknown_asset: "Unknown asset",
  fraudulent: "Screening found the payee or customer on a screening list; nothing was booked",
  under_review: "The transfer is held for review: only the review posts or voids it",
  pending_transfer_not_found: "No such hold",
  pending_transfer_already_posted: "The hold was posted already",
  pending_transfer_already_voided: "The hold was voided already",
  pending_transfer_expired: "The hold expired",
  amount_exceeds_pending: "The amount is more than the hold reserved",
};

export function reasonText(reason: string): string {
  return reasonTexts[reason] ?? reason.replaceAll("_", " ");
}

export const problemResponse = z
  .object({
    type: z.string(),
    title: z.string(),
    status: z.union([z.number(), z.string()]),
    code: z.string(),
  })
  .loose()
  .describe("RFC 9457 problem details");
