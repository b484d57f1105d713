import assert from "node:assert/strict";
import { test } from "node:test";
import { startTestDatabase } from "../../../test/support/postgres.ts";
import { UnavailableError } from "../errors.ts";
import { inTransaction } from "./pool.ts";

test("a connection killed mid-transaction rejects the work as unavailable and does not crash the process", async () => {
  const db = await startTestDatabase();
  try {
    const outcome = inTransaction(db.pool, async (client) => {
      const { rows } = await client.query("SELECT pg_backend_pid() AS pid");
      // Another session terminates this one, as a restart or failover would.
      await db.pool.query("SELECT pg_terminate_backend($1)", [rows[0].pid]);
      await new Promise((resolve) => setTimeout(resolve, 200));
      await client.query("SELECT 1");
    });
    await assert.rejects(outcome, (error) => error instanceof UnavailableError);
    // The pool recovers: a later query succeeds on a fresh connection.
    assert.equal((await db.pool.query("SELECT 1 AS one")).rows[0].one, 1);
  } finally {
    await db.close();
  }
});
