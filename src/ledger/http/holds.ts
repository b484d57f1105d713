/**
 * Holds (two-phase transfers) for clients: reserve money now, then post it (in full or in part: the
 * rest is released) or void it; a hold not completed within its timeout is voided as expired by the
 * pending sweeper. Every call is a ledger command with a client-chosen id, so holds have the
 * transfers' idempotency (same id and payload: the first outcome; another payload: 409), outcomes
 * (`Prefer: wait`, `GET /v1/commands/{id}`) and authorization (owner of the debited account, or its
 * token).
 */
import type { FastifyInstance } from "fastify";
import type { ZodTypeProvider } from "fastify-type-provider-zod";
import { z } from "zod";
import { isStaff, type Principal } from "../../platform/http/auth.ts";
import { ProblemError } from "../../platform/http/problems.ts";
import { fingerprintOf } from "../command-gateway.ts";
import type { Authorization, PostPendingTransfer, VoidPendingTransfer } from "../domain/types.ts";
import type { HoldView, LedgerQueries } from "../queries.ts";
import {
  amountInput,
  amountOrFail,
  hashToken,
  type LedgerHttpDeps,
  preferredWaitMs,
  principalOf,
  sendAnswer,
  submissionReply,
} from "./common.ts";
import { assertMayTransfer, transferCommand, transferInput } from "./transfers.ts";

const tokenInput = z.string().min(1).max(128).describe("The debited account's secret token");

export function holdInput(timeoutMsMax: number) {
  return transferInput.extend({
    id: z.uuid().describe("Client-chosen UUID: the hold id and the idempotency key"),
    timeoutMs: z
      .number()
      .int()
      .min(1)
      .max(timeoutMsMax)
      .describe("Milliseconds until the hold expires: unless posted before, it is voided then"),
  });
}

export const postHoldInput = z.strictObject({
  id: z.uuid().describe("Client-chosen UUID of this post: the idempotency key"),
  amount: amountInput
    .optional()
    .describe("Posts only this much (at most the held amount; the rest is released). Default: all of it"),
  token: tokenInput.optional(),
});

export const voidHoldInput = z.strictObject({
  id: z.uuid().describe("Client-chosen UUID of this void: the idempotency key"),
  token: tokenInput.optional(),
});

export const holdParams = z.strictObject({ id: z.uuid().describe("The hold's id") });

function authorizationOf(principal: Principal, token: string | undefined): Authorization {
  return token === undefined
    ? { kind: "owner", actorId: principal.userId }
    : { kind: "token", actorId: principal.userId, tokenHash: hashToken(token) };
}

export function postHoldCommand(
  holdId: string,
  input: z.infer<typeof postHoldInput>,
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
  input: z.infer<typeof voidHoldInput>,
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
export async function assertMayComplete(
  queries: LedgerQueries,
  command: PostPendingTransfer | VoidPendingTransfer,
  principal: Principal,
): Promise<void> {
  if (command.authorization?.kind !== "owner") return;
  const hold = await queries.hold(command.pendingId);
  if (hold && (hold.kind !== "transfer" || hold.debitOwnerId !== principal.userId))
    throw new ProblemError("not_found", { detail: "No such hold" });
}

/** The hold if `principal` is one of its parties (or staff); others get 404 as for a missing one. */
export async function visibleHold(queries: LedgerQueries, principal: Principal, id: string) {
  const hold = await queries.hold(id);
  const party = hold && (hold.debitOwnerId === principal.userId || hold.creditOwnerId === principal.userId);
  if (!hold || !(party || isStaff(principal)))
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
        openapi: {
          success: { 201: "Confirmed: the money is reserved", 202: "Accepted, not decided yet" },
          // 404: the source account is not the caller's (without a token).
          problems: ["not_found", "conflict", "command_failed", "system_account"],
          links: { 201: holdLinks, 202: holdLinks },
        },
      },
      preHandler: deps.authenticate,
    },
    async (request, reply) => {
      const principal = principalOf(request);
      const { timeoutMs, ...input } = request.body;
      const command = transferCommand(input, principal, "", timeoutMs);
      await assertMayTransfer(deps.queries, command, principal);
      const submission = await deps.gateway.submit(command, preferredWaitMs(request, deps.waitMsMax));
      const answer = submissionReply(submission, command.commandId, () => ({
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
      config: { openapi: { problems: ["not_found"] } },
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
      config: { openapi: completionContract },
      preHandler: deps.authenticate,
    },
    async (request, reply) => {
      const principal = principalOf(request);
      const command = postHoldCommand(request.params.id, request.body, principal);
      await assertMayComplete(deps.queries, command, principal);
      const submission = await deps.gateway.submit(command, preferredWaitMs(request, deps.waitMsMax));
      const answer = submissionReply(
        submission,
        command.commandId,
        () => ({ holdId: command.pendingId, holdStatus: "POSTED" }),
        { holdId: command.pendingId },
      );
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
      config: { openapi: completionContract },
      preHandler: deps.authenticate,
    },
    async (request, reply) => {
      const principal = principalOf(request);
      const command = voidHoldCommand(request.params.id, request.body, principal);
      await assertMayComplete(deps.queries, command, principal);
      const submission = await deps.gateway.submit(command, preferredWaitMs(request, deps.waitMsMax));
      const answer = submissionReply(
        submission,
        command.commandId,
        (result) => ({ holdId: command.pendingId, holdStatus: (result.phase ?? "voided").toUpperCase() }),
        { holdId: command.pendingId },
      );
      return sendAnswer(reply, answer);
    },
  );
}
