/**
 * The receipt chain in PostgreSQL: receipts are appended as issued; the sealer closes a block every
 * `sealIntervalMs` or once `blockSizeMax` receipts wait — Merkle root of its receipts, the previous
 * block's hash, signed header — under an advisory lock so one sealer runs at a time.
 *
 * Receipts are written once and never updated: a block records the contiguous seq range it seals
 * (token_blocks.first_seq, last_seq); its leaves are that range's receipts in seq order.
 */
import type pg from "pg";
import { inTransaction, prepared } from "../platform/db/pool.ts";
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
  /** Computed, not stored: the block whose seq range holds this receipt; null while unsealed. */
  readonly blockHeight: number | null;
  /** Computed: the position among that block's receipts in seq order. */
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
  // One call takes the appenders' shared lock and inserts (migration 0013): see `sealBlock`.
  const { rows } = await client.query(
    prepared(
      "SELECT token_append_receipts($1::uuid[], $2::text[], $3::text[], $4::text[], $5::bigint) AS added",
    ),
    [
      receipts.map((r) => r.tokenId),
      receipts.map((r) => r.text),
      receipts.map((r) => r.signature),
      receipts.map((r) => r.leaf),
      nowMs,
    ],
  );
  return Number(rows[0].added);
}

/** One sealer at a time, across processes. */
const sealLock = 7_272_011;
/** Appenders hold it shared while they draw seqs and insert (token_append_receipts, migration 0013). */
const appendLock = 7_272_013;
/** PostgreSQL's "lock_not_available", raised when lock_timeout expires. */
const lockNotAvailable = "55P03";

/**
 * Seals at most one block: the receipts after the previous block's range, in seq order, at most
 * `blockSizeMax`. Its height, or undefined when none wait, another sealer runs, or appenders kept
 * the chain busy for `appendersWaitMaxMs` (the next call tries again).
 *
 * Receipts are never updated: the block records its seq range. With the appenders' lock held
 * exclusively no append is in flight, so every seq after the previous range is committed (or rolled
 * back, leaving a gap) and no later append can draw a lower one. While the sealer waits for that
 * lock new appends queue behind it; it holds the lock only to read ≤ blockSizeMax leaf hashes and
 * insert one block, and waits at most `appendersWaitMaxMs`, so appends are never held up for long.
 */
export async function sealBlock(
  pool: pg.Pool,
  keys: ChainKeys,
  blockSizeMax: number,
  nowMs: number,
  appendersWaitMaxMs = 250,
): Promise<number | undefined> {
  try {
    return await inTransaction(pool, async (client) => {
      // Each statement must see what committed before it, so the receipts read after the lock is
      // taken include every finished append, whatever the server's default isolation.
      await client.query("SET TRANSACTION ISOLATION LEVEL READ COMMITTED");
      const locked = await client.query(
        prepared("SELECT pg_try_advisory_xact_lock($1) AS ok, set_config('lock_timeout', $2, true)"),
        [sealLock, `${appendersWaitMaxMs}ms`],
      );
      if (!locked.rows[0].ok) return undefined;
      await client.query(prepared("SELECT pg_advisory_xact_lock($1)"), [appendLock]);
      const last = await client.query(
        "SELECT height, header_hash, last_seq FROM token_blocks ORDER BY height DESC LIMIT 1",
      );
      const head = last.rows[0] as { height: string; header_hash: string; last_seq: string } | undefined;
      const { rows } = await client.query(
        prepared("SELECT seq, leaf_hash FROM token_receipts WHERE seq > $1 ORDER BY seq LIMIT $2"),
        [head?.last_seq ?? 0, blockSizeMax],
      );
      if (rows.length === 0) return undefined;
      const height = head ? Number(head.height) + 1 : 0;
      const firstSeq = String(rows[0].seq);
      const lastSeq = String(rows[rows.length - 1].seq);
      const header: BlockHeader = {
        v: 1,
        height,
        previousHash: head?.header_hash ?? genesisHash,
        merkleRoot: merkleRoot(rows.map((r) => Buffer.from(r.leaf_hash, "hex"))).toString("hex"),
        count: rows.length,
        firstSeq,
        lastSeq,
        sealedAtMs: nowMs,
        keyId: keys.keyId,
      };
      const text = canonicalJson(header);
      await client.query(
        prepared(`INSERT INTO token_blocks (height, header, header_hash, signature, sealed_at_ms, first_seq, last_seq)
         VALUES ($1, $2, $3, $4, $5, $6, $7)`),
        [height, text, sha256Hex(text), signText(text, keys.privateKey), nowMs, firstSeq, lastSeq],
      );
      return height;
    });
  } catch (error) {
    if ((error as { code?: unknown } | null)?.code === lockNotAvailable) return undefined;
    throw error;
  }
}

/**
 * A receipt with its block and leaf index, computed: the block whose range holds its seq, and its
 * position among that range's receipts. Both are null while it waits to be sealed.
 */
export async function findReceipt(
  db: pg.Pool | pg.PoolClient,
  tokenId: string,
): Promise<StoredReceipt | undefined> {
  const { rows } = await db.query(
    prepared(`SELECT r.*, b.height AS block_height,
            CASE WHEN b.height IS NOT NULL THEN
              (SELECT count(*) FROM token_receipts x WHERE x.seq >= b.first_seq AND x.seq < r.seq)
            END AS leaf_index
       FROM token_receipts r
       LEFT JOIN token_blocks b ON int8range(b.first_seq, b.last_seq, '[]') @> r.seq
      WHERE r.token_id = $1`),
    [tokenId],
  );
  return rows[0] ? receiptFromRow(rows[0]) : undefined;
}

/** A sealed block and its leaf hashes in leaf order. */
export async function blockWithLeaves(
  db: pg.Pool | pg.PoolClient,
  height: number,
): Promise<{ block: StoredBlock; leaves: Buffer[] } | undefined> {
  const { rows } = await db.query(
    prepared(`SELECT b.*, ARRAY(SELECT r.leaf_hash FROM token_receipts r
                        WHERE r.seq BETWEEN b.first_seq AND b.last_seq ORDER BY r.seq) AS leaves
       FROM token_blocks b WHERE b.height = $1`),
    [height],
  );
  const row = rows[0];
  if (!row) return undefined;
  return {
    block: blockFromRow(row),
    leaves: (row.leaves as string[]).map((leaf) => Buffer.from(leaf, "hex")),
  };
}

export function receiptFromRow(row: Record<string, unknown>): StoredReceipt {
  return {
    seq: String(row.seq),
    tokenId: row.token_id as string,
    body: row.body as string,
    signature: row.signature as string,
    leafHash: row.leaf_hash as string,
    blockHeight: numberOrNull(row.block_height),
    leafIndex: numberOrNull(row.leaf_index),
  };
}

function numberOrNull(value: unknown): number | null {
  return value === null || value === undefined ? null : Number(value);
}

export function blockFromRow(row: Record<string, unknown>): StoredBlock {
  return {
    height: Number(row.height),
    header: row.header as string,
    headerHash: row.header_hash as string,
    signature: row.signature as string,
  };
}
