import type { FastifyInstance } from "fastify";
import type { ZodTypeProvider } from "fastify-type-provider-zod";
import { z } from "zod";
import type { Principal } from "../../platform/http/auth.ts";
import { fingerprintOf, type Submission } from "../command-gateway.ts";
import { assets } from "../domain/money.ts";
import type { CreateAccount } from "../domain/types.ts";
import {
  accountView,
  assetCode,
  ibanInput,
  ibanOrFail,
  type LedgerHttpDeps,
  newAccountToken,
  preferredWaitMs,
  principalOf,
  sendAnswer,
  submissionReply,
  visibleAccount,
} from "./common.ts";

export const createAccountBody = z.strictObject({
  id: z.uuid().describe("Client-chosen UUID: the account id and the idempotency key"),
  asset: assetCode,
});

const historyQuery = z.strictObject({
  cursor: z
    .string()
    .regex(/^[0-9]{1,19}$/)
    .optional()
    .describe("nextCursor of the previous page"),
  limit: z.coerce.number().int().min(1).max(500).default(50),
});

const ibanParams = z.strictObject({ iban: ibanInput });

/** The command opening an account for `principal`; it carries only the hash of the account's token. */
export function createAccountCommand(
  input: { readonly id: string; readonly asset: string },
  principal: Principal,
  tokenHash: string,
): CreateAccount {
  const { id, asset } = input;
  return {
    type: "CreateAccount",
    commandId: id,
    fingerprint: fingerprintOf({ type: "CreateAccount", owner: principal.userId, asset }),
    accountId: id,
    ownerId: principal.userId,
    asset,
    overdraftLimit: 0n,
    system: false,
    tokenHash,
  };
}

/** How an account opening went, and the account's token when this very request created it. */
export interface AccountOpening {
  readonly submission: Submission;
  readonly token: string | undefined;
}

const conflicting: AccountOpening = { submission: { kind: "conflict" }, token: undefined };

/**
 * Opens an account for `principal` (REST and GraphQL). The id is claimed before the command is
 * appended: a creation by anyone else under a claimed id is a conflict, even while the first one is
 * undecided. The plaintext token goes to the request that claimed the id and nowhere else; the same
 * owner's replay re-appends the first command (same token hash) and gets no token, so a replay can
 * neither mint a second token nor reveal the first.
 */
export async function openAccount(
  deps: LedgerHttpDeps,
  input: { readonly id: string; readonly asset: string },
  principal: Principal,
  waitMs: number,
): Promise<AccountOpening> {
  const { token, tokenHash } = newAccountToken(deps.random);
  const command = createAccountCommand(input, principal, tokenHash);
  const claim = await deps.accountClaims.claim({
    accountId: command.accountId,
    ownerId: principal.userId,
    fingerprint: command.fingerprint,
    tokenHash,
    claimedAtMs: deps.clock.nowMs(),
  });
  if (claim.kind === "contended") return conflicting;
  if (claim.kind === "taken") {
    const { existing } = claim;
    if (existing.ownerId !== principal.userId || existing.fingerprint !== command.fingerprint)
      return conflicting;
    const replay = { ...command, tokenHash: existing.tokenHash };
    return { submission: await deps.gateway.submit(replay, waitMs), token: undefined };
  }
  let submission: Submission;
  try {
    submission = await deps.gateway.submit(command, waitMs);
  } catch (error) {
    // Not appended (or not known to be): the owner's retry claims afresh and gets a token.
    await deps.accountClaims.release(command.accountId, tokenHash).catch(() => {});
    throw error;
  }
  // The id was a command of another kind before (a transfer's id, a system account's): no token.
  return submission.kind === "conflict" ? conflicting : { submission, token };
}

export async function accountRoutes(root: FastifyInstance, deps: LedgerHttpDeps): Promise<void> {
  const app = root.withTypeProvider<ZodTypeProvider>();

  app.post(
    "/v1/accounts",
    {
      schema: {
        tags: ["accounts"],
        summary: "Open an account",
        description:
          "202 with the command id, or with `Prefer: wait=N` 201 with the IBAN once confirmed. The secret `token` is returned once, to the request that opened the account: a replay by the same owner answers without it; the same id used by anyone else is 409 conflict.",
        body: createAccountBody,
        security: [{ bearer: [] }],
      },
      config: {
        openapi: {
          success: {
            201: "Opened: the IBAN and the secret token",
            202: "Accepted, not decided yet: the command id and the secret token",
          },
          problems: ["conflict", "command_failed"],
          links: {
            201: {
              account: { operation: "GET /v1/accounts/:iban", parameters: { iban: "$response.body#/iban" } },
              history: {
                operation: "GET /v1/accounts/:iban/transactions",
                parameters: { iban: "$response.body#/iban" },
              },
              command: { operation: "GET /v1/commands/:id", parameters: { id: "$response.body#/id" } },
            },
            202: {
              command: { operation: "GET /v1/commands/:id", parameters: { id: "$response.body#/id" } },
            },
          },
        },
      },
      preHandler: deps.authenticate,
    },
    async (request, reply) => {
      const principal = principalOf(request);
      const { id, asset } = request.body;
      const waitMs = preferredWaitMs(request, deps.waitMsMax);
      const { submission, token } = await openAccount(deps, request.body, principal, waitMs);
      const withToken = token === undefined ? {} : { token };
      const answer = submissionReply(
        submission,
        id,
        (result) => ({ iban: result.iban, asset, balance: "0", ...withToken }),
        withToken,
      );
      return sendAnswer(reply, answer);
    },
  );

  app.get(
    "/v1/assets",
    {
      schema: {
        tags: ["accounts"],
        summary: "The assets accounts can be opened in, with their scale (digits of the minor unit)",
      },
    },
    async () => ({ items: Object.values(assets).map(({ code, scale }) => ({ code, scale })) }),
  );

  app.get(
    "/v1/accounts",
    {
      schema: { tags: ["accounts"], summary: "My accounts", security: [{ bearer: [] }] },
      preHandler: deps.authenticate,
    },
    async (request) => {
      const principal = principalOf(request);
      const accounts = await deps.queries.accountsOfOwner(principal.userId);
      return { items: accounts.map(accountView) };
    },
  );

  app.get(
    "/v1/accounts/:iban",
    {
      schema: { tags: ["accounts"], summary: "One account", params: ibanParams, security: [{ bearer: [] }] },
      config: { openapi: { problems: ["not_found"] } },
      preHandler: deps.authenticate,
    },
    async (request) => {
      const iban = ibanOrFail(request.params.iban, "iban");
      return accountView(await visibleAccount(deps.queries, principalOf(request), iban));
    },
  );

  app.get(
    "/v1/accounts/:iban/transactions",
    {
      schema: {
        tags: ["accounts"],
        summary: "An account's postings, newest first (cursor pagination)",
        params: ibanParams,
        querystring: historyQuery,
        security: [{ bearer: [] }],
      },
      config: { openapi: { problems: ["not_found"] } },
      preHandler: deps.authenticate,
    },
    async (request) => {
      const iban = ibanOrFail(request.params.iban, "iban");
      const account = await visibleAccount(deps.queries, principalOf(request), iban);
      const { cursor, limit } = request.query;
      const page = await deps.queries.history(account.id, cursor, limit + 1);
      const items = page.slice(0, limit);
      return {
        items: items.map((item) => ({
          id: item.id,
          // The movement's receipt (GET /v1/tokens/{receiptId}/proof): the command that completed it,
          // which for a two-phase transfer (a withdrawal) is its post, not the transfer id.
          receiptId: item.commandId,
          amount: item.amount.toString(),
          asset: account.asset,
          counterparty: item.counterparty,
          description: item.description,
          balanceAfter: item.balanceAfter.toString(),
          at: new Date(item.atMs).toISOString(),
        })),
        nextCursor: page.length > limit ? (items.at(-1)?.cursor ?? null) : null,
      };
    },
  );
}
