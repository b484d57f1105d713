/**
 * PostgreSQL persistence of payments: one row per payment holding the decider's state. A command is
 * applied in one transaction — lock the row, decide, evolve, write the row and the events to the
 * outbox — so state and published events never disagree.
 */
import type pg from "pg";
import { inTransaction } from "../platform/db/pool.ts";
import type { TopicCodec } from "../platform/log/topic-codecs.ts";
import { encodeOutboxBatch } from "../platform/outbox.ts";
import { apply } from "./domain/decide.ts";
import type { Attempt, Decision, PaymentCommand, PaymentState } from "./domain/types.ts";
import { eventToAvro } from "./schemas.ts";

export interface AppliedCommand {
  readonly decision: Decision;
  readonly state: PaymentState | undefined;
}

export interface PaymentStore {
  apply(
    command: PaymentCommand,
    nowMs: number,
    lease?: { owner: string; untilMs: number },
  ): Promise<AppliedCommand>;
  get(id: string): Promise<PaymentState | undefined>;
  /** Takes (or renews) the lease of an unfinished payment; false when another instance holds it. */
  lease(id: string, owner: string, nowMs: number, untilMs: number): Promise<boolean>;
  /** Gives the lease up; the payment is resumable by anyone from `retryAtMs`. */
  release(id: string, owner: string, retryAtMs: number): Promise<void>;
  /** Unfinished payments whose lease ran out (their driver died or gave up for now). */
  orphans(nowMs: number, limit: number): Promise<readonly string[]>;
}

export const paymentColumns =
  "id, direction, owner_id, iban, amount, asset, region, method, fingerprint, status, stage, reason, gateway, gateway_payment_id, ledger_transfer_id, attempts, created_at_ms, updated_at_ms, version";

export function paymentFromRow(row: Record<string, unknown>): PaymentState {
  const optional = (key: string, value: unknown) =>
    value === null || value === undefined ? {} : { [key]: value };
  return {
    id: row.id as string,
    direction: row.direction as PaymentState["direction"],
    ownerId: row.owner_id as string,
    iban: row.iban as string,
    amount: BigInt(row.amount as string),
    asset: row.asset as string,
    ...optional("region", row.region),
    ...optional("method", row.method),
    fingerprint: row.fingerprint as string,
    status: row.status as PaymentState["status"],
    stage: row.stage as PaymentState["stage"],
    ...optional("reason", row.reason),
    ...optional("gateway", row.gateway),
    ...optional("gatewayPaymentId", row.gateway_payment_id),
    ...optional("ledgerTransferId", row.ledger_transfer_id),
    attempts: row.attempts as Attempt[],
    createdAtMs: Number(row.created_at_ms),
    updatedAtMs: Number(row.updated_at_ms),
    version: row.version as number,
  };
}

/**
 * Writes the payment row after a decision. A lease given with the command is taken with it; without
 * one, the row keeps the lease it had.
 */
async function upsertPayment(
  client: pg.PoolClient,
  state: PaymentState,
  lease: { owner: string; untilMs: number } | undefined,
): Promise<void> {
  const values = [
    state.id,
    state.direction,
    state.ownerId,
    state.iban,
    state.amount.toString(),
    state.asset,
    state.region ?? null,
    state.method ?? null,
    state.fingerprint,
    state.status,
    state.stage,
    state.reason ?? null,
    state.gateway ?? null,
    state.gatewayPaymentId ?? null,
    state.ledgerTransferId ?? null,
    JSON.stringify(state.attempts),
    state.createdAtMs,
    state.updatedAtMs,
    state.version,
    lease?.owner ?? null,
    lease?.untilMs ?? 0,
  ];
  await client.query(
    `INSERT INTO payments (${paymentColumns}, lease_owner, lease_until_ms)
     VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15,$16,$17,$18,$19,$20,$21)
     ON CONFLICT (id) DO UPDATE SET status = $10, stage = $11, reason = $12, gateway = $13,
       gateway_payment_id = $14, ledger_transfer_id = $15, attempts = $16, updated_at_ms = $18,
       version = $19,
       lease_owner = COALESCE($20, payments.lease_owner),
       lease_until_ms = CASE WHEN $20::text IS NULL THEN payments.lease_until_ms ELSE $21 END`,
    values,
  );
}

export function createPaymentStore(pool: pg.Pool, eventCodec: TopicCodec): PaymentStore {
  return {
    async apply(command, nowMs, lease) {
      return inTransaction(pool, async (client) => {
        const { rows } = await client.query(
          `SELECT ${paymentColumns} FROM payments WHERE id = $1 FOR UPDATE`,
          [command.paymentId],
        );
        const before = rows[0] ? paymentFromRow(rows[0]) : undefined;
        const { decision, state } = apply(before, command, nowMs);
        if (!decision.ok || decision.events.length === 0 || !state) return { decision, state };
        await upsertPayment(client, state, lease);
        const records = decision.events.map((event) => ({
          topic: eventCodec.topic,
          key: event.paymentId,
          value: eventCodec.encode(eventToAvro(event)),
        }));
        await client.query("INSERT INTO payments_outbox (records) VALUES ($1)", [encodeOutboxBatch(records)]);
        return { decision, state };
      });
    },
    async get(id) {
      const { rows } = await pool.query(`SELECT ${paymentColumns} FROM payments WHERE id = $1`, [id]);
      return rows[0] ? paymentFromRow(rows[0]) : undefined;
    },
    async lease(id, owner, nowMs, untilMs) {
      const { rowCount } = await pool.query(
        `UPDATE payments SET lease_owner = $2, lease_until_ms = $4
          WHERE id = $1 AND stage <> 'done' AND (lease_owner = $2 OR lease_owner IS NULL OR lease_until_ms < $3)`,
        [id, owner, nowMs, untilMs],
      );
      return rowCount === 1;
    },
    async release(id, owner, retryAtMs) {
      await pool.query("UPDATE payments SET lease_until_ms = $3 WHERE id = $1 AND lease_owner = $2", [
        id,
        owner,
        retryAtMs,
      ]);
    },
    async orphans(nowMs, limit) {
      const { rows } = await pool.query(
        "SELECT id FROM payments WHERE stage <> 'done' AND lease_until_ms < $1 ORDER BY lease_until_ms LIMIT $2",
        [nowMs, limit],
      );
      return rows.map((r) => r.id as string);
    },
  };
}
