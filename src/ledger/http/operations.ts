import type { FastifyInstance } from "fastify";
import type { ZodTypeProvider } from "fastify-type-provider-zod";
import { z } from "zod";
import { requireRole } from "../../platform/http/auth.ts";
import { ProblemError } from "../../platform/http/problems.ts";
import { fingerprintOf } from "../command-gateway.ts";
import type { TransferMoney } from "../domain/types.ts";
import { systemAccounts } from "../system-accounts.ts";
import {
  amountInput,
  amountOrFail,
  ibanInput,
  ibanOrFail,
  type LedgerHttpDeps,
  preferredWaitMs,
  principalOf,
  sendAnswer,
  submissionReply,
} from "./common.ts";

const operationBody = z.strictObject({
  id: z.uuid().describe("Client-chosen UUID: the idempotency key"),
  type: z.enum(["deposit", "withdrawal"]),
  iban: ibanInput,
  amount: amountInput,
  branch: z
    .string()
    .regex(/^[a-z0-9][a-z0-9-]{0,63}$/)
    .describe("Branch name, lowercase letters, digits and dashes, e.g. amsterdam-centraal"),
});

export async function operationRoutes(root: FastifyInstance, deps: LedgerHttpDeps): Promise<void> {
  const app = root.withTypeProvider<ZodTypeProvider>();

  // A branch's cash account per asset is a system account, opened on first use.
  const systemAccountIban = systemAccounts(deps);

  app.post(
    "/v1/operations",
    {
      schema: {
        tags: ["operations"],
        summary: "Cash deposit or withdrawal at a branch (teller or admin)",
        body: operationBody,
        security: [{ bearer: [] }],
      },
      config: {
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
      const principal = principalOf(request);
      const { id, type, branch } = request.body;
      const iban = ibanOrFail(request.body.iban, "iban");
      const amount = amountOrFail(request.body.amount, "amount");
      const customer = await deps.queries.accountByIban(iban);
      if (!customer) throw new ProblemError("not_found", { field: "iban", detail: "No such account" });
      const cash = await systemAccountIban(`branch-cash:${branch}`, customer.asset);
      const [debitIban, creditIban] = type === "deposit" ? [cash, iban] : [iban, cash];
      const description = `${type === "deposit" ? "Cash deposit" : "Cash withdrawal"} at ${branch}`;
      const command: TransferMoney = {
        type: "TransferMoney",
        commandId: id,
        kind: type,
        fingerprint: fingerprintOf({ type: "Operation", kind: type, iban, amount, branch }),
        debitIban,
        creditIban,
        amount,
        asset: customer.asset,
        description,
        authorization: { kind: "operator", actorId: principal.userId },
      };
      const submission = await deps.gateway.submit(command, preferredWaitMs(request, deps.waitMsMax));
      const answer = submissionReply(submission, id, () => ({
        type,
        iban,
        amount: amount.toString(),
        asset: customer.asset,
        branch,
      }));
      return sendAnswer(reply, answer);
    },
  );
}
