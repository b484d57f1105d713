/**
 * The naive baseline: Open Bank Mark's command handler shape, one PostgreSQL transaction per
 * transfer with row locks: idempotency check, SELECT … FOR UPDATE both accounts (in id order, so it
 * does not deadlock), check the balance, UPDATE both, INSERT the transfer, COMMIT. Runs in its own
 * schema of the same embedded PostgreSQL as the platform, with a closed loop of `concurrency`
 * workers, each holding one connection.
 */
import { randomUUID } from "node:crypto";
import pg from "pg";

export interface BaselineResult {
  readonly concurrency: number;
  readonly durationS: number;
  readonly transfers: number;
  readonly transfersPerSec: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
}

const schema = "bench_baseline";

export async function prepareBaseline(databaseUrl: string, accounts: number): Promise<void> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await client.query(`CREATE SCHEMA ${schema}`);
    await client.query(
      `CREATE TABLE ${schema}.accounts (id integer PRIMARY KEY, iban text NOT NULL UNIQUE, balance bigint NOT NULL)`,
    );
    await client.query(
      `CREATE TABLE ${schema}.transfers (id uuid PRIMARY KEY, debit_id integer NOT NULL, credit_id integer NOT NULL,
         amount bigint NOT NULL, status text NOT NULL, created_at timestamptz NOT NULL DEFAULT now())`,
    );
    await client.query(
      `INSERT INTO ${schema}.accounts (id, iban, balance)
       SELECT i, 'NL00BASE' || lpad(i::text, 10, '0'), 1000000000000 FROM generate_series(1, $1) AS i`,
      [accounts],
    );
    await client.query(`ANALYZE ${schema}.accounts`);
  } finally {
    await client.end();
  }
}

async function transferOnce(client: pg.Client, debit: number, credit: number, amount: number): Promise<void> {
  const id = randomUUID();
  await client.query("BEGIN");
  try {
    const seen = await client.query(`SELECT status FROM ${schema}.transfers WHERE id = $1`, [id]);
    if (seen.rowCount === 0) {
      const locked = await client.query(
        `SELECT id, balance FROM ${schema}.accounts WHERE id = ANY($1::int[]) ORDER BY id FOR UPDATE`,
        [[debit, credit]],
      );
      const from = locked.rows.find((row) => row.id === debit);
      const ok = from !== undefined && BigInt(from.balance) >= BigInt(amount);
      if (ok) {
        await client.query(`UPDATE ${schema}.accounts SET balance = balance - $2 WHERE id = $1`, [
          debit,
          amount,
        ]);
        await client.query(`UPDATE ${schema}.accounts SET balance = balance + $2 WHERE id = $1`, [
          credit,
          amount,
        ]);
      }
      await client.query(
        `INSERT INTO ${schema}.transfers (id, debit_id, credit_id, amount, status) VALUES ($1, $2, $3, $4, $5)`,
        [id, debit, credit, amount, ok ? "CONFIRMED" : "FAILED"],
      );
    }
    await client.query("COMMIT");
  } catch (error) {
    await client.query("ROLLBACK").catch(() => {});
    throw error;
  }
}

export async function runBaseline(
  databaseUrl: string,
  options: { accounts: number; concurrency: number; durationMs: number; onProgress?: (done: number) => void },
): Promise<BaselineResult> {
  const clients = await Promise.all(
    Array.from({ length: options.concurrency }, async () => {
      const client = new pg.Client({ connectionString: databaseUrl });
      await client.connect();
      return client;
    }),
  );
  const latencies: number[] = [];
  const startMs = performance.now();
  const endMs = startMs + options.durationMs;
  const ticker = setInterval(() => options.onProgress?.(latencies.length), 1_000);
  try {
    await Promise.all(
      clients.map(async (client) => {
        while (performance.now() < endMs) {
          const debit = 1 + Math.floor(Math.random() * options.accounts);
          let credit = 1 + Math.floor(Math.random() * options.accounts);
          if (credit === debit) credit = (debit % options.accounts) + 1;
          const began = performance.now();
          await transferOnce(client, debit, credit, 1 + Math.floor(Math.random() * 10_000));
          latencies.push(performance.now() - began);
        }
      }),
    );
  } finally {
    clearInterval(ticker);
    await Promise.all(clients.map((client) => client.end().catch(() => {})));
  }
  const elapsedS = (performance.now() - startMs) / 1000;
  latencies.sort((a, b) => a - b);
  const at = (p: number) =>
    latencies[Math.min(latencies.length - 1, Math.ceil(p * latencies.length) - 1)] ?? 0;
  return {
    concurrency: options.concurrency,
    durationS: elapsedS,
    transfers: latencies.length,
    transfersPerSec: Math.round(latencies.length / elapsedS),
    p50Ms: at(0.5),
    p99Ms: at(0.99),
  };
}
