/**
 * GraphQL over WebSocket (graphql-ws protocol) for live updates: `balanceChanged` pushes every
 * balance movement of an account, `commandOutcome` the fate of one command. One connection per
 * signed-in session, reconnecting by itself; the UI shows whether it is live.
 */
import { type Client, createClient } from "graphql-ws";

export type LinkState = "connecting" | "live" | "offline";

/** One balance movement, as `balanceChanged` pushes it. */
export interface BalanceChange {
  readonly iban: string;
  /** New balance after the movement, minor units. */
  readonly balance: string;
  /** Signed change, minor units. */
  readonly change: string;
  readonly counterparty?: string | null;
  readonly description?: string | null;
  readonly at?: string | null;
  /** The command that moved the money: the movement's receipt (token) id. */
  readonly commandId?: string | null;
}

export interface CommandOutcome {
  readonly id: string;
  readonly status: string;
  readonly reason?: string | null;
}

/** What we want from each subscription, and the names a server may use for it (first match wins). */
const balanceFieldNames: Readonly<Record<keyof BalanceChange, readonly string[]>> = {
  iban: ["iban"],
  balance: ["newBalance", "balance", "balanceAfter"],
  change: ["changedBy", "change", "amount"],
  counterparty: ["counterpartyIban", "counterparty", "fromTo"],
  description: ["description"],
  at: ["at", "atMs", "timestamp"],
  commandId: ["commandId"],
};
const outcomeFieldNames: Readonly<Record<keyof CommandOutcome, readonly string[]>> = {
  id: ["id", "commandId"],
  status: ["status"],
  reason: ["reason", "code"],
};

export interface LiveDocuments {
  readonly balanceChanged: string;
  readonly commandOutcome: string;
}

/** Used when the schema cannot be read: the field names of the issue 2 contract. */
export const defaultDocuments: LiveDocuments = {
  balanceChanged: `subscription BalanceChanged($iban: String!) {
  balanceChanged(iban: $iban) { iban balance: newBalance change: changedBy counterparty description at commandId }
}`,
  commandOutcome: `subscription CommandOutcome($id: ID!) {
  commandOutcome(id: $id) { id status reason }
}`,
};

interface TypeRef {
  readonly name: string | null;
  readonly kind: string;
  readonly ofType: TypeRef | null;
}

interface SchemaField {
  readonly name: string;
  readonly args: readonly { readonly name: string; readonly type: TypeRef }[];
  readonly type: TypeRef;
}

const typeRef = "name kind ofType { name kind ofType { name kind ofType { name kind } } }";
const introspection = `query LiveSchema {
  __schema { subscriptionType { fields { name args { name type { ${typeRef} } } type { ${typeRef} } } } }
}`;

function typeText(type: TypeRef): string {
  if (type.kind === "NON_NULL" && type.ofType) return `${typeText(type.ofType)}!`;
  if (type.kind === "LIST" && type.ofType) return `[${typeText(type.ofType)}]`;
  return type.name ?? "String";
}

function namedType(type: TypeRef): string | undefined {
  return type.ofType ? namedType(type.ofType) : (type.name ?? undefined);
}

function selection(
  available: ReadonlySet<string>,
  wanted: Readonly<Record<string, readonly string[]>>,
): string {
  const parts: string[] = [];
  for (const [alias, candidates] of Object.entries(wanted)) {
    const found = candidates.find((candidate) => available.has(candidate));
    if (found) parts.push(found === alias ? found : `${alias}: ${found}`);
  }
  return parts.join(" ");
}

function document(
  field: SchemaField,
  argument: string,
  objectFields: ReadonlySet<string>,
  wanted: Readonly<Record<string, readonly string[]>>,
): string {
  const arg = field.args.find((candidate) => candidate.name === argument);
  const argType = arg ? typeText(arg.type) : "String!";
  return `subscription Live($${argument}: ${argType}) { ${field.name}(${argument}: $${argument}) { ${selection(objectFields, wanted)} } }`;
}

async function run<T>(client: Client, query: string): Promise<T | undefined> {
  return new Promise((resolve) => {
    let result: T | undefined;
    client.subscribe<T>(
      { query },
      {
        next: (value) => {
          result = value.data ?? undefined;
        },
        error: () => resolve(undefined),
        complete: () => resolve(result),
      },
    );
  });
}

/**
 * Reads the server's subscription schema once and builds documents that select what exists,
 * aliased to the names this app uses; falls back to the contract's names.
 */
export async function discoverDocuments(client: Client): Promise<LiveDocuments> {
  const schema = await run<{ __schema: { subscriptionType: { fields: SchemaField[] } | null } }>(
    client,
    introspection,
  );
  const fields = schema?.__schema.subscriptionType?.fields ?? [];
  const balanceField = fields.find((field) => field.name === "balanceChanged");
  const outcomeField = fields.find((field) => field.name === "commandOutcome");
  const objectFields = async (field: SchemaField | undefined): Promise<Set<string> | undefined> => {
    const name = field ? namedType(field.type) : undefined;
    if (!name) return undefined;
    const found = await run<{ __type: { fields: { name: string }[] } | null }>(
      client,
      `query LiveType { __type(name: "${name.replace(/[^A-Za-z0-9_]/g, "")}") { fields { name } } }`,
    );
    return found?.__type ? new Set(found.__type.fields.map((entry) => entry.name)) : undefined;
  };
  const [balanceFields, outcomeFields] = await Promise.all([
    objectFields(balanceField),
    objectFields(outcomeField),
  ]);
  return {
    balanceChanged:
      balanceField && balanceFields
        ? document(balanceField, "iban", balanceFields, balanceFieldNames)
        : defaultDocuments.balanceChanged,
    commandOutcome:
      outcomeField && outcomeFields
        ? document(outcomeField, "id", outcomeFields, outcomeFieldNames)
        : defaultDocuments.commandOutcome,
  };
}

/** Subscription values arrive with numbers or strings for amounts; the app keeps strings. */
export function normalizeBalanceChange(raw: Record<string, unknown>): BalanceChange {
  const text = (value: unknown): string | null =>
    value === undefined || value === null ? null : String(value);
  const atRaw = raw.at;
  const at = typeof atRaw === "number" ? new Date(atRaw).toISOString() : text(atRaw);
  return {
    iban: String(raw.iban ?? ""),
    balance: String(raw.balance ?? "0"),
    change: String(raw.change ?? "0"),
    counterparty: text(raw.counterparty),
    description: text(raw.description),
    at,
    commandId: text(raw.commandId),
  };
}

export function graphqlUrl(): string {
  const scheme = location.protocol === "https:" ? "wss:" : "ws:";
  return `${scheme}//${location.host}/graphql`;
}

export function createLiveClient(token: string, onState: (state: LinkState) => void): Client {
  return createClient({
    url: graphqlUrl(),
    connectionParams: { authorization: `Bearer ${token}` },
    lazy: false,
    keepAlive: 15_000,
    retryAttempts: Number.POSITIVE_INFINITY,
    shouldRetry: () => true,
    retryWait: async (retries) => {
      const delayMs = Math.min(10_000, 500 * 2 ** retries) * (0.5 + Math.random() / 2);
      await new Promise((resolve) => setTimeout(resolve, delayMs));
    },
    on: {
      connecting: () => onState("connecting"),
      connected: () => onState("live"),
      closed: () => onState("offline"),
    },
  });
}

/** Subscribes and calls `onData` for each payload's field; returns the unsubscribe function. */
export function subscribeField<T>(
  client: Client,
  query: string,
  variables: Record<string, unknown>,
  field: string,
  onData: (value: T) => void,
  onError?: (error: unknown) => void,
): () => void {
  return client.subscribe<Record<string, T>>(
    { query, variables },
    {
      next: (result) => {
        const value = result.data?.[field];
        if (value !== undefined && value !== null) onData(value);
        else if (result.errors && onError) onError(result.errors);
      },
      error: (error) => onError?.(error),
      complete: () => {},
    },
  );
}
