import type pg from "pg";
import { inTransaction, prepared } from "../../platform/db/pool.ts";
import { InfrastructureError } from "../../platform/errors.ts";
import type { PostgresLog } from "../../platform/log/adapters/postgres.ts";
import { encodeOutboxBatch } from "../../platform/outbox.ts";
import type { AccountState, PendingState, PendingTransferState, TransferKind } from "../domain/types.ts";
import type { BatchChanges, LedgerStore, LedgerTransaction, OutgoingEvent, StoredOutcome } from "../store.ts";

const accountColumns =
  "id, iban, owner_id, asset, balance, debits_pending, credits_pending, overdraft_limit, system, token_hash";

export function accountFromRow(row: Record<string, unknown>): AccountState {
  return {
    id: row.id as string,
    iban: row.iban as string,
    ownerId: row.owner_id as string,
    asset: row.asset as string,
    balance: BigInt(row.balance as string),
    debitsPending: BigInt(row.debits_pending as string),
    creditsPending: BigInt(row.credits_pending as string),
    overdraftLimit: BigInt(row.overdraft_limit as string),
    system: row.system as boolean,
    tokenHash: row.token_hash as string,
  };
}

export function outcomeFromRow(row: Record<string, unknown>): StoredOutcome {
  return {
    commandId: row.command_id as string,
    fingerprint: row.fingerprint as string,
    type: row.type as StoredOutcome["type"],
    status: row.status as StoredOutcome["status"],
    ...(row.reason ? { reason: row.reason as string } : {}),
    result: row.result as Record<string, string>,
    actorId: row.actor_id as string,
    issuedAtMs: Number(row.issued_at_ms),
    decidedAtMs: Number(row.decided_at_ms),
  };
}

const str = (value: bigint | number): string => value.toString();

/**
 * Where a batch's outgoing events go, inside the batch's transaction. Returns what to run after
 * COMMIT (e.g. waking in-process consumers), if anything.
 */
export type OutboxWriter = (
  client: pg.PoolClient,
  outgoing: readonly OutgoingEvent[],
  nowMs: number,
) => Promise<(() => void) | undefined>;

/** Outbox table, published by the outbox relay: for a log outside PostgreSQL (Kafka). */
export const tableOutbox: OutboxWriter = async (client, outgoing, nowMs) => {
  await client.query(prepared("INSERT INTO ledger_outbox (records, created_at_ms) VALUES ($1, $2)"), [
    encodeOutboxBatch(outgoing),
    str(nowMs),
  ]);
  await client.query("NOTIFY ledger_outbox");
  return undefined;
};

/** Embedded mode: the log lives in the same database, so the events go straight into it. */
export function logOutbox(log: Pick<PostgresLog, "appendWithin">): OutboxWriter {
  return (client, outgoing) => log.appendWithin(client, outgoing);
}

function transaction(
  client: pg.PoolClient,
  outbox: OutboxWriter,
  onCommit: (afterCommit: () => void) => void,
): LedgerTransaction {
  return {
    session: client,
    async findOutcomes(commandIds) {
      if (commandIds.length === 0) return new Map();
      const { rows } = await client.query(
        prepared("SELECT * FROM ledger_commands WHERE command_id = ANY($1::uuid[])"),
        [commandIds],
      );
      return new Map(rows.map((row) => [row.command_id as string, outcomeFromRow(row)]));
    },

    async lockPendingTransfers(ids) {
      if (ids.length === 0) return [];
      const { rows } = await client.query(
        prepared(`SELECT id, kind, debit_account_id, credit_account_id, amount, asset, description, expires_at_ms, phase, review_id
           FROM ledger_transfers WHERE id = ANY($1::uuid[]) AND expires_at_ms IS NOT NULL ORDER BY id FOR UPDATE`),
        [ids],
      );
      return rows.map(
        (row): PendingTransferState => ({
          id: row.id,
          kind: row.kind as TransferKind,
          debitAccountId: row.debit_account_id,
          creditAccountId: row.credit_account_id,
          amount: BigInt(row.amount),
          asset: row.asset,
          description: row.description,
          expiresAtMs: Number(row.expires_at_ms),
          state: row.phase as PendingState,
          ...(row.review_id ? { reviewId: row.review_id as string } : {}),
        }),
      );
    },

    async lockAccounts(ids, ibans) {
      if (ids.length === 0 && ibans.length === 0) return [];
      // ORDER BY before FOR UPDATE: rows are locked in id order, the same order in every handler.
      const { rows } = await client.query(
        prepared(`SELECT ${accountColumns} FROM ledger_accounts
          WHERE id = ANY($1::uuid[]) OR iban = ANY($2::text[]) ORDER BY id FOR UPDATE`),
        [ids, ibans],
      );
      return rows.map(accountFromRow);
    },

    async allocateAccountSerials(count) {
      if (count === 0) return [];
      const { rows } = await client.query(
        prepared("SELECT nextval('ledger_account_serial') AS serial FROM generate_series(1, $1)"),
        [count],
      );
      return rows.map((row) => BigInt(row.serial));
    },

    async persist(changes) {
      await persist(client, changes);
      if (changes.outgoing.length === 0) return;
      const afterCommit = await outbox(client, changes.outgoing, changes.nowMs);
      if (afterCommit) onCommit(afterCommit);
    },
  };
}

/**
 * Writes a batch's state changes in ONE statement (data-modifying CTEs, one round trip instead of
 * up to six: round trips, not rows, dominate PostgreSQL's CPU per transfer here). The parts touch
 * different rows, so they need not see each other — except a pending transfer started and completed
 * in the same batch: its completion runs as a second statement, after the insert.
 */
async function persist(client: pg.PoolClient, changes: BatchChanges): Promise<void> {
  const { nowMs } = changes;
  const a = changes.createdAccounts;
  const u = changes.updatedAccounts;
  const started = changes.movements.filter((m) => m.phase === "single" || m.phase === "pending");
  const completed = changes.movements.filter((m) => m.phase !== "single" && m.phase !== "pending");
  const startedIds = new Set(started.map((m) => m.transferId));
  const completedLater = completed.some((m) => startedIds.has(m.transferId));
  const transferOf = new Map(changes.movements.map((m) => [m.commandId, m.transferId]));
  const b = changes.balanceChanges;
  const o = changes.outcomes;
  await client.query(prepared(persistSql), [
    a.map((x) => x.id),
    a.map((x) => x.iban),
    a.map((x) => x.ownerId),
    a.map((x) => x.asset),
    a.map((x) => str(x.balance)),
    a.map((x) => str(x.debitsPending)),
    a.map((x) => str(x.creditsPending)),
    a.map((x) => str(x.overdraftLimit)),
    a.map((x) => x.system),
    a.map((x) => x.tokenHash),
    str(nowMs),
    u.map((x) => x.id),
    u.map((x) => str(x.balance)),
    u.map((x) => str(x.debitsPending)),
    u.map((x) => str(x.creditsPending)),
    started.map((m) => m.transferId),
    started.map((m) => m.kind),
    started.map((m) => m.phase),
    started.map((m) => m.debitAccountId),
    started.map((m) => m.creditAccountId),
    started.map((m) => str(m.amount)),
    started.map((m) => m.asset),
    started.map((m) => m.description),
    started.map((m) => (m.expiresAtMs === undefined ? null : str(m.expiresAtMs))),
    started.map((m) => str(m.atMs)),
    b.map((x) => x.accountId),
    b.map((x) => transferOf.get(x.commandId) ?? x.commandId),
    b.map((x) => x.commandId),
    b.map((x) => x.asset),
    b.map((x) => str(x.changedBy)),
    b.map((x) => str(x.newBalance)),
    b.map((x) => x.counterpartyIban),
    b.map((x) => x.description),
    b.map((x) => str(x.atMs)),
    o.map((x) => x.commandId),
    o.map((x) => x.fingerprint),
    o.map((x) => x.type),
    o.map((x) => x.status),
    o.map((x) => x.reason ?? null),
    o.map((x) => JSON.stringify(x.result)),
    o.map((x) => x.actorId),
    o.map((x) => str(x.issuedAtMs)),
    o.map((x) => str(x.decidedAtMs)),
    completedLater ? [] : completed.map((m) => m.transferId),
    completedLater ? [] : completed.map((m) => m.phase),
    completedLater ? [] : completed.map((m) => str(m.atMs)),
    started.map((m) => m.reviewId ?? null),
  ]);
  if (completedLater) {
    await client.query(prepared(completeTransfersSql), [
      completed.map((m) => m.transferId),
      completed.map((m) => m.phase),
      completed.map((m) => str(m.atMs)),
    ]);
  }
}

const completeTransfersSql = `
UPDATE ledger_transfers AS t SET phase = u.phase, completed_at_ms = u.at
  FROM unnest($1::uuid[], $2::text[], $3::bigint[]) AS u (id, phase, at) WHERE t.id = u.id`;

const persistSql = `
WITH created AS (
  INSERT INTO ledger_accounts (id, iban, owner_id, asset, balance, debits_pending, credits_pending,
                               overdraft_limit, system, token_hash, created_at_ms)
  SELECT c.*, $11::bigint FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::bigint[], $6::bigint[],
                                      $7::bigint[], $8::bigint[], $9::boolean[], $10::text[]) AS c
), updated AS (
  UPDATE ledger_accounts AS t
     SET balance = u.balance, debits_pending = u.debits_pending, credits_pending = u.credits_pending
    FROM unnest($12::uuid[], $13::bigint[], $14::bigint[], $15::bigint[])
         AS u (id, balance, debits_pending, credits_pending)
   WHERE t.id = u.id
), started AS (
  INSERT INTO ledger_transfers (id, kind, phase, debit_account_id, credit_account_id, amount, asset,
                                description, expires_at_ms, created_at_ms, review_id)
  SELECT * FROM unnest($16::uuid[], $17::text[], $18::text[], $19::uuid[], $20::uuid[], $21::bigint[], $22::text[],
                       $23::text[], $24::bigint[], $25::bigint[], $47::uuid[])
), entries AS (
  INSERT INTO ledger_entries (account_id, transfer_id, command_id, asset, amount, balance_after,
                              counterparty_iban, description, at_ms)
  SELECT * FROM unnest($26::uuid[], $27::uuid[], $28::uuid[], $29::text[], $30::bigint[], $31::bigint[],
                       $32::text[], $33::text[], $34::bigint[])
), outcomes AS (
  INSERT INTO ledger_commands (command_id, fingerprint, type, status, reason, result, actor_id,
                               issued_at_ms, decided_at_ms)
  SELECT * FROM unnest($35::uuid[], $36::text[], $37::text[], $38::text[], $39::text[], $40::jsonb[], $41::text[],
                       $42::bigint[], $43::bigint[])
), completed AS (
  UPDATE ledger_transfers AS t SET phase = u.phase, completed_at_ms = u.at
    FROM unnest($44::uuid[], $45::text[], $46::bigint[]) AS u (id, phase, at) WHERE t.id = u.id
)
SELECT 1`;

export function createPostgresLedgerStore(pool: pg.Pool, outbox: OutboxWriter = tableOutbox): LedgerStore {
  return {
    async transaction(work) {
      let afterCommit: (() => void) | undefined;
      const result = await inTransaction(pool, (client) =>
        work(
          transaction(client, outbox, (after) => {
            afterCommit = after;
          }),
        ),
      ).catch((error: unknown) => {
        // Two handlers deciding the same command (a rebalance, a zombie) collide on a primary key:
        // the loser retries and then finds the winner's outcome.
        if ((error as { code?: unknown }).code === "23505") {
          throw new InfrastructureError("conflict", "another handler decided the same command", {
            cause: error,
          });
        }
        throw error;
      });
      afterCommit?.();
      return result;
    },
  };
}
