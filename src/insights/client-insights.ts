/**
 * The published query interface of the insights context (`InsightsApi.clients`): what REST, GraphQL
 * and gRPC call to fetch a client, all at once or by kind. Every call decides access the same way:
 * a customer asking for anyone but themselves, and an unknown client, are both "not found".
 */
import type { PublicUser, UserDirectory } from "../identity/index.ts";
import type { AccountState, LedgerQueries } from "../ledger/index.ts";
import type { Principal } from "../platform/http/auth.ts";
import { ProblemError } from "../platform/http/problems.ts";
import {
  type ClientBranch,
  type ClientInteraction,
  type ClientOperation,
  type ClientTransaction,
  type InsightsQueries,
  mayViewAnyClient,
  type Page,
  type PageRequest,
} from "./queries.ts";

export interface ClientOverview {
  readonly client: PublicUser;
  readonly accounts: readonly AccountState[];
  readonly transactions: Page<ClientTransaction>;
  readonly operations: Page<ClientOperation>;
  readonly interactions: Page<ClientInteraction & { readonly counterpartyUsername: string | undefined }>;
  readonly branches: Page<ClientBranch>;
}

export interface ClientInsights {
  /** The client by id (or, for staff, by username): 404 when unknown or not the caller's to see. */
  find(principal: Principal, idOrUsername: string): Promise<PublicUser>;
  /** Everything: profile, accounts and the first page of each kind (`limit` items each). */
  overview(principal: Principal, clientId: string, limit?: number): Promise<ClientOverview>;
  transactions(principal: Principal, clientId: string, page: PageRequest): Promise<Page<ClientTransaction>>;
  operations(principal: Principal, clientId: string, page: PageRequest): Promise<Page<ClientOperation>>;
  interactions(
    principal: Principal,
    clientId: string,
    page: PageRequest,
  ): Promise<Page<ClientInteraction & { readonly counterpartyUsername: string | undefined }>>;
  branches(principal: Principal, clientId: string, page: PageRequest): Promise<Page<ClientBranch>>;
}

export function createClientInsights(deps: {
  readonly queries: InsightsQueries;
  readonly users: UserDirectory;
  readonly ledger: Pick<LedgerQueries, "accountsOfOwner">;
}): ClientInsights {
  const { queries, users } = deps;
  const notFound = () => new ProblemError("not_found", { field: "id", detail: "No such client" });
  /** Checks access before anything is looked up, so a customer learns nothing of other ids. */
  const visible = async (principal: Principal, clientId: string): Promise<PublicUser> => {
    if (principal.userId !== clientId && !mayViewAnyClient(principal)) throw notFound();
    const user = await users.byId(clientId);
    if (user === undefined) throw notFound();
    return user;
  };
  const named = async (page: Page<ClientInteraction>) => ({
    next: page.next,
    items: await Promise.all(
      page.items.map(async (i) => ({
        ...i,
        counterpartyUsername: (await users.byId(i.counterpartyClientId))?.username,
      })),
    ),
  });
  const self = {
    async find(principal: Principal, idOrUsername: string) {
      if (mayViewAnyClient(principal) && (await users.byId(idOrUsername)) === undefined) {
        const byName = await users.byUsername(idOrUsername);
        if (byName) return byName;
      }
      return visible(principal, idOrUsername);
    },
    async overview(principal: Principal, clientId: string, limit?: number) {
      const client = await visible(principal, clientId);
      const page = { limit };
      const [accounts, transactions, operations, interactions, branches] = await Promise.all([
        deps.ledger.accountsOfOwner(client.id),
        queries.transactions(client.id, page),
        queries.operations(client.id, page),
        queries.interactions(client.id, page).then(named),
        queries.branches(client.id, page),
      ]);
      return { client, accounts, transactions, operations, interactions, branches };
    },
    transactions: async (principal: Principal, clientId: string, page: PageRequest) =>
      queries.transactions((await visible(principal, clientId)).id, page),
    operations: async (principal: Principal, clientId: string, page: PageRequest) =>
      queries.operations((await visible(principal, clientId)).id, page),
    interactions: async (principal: Principal, clientId: string, page: PageRequest) =>
      named(await queries.interactions((await visible(principal, clientId)).id, page)),
    branches: async (principal: Principal, clientId: string, page: PageRequest) =>
      queries.branches((await visible(principal, clientId)).id, page),
  };
  return self;
}
