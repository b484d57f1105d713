/**
 * `ledgerflow verify`: checks the receipt chain and/or one receipt offline, trusting nothing but the
 * public key.
 *
 *   ledgerflow verify [--database-url URL] [--key FILE] [--signatures all|blocks]
 *   ledgerflow verify --receipt PROOF.json --key FILE
 *
 * --database-url  PostgreSQL holding the chain (default: LEDGERFLOW_DATABASE_URL, else the embedded
 *                 database of the data directory: the running platform's, or started for the check)
 * --key           public key, PEM or JWK (as served by GET /v1/chain/key); default: derived from
 *                 <data dir>/chain-ed25519.pem on this machine
 * --receipt       a proof document as served by GET /v1/tokens/{id}/proof
 * Exit status 0 when everything verifies, 1 when something does not, 2 on usage errors.
 */

import type { KeyObject } from "node:crypto";
import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import pg from "pg";
import { loadConfig } from "../app/config.ts";
import { openToolDatabase } from "../app/database.ts";
import { ConfigError } from "../platform/config.ts";
import { blockFromRow, receiptFromRow, type StoredBlock } from "./chain.ts";
import { keysFromPem, publicKeyFrom } from "./crypto.ts";
import { headerRange, type ProofDocument, verifyChain, verifyProofDocument } from "./verify.ts";

export interface VerifyResult {
  readonly ok: boolean;
  readonly lines: readonly string[];
}

async function loadKey(keyPath: string | undefined, dataDir: string): Promise<KeyObject> {
  const ownKey = join(resolve(dataDir), "chain-ed25519.pem");
  if (!keyPath && !existsSync(ownKey))
    throw new ConfigError(`no chain key at ${ownKey}: pass --key FILE (as served by GET /v1/chain/key)`);
  if (keyPath) {
    const text = await readFile(keyPath, "utf8");
    const parsed = text.trim().startsWith("{") ? JSON.parse(text) : undefined;
    // Accept the whole GET /v1/chain/key answer, a bare JWK, or PEM.
    if (parsed?.jwk) return publicKeyFrom(JSON.stringify(parsed.jwk));
    return publicKeyFrom(text);
  }
  return keysFromPem(await readFile(ownKey, "utf8")).publicKey;
}

/**
 * Verifies the whole chain stored in `pool`. A block's receipts are those in the seq range its signed
 * header names; the stored range (what proofs are served from) must equal it, and no receipt may
 * sit below the last sealed seq outside every block.
 */
export async function verifyStoredChain(pool: pg.Pool, key: KeyObject, signatures: "all" | "blocks") {
  // The blocks sealed when verification starts; later ones are left for the next run.
  const stored = (
    await pool.query("SELECT height, first_seq, last_seq FROM token_blocks ORDER BY height")
  ).rows.map((r) => ({
    height: Number(r.height),
    firstSeq: String(r.first_seq),
    lastSeq: String(r.last_seq),
  }));
  const sealedHeadSeq = stored.at(-1)?.lastSeq ?? "0";
  const problems: string[] = [];
  const signedRanges = new Map<number, { firstSeq: string; lastSeq: string }>();
  async function* blocks(): AsyncIterable<StoredBlock> {
    for (let i = 0; i < stored.length; i += 500) {
      const batch = stored.slice(i, i + 500);
      const { rows } = await pool.query(
        "SELECT * FROM token_blocks WHERE height = ANY($1::bigint[]) ORDER BY height",
        [batch.map((b) => b.height)],
      );
      for (const row of rows) {
        const block = blockFromRow(row);
        const storedRange = { firstSeq: String(row.first_seq), lastSeq: String(row.last_seq) };
        const signed = headerRange(block.header);
        const range = signed
          ? { firstSeq: String(signed.firstSeq), lastSeq: String(signed.lastSeq) }
          : storedRange;
        if (range.firstSeq !== storedRange.firstSeq || range.lastSeq !== storedRange.lastSeq)
          problems.push(
            `block ${block.height}: stored seq range ${storedRange.firstSeq}..${storedRange.lastSeq} differs from its header's ${range.firstSeq}..${range.lastSeq}`,
          );
        signedRanges.set(block.height, range);
        yield block;
      }
    }
  }
  // Each block's query starts right after the previous block's range, so a receipt in the gap
  // before a block (never sealed, or its block deleted: no proof can be served for it) is found
  // by the same index range scan, not by a probe per receipt.
  let previousLastSeq = 0n;
  const receiptsOf = async (height: number) => {
    const range = signedRanges.get(height);
    if (!range) return [];
    const { rows } = await pool.query(
      "SELECT * FROM token_receipts WHERE seq > $1 AND seq <= $2 ORDER BY seq",
      [String(previousLastSeq), range.lastSeq],
    );
    if (BigInt(range.lastSeq) > previousLastSeq) previousLastSeq = BigInt(range.lastSeq);
    const firstSeq = BigInt(range.firstSeq);
    const inGap = rows.filter((row) => BigInt(row.seq) < firstSeq);
    for (const row of inGap)
      problems.push(`receipt ${row.token_id} (seq ${row.seq}) is below the sealed head but in no block`);
    return rows
      .slice(inGap.length)
      .map((row, i) => ({ ...receiptFromRow(row), blockHeight: height, leafIndex: i }));
  };
  const unsealed = (
    await pool.query("SELECT * FROM token_receipts WHERE seq > $1 ORDER BY seq", [sealedHeadSeq])
  ).rows.map(receiptFromRow);
  const report = await verifyChain(blocks(), receiptsOf, unsealed, key, { signatures });
  return { ...report, problems: [...report.problems, ...problems] };
}

export async function runVerify(argv: readonly string[]): Promise<VerifyResult> {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      "database-url": { type: "string" },
      key: { type: "string" },
      receipt: { type: "string" },
      signatures: { type: "string", default: "blocks" },
    },
    allowPositionals: false,
  });
  if (values.signatures !== "all" && values.signatures !== "blocks")
    throw new ConfigError("--signatures must be all or blocks");
  const config = loadConfig(process.env, {});
  const checksChain = !values.receipt || values["database-url"] !== undefined;
  // The database first: it says which data directory is meant when it has none.
  const database = checksChain
    ? await openToolDatabase(config, values["database-url"] ?? config.database.url)
    : undefined;
  const key = await loadKey(values.key, config.dataDir).catch(async (error: unknown) => {
    await database?.close();
    throw error;
  });
  const lines: string[] = [];
  let ok = true;
  if (values.receipt) {
    const doc = JSON.parse(await readFile(values.receipt, "utf8")) as ProofDocument;
    const problems = verifyProofDocument(doc, key);
    ok &&= problems.length === 0;
    lines.push(
      problems.length === 0
        ? "receipt: OK (signature, inclusion proof, signed block header)"
        : "receipt: FAILED",
    );
    lines.push(...problems.map((p) => `  ${p}`));
  }
  if (!database) return { ok, lines };
  const pool = new pg.Pool({ connectionString: database.url, max: 2 });
  try {
    lines.push(`database: ${database.description}`);
    const startedMs = Date.now();
    const signatures = values.signatures === "all" ? "all" : "blocks";
    const report = await verifyStoredChain(pool, key, signatures);
    const seconds = (Date.now() - startedMs) / 1000;
    ok &&= report.problems.length === 0;
    lines.push(
      `chain: ${report.problems.length === 0 ? "OK" : "FAILED"} — ${report.blocks} blocks, ${report.receipts} receipts (${report.unsealed} unsealed), ${Math.round(report.receipts / Math.max(seconds, 0.001))} receipts/s`,
    );
    lines.push(...report.problems.slice(0, 100).map((p) => `  ${p}`));
    if (report.problems.length > 100) lines.push(`  … and ${report.problems.length - 100} more`);
  } finally {
    await pool.end();
    await database.close();
  }
  return { ok, lines };
}

if (import.meta.main) {
  runVerify(process.argv.slice(2)).then(
    (result) => {
      process.stdout.write(`${result.lines.join("\n")}\n`);
      process.exit(result.ok ? 0 : 1);
    },
    (error: unknown) => {
      process.stderr.write(`verify: ${error instanceof Error ? error.message : String(error)}\n`);
      process.exit(2);
    },
  );
}
