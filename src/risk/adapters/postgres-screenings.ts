/** The screening log in PostgreSQL: every command blocked or held, with the entry, list version and rule hits. */
import type pg from "pg";
import { prepared } from "../../platform/db/pool.ts";
import type { RuleHit } from "../domain/rules.ts";
import type { ScreeningDecision, ScreeningLog, ScreeningRecord } from "../screenings.ts";

const orNull = <T>(value: unknown, as: (v: unknown) => T): T | null =>
  value === null || value === undefined ? null : as(value);

function recordFromRow(row: Record<string, unknown>): ScreeningRecord {
  return {
    commandId: row.command_id as string,
    decidedAtMs: Number(row.decided_at_ms),
    decision: row.decision as ScreeningDecision,
    commandKind: row.command_kind as string,
    partyRole: row.party_role as string,
    partyIban: row.party_iban as string,
    partyUserId: row.party_user_id as string,
    partyName: orNull(row.party_name, String),
    actorId: row.actor_id as string,
    counterpartyIban: row.counterparty_iban as string,
    amount: BigInt(row.amount as string),
    asset: row.asset as string,
    list: orNull(row.list, String),
    listVersion: orNull(row.list_version, Number),
    entryKind: orNull(row.entry_kind, String),
    entryValue: orNull(row.entry_value, String),
    entryDisplay: orNull(row.entry_display, String),
    score: orNull(row.score, Number),
    explanation: row.explanation as string,
    ruleHits: (row.rule_hits ?? []) as RuleHit[],
  };
}

const selectColumns = "*, (extract(epoch FROM decided_at) * 1000)::bigint AS decided_at_ms";

export function createPostgresScreeningLog(pool: pg.Pool): ScreeningLog {
  return {
    async find(commandIds) {
      if (commandIds.length === 0) return new Map();
      const { rows } = await pool.query(
        `SELECT ${selectColumns} FROM risk_screenings WHERE command_id = ANY($1::uuid[])`,
        [commandIds],
      );
      return new Map(rows.map((row) => [row.command_id as string, recordFromRow(row)]));
    },
    async record(records, within) {
      if (records.length === 0) return;
      const rows = records.map((r) => ({ ...r, amount: r.amount.toString() }));
      await within.query(prepared(recordSql), [JSON.stringify(rows)]);
    },
    async latest(limit) {
      const { rows } = await pool.query(
        `SELECT ${selectColumns} FROM risk_screenings ORDER BY decided_at DESC, command_id LIMIT $1`,
        [limit],
      );
      return rows.map(recordFromRow);
    },
  };
}

/**
 * One statement for a batch's decisions. A row already there can only be one left by a batch that
 * never committed (before decisions were written in the batch's transaction): the decision that
 * commits replaces it. (A second handler deciding the same batch at once waits here for the first
 * and then fails on the ledger's outcome key, rolling back what it wrote.)
 */
const recordSql = `INSERT INTO risk_screenings (command_id, decided_at, decision, command_kind, party_role, party_iban,
    party_user_id, actor_id, counterparty_iban, amount, asset, list, list_version, entry_kind,
    entry_value, entry_display, score, explanation, party_name, rule_hits)
  SELECT "commandId", to_timestamp("decidedAtMs" / 1000.0), decision, "commandKind", "partyRole",
    "partyIban", "partyUserId", "actorId", "counterpartyIban", amount::numeric, asset, list,
    "listVersion", "entryKind", "entryValue", "entryDisplay", score, explanation, "partyName",
    coalesce("ruleHits", '[]')
    FROM jsonb_to_recordset($1::jsonb) AS r ("commandId" uuid, "decidedAtMs" double precision,
      decision text, "commandKind" text, "partyRole" text, "partyIban" text, "partyUserId" uuid,
      "actorId" text, "counterpartyIban" text, amount text, asset text, list text,
      "listVersion" integer, "entryKind" text, "entryValue" text, "entryDisplay" text,
      score double precision, explanation text, "partyName" text, "ruleHits" jsonb)
  ON CONFLICT (command_id) DO UPDATE SET (decided_at, decision, command_kind, party_role, party_iban,
    party_user_id, actor_id, counterparty_iban, amount, asset, list, list_version, entry_kind,
    entry_value, entry_display, score, explanation, party_name, rule_hits) =
    (excluded.decided_at, excluded.decision, excluded.command_kind, excluded.party_role,
     excluded.party_iban, excluded.party_user_id, excluded.actor_id, excluded.counterparty_iban,
     excluded.amount, excluded.asset, excluded.list, excluded.list_version, excluded.entry_kind,
     excluded.entry_value, excluded.entry_display, excluded.score, excluded.explanation,
     excluded.party_name, excluded.rule_hits)`;
