/**
 * The GraphQL contract (SDL). Kept as one documented text so `GET /graphql/schema.graphql` serves
 * exactly what clients code against; resolvers are attached by field name in `resolvers.ts`.
 */
import {
  buildSchema,
  type GraphQLFieldResolver,
  type GraphQLObjectType,
  type GraphQLSchema,
  isObjectType,
} from "graphql";
import { assert } from "../../platform/errors.ts";

export const typeDefs = /* GraphQL */ `
"""
Ledgerflow's GraphQL API. Conventions:
- Amounts are decimal-integer strings of minor units ("1250" is 12.50 EUR), never floats.
- Timestamps are ISO 8601 strings in UTC.
- Errors carry a stable \`extensions.code\` (validation_failed with \`extensions.field\`, not_found,
  forbidden, unauthenticated, conflict, rate_limited, unavailable, internal).
- Authenticate with \`Authorization: Bearer <access token>\` (HTTP), or \`connectionParams.authorization\`
  (WebSocket, graphql-ws protocol).
"""
schema {
  query: Query
  mutation: Mutation
  subscription: Subscription
}

"Where a command stands: accepted and not decided yet, applied, or rejected with a reason."
enum CommandState {
  PENDING
  CONFIRMED
  FAILED
}

"Which balance changes a subscriber wants: money in, money out, or both."
enum Direction {
  IN
  OUT
  ANY
}

type Account {
  "The account id chosen by its creator (UUID)."
  id: ID!
  "ISO 13616 IBAN without spaces."
  iban: String!
  "Asset code, e.g. EUR."
  asset: String!
  "Posted balance in minor units."
  balance: String!
  "Posted balance minus reservations of pending transfers, in minor units."
  availableBalance: String!
  "How far below zero the available balance may go, in minor units."
  overdraftLimit: String!
}

"One posting on an account, as seen from that account."
type Transaction {
  "The transfer that made this posting."
  id: ID!
  "Signed: positive for money in, negative for money out."
  amount: String!
  asset: String!
  "IBAN of the other side."
  counterparty: String!
  description: String!
  "The account's balance right after this posting."
  balanceAfter: String!
  at: String!
}

"A page of an account's postings, newest first."
type TransactionPage {
  items: [Transaction!]!
  "Pass as \`after\` to get the next (older) page; null on the last page."
  nextCursor: String
}

"A transfer across the bank (admin view)."
type Transfer {
  id: ID!
  "transfer, deposit or withdrawal."
  kind: String!
  "single, pending, posted, voided or expired."
  phase: String!
  "Debited IBAN."
  from: String!
  "Credited IBAN."
  to: String!
  amount: String!
  asset: String!
  description: String!
  at: String!
}

"The answer to a mutation, and the outcome a subscriber receives."
type CommandResult {
  "The command id (the client-chosen idempotency key)."
  id: ID!
  status: CommandState!
  "Stable rejection code when FAILED, e.g. insufficient_funds, invalid_token, unknown_account."
  reason: String
  "The new account's IBAN once an account creation is CONFIRMED."
  iban: String
  "The account's secret token (createAccount only): keep it, it authorises transfers from the account."
  token: String
  "Transfers and holds once CONFIRMED: single, pending (a hold made), posted, voided or expired."
  phase: String
  "True when screening held the transfer for review: booked as pending (funds reserved, nothing moved) until a reviewer approves (posted) or rejects (voided) it, or it expires."
  heldForReview: Boolean
  "The review deciding a transfer held for review."
  reviewId: String
}

"Where a hold stands."
enum HoldStatus {
  PENDING
  POSTED
  VOIDED
  EXPIRED
}

"A hold (two-phase transfer): money reserved on \`from\`, moved to \`to\` only when posted."
type Hold {
  id: ID!
  status: HoldStatus!
  "Debited IBAN."
  from: String!
  "Credited IBAN."
  to: String!
  "Reserved amount in minor units."
  amount: String!
  "What the post moved (the rest was released); 0 unless POSTED."
  postedAmount: String!
  asset: String!
  description: String!
  "When an unposted hold is voided as EXPIRED."
  expiresAt: String!
  createdAt: String!
  completedAt: String
}

"A command's status, as its issuer (or staff) may see it."
type CommandStatus {
  id: ID!
  status: CommandState!
  reason: String
  "Account creations: the account id and IBAN."
  accountId: String
  iban: String
  "Transfers: the transfer id and phase."
  transferId: String
  phase: String
  "Set when screening held the transfer for review (phase pending until the review decides)."
  reviewId: String
}

"""
One entry of my notification inbox (GET /v1/notifications lists them). Kinds: sent, received,
deposit, withdrawal, withdrawal_cancelled, hold_placed, hold_released.
"""
type Notification {
  id: ID!
  "Position in the inbox (empty when pushed before it is stored; the inbox has it)."
  cursor: String!
  kind: String!
  "My account."
  iban: String!
  "The other account, or empty for the bank's own (cash, gateways)."
  counterparty: String!
  amount: String!
  asset: String!
  description: String!
  transferId: ID!
  "The command that made it: the receipt's id for money that moved."
  commandId: ID!
  at: String!
  read: Boolean!
}

"One movement on an account, pushed as it is posted."
type BalanceChange {
  "The command that caused the change."
  commandId: ID!
  iban: String!
  asset: String!
  "Balance after the change, in minor units."
  newBalance: String!
  "Signed change in minor units: positive for money in."
  changedBy: String!
  "IN or OUT."
  direction: Direction!
  "IBAN of the other side."
  counterparty: String!
  description: String!
  at: String!
}

"""
A client (a user) as the insights context sees them, like GET /v1/clients/{id}: customers may look
only at themselves (anyone else is not_found, like a missing id); teller, compliance, auditor and
admin at anyone. Each list pages newest first: \`first\` items (default 20), \`after\` a previous
page's nextCursor (a malformed one is validation_failed with field after).
"""
type Client {
  id: ID!
  username: String!
  roles: [String!]!
  accounts: [Account!]!
  transactions(first: Int, after: String): ClientTransactionPage!
  operations(first: Int, after: String): ClientOperationPage!
  interactions(first: Int, after: String): InteractionPage!
  branches(first: Int, after: String): ClientBranchPage!
}

"A transfer one of the client's accounts took part in."
type ClientTransaction {
  "The transfer."
  id: ID!
  commandId: ID!
  "The client's account."
  iban: String!
  "The other account."
  counterparty: String!
  "The other client; null for the bank's own accounts."
  counterpartyClientId: ID
  "Signed minor units: negative when the client paid."
  amount: String!
  asset: String!
  description: String!
  at: String!
}

"A cash deposit or withdrawal at a branch."
type ClientOperation {
  id: ID!
  "deposit or withdrawal."
  type: String!
  iban: String!
  branchId: ID!
  "The branch's name."
  branch: String!
  amount: String!
  asset: String!
  at: String!
}

"Transfers each way with one counterparty, in one asset."
type InteractionTotals {
  asset: String!
  sentCount: Int!
  sent: String!
  receivedCount: Int!
  received: String!
}

"Another client this client dealt with."
type Interaction {
  counterpartyClientId: ID!
  counterpartyUsername: String
  "The counterparty's account in the latest transfer between them."
  counterpartyIban: String!
  "Transfers either way."
  count: Int!
  totals: [InteractionTotals!]!
  firstAt: String!
  lastAt: String!
}

"A branch where the client did cash operations."
type ClientBranch {
  id: ID!
  name: String!
  deposits: Int!
  withdrawals: Int!
  firstAt: String!
  lastAt: String!
}

type ClientTransactionPage {
  items: [ClientTransaction!]!
  nextCursor: String
}

type ClientOperationPage {
  items: [ClientOperation!]!
  nextCursor: String
}

type InteractionPage {
  items: [Interaction!]!
  nextCursor: String
}

type ClientBranchPage {
  items: [ClientBranch!]!
  nextCursor: String
}

type Query {
  "One of my accounts (staff: any account). Someone else's account is not_found, like a missing one."
  account(iban: String!): Account
  "My accounts, oldest first."
  accounts: [Account!]!
  "An account's postings, newest first; \`first\` is 1..500, \`after\` a previous page's nextCursor."
  transactionsByIban(iban: String!, first: Int = 50, after: String): TransactionPage!
  "The latest transfers across the bank, newest first (admin only); \`first\` is 1..500."
  allLastTransactions(first: Int = 50): [Transfer!]!
  "The status of a command I issued (staff: any command)."
  command(id: ID!): CommandStatus
  "A hold I am a party of (staff: any hold); anyone else's is not_found, like a missing one."
  hold(id: ID!): Hold
  "A client by id (staff: also by username); see Client for who may see whom."
  client(id: ID!): Client
}

type Mutation {
  """
  Opens an account in \`asset\`; \`id\` (UUID) is the account id and the idempotency key.
  Answers PENDING at once, or waits up to \`waitSeconds\` for CONFIRMED (with the IBAN) or FAILED.
  The secret \`token\` is returned once, in the answer to the request that opened the account: a
  replay by the same owner answers without it, and the same id used by anyone else fails with
  code conflict.
  """
  createAccount(id: ID!, asset: String!, waitSeconds: Int = 0): CommandResult!
  """
  Moves \`amount\` minor units of \`asset\` from IBAN \`from\` to IBAN \`to\`. \`id\` (UUID) is the
  idempotency key: the same id with the same arguments returns the first outcome; with other
  arguments it fails with code conflict. Without \`token\` only the signed-in owner of \`from\` may
  move money; an explicit wrong \`token\` fails with reason invalid_token for the owner and
  unknown_account for anyone else (as for a missing account). Waits up to \`waitSeconds\`
  for the outcome; a rejection is status FAILED with the reason, not a GraphQL error.
  """
  moneyTransfer(
    id: ID!
    from: String!
    to: String!
    amount: String!
    asset: String!
    description: String
    token: String
    waitSeconds: Int = 0
  ): CommandResult!
  """
  Reserves \`amount\` on \`from\` for \`to\` (a hold, i.e. a two-phase transfer) until it is posted,
  voided, or \`timeoutMs\` pass (then it is voided as EXPIRED). \`id\` (UUID) is the hold id and the
  idempotency key; authorization, outcomes and waiting are those of moneyTransfer. CONFIRMED with
  phase pending means the money is reserved.
  """
  createHold(
    id: ID!
    from: String!
    to: String!
    amount: String!
    asset: String!
    timeoutMs: Int!
    description: String
    token: String
    waitSeconds: Int = 0
  ): CommandResult!
  """
  Posts hold \`holdId\`: moves \`amount\` (default: all of it; at most what was held, else FAILED with
  amount_exceeds_pending) and releases the rest. \`id\` (UUID) is this command's idempotency key.
  Only the owner of the debited account (or whoever presents its \`token\`) may post; to anyone else
  the hold is pending_transfer_not_found.
  """
  postHold(id: ID!, holdId: ID!, amount: String, token: String, waitSeconds: Int = 0): CommandResult!
  "Voids hold \`holdId\`, releasing the reserved money; rules as for postHold."
  voidHold(id: ID!, holdId: ID!, token: String, waitSeconds: Int = 0): CommandResult!
}

type Subscription {
  """
  Balance changes of one account I may see, from now on. Only changes of at least \`minAmount\`
  minor units (absolute value) in \`direction\` (default ANY) are sent.
  """
  balanceChanged(iban: String!, minAmount: String, direction: Direction = ANY): BalanceChange!
  """
  The outcome of a command: sent once when it is decided (at once if it already is), then the
  subscription completes. Subscribe before submitting to be sure not to miss it.
  """
  commandOutcome(id: ID!): CommandResult!
  "My new notifications as they arrive (the same entries the inbox keeps)."
  notificationAdded: Notification!
}
`;

/** Any resolver: each is written against its own source, args and context types. */
type Resolver = GraphQLFieldResolver<never, never, never>;
type AttachedResolver = GraphQLFieldResolver<unknown, unknown, unknown>;

export interface FieldResolvers {
  readonly resolve?: Resolver;
  readonly subscribe?: Resolver;
}

export type ResolverMap = Readonly<Record<string, Readonly<Record<string, Resolver | FieldResolvers>>>>;

/** The executable schema: the SDL above with `resolvers` attached ({Type: {field: fn | {subscribe, resolve}}}). */
export function buildLedgerSchema(resolvers: ResolverMap): GraphQLSchema {
  const schema = buildSchema(typeDefs);
  for (const [typeName, fields] of Object.entries(resolvers)) {
    const type = schema.getType(typeName);
    assert(isObjectType(type), `resolvers name a known object type, not ${typeName}`);
    attach(type, fields);
  }
  return schema;
}

function attach(type: GraphQLObjectType, fields: Readonly<Record<string, Resolver | FieldResolvers>>): void {
  const defined = type.getFields();
  for (const [name, resolver] of Object.entries(fields)) {
    const field = defined[name];
    assert(field, `resolvers name a known field, not ${type.name}.${name}`);
    if (typeof resolver === "function") {
      field.resolve = resolver as AttachedResolver;
    } else {
      if (resolver.resolve) field.resolve = resolver.resolve as AttachedResolver;
      if (resolver.subscribe) field.subscribe = resolver.subscribe as AttachedResolver;
    }
  }
}
