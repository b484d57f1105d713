/**
 * The review queue of transfers screening held: a reviewer (admin or compliance) approves one (the
 * ledger posts the hold) or rejects it (the ledger voids it), with a reason; a hold nobody decides
 * expires by the ledger's own timeout and sweeper. Reviews follow the ledger through its door and
 * its published outcomes only: opened when the ledger booked a held transfer, closed by what the
 * ledger did with it (posted, voided, expired).
 */
import { fingerprintOf, type LedgerApi, outcomeFromAvro } from "../ledger/index.ts";
import { derivedUuid } from "../platform/derived-uuid.ts";
import { ProblemError } from "../platform/http/problems.ts";
import type { LogRecord } from "../platform/log/port.ts";

export const reviewStates = ["open", "approved", "rejected", "expired"] as const;
export type ReviewState = (typeof reviewStates)[number];

export interface Review {
  /** The held transfer's id (its command's id). */
  readonly id: string;
  readonly state: ReviewState;
  readonly debitIban: string;
  readonly creditIban: string;
  readonly amount: bigint;
  readonly asset: string;
  readonly kind: string;
  readonly openedAtMs: number;
  readonly expiresAtMs: number;
  readonly decidedAtMs: number | null;
  readonly decidedBy: string | null;
  readonly reason: string | null;
  readonly decisionCommand: string | null;
  /** What the ledger did in the end: posted, voided or expired (null while pending). */
  readonly ledgerPhase: string | null;
}

export type OpenedReview = Pick<
  Review,
  "id" | "debitIban" | "creditIban" | "amount" | "asset" | "kind" | "openedAtMs" | "expiresAtMs"
>;

export interface ReviewCursor {
  readonly openedAtMs: number;
  readonly id: string;
}

export interface ReviewPage {
  readonly items: readonly Review[];
  readonly next?: ReviewCursor;
}

export interface ReviewStore {
  /** Opens reviews (idempotent per id). */
  open(reviews: readonly OpenedReview[]): Promise<void>;
  get(id: string): Promise<Review | undefined>;
  /** Decides an open review; undefined when it is not open (or unknown). */
  decide(decision: {
    id: string;
    state: "approved" | "rejected";
    atMs: number;
    by: string;
    reason: string;
    commandId: string;
  }): Promise<Review | undefined>;
  /** What the ledger did with held transfers. */
  closed(completions: readonly { id: string; phase: string }[]): Promise<void>;
  page(query: {
    state: "open" | "decided" | "all";
    limit: number;
    after?: ReviewCursor;
  }): Promise<ReviewPage>;
}

export interface ReviewDeps {
  readonly store: ReviewStore;
  readonly ledger: Promise<LedgerApi>;
  readonly nowMs: () => number;
  /** How long a decision waits for the ledger's outcome. */
  readonly waitMs: number;
}

export interface ReviewDecision {
  readonly id: string;
  readonly verdict: "approve" | "reject";
  readonly reviewerId: string;
  readonly reason: string;
}

function decidedProblem(review: Review): ProblemError {
  return new ProblemError("review_decided", {
    detail: `The review is ${review.state} already`,
    extra: { state: review.state },
  });
}

/**
 * Records the decision, then asks the ledger to post or void the hold under a command id derived
 * from the review and verdict: a retried decision (say, after the ledger was unreachable) resends
 * the same command, which the ledger applies once. A second, different decision is a 409.
 */
export async function decideReview(deps: ReviewDeps, decision: ReviewDecision): Promise<Review> {
  const state = decision.verdict === "approve" ? "approved" : "rejected";
  const commandId = derivedUuid(`risk-review:${decision.id}:${state}`);
  const decided = await deps.store.decide({
    id: decision.id,
    state,
    atMs: deps.nowMs(),
    by: decision.reviewerId,
    reason: decision.reason,
    commandId,
  });
  const review = decided ?? (await deps.store.get(decision.id));
  if (!review) throw new ProblemError("not_found", { detail: "No such review" });
  const retry = !decided && review.state === state && review.ledgerPhase === null;
  if (!decided && !retry) throw decidedProblem(review);
  const ledger = await deps.ledger;
  const fields = {
    type: state === "approved" ? "PostPendingTransfer" : "VoidPendingTransfer",
    pendingId: review.id,
  };
  const command =
    state === "approved"
      ? { ...fields, type: "PostPendingTransfer" as const, commandId, reviewId: review.id }
      : {
          ...fields,
          type: "VoidPendingTransfer" as const,
          commandId,
          reviewId: review.id,
          cause: "voided" as const,
        };
  const submission = await ledger.submit({ ...command, fingerprint: fingerprintOf(fields) }, deps.waitMs);
  if (submission.kind === "decided" && submission.result.status === "FAILED") {
    // The ledger refused (the hold expired before the decision): it has the last word.
    if (submission.result.reason === "pending_transfer_expired")
      await deps.store.closed([{ id: review.id, phase: "expired" }]);
    const now = await deps.store.get(review.id);
    throw decidedProblem(now ?? review);
  }
  if (submission.kind === "decided")
    await deps.store.closed([{ id: review.id, phase: submission.result.result.phase ?? "" }]);
  return (await deps.store.get(review.id)) ?? review;
}

/** Raw Avro of a MoneyTransferConfirmed carries expiresAtMs as a nullable long. */
function expiresAtOf(outcome: unknown): number | undefined {
  const value = (outcome as { expiresAtMs?: { long: bigint } | bigint | null }).expiresAtMs;
  if (value === null || value === undefined) return undefined;
  return Number(typeof value === "bigint" ? value : value.long);
}

/** Facts the follower learns from one batch of the ledger's outcomes. */
export interface LedgerFacts {
  readonly opened: OpenedReview[];
  readonly completions: { id: string; phase: string }[];
  readonly pairs: { senderIban: string; receiverIban: string; atMs: number }[];
}

/** Reads what risk needs from the ledger's published outcomes: held transfers, their ends, pairs. */
export function ledgerFactsOf(ledger: LedgerApi, records: readonly LogRecord[]): LedgerFacts {
  const facts: LedgerFacts = { opened: [], completions: [], pairs: [] };
  for (const record of records) {
    const envelope = outcomeFromAvro(ledger.codecs.outcomes.decode(record.value));
    const outcome = envelope.outcome;
    if (outcome.type !== "MoneyTransferConfirmed") continue;
    const { transferId, phase, debitIban, creditIban } = outcome;
    if (phase === "pending" && outcome.reviewId !== undefined)
      facts.opened.push({
        id: outcome.reviewId,
        ...{ debitIban, creditIban, amount: outcome.amount, asset: outcome.asset, kind: outcome.kind },
        openedAtMs: envelope.atMs,
        expiresAtMs: expiresAtOf(outcome) ?? envelope.atMs,
      });
    if (phase === "posted" || phase === "voided" || phase === "expired")
      facts.completions.push({ id: transferId, phase });
    if ((phase === "single" || phase === "posted") && outcome.kind === "transfer")
      facts.pairs.push({ senderIban: debitIban, receiverIban: creditIban, atMs: envelope.atMs });
  }
  return facts;
}
