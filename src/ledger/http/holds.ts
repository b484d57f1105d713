/**
 * Holds (two-phase transfers) for clients: reserve money now, then post it (in full or in part: the
 * rest is released) or void it; a hold not completed within its timeout is voided as expired by the
 * pending sweeper. Every call is a ledger command with a client-chosen id, so holds have the
 * transfers' idempotency (same id and payload: the first outcome; another payload: 409), outcomes
 * (`Prefer: wait`, `GET /v1/commands/{id}`) and authorization (owner of the debited account, or its
 * token). The commands themselves go through the ledger's command service, like GraphQL's.
 */
import type { FastifyInstance } from "fastify";
import type { ZodTypeProvider } from "fastify-type-provider-zod";
import { z } from "zod";
import { type Principal, requireRole } from "../../platform/http/auth.ts";
import { ProblemError } from "../../platform/http/problems.ts";
import { holdInput, postHoldInput, voidHoldInput } from "../inputs.ts";
import type { HoldView, LedgerQueries } from "../queries.ts";
import {
  accountHolderRoles,
  type LedgerHttpDeps,
  mayReadAnyAccount,
  outcomeReply,
  preferredWaitMs,
  principalOf,
  sendAnswer,
} from "./common.ts";

export const holdParams = z.strictObject({ id: z.uuid().describe("The hold's id") });

/** The hold if `principal` is one of its parties (or staff); others get 404 as for a missing one. */
export async function visibleHold(queries: LedgerQueries, principal: Principal, id: string) {
  const hold = await queries.hold(id);
  const party = hold && (hold.debitOwnerId === principal.userId || hold.creditOwnerId === principal.userId);
  if (!hold || !(party || mayReadAnyAccount(principal)))
    throw new ProblemError("not_found", { detail: "No such hold" });
  return holdView(hold);
}

export function holdView(hold: HoldView) {
  return {
    id: hold.id,
    status: hold.phase.toUpperCase() as "PENDING" | "POSTED" | "VOIDED" | "EXPIRED",
    from: hold.from,
    to: hold.to,
    amount: hold.amount.toString(),
    postedAmount: hold.postedAmount.toString(),
    asset: hold.asset,
    description: hold.description,
    expiresAt: new Date(hold.expiresAtMs).toISOString(),
    createdAt: new Date(hold.createdAtMs).toISOString(),
    ...(hold.completedAtMs === undefined ? {} : { completedAt: new Date(hold.completedAtMs).toISOString() }),
  };
}

const holdStatus = z.enum(["PENDING", "POSTED", "VOIDED", "EXPIRED"]);

export const holdResponse = z.object({
  id: z.uuid(),
  status: holdStatus.describe("PENDING until posted, voided, or expired"),
  from: z.string(),
  to: z.string(),
  amount: z.string().describe("Reserved amount in minor units"),
  postedAmount: z.string().describe("What the post moved (the rest was released); 0 unless POSTED"),
  asset: z.string(),
  description: z.string(),
  expiresAt: z.string(),
  createdAt: z.string(),
  completedAt: z.string().optional(),
});

const commandLink = {
  command: { operation: "GET /v1/commands/:id", parameters: { id: "$response.body#/id" } },
};
const holdLinks = {
  ...commandLink,
  hold: { operation: "GET /v1/holds/:id", parameters: { id: "$response.body#/id" } },
  post: { operation: "POST /v1/holds/:id/post", parameters: { id: "$response.body#/id" } },
  void: { operation: "POST /v1/holds/:id/void", parameters: { id: "$response.body#/id" } },
};

const commandDescription =
  "202 {id, status: PENDING}; with `Prefer: wait=N` 201 {status: CONFIRMED} or 422 problem {code: reason, status: FAILED}. The id is the idempotency key: the same id and payload answers the first outcome, another payload 409.";

export async function holdRoutes(root: FastifyInstance, deps: LedgerHttpDeps): Promise<void> {
  const app = root.withTypeProvider<ZodTypeProvider>();

  app.post(
    "/v1/holds",
    {
      schema: {
        tags: ["holds"],
        summary: "Reserve money on the source account until posted, voided or expired (a two-phase transfer)",
        description: `${commandDescription} The reservation lowers the source's available balance at once; the money moves only when posted.`,
        body: holdInput(deps.holdTimeoutMsMax),
        security: [{ bearer: [] }],
      },
      config: {
        access: { roles: accountHolderRoles, owner: true },
        openapi: {
          success: { 201: "Confirmed: the money is reserved", 202: "Accepted, not decided yet" },
          // 404: the source account is not the caller's (without a token).
          problems: ["not_found", "conflict", "command_failed", "system_account"],
          // 202: not decided yet, so the hold may not exist: only its command is linked.
          links: { 201: holdLinks, 202: commandLink },
        },
      },
      preHandler: [deps.authenticate, requireRole(...accountHolderRoles)],
    },
    async (request, reply) => {
      const waitMs = preferredWaitMs(request, deps.waitMsMax);
      const { command, outcome } = await deps.commands.hold(principalOf(request), request.body, waitMs);
      const answer = outcomeReply(outcome, () => ({
        from: command.debitIban,
        to: command.creditIban,
        amount: command.amount.toString(),
        asset: command.asset,
        holdStatus: "PENDING",
      }));
      return sendAnswer(reply, answer);
    },
  );

  app.get(
    "/v1/holds/:id",
    {
      schema: {
        tags: ["holds"],
        summary: "A hold, as its debited or credited party (or staff) may see it",
        params: holdParams,
        response: { 200: holdResponse },
        security: [{ bearer: [] }],
      },
      // Its parties see it; tellers, admins and auditors any (others' are 404).
      config: { access: { roles: "any", owner: true }, openapi: { problems: ["not_found"] } },
      preHandler: deps.authenticate,
    },
    async (request) => visibleHold(deps.queries, principalOf(request), request.params.id),
  );
  completionRoutes(app, deps);
}

const completionContract = {
  success: { 201: "Confirmed", 202: "Accepted, not decided yet" },
  // 404: the hold's source account is not the caller's (without a token).
  problems: ["not_found", "conflict", "command_failed"],
  links: { 201: commandLink, 202: commandLink },
} as const;

/** Post and void. */
function completionRoutes(root: FastifyInstance, deps: LedgerHttpDeps): void {
  const app = root.withTypeProvider<ZodTypeProvider>();

  app.post(
    "/v1/holds/:id/post",
    {
      schema: {
        tags: ["holds"],
        summary: "Move held money to the destination, in full or in part (the rest is released)",
        description: `${commandDescription} Reasons: pending_transfer_not_found, pending_transfer_already_posted, pending_transfer_already_voided, pending_transfer_expired, amount_exceeds_pending, invalid_token.`,
        params: holdParams,
        body: postHoldInput,
        security: [{ bearer: [] }],
      },
      config: { access: { roles: accountHolderRoles, owner: true }, openapi: completionContract },
      preHandler: [deps.authenticate, requireRole(...accountHolderRoles)],
    },
    async (request, reply) => {
      const waitMs = preferredWaitMs(request, deps.waitMsMax);
      const { params, body } = request;
      const { outcome, holdId } = await deps.commands.postHold(principalOf(request), params.id, body, waitMs);
      const answer = outcomeReply(outcome, () => ({ holdId, holdStatus: "POSTED" }), { holdId });
      return sendAnswer(reply, answer);
    },
  );

  app.post(
    "/v1/holds/:id/void",
    {
      schema: {
        tags: ["holds"],
        summary: "Release held money without moving it",
        description: `${commandDescription} Reasons: pending_transfer_not_found, pending_transfer_already_posted, pending_transfer_already_voided, invalid_token. A hold past its timeout is voided as EXPIRED.`,
        params: holdParams,
        body: voidHoldInput,
        security: [{ bearer: [] }],
      },
      config: { access: { roles: accountHolderRoles, owner: true }, openapi: completionContract },
      preHandler: [deps.authenticate, requireRole(...accountHolderRoles)],
    },
    async (request, reply) => {
      const waitMs = preferredWaitMs(request, deps.waitMsMax);
      const { params, body } = request;
      const { outcome, holdId } = await deps.commands.voidHold(principalOf(request), params.id, body, waitMs);
      const answer = outcomeReply(
        outcome,
        (result) => ({ holdId, holdStatus: (result.phase ?? "voided").toUpperCase() }),
        { holdId },
      );
      return sendAnswer(reply, answer);
    },
  );
}
