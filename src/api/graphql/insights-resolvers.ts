/**
 * Resolvers of `client(id)` and its lists: the GraphQL face of GET /v1/clients/{id} and its kinds,
 * calling the insights context's published interface (which decides access) with REST's views.
 */

import { clientViews, type InsightsApi, type Page, type PageRequest } from "../../insights/index.ts";
import { accountView, type LedgerApi } from "../../ledger/index.ts";
import type { Principal } from "../../platform/http/auth.ts";
import { ProblemError } from "../../platform/http/problems.ts";
import type { GraphqlContext } from "./resolvers.ts";
import type { ResolverMap } from "./schema.ts";

interface ClientSource {
  readonly id: string;
  readonly username: string;
  readonly roles: readonly string[];
}

interface PageArgs {
  readonly first?: number | null;
  readonly after?: string | null;
}

/** The REST page request; a malformed cursor or size is named by its GraphQL argument. */
async function paged<T>(args: PageArgs, fetch: (page: PageRequest) => Promise<Page<T>>): Promise<Page<T>> {
  try {
    return await fetch({ cursor: args.after ?? undefined, limit: args.first ?? undefined });
  } catch (error) {
    const field = error instanceof ProblemError ? error.problem.field : undefined;
    if (error instanceof ProblemError && (field === "cursor" || field === "limit"))
      throw new ProblemError("validation_failed", {
        field: field === "cursor" ? "after" : "first",
        detail: field === "cursor" ? "after must be a nextCursor" : error.message.replace("limit", "first"),
      });
    throw error;
  }
}

export function insightsResolvers(insights: InsightsApi, ledger: Pick<LedgerApi, "queries">): ResolverMap {
  const { clients } = insights;
  type Field = (source: ClientSource, args: PageArgs, context: GraphqlContext) => Promise<unknown>;
  const list =
    <T, V>(
      fetch: (p: Principal, id: string, page: PageRequest) => Promise<Page<T>>,
      view: (item: T) => V,
    ): Field =>
    async (source, args, context) =>
      clientViews.page(await paged(args, (page) => fetch(context.principal, source.id, page)), view);
  return {
    Query: {
      client: async (_: unknown, args: { id: string }, context: GraphqlContext): Promise<ClientSource> => {
        const client = await clients.find(context.principal, args.id);
        return { id: client.id, username: client.username, roles: client.roles };
      },
    },
    Client: {
      accounts: async (source: ClientSource) =>
        (await ledger.queries.accountsOfOwner(source.id)).map(accountView),
      transactions: list(clients.transactions, clientViews.transaction),
      operations: list(clients.operations, clientViews.operation),
      interactions: list(clients.interactions, clientViews.interaction),
      branches: list(clients.branches, clientViews.branch),
    },
  };
}
