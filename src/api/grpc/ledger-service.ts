/**
 * ledgerflow.v1.LedgerService: transfers, branch cash operations and command status, through the
 * ledger's command service with the input schemas every edge uses.
 */
import type { z } from "zod";
import { operationInput, transferInput } from "../../ledger/index.ts";
import { ProblemError } from "../../platform/http/problems.ts";
import { validationProblem } from "../graphql/errors.ts";
import { type EdgeContext, unary, waitMsOf } from "./call.ts";
import { type OutcomeMessage, outcomeMessage, statusMessage } from "./views.ts";

interface SendTransactionRequest {
  id?: string;
  from?: string;
  to?: string;
  amount?: string;
  asset?: string;
  description?: string;
  token?: string;
  wait_ms?: number;
}

interface SendOperationRequest {
  id?: string;
  type?: string;
  iban?: string;
  amount?: string;
  branch?: string;
  wait_ms?: number;
}

const operationTypes: Readonly<Record<string, string>> = {
  OPERATION_TYPE_DEPOSIT: "deposit",
  OPERATION_TYPE_WITHDRAWAL: "withdrawal",
};

export function ledgerServiceHandlers(edge: EdgeContext) {
  const { commands } = edge.ledger;
  return {
    SendTransaction: unary<SendTransactionRequest, OutcomeMessage>(
      edge,
      async ({ principal }, request, call) => {
        const input = parsed(transferInput, {
          id: request.id,
          from: request.from,
          to: request.to,
          amount: request.amount,
          asset: request.asset,
          description: request.description,
          token: request.token,
        });
        const waitMs = waitMsOf(request.wait_ms, call.getDeadline(), commands.waitMsMax);
        return outcomeMessage((await commands.transfer(principal, input, waitMs)).outcome);
      },
    ),

    SendOperation: unary<SendOperationRequest, OutcomeMessage>(edge, async ({ principal }, request, call) => {
      // The command service leaves the role check to the edge, as REST's requireRole does.
      if (!principal.roles.some((role) => role === "teller" || role === "admin"))
        throw new ProblemError("forbidden", { detail: "Requires role teller or admin" });
      const input = parsed(operationInput, {
        id: request.id,
        type: request.type === undefined ? undefined : (operationTypes[request.type] ?? request.type),
        iban: request.iban,
        amount: request.amount,
        branch: request.branch,
      });
      const waitMs = waitMsOf(request.wait_ms, call.getDeadline(), commands.waitMsMax);
      return outcomeMessage((await commands.operation(principal, input, waitMs)).outcome);
    }),

    GetCommand: unary<{ id?: string }, OutcomeMessage>(edge, async ({ principal }, request) => {
      const id = request.id ?? "";
      if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(id))
        throw new ProblemError("validation_failed", { field: "id", detail: "id must be a UUID" });
      return statusMessage(await commands.commandStatus(principal, id));
    }),
  };
}

/**
 * The request checked by the ledger's own input schema. proto3 does not send empty strings, so an
 * absent field is left out (undefined) and the schema names it when it is required.
 */
function parsed<S extends z.ZodType>(schema: S, fields: Record<string, unknown>): z.infer<S> {
  const present = Object.fromEntries(
    Object.entries(fields).filter(([, value]) => value !== undefined && value !== ""),
  );
  const result = schema.safeParse(present);
  if (!result.success) throw validationProblem(result.error);
  return result.data;
}
