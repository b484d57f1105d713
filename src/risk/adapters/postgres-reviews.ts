/**
 * The review queue and the rule facts in PostgreSQL (risk's own tables). Reviews are opened from
 * the ledger's outcomes (a transfer booked as held for review), decided by reviewers, and closed by
 * what the ledger did in the end (posted, voided, expired).
 */
import type pg from "pg";
import type { Review, ReviewPage, ReviewState, ReviewStore } from "../reviews.ts";
import { pairKey, type RuleFactsStore } from "../screenings.ts";

function reviewFromRow(row: Record<string, unknown>): Review {
  return {
    id: row.id as string,
    state: row.state as ReviewState,
    debitIban: row.debit_iban as string,
    creditIban: row.credit_iban as string,
    amount: BigInt(row.amount as string),
    asset: row.asset as string,
    kind: row.kind as string,
    openedAtMs: Number(row.opened_at_ms),
    expiresAtMs: Number(row.expires_at_ms),
    decidedAtMs: row.decided_at_ms === null ? null : Number(row.decided_at_ms),
    decidedBy: (row.decided_by as string | null) ?? null,
    reason: (row.reason as string | null) ?? null,
    decisionCommand: (row.decision_command as string | null) ?? null,
    ledgerPhase: (row.ledger_phase as string | null) ?? null,
  };
}

export function createPostgresReviewStore(pool: pg.Pool): ReviewStore {
  return {
    async open(reviews) {
      if (reviews.length === 0) return;
      const rows = reviews.map((r) => ({ ...r, amount: r.amount.toString() }));
      await pool.query(
        `INSERT INTO risk_reviews (id, state, debit_iban, credit_iban, amount, asset, kind, opened_at_ms, expires_at_ms)
         SELECT id, 'open', "debitIban", "creditIban", amount::numeric, asset, kind, "openedAtMs", "expiresAtMs"
           FROM jsonb_to_recordset($1::jsonb) AS r (id uuid, "debitIban" text, "creditIban" text, amount text,
             asset text, kind text, "openedAtMs" bigint, "expiresAtMs" bigint)
         ON CONFLICT (id) DO NOTHING`,
        [JSON.stringify(rows)],
      );
    },
    async get(id) {
      const { rows } = await pool.query("SELECT * FROM risk_reviews WHERE id = $1", [id]);
      return rows[0] ? reviewFromRow(rows[0]) : undefined;
    },
    async decide(decision) {
      const { rows } = await pool.query(
        `UPDATE risk_reviews SET state = $2, decided_at_ms = $3, decided_by = $4, reason = $5, decision_command = $6
          WHERE id = $1 AND state = 'open' RETURNING *`,
        [decision.id, decision.state, decision.atMs, decision.by, decision.reason, decision.commandId],
      );
      return rows[0] ? reviewFromRow(rows[0]) : undefined;
    },
    async closed(completions) {
      if (completions.length === 0) return;
      // The ledger has the last word: a hold that expired before its decision was posted is expired.
      await pool.query(
        `UPDATE risk_reviews AS r
            SET ledger_phase = c.phase,
                state = CASE WHEN c.phase = 'expired' THEN 'expired'
                             WHEN r.state = 'open' AND c.phase = 'posted' THEN 'approved'
                             WHEN r.state = 'open' THEN 'rejected' ELSE r.state END
           FROM unnest($1::uuid[], $2::text[]) AS c (id, phase)
          WHERE r.id = c.id`,
        [completions.map((c) => c.id), completions.map((c) => c.phase)],
      );
    },
    async page({ state, limit, after }) {
      const filter = state === "open" ? "state = 'open'" : state === "decided" ? "state <> 'open'" : "TRUE";
      const { rows } = await pool.query(
        `SELECT * FROM risk_reviews
          WHERE ${filter} AND ($2::bigint IS NULL OR (opened_at_ms, id) < ($2::bigint, $3::uuid))
          ORDER BY opened_at_ms DESC, id DESC LIMIT $1`,
        [limit + 1, after?.openedAtMs ?? null, after?.id ?? null],
      );
      const items = rows.slice(0, limit).map(reviewFromRow);
      const last = items.at(-1);
      const page: ReviewPage = {
        items,
        ...(rows.length > limit && last ? { next: { openedAtMs: last.openedAtMs, id: last.id } } : {}),
      };
      return page;
    },
  };
}

export function createPostgresRuleFacts(pool: pg.Pool): RuleFactsStore & {
  /** Records pairs money moved between (confirmed transfers), first time kept. */
  dealt(pairs: readonly { senderIban: string; receiverIban: string; atMs: number }[]): Promise<void>;
  /** Forgets up to `limit` transfer facts issued before `atMs` (older than any velocity window). */
  prune(atMs: number, limit: number): Promise<number>;
} {
  return {
    async senderHistory(transfers, windowMs, limit) {
      await pool.query(
        `INSERT INTO risk_transfer_facts (command_id, sender_iban, issued_at_ms)
         SELECT * FROM unnest($1::uuid[], $2::text[], $3::bigint[]) ON CONFLICT (command_id) DO NOTHING`,
        [
          transfers.map((t) => t.commandId),
          transfers.map((t) => t.senderIban),
          transfers.map((t) => t.issuedAtMs),
        ],
      );
      const { rows } = await pool.query(
        `SELECT t.command_id, h.issued_at_ms
           FROM unnest($1::uuid[], $2::text[], $3::bigint[]) AS t (command_id, sender_iban, issued_at_ms)
           CROSS JOIN LATERAL (
             SELECT f.issued_at_ms FROM risk_transfer_facts f
              WHERE f.sender_iban = t.sender_iban AND f.command_id <> t.command_id
                AND f.issued_at_ms > t.issued_at_ms - $4::bigint AND f.issued_at_ms <= t.issued_at_ms
              ORDER BY f.issued_at_ms DESC LIMIT $5) AS h`,
        [
          transfers.map((t) => t.commandId),
          transfers.map((t) => t.senderIban),
          transfers.map((t) => t.issuedAtMs),
          windowMs,
          limit,
        ],
      );
      const history = new Map<string, number[]>();
      for (const row of rows) {
        const list = history.get(row.command_id) ?? [];
        list.push(Number(row.issued_at_ms));
        history.set(row.command_id, list);
      }
      return history;
    },
    async knownPairs(pairs) {
      const { rows } = await pool.query(
        `SELECT c.sender_iban, c.receiver_iban FROM risk_counterparties c
           JOIN unnest($1::text[], $2::text[]) AS p (s, r) ON c.sender_iban = p.s AND c.receiver_iban = p.r`,
        [pairs.map((p) => p.senderIban), pairs.map((p) => p.receiverIban)],
      );
      return new Set(rows.map((row) => pairKey(row.sender_iban, row.receiver_iban)));
    },
    async prune(atMs, limit) {
      const { rowCount } = await pool.query(
        `DELETE FROM risk_transfer_facts WHERE command_id IN (
           SELECT command_id FROM risk_transfer_facts WHERE issued_at_ms < $1 LIMIT $2)`,
        [atMs, limit],
      );
      return rowCount ?? 0;
    },
    async dealt(pairs) {
      if (pairs.length === 0) return;
      await pool.query(
        `INSERT INTO risk_counterparties (sender_iban, receiver_iban, first_at_ms)
         SELECT s, r, min(at) FROM unnest($1::text[], $2::text[], $3::bigint[]) AS p (s, r, at) GROUP BY s, r
         ON CONFLICT DO NOTHING`,
        [pairs.map((p) => p.senderIban), pairs.map((p) => p.receiverIban), pairs.map((p) => p.atMs)],
      );
    },
  };
}
