/**
 * Client insights and branches over REST. Amounts are decimal strings of minor units; times ISO
 * 8601; pages carry `nextCursor` (null on the last page), passed back as `cursor`.
 */
import type { FastifyInstance } from "fastify";
import type { ZodTypeProvider } from "fastify-type-provider-zod";
import { z } from "zod";
import { accountView } from "../ledger/index.ts";
import type { Clock } from "../platform/clock.ts";
import { type PreHandler, principalOf, requireRole } from "../platform/http/auth.ts";
import { ProblemError } from "../platform/http/problems.ts";
import type { ClientInsights, ClientOverview } from "./client-insights.ts";
import type { InsightsConfig } from "./config.ts";
import {
  type Branch,
  type ClientBranch,
  type ClientInteraction,
  type ClientOperation,
  type ClientTransaction,
  cursorPatterns,
  type InsightsQueries,
  insightStaffRoles,
  type Page,
} from "./queries.ts";

export interface InsightsHttpDeps {
  readonly clients: ClientInsights;
  readonly queries: InsightsQueries;
  readonly clock: Clock;
  readonly authenticate: PreHandler;
  readonly config: InsightsConfig;
}

const at = (ms: number) => new Date(ms).toISOString();
const amount = z.string().describe("Minor units, a decimal integer");

const clientView = z.object({ id: z.string(), username: z.string(), roles: z.array(z.string()) });
const accountSchema = z.object({
  id: z.string(),
  iban: z.string(),
  asset: z.string(),
  balance: amount,
  availableBalance: amount,
  overdraftLimit: amount,
  status: z.string(),
});
const transactionSchema = z.object({
  id: z.string().describe("The transfer"),
  commandId: z.string(),
  iban: z.string().describe("The client's account"),
  counterparty: z.string().describe("The other account"),
  counterpartyClientId: z.string().nullable().describe("The other client; null for the bank's own accounts"),
  amount: amount.describe("Signed minor units: negative when the client paid"),
  asset: z.string(),
  description: z.string(),
  at: z.string(),
});
const operationSchema = z.object({
  id: z.string().describe("The operation's command id"),
  type: z.enum(["deposit", "withdrawal"]),
  iban: z.string(),
  branchId: z.string(),
  branch: z.string().describe("The branch's name"),
  amount,
  asset: z.string(),
  at: z.string(),
});
const totalsSchema = z.object({
  asset: z.string(),
  sentCount: z.int(),
  sent: amount,
  receivedCount: z.int(),
  received: amount,
});
const interactionSchema = z.object({
  counterpartyClientId: z.string(),
  counterpartyUsername: z.string().nullable(),
  counterpartyIban: z.string().describe("The counterparty's account in the latest transfer between them"),
  count: z.int().describe("Transfers either way"),
  totals: z.array(totalsSchema),
  firstAt: z.string(),
  lastAt: z.string(),
});
const clientBranchSchema = z.object({
  id: z.string(),
  name: z.string(),
  deposits: z.int(),
  withdrawals: z.int(),
  firstAt: z.string(),
  lastAt: z.string(),
});
const pageSchema = <T extends z.ZodType>(item: T) =>
  z.object({
    items: z.array(item),
    nextCursor: z.string().nullable().describe("Pass as `cursor`; null at the end"),
  });

/** The JSON views shared by REST and GraphQL. */
export const clientViews = {
  transaction: (t: ClientTransaction) => ({
    id: t.id,
    commandId: t.commandId,
    iban: t.iban,
    counterparty: t.counterparty,
    counterpartyClientId: t.counterpartyClientId ?? null,
    amount: t.amount.toString(),
    asset: t.asset,
    description: t.description,
    at: at(t.atMs),
  }),
  operation: (o: ClientOperation) => ({
    id: o.id,
    type: o.kind,
    iban: o.iban,
    branchId: o.branchId,
    branch: o.branchName,
    amount: o.amount.toString(),
    asset: o.asset,
    at: at(o.atMs),
  }),
  interaction: (i: ClientInteraction & { counterpartyUsername: string | undefined }) => ({
    counterpartyClientId: i.counterpartyClientId,
    counterpartyUsername: i.counterpartyUsername ?? null,
    counterpartyIban: i.counterpartyIban,
    count: i.count,
    totals: i.totals.map((t) => ({ ...t, sent: t.sent.toString(), received: t.received.toString() })),
    firstAt: at(i.firstAtMs),
    lastAt: at(i.lastAtMs),
  }),
  branch: (b: ClientBranch) => ({
    id: b.branchId,
    name: b.name,
    deposits: b.deposits,
    withdrawals: b.withdrawals,
    firstAt: at(b.firstAtMs),
    lastAt: at(b.lastAtMs),
  }),
  page: <T, V>(page: Page<T>, view: (item: T) => V) => ({
    items: page.items.map(view),
    nextCursor: page.next ?? null,
  }),
  overview: (o: ClientOverview) => ({
    client: { id: o.client.id, username: o.client.username, roles: [...o.client.roles] },
    accounts: o.accounts.map(accountView),
    transactions: clientViews.page(o.transactions, clientViews.transaction),
    operations: clientViews.page(o.operations, clientViews.operation),
    interactions: clientViews.page(o.interactions, clientViews.interaction),
    branches: clientViews.page(o.branches, clientViews.branch),
  }),
};

const idParam = z.strictObject({
  id: z
    .string()
    .regex(/^[A-Za-z0-9._-]{3,64}$/)
    .describe("The client's user id (staff may also give a username)"),
});
const cursorOf = (pattern: RegExp, example: string) =>
  z.string().regex(pattern).optional().describe(`A previous page's nextCursor, e.g. ${example}`);

const kinds = [
  {
    path: "transactions",
    summary: "A client's transfers across their accounts, newest first",
    cursor: cursorOf(cursorPatterns.transactions, "1733490000000_<uuid>_<iban>"),
    item: transactionSchema,
  },
  {
    path: "operations",
    summary: "A client's cash deposits and withdrawals at branches, newest first",
    cursor: cursorOf(cursorPatterns.operations, "1733490000000_<uuid>"),
    item: operationSchema,
  },
  {
    path: "interactions",
    summary: "The clients a client dealt with: count and totals per asset, most recent first",
    cursor: cursorOf(cursorPatterns.interactions, "1733490000000_<client id>"),
    item: interactionSchema,
  },
  {
    path: "branches",
    summary: "The branches a client did cash operations at, most recent first",
    cursor: cursorOf(cursorPatterns.branches, "1733490000000_<branch id>"),
    item: clientBranchSchema,
  },
] as const;

export async function insightsRoutes(root: FastifyInstance, deps: InsightsHttpDeps): Promise<void> {
  overviewRoute(root, deps);
  kindRoutes(root, deps);
  await branchRoutes(root, deps);
}

const branchSchema = z.object({
  id: z.string(),
  name: z.string().describe("As the teller typed it when the branch was first seen"),
  address: z.string().nullable(),
  zipCode: z.string().nullable(),
  firstAt: z.string(),
  clientsCount: z.int(),
  volumes: z.array(
    z.object({
      asset: z.string(),
      deposits: z.int(),
      withdrawals: z.int(),
      deposited: amount,
      withdrawn: amount,
    }),
  ),
});

function branchView(b: Branch) {
  return {
    id: b.id,
    name: b.name,
    address: b.address ?? null,
    zipCode: b.zipCode ?? null,
    firstAt: at(b.firstAtMs),
    clientsCount: b.clientsCount,
    volumes: b.volumes.map((v) => ({
      ...v,
      deposited: v.deposited.toString(),
      withdrawn: v.withdrawn.toString(),
    })),
  };
}

const branchId = z.strictObject({ id: z.uuid().describe("The branch's id") });

async function branchRoutes(root: FastifyInstance, deps: InsightsHttpDeps): Promise<void> {
  const app = root.withTypeProvider<ZodTypeProvider>();
  const { queries } = deps;
  const staff = [deps.authenticate, requireRole(...insightStaffRoles)];
  app.get(
    "/v1/branches",
    {
      schema: {
        tags: ["insights"],
        summary: "Every branch seen in a cash operation, by name (staff)",
        querystring: z.strictObject({
          cursor: z.uuid().optional().describe("A previous page's nextCursor"),
          limit: z.coerce.number().int().min(1).max(deps.config.pageSizeMax).optional(),
        }),
        response: { 200: pageSchema(branchSchema) },
        security: [{ bearer: [] }],
      },
      config: {
        access: { roles: insightStaffRoles },
        openapi: {
          links: {
            200: {
              branch: { operation: "GET /v1/branches/:id", parameters: { id: "$response.body#/items/0/id" } },
            },
          },
        },
      },
      preHandler: staff,
    },
    async (request) => clientViews.page(await queries.branchList(request.query), branchView),
  );
  app.get(
    "/v1/branches/:id",
    {
      schema: {
        tags: ["insights"],
        summary: "A branch: address, cash volumes per asset, its most recent clients (staff)",
        params: branchId,
        response: {
          200: branchSchema.extend({
            clients: z.array(
              z.object({ clientId: z.string(), deposits: z.int(), withdrawals: z.int(), lastAt: z.string() }),
            ),
          }),
        },
        security: [{ bearer: [] }],
      },
      config: { access: { roles: insightStaffRoles }, openapi: { problems: ["not_found"] } },
      preHandler: staff,
    },
    async (request) => {
      const found = await queries.branch(request.params.id);
      if (!found) throw new ProblemError("not_found", { field: "id", detail: "No such branch" });
      const clients = await queries.branchClients(found.id, deps.config.pageSizeMax);
      return { ...branchView(found), clients: clients.map((c) => ({ ...c, lastAt: at(c.lastAtMs) })) };
    },
  );
  branchPatchRoute(root, deps);
}

function branchPatchRoute(root: FastifyInstance, deps: InsightsHttpDeps): void {
  const app = root.withTypeProvider<ZodTypeProvider>();
  const { queries } = deps;
  app.patch(
    "/v1/branches/:id",
    {
      schema: {
        tags: ["insights"],
        summary: "Set a branch's address and zip code (admin); null clears one",
        params: branchId,
        body: z.strictObject({
          address: z
            .string()
            .regex(/^[ -~\u00a0-\uffff]{1,200}$/)
            .nullable()
            .optional()
            .describe("Street and number, city"),
          zipCode: z
            .string()
            .regex(/^[A-Za-z0-9][A-Za-z0-9 -]{1,9}$/)
            .nullable()
            .optional()
            .describe("Postal code, e.g. 3511 AB"),
        }),
        response: { 200: branchSchema },
        security: [{ bearer: [] }],
      },
      config: { access: { roles: ["admin"] }, openapi: { problems: ["not_found"] } },
      preHandler: [deps.authenticate, requireRole("admin")],
    },
    async (request) => {
      const { address, zipCode } = request.body;
      const change = {
        ...(address === undefined ? {} : { address }),
        ...(zipCode === undefined ? {} : { zipCode }),
      };
      const updated = await queries.updateBranch(request.params.id, change, deps.clock.nowMs());
      const found = updated ? await queries.branch(request.params.id) : undefined;
      if (!found) throw new ProblemError("not_found", { field: "id", detail: "No such branch" });
      return branchView(found);
    },
  );
}

function overviewRoute(root: FastifyInstance, deps: InsightsHttpDeps): void {
  const app = root.withTypeProvider<ZodTypeProvider>();
  const { clients, config } = deps;
  const limit = z.coerce.number().int().min(1).max(config.pageSizeMax).optional();
  app.get(
    "/v1/clients/:id",
    {
      schema: {
        tags: ["insights"],
        summary: "Everything about a client: profile, accounts, and the first page of each kind",
        description:
          "A customer may fetch only themselves (any other id is 404); teller, compliance, auditor and admin anyone, by id or username.",
        params: idParam,
        querystring: z.strictObject({ limit: limit.describe("Items of each kind") }),
        response: {
          200: z.object({
            client: clientView,
            accounts: z.array(accountSchema),
            transactions: pageSchema(transactionSchema),
            operations: pageSchema(operationSchema),
            interactions: pageSchema(interactionSchema),
            branches: pageSchema(clientBranchSchema),
          }),
        },
        security: [{ bearer: [] }],
      },
      // A customer only themselves (another id is 404); staff any client.
      config: {
        access: { roles: "any", owner: true },
        openapi: {
          problems: ["not_found"],
          links: {
            200: Object.fromEntries(
              kinds.map((kind) => [
                kind.path,
                {
                  operation: `GET /v1/clients/:id/${kind.path}`,
                  parameters: { id: "$response.body#/client/id" },
                },
              ]),
            ),
          },
        },
      },
      preHandler: deps.authenticate,
    },
    async (request) => {
      const principal = principalOf(request);
      const client = await clients.find(principal, request.params.id);
      return clientViews.overview(await clients.overview(principal, client.id, request.query.limit));
    },
  );
}

function kindRoutes(root: FastifyInstance, deps: InsightsHttpDeps): void {
  const app = root.withTypeProvider<ZodTypeProvider>();
  const { clients, config } = deps;
  const limit = z.coerce.number().int().min(1).max(config.pageSizeMax).optional();
  for (const kind of kinds) {
    app.get(
      `/v1/clients/:id/${kind.path}`,
      {
        schema: {
          tags: ["insights"],
          summary: kind.summary,
          description: "A customer may fetch only themselves (any other id is 404); staff anyone.",
          params: idParam,
          querystring: z.strictObject({ cursor: kind.cursor, limit }),
          response: { 200: pageSchema(kind.item) },
          security: [{ bearer: [] }],
        },
        config: { access: { roles: "any", owner: true }, openapi: { problems: ["not_found"] } },
        preHandler: deps.authenticate,
      },
      async (request) => {
        const principal = principalOf(request);
        const page = { cursor: request.query.cursor, limit: request.query.limit };
        const id = (await clients.find(principal, request.params.id)).id;
        switch (kind.path) {
          case "transactions":
            return clientViews.page(await clients.transactions(principal, id, page), clientViews.transaction);
          case "operations":
            return clientViews.page(await clients.operations(principal, id, page), clientViews.operation);
          case "interactions":
            return clientViews.page(await clients.interactions(principal, id, page), clientViews.interaction);
          case "branches":
            return clientViews.page(await clients.branches(principal, id, page), clientViews.branch);
        }
      },
    );
  }
}
