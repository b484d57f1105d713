import type {
  FastifyBaseLogger,
  FastifyInstance,
  RawReplyDefaultExpression,
  RawRequestDefaultExpression,
  RawServerDefault,
} from "fastify";
import type { ZodTypeProvider } from "fastify-type-provider-zod";
import { z } from "zod";
import { requireRole } from "../../platform/http/auth.ts";
import { assets } from "../domain/money.ts";
import { ibanInput, ibanOrFail, openAccountInput } from "../inputs.ts";
import type { HistoryItem } from "../queries.ts";
import {
  accountHolderRoles,
  accountView,
  type LedgerHttpDeps,
  outcomeReply,
  preferredWaitMs,
  principalOf,
  sendAnswer,
  visibleAccount,
} from "./common.ts";

const historyQuery = z.strictObject({
  cursor: z
    .string()
    .regex(/^[0-9]{1,19}$/)
    .optional()
    .describe("nextCursor of the previous page"),
  limit: z.coerce.number().int().min(1).max(500).default(50),
});

const ibanParams = z.strictObject({ iban: ibanInput });

export async function accountRoutes(root: FastifyInstance, deps: LedgerHttpDeps): Promise<void> {
  const app = root.withTypeProvider<ZodTypeProvider>();
  openAccountRoute(app, deps);
  accountReadRoutes(app, deps);
}

/** The routes' Fastify instance with zod schemas as its type provider. */
type App = FastifyInstance<
  RawServerDefault,
  RawRequestDefaultExpression,
  RawReplyDefaultExpression,
  FastifyBaseLogger,
  ZodTypeProvider
>;

/** POST /v1/accounts: through the ledger's command service, like GraphQL's createAccount. */
function openAccountRoute(app: App, deps: LedgerHttpDeps): void {
  app.post(
    "/v1/accounts",
    {
      schema: {
        tags: ["accounts"],
        summary: "Open an account",
        description:
          "202 with the command id, or with `Prefer: wait=N` 201 with the IBAN once confirmed. The secret `token` is returned once, to the request that opened the account: a replay by the same owner answers without it; the same id used by anyone else is 409 conflict.",
        body: openAccountInput,
        security: [{ bearer: [] }],
      },
      config: {
        // Opening an account is a change: not for the staff who change nothing.
        access: { roles: accountHolderRoles, owner: true },
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
      preHandler: [deps.authenticate, requireRole(...accountHolderRoles)],
    },
    async (request, reply) => {
      const waitMs = preferredWaitMs(request, deps.waitMsMax);
      const { outcome, token } = await deps.commands.openAccount(principalOf(request), request.body, waitMs);
      const withToken = token === undefined ? {} : { token };
      const { asset } = request.body;
      const answer = outcomeReply(
        outcome,
        (result) => ({ iban: result.iban, asset, balance: "0", ...withToken }),
        withToken,
      );
      return sendAnswer(reply, answer);
    },
  );
}

/** The assets, my accounts, one account, an account's postings. */
function accountReadRoutes(app: App, deps: LedgerHttpDeps): void {
  app.get(
    "/v1/assets",
    {
      schema: {
        tags: ["accounts"],
        summary: "The assets accounts can be opened in, with their scale (digits of the minor unit)",
      },
      config: { access: { anonymous: true } },
    },
    async () => ({ items: Object.values(assets).map(({ code, scale }) => ({ code, scale })) }),
  );

  app.get(
    "/v1/accounts",
    {
      schema: { tags: ["accounts"], summary: "My accounts", security: [{ bearer: [] }] },
      config: { access: { roles: "any", owner: true } },
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
      // Owners see theirs; tellers, admins and auditors any (others' are 404).
      config: { access: { roles: "any", owner: true }, openapi: { problems: ["not_found"] } },
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
      // Owners see theirs; tellers, admins and auditors any (others' are 404).
      config: { access: { roles: "any", owner: true }, openapi: { problems: ["not_found"] } },
      preHandler: deps.authenticate,
    },
    async (request) => {
      const iban = ibanOrFail(request.params.iban, "iban");
      const account = await visibleAccount(deps.queries, principalOf(request), iban);
      const { cursor, limit } = request.query;
      const page = await deps.queries.history(account.id, cursor, limit + 1);
      const items = page.slice(0, limit);
      return {
        items: items.map((item) => historyItemView(item, account.asset)),
        nextCursor: page.length > limit ? (items.at(-1)?.cursor ?? null) : null,
      };
    },
  );
}

function historyItemView(item: HistoryItem, asset: string) {
  return {
    id: item.id,
    // The movement's receipt (GET /v1/tokens/{receiptId}/proof): the command that completed it,
    // which for a two-phase transfer (a withdrawal) is its post, not the transfer id.
    receiptId: item.commandId,
    amount: item.amount.toString(),
    asset,
    counterparty: item.counterparty,
    description: item.description,
    balanceAfter: item.balanceAfter.toString(),
    at: new Date(item.atMs).toISOString(),
  };
}
