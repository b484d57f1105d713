/** Shapes of the public API (issue 2 contract). Amounts are decimal-integer strings of minor units. */

export interface Account {
  readonly id: string;
  readonly iban: string;
  readonly asset: string;
  readonly balance: string;
  readonly status?: string;
  /** Only present once, in the answer to account creation. */
  readonly token?: string;
}

export interface Transaction {
  readonly id: string;
  /** The movement's receipt (token) id: the command that completed it. */
  readonly receiptId?: string;
  /** Signed: negative leaves the account. */
  readonly amount: string;
  readonly counterparty?: string | null;
  readonly description?: string | null;
  readonly balanceAfter?: string | null;
  readonly at: string;
  readonly asset?: string;
  readonly iban?: string;
}

export interface Page<T> {
  readonly items: readonly T[];
  readonly nextCursor?: string | null;
}

export interface CommandStatus {
  readonly id: string;
  readonly status: string;
  readonly reason?: string | null;
}

/** Lists arrive as a bare array or as `{items}`; accept both. */
export function itemsOf<T>(body: unknown): T[] {
  if (Array.isArray(body)) return body as T[];
  if (typeof body === "object" && body !== null) {
    const record = body as Record<string, unknown>;
    for (const key of ["items", "accounts", "transactions", "gateways", "letters", "entries", "data"]) {
      if (Array.isArray(record[key])) return record[key] as T[];
    }
  }
  return [];
}
