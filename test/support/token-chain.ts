/**
 * Token chain fixtures shared by tests and benchmarks: synthetic signed receipts, and the sealer as
 * it was before migration 0013 (receipts updated with their block and leaf index), for migration
 * tests and before/after measurements.
 */
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import type pg from "pg";
import { createPool, inTransaction } from "../../src/platform/db/pool.ts";
import { genesisHash, signReceipt } from "../../src/tokens/chain.ts";
import { type ChainKeys, canonicalJson, sha256Hex, signText } from "../../src/tokens/crypto.ts";
import { merkleRoot } from "../../src/tokens/merkle.ts";

export interface SyntheticReceipt {
  readonly tokenId: string;
  readonly text: string;
  readonly signature: string;
  readonly leaf: string;
}

/** Receipt number `n`: a move of n + 1 EUR cents with a token id derived from n. */
export function syntheticReceipt(
  n: number,
  keys: ChainKeys,
  description: string,
  atMs: number,
): SyntheticReceipt {
  const tokenId = `00000000-0000-4000-8000-${String(n).padStart(12, "0")}`;
  const signed = signReceipt(
    {
      v: 1,
      tokenId,
      kind: "move",
      transferId: tokenId,
      from: "NL39OPEN0000000001",
      to: "NL12OPEN0000000002",
      amount: String(n + 1),
      asset: "EUR",
      description,
      atMs,
      keyId: keys.keyId,
    },
    keys,
  );
  return { tokenId, ...signed };
}

/** The sealer before migration 0013, verbatim in its SQL: one block of at most `blockSizeMax`. */
export async function sealBlockBefore0013(
  pool: pg.Pool,
  keys: ChainKeys,
  blockSizeMax: number,
  nowMs: number,
): Promise<number | undefined> {
  return inTransaction(pool, async (client) => {
    const locked = await client.query("SELECT pg_try_advisory_xact_lock($1) AS ok", [7_272_011]);
    if (!locked.rows[0].ok) return undefined;
    const { rows } = await client.query(
      "SELECT seq, leaf_hash FROM token_receipts WHERE block_height IS NULL ORDER BY seq LIMIT $1",
      [blockSizeMax],
    );
    if (rows.length === 0) return undefined;
    const last = await client.query(
      "SELECT height, header_hash FROM token_blocks ORDER BY height DESC LIMIT 1",
    );
    const height = last.rows[0] ? Number(last.rows[0].height) + 1 : 0;
    const text = canonicalJson({
      v: 1,
      height,
      previousHash: last.rows[0]?.header_hash ?? genesisHash,
      merkleRoot: merkleRoot(rows.map((r) => Buffer.from(r.leaf_hash, "hex"))).toString("hex"),
      count: rows.length,
      firstSeq: String(rows[0].seq),
      lastSeq: String(rows[rows.length - 1].seq),
      sealedAtMs: nowMs,
      keyId: keys.keyId,
    });
    await client.query(
      "INSERT INTO token_blocks (height, header, header_hash, signature, sealed_at_ms) VALUES ($1, $2, $3, $4, $5)",
      [height, text, sha256Hex(text), signText(text, keys.privateKey), nowMs],
    );
    await client.query(
      `UPDATE token_receipts r SET block_height = $1, leaf_index = x.i - 1
         FROM unnest($2::bigint[]) WITH ORDINALITY AS x(seq, i) WHERE r.seq = x.seq`,
      [height, rows.map((r) => r.seq)],
    );
    return height;
  });
}

const migrationsDir = join(import.meta.dirname, "../../src/tokens/migrations");

/**
 * A new schema in `db` with the given migration files applied, and a pool whose unqualified names
 * resolve in it: the token tables as of an older migration, side by side with the current ones.
 * The caller ends the pool.
 */
export async function chainSchemaPool(
  db: { readonly pool: pg.Pool; readonly url: string },
  schema: string,
  migrations: readonly string[],
  statementTimeoutMs: number,
): Promise<pg.Pool> {
  await db.pool.query(`CREATE SCHEMA ${schema}`);
  const pool = createPool({
    url: `${db.url}&options=${encodeURIComponent(`-c search_path=${schema}`)}`,
    connectionsMax: 4,
    statementTimeoutMs,
  });
  for (const file of migrations) await pool.query(await readFile(join(migrationsDir, file), "utf8"));
  return pool;
}
