/**
 * Ledger test fixtures: command builders, the real topic codecs, and the ledger's invariants as SQL
 * (each returns the offending rows, so a failing check says what broke).
 */
import type pg from "pg";
import { topics } from "../../src/app/topology.ts";
import { createPostgresLedgerStore } from "../../src/ledger/adapters/postgres.ts";
import type { ApplyBatchDeps } from "../../src/ledger/apply-batch.ts";
import { fingerprintOf } from "../../src/ledger/command-gateway.ts";
import { type IbanFormat, ibanFor } from "../../src/ledger/domain/iban.ts";
import type {
  Authorization,
  BalanceChanged,
  CreateAccount,
  LedgerCommand,
  PostPendingTransfer,
  TransferMoney,
  VoidPendingTransfer,
} from "../../src/ledger/domain/types.ts";
import {
  balanceChangedFromAvro,
  type CommandEnvelope,
  outcomeFromAvro,
  type PublishedOutcomeEnvelope,
} from "../../src/ledger/schemas.ts";
import type { IdGenerator } from "../../src/platform/clock.ts";
import { createTopicCodec, type TopicCodec } from "../../src/platform/log/topic-codecs.ts";
import { decodeOutboxBatch } from "../../src/platform/outbox.ts";
import { createPostgresSchemaRegistry } from "../../src/platform/schema-registry/postgres.ts";

export const testIbanFormat: IbanFormat = { country: "NL", bankCode: "OPEN" };

export interface LedgerCodecs {
  readonly commands: TopicCodec;
  readonly outcomes: TopicCodec;
  readonly balanceChanged: TopicCodec;
}

export async function ledgerCodecs(pool: pg.Pool): Promise<LedgerCodecs> {
  const registry = createPostgresSchemaRegistry(pool);
  return {
    commands: await createTopicCodec(registry, topics.ledgerCommands),
    outcomes: await createTopicCodec(registry, topics.ledgerOutcomes),
    balanceChanged: await createTopicCodec(registry, topics.balanceChanged),
  };
}

export function applyDeps(pool: pg.Pool, codecs: LedgerCodecs, nowMs: () => number): ApplyBatchDeps {
  return {
    store: createPostgresLedgerStore(pool),
    outcomeCodec: codecs.outcomes,
    balanceChangedCodec: codecs.balanceChanged,
    ibanFormat: testIbanFormat,
    nowMs,
  };
}

/** The IBAN the handler will give the account created with the next serial (fresh database only). */
export async function nextIbans(pool: pg.Pool, count: number): Promise<string[]> {
  const { rows } = await pool.query<{ last_value: string; is_called: boolean }>(
    "SELECT last_value, is_called FROM ledger_account_serial",
  );
  const row = rows[0];
  if (!row) throw new Error("no account serial sequence");
  const next = BigInt(row.last_value) + (row.is_called ? 1n : 0n);
  return Array.from({ length: count }, (_, i) => ibanFor(testIbanFormat, next + BigInt(i)));
}

// --- Command builders -----------------------------------------------------------------------------

export function createAccountCommand(
  ids: IdGenerator,
  options: {
    readonly ownerId: string;
    readonly asset?: string;
    readonly overdraftLimit?: bigint;
    readonly system?: boolean;
    readonly tokenHash?: string;
    readonly accountId?: string;
  },
): CreateAccount {
  const accountId = options.accountId ?? ids.uuid();
  const asset = options.asset ?? "EUR";
  const overdraftLimit = options.overdraftLimit ?? 0n;
  const system = options.system ?? false;
  return {
    type: "CreateAccount",
    commandId: accountId,
    fingerprint: fingerprintOf({
      type: "CreateAccount",
      owner: options.ownerId,
      asset,
      overdraftLimit,
      system,
    }),
    accountId,
    ownerId: options.ownerId,
    asset,
    overdraftLimit,
    system,
    tokenHash: options.tokenHash ?? (system ? "" : `token-of-${accountId}`),
  };
}

export function transferCommand(
  ids: IdGenerator,
  options: {
    readonly from: string;
    readonly to: string;
    readonly amount: bigint;
    readonly asset?: string;
    readonly description?: string;
    readonly authorization?: Authorization;
    readonly pendingTimeoutMs?: number;
    readonly commandId?: string;
  },
): TransferMoney {
  const asset = options.asset ?? "EUR";
  const description = options.description ?? "";
  const authorization = options.authorization ?? { kind: "operator", actorId: "test-operator" };
  return {
    type: "TransferMoney",
    commandId: options.commandId ?? ids.uuid(),
    kind: "transfer",
    fingerprint: fingerprintOf({
      type: "TransferMoney",
      debitIban: options.from,
      creditIban: options.to,
      amount: options.amount,
      asset,
      description,
      auth: authorization.kind,
      actor: authorization.actorId,
      token: authorization.kind === "token" ? authorization.tokenHash : undefined,
      pendingTimeoutMs: options.pendingTimeoutMs,
    }),
    debitIban: options.from,
    creditIban: options.to,
    amount: options.amount,
    asset,
    description,
    authorization,
    ...(options.pendingTimeoutMs === undefined ? {} : { pendingTimeoutMs: options.pendingTimeoutMs }),
  };
}

export function postCommand(ids: IdGenerator, pendingId: string, commandId?: string): PostPendingTransfer {
  return {
    type: "PostPendingTransfer",
    commandId: commandId ?? ids.uuid(),
    fingerprint: fingerprintOf({ type: "PostPendingTransfer", pendingId }),
    pendingId,
  };
}

export function voidCommand(
  ids: IdGenerator,
  pendingId: string,
  cause: VoidPendingTransfer["cause"],
  commandId?: string,
): VoidPendingTransfer {
  return {
    type: "VoidPendingTransfer",
    commandId: commandId ?? ids.uuid(),
    fingerprint: fingerprintOf({ type: "VoidPendingTransfer", pendingId, cause }),
    pendingId,
    cause,
  };
}

export function envelope(command: LedgerCommand, issuedAtMs = 1_700_000_000_000): CommandEnvelope {
  return { command, issuedAtMs };
}

// --- Reading state back -----------------------------------------------------------------------------

export interface AccountRow {
  readonly id: string;
  readonly iban: string;
  readonly balance: bigint;
  readonly debitsPending: bigint;
  readonly creditsPending: bigint;
}

export async function accountByIban(pool: pg.Pool, iban: string): Promise<AccountRow> {
  const { rows } = await pool.query(
    "SELECT id, iban, balance, debits_pending, credits_pending FROM ledger_accounts WHERE iban = $1",
    [iban],
  );
  const row = rows[0];
  if (!row) throw new Error(`no account ${iban}`);
  return {
    id: row.id,
    iban: row.iban,
    balance: BigInt(row.balance),
    debitsPending: BigInt(row.debits_pending),
    creditsPending: BigInt(row.credits_pending),
  };
}

export async function balanceOf(pool: pg.Pool, iban: string): Promise<bigint> {
  return (await accountByIban(pool, iban)).balance;
}

/** Every ledger table as text, for "nothing changed" comparisons. */
export async function ledgerSnapshot(pool: pg.Pool): Promise<Record<string, unknown[]>> {
  const tables: Record<string, string> = {
    accounts: "SELECT * FROM ledger_accounts ORDER BY id",
    transfers: "SELECT * FROM ledger_transfers ORDER BY id",
    entries: "SELECT * FROM ledger_entries ORDER BY id",
    commands: "SELECT * FROM ledger_commands ORDER BY command_id",
    outbox: "SELECT id, encode(records, 'hex') AS records FROM ledger_outbox ORDER BY id",
  };
  const snapshot: Record<string, unknown[]> = {};
  for (const [name, sql] of Object.entries(tables)) snapshot[name] = (await pool.query(sql)).rows;
  return snapshot;
}

export type DecodedOutgoing =
  | { readonly kind: "outcome"; readonly key: string; readonly value: PublishedOutcomeEnvelope }
  | { readonly kind: "balanceChanged"; readonly key: string; readonly value: BalanceChanged };

/** The outbox rows (one per handler batch), each decoded with the real codecs. */
export async function outboxRows(pool: pg.Pool, codecs: LedgerCodecs): Promise<DecodedOutgoing[][]> {
  const { rows } = await pool.query<{ records: Buffer }>("SELECT records FROM ledger_outbox ORDER BY id");
  return rows.map((row) =>
    decodeOutboxBatch(row.records).map((record): DecodedOutgoing => {
      if (record.topic === codecs.outcomes.topic) {
        return {
          kind: "outcome",
          key: record.key,
          value: outcomeFromAvro(codecs.outcomes.decode(record.value)),
        };
      }
      if (record.topic === codecs.balanceChanged.topic) {
        return {
          kind: "balanceChanged",
          key: record.key,
          value: balanceChangedFromAvro(codecs.balanceChanged.decode(record.value)),
        };
      }
      throw new Error(`unexpected outbox topic ${record.topic}`);
    }),
  );
}

// --- Invariants ---------------------------------------------------------------------------------------

const invariantQueries: Readonly<Record<string, string>> = {
  "per asset, the sum of all balances is zero": `
    SELECT asset, sum(balance)::text AS total FROM ledger_accounts GROUP BY asset HAVING sum(balance) <> 0`,
  "every balance equals the sum of its account's entries": `
    SELECT a.iban, a.balance::text, coalesce(e.total, 0)::text AS entries
      FROM ledger_accounts a
      LEFT JOIN (SELECT account_id, sum(amount) AS total FROM ledger_entries GROUP BY account_id) e
        ON e.account_id = a.id
     WHERE a.balance <> coalesce(e.total, 0)`,
  "the newest entry's balance_after is the account's balance": `
    SELECT a.iban, a.balance::text, last.balance_after::text
      FROM ledger_accounts a
      JOIN LATERAL (SELECT balance_after FROM ledger_entries e WHERE e.account_id = a.id
                     ORDER BY e.id DESC LIMIT 1) last ON true
     WHERE last.balance_after <> a.balance`,
  "at most one entry per (command, account)": `
    SELECT command_id, account_id, count(*)::int AS entries FROM ledger_entries
     GROUP BY command_id, account_id HAVING count(*) > 1`,
  "a posted movement has two entries that cancel out": `
    SELECT command_id, count(*)::int AS entries, sum(amount)::text AS total FROM ledger_entries
     GROUP BY command_id HAVING count(*) <> 2 OR sum(amount) <> 0`,
  "every entry belongs to a CONFIRMED command": `
    SELECT e.command_id, c.status FROM ledger_entries e LEFT JOIN ledger_commands c USING (command_id)
     WHERE c.status IS DISTINCT FROM 'CONFIRMED'`,
  "no customer account below its overdraft limit": `
    SELECT iban, balance::text, debits_pending::text, overdraft_limit::text FROM ledger_accounts
     WHERE NOT system AND (balance < -overdraft_limit OR balance - debits_pending + overdraft_limit < 0)`,
  "reservations equal the open pending transfers": `
    SELECT a.iban, a.debits_pending::text, coalesce(d.total, 0)::text AS open_debits,
           a.credits_pending::text, coalesce(c.total, 0)::text AS open_credits
      FROM ledger_accounts a
      LEFT JOIN (SELECT debit_account_id AS id, sum(amount) AS total FROM ledger_transfers
                  WHERE phase = 'pending' GROUP BY 1) d ON d.id = a.id
      LEFT JOIN (SELECT credit_account_id AS id, sum(amount) AS total FROM ledger_transfers
                  WHERE phase = 'pending' GROUP BY 1) c ON c.id = a.id
     WHERE a.debits_pending <> coalesce(d.total, 0) OR a.credits_pending <> coalesce(c.total, 0)`,
};

/** Broken invariants with their offending rows; empty when the ledger is consistent. */
export async function ledgerViolations(pool: pg.Pool): Promise<Record<string, unknown[]>> {
  const violations: Record<string, unknown[]> = {};
  for (const [name, sql] of Object.entries(invariantQueries)) {
    const { rows } = await pool.query(sql);
    if (rows.length > 0) violations[name] = rows;
  }
  return violations;
}
