/**
 * The receipt chain in PostgreSQL: receipts are appended as issued; the sealer closes a block every
 * `sealIntervalMs` or once `blockSizeMax` receipts wait — Merkle root of its receipts, the previous
 * block's hash, signed header — under an advisory lock so one sealer runs at a time.
 */
import type pg from "pg";
import { inTransaction } from "../platform/db/pool.ts";
import { type ChainKeys, canonicalJson, leafHash, sha256Hex, signText } from "./crypto.ts";
import { merkleRoot } from "./merkle.ts";

export const genesisHash = "0".repeat(64);

export interface ReceiptBody {
  readonly v: 1;
  readonly tokenId: string;
  /** mint: money entered the platform; burn: it left; move: it changed hands inside. */
  readonly kind: "mint" | "burn" | "move";
  readonly transferId: string;
  readonly from: string;
  readonly to: string;
  readonly amount: string;
  readonly asset: string;
  readonly description: string;
  readonly atMs: number;
  readonly keyId: string;
}

export interface BlockHeader {
  readonly v: 1;
  readonly height: number;
  readonly previousHash: string;
  readonly merkleRoot: string;
  readonly count: number;
  readonly firstSeq: string;
  readonly lastSeq: string;
  readonly sealedAtMs: number;
  readonly keyId: string;
}

export interface StoredReceipt {
  readonly seq: string;
  readonly tokenId: string;
  readonly body: string;
  readonly signature: string;
  readonly leafHash: string;
  readonly blockHeight: number | null;
  readonly leafIndex: number | null;
}

export interface StoredBlock {
  readonly height: number;
  readonly header: string;
  readonly headerHash: string;
  readonly signature: string;
}

export function signReceipt(body: ReceiptBody, keys: ChainKeys) {
  const text = canonicalJson(body);
  return signedReceipt(text, signText(text, keys.privateKey));
}

/** A receipt's stored form from its canonical text and signature (signed here or by a ReceiptSigner). */
export function signedReceipt(text: string, signature: string) {
  return { text, signature, leaf: leafHash(text, signature).toString("hex") };
}

/** Appends receipts (idempotent by token id); answers how many were new. */
export async function appendReceipts(
  client: pg.Pool | pg.PoolClient,
  receipts: readonly { tokenId: string; text: string; signature: string; leaf: string }[],
  nowMs: number,
): Promise<number> {
  if (receipts.length === 0) return 0;
  const { rowCount } = await client.query(
    `INSERT INTO token_receipts (token_id, body, signature, leaf_hash, created_at_ms)
     SELECT * FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::bigint[])
     ON CONFLICT (token_id) DO NOTHING`,
    [
      receipts.map((r) => r.tokenId),
      receipts.map((r) => r.text),
      receipts.map((r) => r.signature),
      receipts.map((r) => r.leaf),
      receipts.map(() => nowMs),
    ],
  );
  return rowCount ?? 0;
}

const sealLock = 7_272_011;

/** Seals at most one block of waiting receipts; its height, or undefined when none wait. */
export async function sealBlock(
  pool: pg.Pool,
  keys: ChainKeys,
  blockSizeMax: number,
  nowMs: number,
): Promise<number | undefined> {
  return inTransaction(pool, async (client) => {
    const locked = await client.query("SELECT pg_try_advisory_xact_lock($1) AS ok", [sealLock]);
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
    const header: BlockHeader = {
      v: 1,
      height,
      previousHash: last.rows[0]?.header_hash ?? genesisHash,
      merkleRoot: merkleRoot(rows.map((r) => Buffer.from(r.leaf_hash, "hex"))).toString("hex"),
      count: rows.length,
      firstSeq: String(rows[0].seq),
      lastSeq: String(rows[rows.length - 1].seq),
      sealedAtMs: nowMs,
      keyId: keys.keyId,
    };
    const text = canonicalJson(header);
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

export function receiptFromRow(row: Record<string, unknown>): StoredReceipt {
  return {
    seq: String(row.seq),
    tokenId: row.token_id as string,
    body: row.body as string,
    signature: row.signature as string,
    leafHash: row.leaf_hash as string,
    blockHeight: row.block_height === null ? null : Number(row.block_height),
    leafIndex: row.leaf_index === null ? null : Number(row.leaf_index),
  };
}

export function blockFromRow(row: Record<string, unknown>): StoredBlock {
  return {
    height: Number(row.height),
    header: row.header as string,
    headerHash: row.header_hash as string,
    signature: row.signature as string,
  };
}
