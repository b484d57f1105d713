import type { FastifyInstance } from "fastify";
import type { ZodTypeProvider } from "fastify-type-provider-zod";
import { z } from "zod";
import type { Principal } from "../../identity/tokens.ts";
import { fingerprintOf } from "../command-gateway.ts";
import { assets } from "../domain/money.ts";
import type { CreateAccount } from "../domain/types.ts";
import {
  accountToken,
  accountView,
  assetCode,
  ibanOrFail,
  type LedgerHttpDeps,
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

const ibanParams = z.strictObject({ iban: z.string().min(1).max(64) });

/** The command opening an account for `principal`, and the account's secret token. */
export function createAccountCommand(
  input: { readonly id: string; readonly asset: string },
  principal: Principal,
  tokenKey: Uint8Array,
): { command: CreateAccount; token: string } {
  const { id, asset } = input;
  const { token, tokenHash } = accountToken(id, tokenKey);
  const command: CreateAccount = {
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
  return { command, token };
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
          "202 with the command id, or with `Prefer: wait=N` 201 with the IBAN once confirmed. The secret `token` is returned once.",
        body: createAccountBody,
        security: [{ bearer: [] }],
      },
      preHandler: deps.authenticate,
    },
    async (request, reply) => {
      const principal = principalOf(request);
      const { id, asset } = request.body;
      const { command, token } = createAccountCommand(request.body, principal, deps.accountTokenKey);
      const submission = await deps.gateway.submit(command, preferredWaitMs(request, deps.waitMsMax));
      const answer = submissionReply(
        submission,
        id,
        (result) => ({ iban: result.iban, asset, balance: "0", token }),
        {
          token,
        },
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
