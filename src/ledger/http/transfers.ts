import type { FastifyInstance } from "fastify";
import type { ZodTypeProvider } from "fastify-type-provider-zod";
import { z } from "zod";
import type { Principal } from "../../platform/http/auth.ts";
import { ProblemError } from "../../platform/http/problems.ts";
import { fingerprintOf, resultFromStored } from "../command-gateway.ts";
import type { Authorization, TransferMoney } from "../domain/types.ts";
import type { CommandResult } from "../notifications.ts";
import type { LedgerQueries } from "../queries.ts";
import { systemOwnerPrefix } from "../system-accounts.ts";
import {
  amountInput,
  amountOrFail,
  assetCode,
  descriptionInput,
  hashToken,
  ibanInput,
  ibanOrFail,
  isStaff,
  type LedgerHttpDeps,
  preferredWaitMs,
  principalOf,
  sendAnswer,
  submissionReply,
} from "./common.ts";

export const transferInput = z.strictObject({
  id: z.uuid().describe("Client-chosen UUID: the transfer id and the idempotency key"),
  from: ibanInput,
  to: ibanInput,
  amount: amountInput,
  asset: assetCode,
  description: descriptionInput.optional(),
  token: z.string().min(1).max(128).optional().describe("The source account's secret token"),
});
type TransferInput = z.infer<typeof transferInput>;

/** A customer's transfer; with `pendingTimeoutMs` a hold (two-phase transfer, see holds.ts). */
export function transferCommand(
  input: TransferInput,
  principal: Principal,
  fieldPrefix: string,
  pendingTimeoutMs?: number,
): TransferMoney {
  const debitIban = ibanOrFail(input.from, `${fieldPrefix}from`);
  const creditIban = ibanOrFail(input.to, `${fieldPrefix}to`);
  const amount = amountOrFail(input.amount, `${fieldPrefix}amount`);
  const description = input.description ?? "";
  const authorization: Authorization =
    input.token === undefined
      ? { kind: "owner", actorId: principal.userId }
      : { kind: "token", actorId: principal.userId, tokenHash: hashToken(input.token) };
  return {
    type: "TransferMoney",
    commandId: input.id,
    kind: "transfer",
    // The token is part of the request's meaning but only its hash is kept.
    fingerprint: fingerprintOf({
      type: "TransferMoney",
      actor: principal.userId,
      debitIban,
      creditIban,
      amount,
      asset: input.asset,
      description,
      token: authorization.kind === "token" ? authorization.tokenHash : undefined,
      // Only holds carry the key, so fingerprints of plain transfers stay what they were.
      ...(pendingTimeoutMs === undefined ? {} : { pendingTimeoutMs }),
    }),
    debitIban,
    creditIban,
    amount,
    asset: input.asset,
    description,
    authorization,
    ...(pendingTimeoutMs === undefined ? {} : { pendingTimeoutMs }),
  };
}

/** Without a token only the owner may move money; to anyone else the account does not exist. */
export async function assertMayDebit(queries: LedgerQueries, command: TransferMoney, principal: Principal) {
  if (command.authorization.kind !== "owner") return;
  const owner = await queries.ownerOfIban(command.debitIban);
  if (owner !== principal.userId)
    throw new ProblemError("not_found", { field: "from", detail: "No such account" });
}

/**
 * System accounts (branch cash, payments clearing, gateway settlement…) move money only through
 * their own operations: a customer who sends to one would hand money to the bank's books with no
 * payment behind it. Staff may (corrections). Owners are cached, so this costs no round trip after
 * the first transfer to an IBAN, and it shares the batched lookup of the debit check before that.
 */
export async function assertMayCredit(
  queries: LedgerQueries,
  command: TransferMoney,
  principal: Principal,
  field = "to",
) {
  if (isStaff(principal)) return;
  const owner = await queries.ownerOfIban(command.creditIban);
  if (owner?.startsWith(systemOwnerPrefix))
    throw new ProblemError("system_account", {
      field,
      detail: `${command.creditIban} is a system account of the bank; send to a customer's account instead`,
    });
}

/** Both checks of a customer's transfer, looked up together. */
export async function assertMayTransfer(
  queries: LedgerQueries,
  command: TransferMoney,
  principal: Principal,
) {
  await Promise.all([
    assertMayDebit(queries, command, principal),
    assertMayCredit(queries, command, principal),
  ]);
}

export async function transferRoutes(root: FastifyInstance, deps: LedgerHttpDeps): Promise<void> {
  const app = root.withTypeProvider<ZodTypeProvider>();

  app.post(
    "/v1/transfers",
    {
      schema: {
        tags: ["transfers"],
        summary: "Move money between two accounts of the same asset",
        description:
          "202 {id, status: PENDING}; with `Prefer: wait=N` 201 {status: CONFIRMED} or 422 problem {code: reason, status: FAILED}.",
        body: transferInput,
        security: [{ bearer: [] }],
      },
      config: {
        openapi: {
          success: { 201: "Confirmed", 202: "Accepted, not decided yet" },
          // 404: the source account is not the caller's (without a token).
          problems: ["not_found", "conflict", "command_failed"],
          links: {
            201: { command: { operation: "GET /v1/commands/:id", parameters: { id: "$response.body#/id" } } },
            202: { command: { operation: "GET /v1/commands/:id", parameters: { id: "$response.body#/id" } } },
          },
        },
      },
      preHandler: deps.authenticate,
    },
    async (request, reply) => {
      const principal = principalOf(request);
      const command = transferCommand(request.body, principal, "");
      await assertMayTransfer(deps.queries, command, principal);
      const submission = await deps.gateway.submit(command, preferredWaitMs(request, deps.waitMsMax));
      const answer = submissionReply(submission, command.commandId, () => ({
        from: command.debitIban,
        to: command.creditIban,
        amount: command.amount.toString(),
        asset: command.asset,
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
        openapi: {
          success: {
            200: "Each transfer's outcome (with Prefer: wait)",
            202: "Accepted: each transfer PENDING or already decided",
          },
        },
      },
      preHandler: deps.authenticate,
    },
    async (request, reply) => {
      const principal = principalOf(request);
      const commands = request.body.transfers.map((input, i) =>
        transferCommand(input, principal, `transfers/${i}/`),
      );
      await Promise.all(
        commands.map((command, i) => assertMayCredit(deps.queries, command, principal, `transfers/${i}/to`)),
      );
      const waitMs = preferredWaitMs(request, deps.waitMsMax);
      const stored = await deps.queries.outcomes(commands.map((c) => c.commandId));
      const known = new Map<string, CommandResult>(stored.map((s) => [s.commandId, resultFromStored(s)]));
      const fresh = commands.filter((c) => !known.has(c.commandId));
      const waiters = waitMs > 0 ? fresh.map((c) => deps.notifications.waitFor(c.commandId, waitMs)) : [];
      try {
        await deps.gateway.submitMany(fresh);
      } catch (error) {
        for (const waiter of waiters) waiter.cancel();
        throw error;
      }
      const decided = new Map(known);
      for (const [i, result] of (await Promise.all(waiters.map((w) => w.promise))).entries()) {
        const command = fresh[i];
        if (command && result) decided.set(command.commandId, result);
      }
      const results = commands.map((command) => {
        const result = decided.get(command.commandId);
        if (!result) return { id: command.commandId, status: "PENDING" };
        if (result.fingerprint !== command.fingerprint)
          return { id: command.commandId, status: "FAILED", reason: "conflict" };
        return result.status === "CONFIRMED"
          ? { id: command.commandId, status: "CONFIRMED" }
          : { id: command.commandId, status: "FAILED", reason: result.reason };
      });
      return reply.code(waitMs > 0 ? 200 : 202).send({ results });
    },
  );
}
