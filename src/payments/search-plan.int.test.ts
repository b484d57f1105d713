/**
 * GET /v1/payments reads pages newest first by keyset. On a real table that must be an index walk,
 * not a scan and sort of every payment: the plans of the searches the API makes name the indexes.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import type pg from "pg";
import { startTestDatabase, type TestDatabase } from "../../test/support/postgres.ts";
import { moduleMigrations } from "../app/modules.ts";
import { migrate } from "../platform/db/migrate.ts";
import { type PaymentFilter, searchPayments } from "./list.ts";

let db: TestDatabase;

before(async () => {
  db = await startTestDatabase();
  await migrate(db.pool, moduleMigrations);
});
after(async () => {
  await db?.close();
});

/** The plan PostgreSQL picks for the query `searchPayments` sends, with sequential scans priced out. */
async function planOf(filter: PaymentFilter): Promise<string> {
  let sent: { text: string; values: unknown[] } | undefined;
  const recorder = {
    query: async (text: string, values: unknown[]) => {
      sent = { text, values };
      return { rows: [] };
    },
  };
  await searchPayments(recorder as unknown as pg.Pool, filter, 50);
  assert.ok(sent);
  const client = await db.pool.connect();
  try {
    // An empty table is cheapest to scan; pricing scans out shows which index the query can use.
    await client.query("SET enable_seqscan = off; SET enable_bitmapscan = off");
    const { rows } = await client.query(`EXPLAIN ${sent.text}`, sent.values);
    return rows.map((row: { "QUERY PLAN": string }) => row["QUERY PLAN"]).join("\n");
  } finally {
    await client.query("RESET enable_seqscan; RESET enable_bitmapscan");
    client.release();
  }
}

describe("payment search plans", () => {
  test("staff paging through every payment walks payments_newest", async () => {
    const first = await planOf({});
    assert.match(first, /payments_newest/, first);
    const next = await planOf({
      after: { createdAtMs: 1_700_000_000_000, id: "00000000-0000-4000-8000-000000000000" },
    });
    assert.match(next, /payments_newest/, next);
    assert.doesNotMatch(next, /Sort/, next);
  });

  test("a search by IBAN walks payments_iban", async () => {
    const plan = await planOf({ iban: "NL91ABNA0417164300" });
    assert.match(plan, /payments_iban/, plan);
    assert.doesNotMatch(plan, /Sort/, plan);
  });
});
