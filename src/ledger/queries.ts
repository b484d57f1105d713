/** Read side of the ledger for the API: accounts, history, command outcomes. */
import type pg from "pg";
import { coalesce } from "../platform/coalesce.ts";
import { prepared } from "../platform/db/pool.ts";
import { accountFromRow, outcomeFromRow } from "./adapters/postgres.ts";
import type { AccountState } from "./domain/types.ts";
import type { StoredOutcome } from "./store.ts";

export interface HistoryItem {
  readonly cursor: string;
  readonly id: string;
  /** The command that completed the movement: its token (receipt) id. */
  readonly commandId: string;
  readonly amount: bigint;
  readonly counterparty: string;
  readonly description: string;
  readonly balanceAfter: bigint;
  readonly atMs: number;
}

export interface LatestTransfer {
  readonly id: string;
  readonly kind: string;
  readonly phase: string;
  readonly from: string;
  readonly to: string;
  readonly amount: bigint;
  readonly asset: string;
  readonly description: string;
  readonly atMs: number;
}

/** A two-phase transfer (hold) as its parties see it. */
export interface HoldView {
  readonly id: string;
  readonly kind: string;
  /** pending, posted, voided or expired. */
  readonly phase: string;
  readonly from: string;
  readonly to: string;
  readonly debitOwnerId: string;
  readonly creditOwnerId: string;
  /** The amount reserved. */
  readonly amount: bigint;
  /** What a post moved (the rest was released); 0 unless posted. */
  readonly postedAmount: bigint;
  readonly asset: string;
  readonly description: string;
  readonly expiresAtMs: number;
  readonly createdAtMs: number;
  readonly completedAtMs?: number;
}

export interface LedgerQueries {
  accountsOfOwner(ownerId: string): Promise<readonly AccountState[]>;
  accountByIban(iban: string): Promise<AccountState | undefined>;
  accountById(id: string): Promise<AccountState | undefined>;
  /** Owner of an account. Owners never change, so answers are cached (bounded). */
  ownerOfIban(iban: string): Promise<string | undefined>;
  history(
    accountId: string,
    beforeCursor: string | undefined,
    limit: number,
  ): Promise<readonly HistoryItem[]>;
  outcome(commandId: string): Promise<StoredOutcome | undefined>;
  outcomes(commandIds: readonly string[]): Promise<readonly StoredOutcome[]>;
  latestTransfers(limit: number): Promise<readonly LatestTransfer[]>;
  /** A two-phase transfer by id (undefined for single-phase transfers and unknown ids). */
  hold(id: string): Promise<HoldView | undefined>;
}

const lookupBatchSizeMax = 1_000;
const outcomeLookupWindowMs = 1;
const outcomeLookupsInFlightMax = 2;
const ownerCacheSizeMax = 200_000;

export function createLedgerQueries(pool: pg.Pool): LedgerQueries {
  const columns =
    "id, iban, owner_id, asset, balance, debits_pending, credits_pending, overdraft_limit, system, token_hash";
  // Hot-path point lookups of the HTTP edge, one round trip per tick under load.
  const loadOutcome = coalesce(
    async (ids: readonly string[]) => {
      const { rows } = await pool.query(
        prepared("SELECT * FROM ledger_commands WHERE command_id = ANY($1::uuid[])"),
        [ids],
      );
      return new Map(rows.map((row) => [row.command_id as string, outcomeFromRow(row)]));
      // Runs beside the command append, which lingers as long: the window costs no latency.
    },
    lookupBatchSizeMax,
    outcomeLookupWindowMs,
    outcomeLookupsInFlightMax,
  );
  const ownerOfIban = cachedOwnerLookup(pool);
  return {
    ownerOfIban,
    async accountsOfOwner(ownerId) {
      const { rows } = await pool.query(
        prepared(`SELECT ${columns} FROM ledger_accounts WHERE owner_id = $1 ORDER BY created_at_ms, id`),
        [ownerId],
      );
      return rows.map(accountFromRow);
    },
    async accountByIban(iban) {
      const { rows } = await pool.query(prepared(`SELECT ${columns} FROM ledger_accounts WHERE iban = $1`), [
        iban,
      ]);
      return rows[0] ? accountFromRow(rows[0]) : undefined;
    },
    async accountById(id) {
      const { rows } = await pool.query(prepared(`SELECT ${columns} FROM ledger_accounts WHERE id = $1`), [
        id,
      ]);
      return rows[0] ? accountFromRow(rows[0]) : undefined;
    },
    history: (accountId, beforeCursor, limit) => history(pool, accountId, beforeCursor, limit),
    outcome: (commandId) => loadOutcome(commandId),
    async outcomes(commandIds) {
      const { rows } = await pool.query(
        prepared("SELECT * FROM ledger_commands WHERE command_id = ANY($1::uuid[])"),
        [commandIds],
      );
      return rows.map(outcomeFromRow);
    },
    hold: (id) => hold(pool, id),
    latestTransfers: (limit) => latestTransfers(pool, limit),
  };
}

/** Owner of an IBAN, batched per tick and cached (an account's owner never changes). */
function cachedOwnerLookup(pool: pg.Pool): (iban: string) => Promise<string | undefined> {
  const loadOwner = coalesce(async (ibans: readonly string[]) => {
    const { rows } = await pool.query(
      prepared("SELECT iban, owner_id FROM ledger_accounts WHERE iban = ANY($1::text[])"),
      [ibans],
    );
    return new Map(rows.map((row) => [row.iban as string, row.owner_id as string]));
  }, lookupBatchSizeMax);
  const owners = new Map<string, string>();
  return async (iban) => {
    const cached = owners.get(iban);
    if (cached !== undefined) return cached;
    const owner = await loadOwner(iban);
    if (owner !== undefined) {
      if (owners.size >= ownerCacheSizeMax) owners.delete(owners.keys().next().value as string);
      owners.set(iban, owner);
    }
    return owner;
  };
}

async function history(
  pool: pg.Pool,
  accountId: string,
  beforeCursor: string | undefined,
  limit: number,
): Promise<readonly HistoryItem[]> {
  const { rows } = await pool.query(
    prepared(`SELECT id, transfer_id, command_id, amount, counterparty_iban, description, balance_after, at_ms
       FROM ledger_entries
      WHERE account_id = $1 AND ($2::bigint IS NULL OR id < $2::bigint)
      ORDER BY id DESC LIMIT $3`),
    [accountId, beforeCursor ?? null, limit],
  );
  return rows.map((row) => ({
    cursor: String(row.id),
    id: row.transfer_id as string,
    commandId: row.command_id as string,
    amount: BigInt(row.amount),
    counterparty: row.counterparty_iban as string,
    description: row.description as string,
    balanceAfter: BigInt(row.balance_after),
    atMs: Number(row.at_ms),
  }));
}

async function latestTransfers(pool: pg.Pool, limit: number): Promise<readonly LatestTransfer[]> {
  const { rows } = await pool.query(
    prepared(`SELECT t.id, t.kind, t.phase, d.iban AS from_iban, c.iban AS to_iban, t.amount, t.asset, t.description,
            t.created_at_ms
       FROM ledger_transfers t
       JOIN ledger_accounts d ON d.id = t.debit_account_id
       JOIN ledger_accounts c ON c.id = t.credit_account_id
      ORDER BY t.created_at_ms DESC, t.id LIMIT $1`),
    [limit],
  );
  return rows.map((row) => ({
    id: row.id,
    kind: row.kind,
    phase: row.phase,
    from: row.from_iban,
    to: row.to_iban,
    amount: BigInt(row.amount),
    asset: row.asset,
    description: row.description,
    atMs: Number(row.created_at_ms),
  }));
}

/** A hold (a two-phase transfer) with its parties and what its post moved; undefined for other transfers. */
async function hold(pool: pg.Pool, id: string): Promise<HoldView | undefined> {
  const { rows } = await pool.query(
    prepared(`SELECT t.id, t.kind, t.phase, d.iban AS from_iban, c.iban AS to_iban, d.owner_id AS debit_owner,
            c.owner_id AS credit_owner, t.amount, t.asset, t.description, t.expires_at_ms, t.created_at_ms,
            t.completed_at_ms,
            (SELECT coalesce(sum(e.amount), 0) FROM ledger_entries e
              WHERE e.transfer_id = t.id AND e.account_id = t.credit_account_id) AS posted
       FROM ledger_transfers t
       JOIN ledger_accounts d ON d.id = t.debit_account_id
       JOIN ledger_accounts c ON c.id = t.credit_account_id
      WHERE t.id = $1 AND t.expires_at_ms IS NOT NULL`),
    [id],
  );
  const row = rows[0];
  if (!row) return undefined;
  return {
    id: row.id,
    kind: row.kind,
    phase: row.phase,
    from: row.from_iban,
    to: row.to_iban,
    debitOwnerId: row.debit_owner,
    creditOwnerId: row.credit_owner,
    amount: BigInt(row.amount),
    postedAmount: BigInt(row.posted),
    asset: row.asset,
    description: row.description,
    expiresAtMs: Number(row.expires_at_ms),
    createdAtMs: Number(row.created_at_ms),
    ...(row.completed_at_ms === null ? {} : { completedAtMs: Number(row.completed_at_ms) }),
  };
}
