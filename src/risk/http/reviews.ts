/**
 * The review queue's REST routes (admin or compliance): transfers screening held, with why (list
 * entry, list version, score, normalised names, rule hits), and the decision on each.
 */
import type { FastifyInstance } from "fastify";
import type { ZodTypeProvider } from "fastify-type-provider-zod";
import { z } from "zod";
import { type PreHandler, principalOf, requireRole } from "../../platform/http/auth.ts";
import { freeText } from "../../platform/http/text.ts";
import { decideReview, type Review, type ReviewCursor, type ReviewDeps } from "../reviews.ts";
import type { ScreeningLog, ScreeningRecord } from "../screenings.ts";

export interface ReviewHttpDeps {
  readonly authenticate: PreHandler;
  readonly reviews: ReviewDeps;
  readonly log: ScreeningLog;
  readonly pageSizeMax: number;
}

// The id part is a whole UUID (not 36 of its letters), or PostgreSQL would refuse it with a 500.
const cursorPattern = /^([0-9]{1,16})\.([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$/;

const cursorInput = z
  .string()
  .regex(cursorPattern, "a cursor from a previous page's nextCursor")
  .describe("A previous page's nextCursor: the reviews after it");

function cursorOf(text: string | undefined): ReviewCursor | undefined {
  const match = text === undefined ? null : cursorPattern.exec(text);
  return match ? { openedAtMs: Number(match[1]), id: match[2] ?? "" } : undefined;
}

const screeningView = z.object({
  decision: z.enum(["block", "hold"]),
  partyRole: z.string(),
  partyIban: z.string(),
  partyName: z.string().nullable().describe("The party's name as screened, when known"),
  list: z.string().nullable(),
  listVersion: z.int().nullable().describe("The list version the decision used (kept on redelivery)"),
  entryKind: z.string().nullable(),
  entryValue: z.string().nullable().describe("The listed value as normalised"),
  entryDisplay: z.string().nullable().describe("The listed value as the list spells it"),
  score: z.number().nullable().describe("Jaro–Winkler similarity of the normalised names (1: exact)"),
  explanation: z.string(),
  ruleHits: z.array(z.object({ rule: z.string(), explanation: z.string() })),
});

const reviewView = z.object({
  id: z.uuid().describe("The held transfer's id"),
  state: z.enum(["open", "approved", "rejected", "expired"]),
  kind: z.string(),
  from: z.string(),
  to: z.string(),
  amount: z.string().describe("Minor units"),
  asset: z.string(),
  openedAt: z.string(),
  expiresAt: z.string(),
  decidedAt: z.string().nullable(),
  decidedBy: z.string().nullable(),
  reason: z.string().nullable(),
  ledgerPhase: z.string().nullable().describe("What the ledger did in the end: posted, voided or expired"),
  screening: screeningView.nullable(),
});

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

function screeningOf(record: ScreeningRecord | undefined): z.infer<typeof screeningView> | null {
  if (!record) return null;
  const { decision, partyRole, partyIban, partyName, list, listVersion, entryKind, entryValue } = record;
  const { entryDisplay, score, explanation, ruleHits } = record;
  return {
    ...{ decision, partyRole, partyIban, partyName, list, listVersion, entryKind, entryValue },
    ...{ entryDisplay, score, explanation, ruleHits: [...ruleHits] },
  };
}

function viewOf(review: Review, record: ScreeningRecord | undefined): z.infer<typeof reviewView> {
  return {
    id: review.id,
    state: review.state,
    kind: review.kind,
    from: review.debitIban,
    to: review.creditIban,
    amount: review.amount.toString(),
    asset: review.asset,
    openedAt: new Date(review.openedAtMs).toISOString(),
    expiresAt: new Date(review.expiresAtMs).toISOString(),
    decidedAt: iso(review.decidedAtMs),
    decidedBy: review.decidedBy,
    reason: review.reason,
    ledgerPhase: review.ledgerPhase,
    screening: screeningOf(record),
  };
}

const decisionBody = z.strictObject({
  reason: freeText(1, 1_000).describe("Why: kept with the decision for audit"),
});

// Compliance and admins decide reviews; auditors read them and decide nothing.
const deciders = ["admin", "compliance"] as const;

export async function reviewRoutes(root: FastifyInstance, deps: ReviewHttpDeps): Promise<void> {
  const app = root.withTypeProvider<ZodTypeProvider>();
  const readers = [...deciders, "auditor"] as const;

  app.get(
    "/v1/risk/reviews",
    {
      schema: {
        tags: ["risk"],
        summary:
          "Transfers held for review, newest first, with the match explanation (admin, compliance, auditor)",
        querystring: z.strictObject({
          state: z.enum(["open", "decided", "all"]).default("open"),
          limit: z.coerce.number().int().min(1).max(deps.pageSizeMax).default(50),
          cursor: cursorInput.optional(),
        }),
        response: {
          200: z.object({
            items: z.array(reviewView),
            nextCursor: z.string().nullable().describe("Pass as `cursor` for the next page; null at the end"),
          }),
        },
        security: [{ bearer: [] }],
      },
      config: { access: { roles: readers } },
      preHandler: [deps.authenticate, requireRole(...readers)],
    },
    async (request) => {
      const { state, limit, cursor } = request.query;
      const after = cursorOf(cursor);
      const page = await deps.reviews.store.page({ state, limit, ...(after ? { after } : {}) });
      const records = await deps.log.find(page.items.map((review) => review.id));
      return {
        items: page.items.map((review) => viewOf(review, records.get(review.id))),
        nextCursor: page.next ? `${page.next.openedAtMs}.${page.next.id}` : null,
      };
    },
  );
  decisionRoutes(app, deps);
}

/** Approve and reject: compliance and admins only. */
function decisionRoutes(root: FastifyInstance, deps: ReviewHttpDeps): void {
  const app = root.withTypeProvider<ZodTypeProvider>();
  const reviewers = [deps.authenticate, requireRole(...deciders)];
  for (const verdict of ["approve", "reject"] as const) {
    app.post(
      `/v1/risk/reviews/:id/${verdict}`,
      {
        schema: {
          tags: ["risk"],
          summary:
            verdict === "approve"
              ? "Approve a held transfer: the ledger posts it (admin, compliance)"
              : "Reject a held transfer: the ledger voids it, nothing moves (admin, compliance)",
          params: z.strictObject({ id: z.uuid() }),
          body: decisionBody,
          response: { 200: reviewView },
          security: [{ bearer: [] }],
        },
        config: {
          access: { roles: deciders },
          openapi: { success: { 200: "Decided" }, problems: ["not_found", "review_decided"] },
        },
        preHandler: reviewers,
      },
      async (request) => {
        const review = await decideReview(deps.reviews, {
          id: request.params.id,
          verdict,
          reviewerId: principalOf(request).userId,
          reason: request.body.reason,
        });
        const records = await deps.log.find([review.id]);
        return viewOf(review, records.get(review.id));
      },
    );
  }
}
