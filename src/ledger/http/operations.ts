import type { FastifyInstance } from "fastify";
import type { ZodTypeProvider } from "fastify-type-provider-zod";
import { requireRole } from "../../platform/http/auth.ts";
import { operationInput } from "../inputs.ts";
import { type LedgerHttpDeps, outcomeReply, preferredWaitMs, principalOf, sendAnswer } from "./common.ts";

export async function operationRoutes(root: FastifyInstance, deps: LedgerHttpDeps): Promise<void> {
  const app = root.withTypeProvider<ZodTypeProvider>();

  app.post(
    "/v1/operations",
    {
      schema: {
        tags: ["operations"],
        summary: "Cash deposit or withdrawal at a branch (teller or admin)",
        body: operationInput,
        security: [{ bearer: [] }],
      },
      config: {
        access: { roles: ["teller", "admin"] },
        openapi: {
          success: { 201: "Confirmed", 202: "Accepted, not decided yet" },
          problems: ["not_found", "conflict", "command_failed"],
          links: {
            201: { command: { operation: "GET /v1/commands/:id", parameters: { id: "$response.body#/id" } } },
            202: { command: { operation: "GET /v1/commands/:id", parameters: { id: "$response.body#/id" } } },
          },
        },
      },
      preHandler: [deps.authenticate, requireRole("teller", "admin")],
    },
    async (request, reply) => {
      const { type, branch } = request.body;
      const waitMs = preferredWaitMs(request, deps.waitMsMax);
      const done = await deps.commands.operation(principalOf(request), request.body, waitMs);
      const answer = outcomeReply(done.outcome, () => ({
        type,
        iban: done.iban,
        amount: done.amount.toString(),
        asset: done.asset,
        branch,
      }));
      return sendAnswer(reply, answer);
    },
  );
}
