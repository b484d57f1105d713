import { createHash } from "node:crypto";
import pg from "pg";
import { UnavailableError } from "../errors.ts";
import { asInfrastructureError } from "./errors.ts";

export type Pool = pg.Pool;
export type PoolClient = pg.PoolClient;
/**
 * Where SQL runs: a pool (each statement its own transaction) or a client inside a transaction,
 * e.g. one a context lends to another so that both write atomically.
 */
export type SqlSession = Pick<pg.ClientBase, "query">;

export interface PoolOptions {
  readonly url: string;
  readonly connectionsMax: number;
  readonly statementTimeoutMs: number;
}

export function createPool(options: PoolOptions): pg.Pool {
  const pool = new pg.Pool({
    connectionString: options.url,
    max: options.connectionsMax,
    statement_timeout: options.statementTimeoutMs,
    connectionTimeoutMillis: 10_000,
  });
  // A client losing its connection (PostgreSQL restarting) emits "error": the pool handles it for
  // idle clients, but a client checked out mid-transaction would crash the process. Its pending
  // query rejects anyway, so callers see the failure and retry.
  pool.on("error", () => {});
  pool.on("connect", (client) => client.on("error", () => {}));
  return pool;
}

/** Runs `work` in one transaction; rolls back on any error. Connection failures become UnavailableError. */
export async function inTransaction<T>(
  pool: pg.Pool,
  work: (client: pg.PoolClient) => Promise<T>,
): Promise<T> {
  let client: pg.PoolClient;
  try {
    client = await pool.connect();
  } catch (cause) {
    throw new UnavailableError("PostgreSQL", { cause });
  }
  try {
    await client.query("BEGIN");
    const result = await work(client);
    await client.query("COMMIT");
    return result;
  } catch (error) {
    await client.query("ROLLBACK").catch(() => {});
    throw asInfrastructureError(error);
  } finally {
    client.release();
  }
}

const preparedNames = new Map<string, string>();

/**
 * A hot statement as a named prepared statement: parsed and planned once per connection instead of
 * on every call (planning was ~15% of PostgreSQL's statement time on the accept and handler paths).
 * Only for constant SQL text: each distinct text stays prepared on every connection.
 */
export function prepared(text: string): { readonly name: string; readonly text: string } {
  let name = preparedNames.get(text);
  if (name === undefined) {
    name = `lf_${createHash("sha1").update(text).digest("hex").slice(0, 16)}`;
    preparedNames.set(text, name);
  }
  return { name, text };
}
