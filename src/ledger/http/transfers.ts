import type { FastifyInstance, FastifyRequest } from "fastify";
import type { ZodTypeProvider } from "fastify-type-provider-zod";
import { z } from "zod";
import { requireRole } from "../../platform/http/auth.ts";
import { transferInput } from "../inputs.ts";
import type { StepUpAssertion } from "../step-up.ts";
import {
  accountHolderRoles,
  type LedgerHttpDeps,
  outcomeReply,
  preferredWaitMs,
  principalOf,
  sendAnswer,
} from "./common.ts";

/** Large transfers carry a passkey assertion (identity's step-up; see src/ledger/step-up.ts). */
const stepUpHeaders = z.looseObject({
  // Within Node's 16 KiB of headers with the rest of a request (a bigger one is a 431 before us).
  "passkey-assertion": z
    .string()
    .max(8_192)
    .optional()
    .describe(
      "Transfers of at least LEDGERFLOW_STEP_UP_AMOUNT_MIN: base64url of the JSON of a passkey assertion over POST /v1/me/passkeys/step-up/options for this transfer",
    ),
});

function stepUpAssertionOf(request: FastifyRequest): StepUpAssertion {
  const header = request.headers["passkey-assertion"];
  return typeof header === "string"
    ? { value: header, protocol: request.protocol, host: request.headers.host }
    : undefined;
}

const transferOpenapi = {
  success: { 201: "Confirmed", 202: "Accepted, not decided yet" },
  // 404: the source account is not the caller's (without a token).
  problems: ["not_found", "conflict", "command_failed", "step_up_required"],
  links: {
    201: { command: { operation: "GET /v1/commands/:id", parameters: { id: "$response.body#/id" } } },
    202: { command: { operation: "GET /v1/commands/:id", parameters: { id: "$response.body#/id" } } },
  },
} as const;

export async function transferRoutes(root: FastifyInstance, deps: LedgerHttpDeps): Promise<void> {
  const app = root.withTypeProvider<ZodTypeProvider>();

  app.post(
    "/v1/transfers",
    {
      schema: {
        tags: ["transfers"],
        summary: "Move money between two accounts of the same asset",
        description:
          "202 {id, status: PENDING}; with `Prefer: wait=N` 201 {status: CONFIRMED} or 422 problem {code: reason, status: FAILED}. A transfer screening holds for review is 201 CONFIRMED with `heldForReview: true` and `reviewId`: booked as pending (funds reserved, nothing moved) until the review approves (posted) or rejects (voided) it, or it expires.",
        body: transferInput,
        headers: stepUpHeaders,
        security: [{ bearer: [] }],
      },
      config: { access: { roles: accountHolderRoles, owner: true }, openapi: transferOpenapi },
      preHandler: [deps.authenticate, requireRole(...accountHolderRoles)],
    },
    async (request, reply) => {
      const waitMs = preferredWaitMs(request, deps.waitMsMax);
      const assertion = stepUpAssertionOf(request);
      const submitted = await deps.commands.transfer(principalOf(request), request.body, waitMs, assertion);
      const { command, outcome } = submitted;
      const answer = outcomeReply(outcome, () => ({
        from: command.debitIban,
        to: command.creditIban,
        amount: command.amount.toString(),
        asset: command.asset,
        ...(submitted.confirmedWithPasskey ? { confirmedWithPasskey: true } : {}),
      }));
      return sendAnswer(reply, answer);
    },
  );

  app.post(
    "/v1/transfers/batch",
    {
      schema: {
        tags: ["transfers"],
        summary: `Many transfers in one request, each with its own outcome`,
        description:
          "Malformed input rejects the whole request (400 naming the field, e.g. transfers/3/amount) and nothing is written. Otherwise every transfer is a command of its own: 202 with PENDING results, or with `Prefer: wait=N` 200 with each outcome (CONFIRMED, FAILED with reason, or PENDING if not decided in time).",
        body: z.strictObject({ transfers: z.array(transferInput).min(1).max(deps.transfersPerBatchMax) }),
        security: [{ bearer: [] }],
      },
      config: {
        access: { roles: accountHolderRoles, owner: true },
        openapi: {
          success: {
            200: "Each transfer's outcome (with Prefer: wait)",
            202: "Accepted: each transfer PENDING or already decided",
          },
        },
      },
      preHandler: [deps.authenticate, requireRole(...accountHolderRoles)],
    },
    async (request, reply) => {
      const waitMs = preferredWaitMs(request, deps.waitMsMax);
      const results = await deps.commands.transferBatch(principalOf(request), request.body.transfers, waitMs);
      return reply.code(waitMs > 0 ? 200 : 202).send({ results });
    },
  );
}
