/**
 * `ledgerflow verify`: checks the receipt chain and/or one receipt offline, trusting nothing but the
 * public key.
 *
 *   ledgerflow verify [--database-url URL] [--key FILE] [--signatures all|blocks]
 *   ledgerflow verify --receipt PROOF.json --key FILE
 *
 * --database-url  PostgreSQL holding the chain (default: LEDGERFLOW_DATABASE_URL, else the embedded
 *                 database of a running platform on LEDGERFLOW_EMBEDDED_PG_PORT / 54330)
 * --key           public key, PEM or JWK (as served by GET /v1/chain/key); default: derived from
 *                 <data dir>/chain-ed25519.pem on this machine
 * --receipt       a proof document as served by GET /v1/tokens/{id}/proof
 * Exit status 0 when everything verifies, 1 when something does not, 2 on usage errors.
 */

import type { KeyObject } from "node:crypto";
import { readFile } from "node:fs/promises";
import { parseArgs } from "node:util";
import pg from "pg";
import { loadConfig } from "../platform/config.ts";
import { blockFromRow, receiptFromRow, type StoredBlock } from "./chain.ts";
import { keysFromPem, publicKeyFrom } from "./crypto.ts";
import { type ProofDocument, verifyChain, verifyProofDocument } from "./verify.ts";

export interface VerifyResult {
  readonly ok: boolean;
  readonly lines: readonly string[];
}

async function loadKey(keyPath: string | undefined, dataDir: string): Promise<KeyObject> {
  if (keyPath) {
    const text = await readFile(keyPath, "utf8");
    const parsed = text.trim().startsWith("{") ? JSON.parse(text) : undefined;
    // Accept the whole GET /v1/chain/key answer, a bare JWK, or PEM.
    if (parsed?.jwk) return publicKeyFrom(JSON.stringify(parsed.jwk));
    return publicKeyFrom(text);
  }
  return keysFromPem(await readFile(`${dataDir}/chain-ed25519.pem`, "utf8")).publicKey;
}

/** Verifies the whole chain stored in `pool`. */
export async function verifyStoredChain(pool: pg.Pool, key: KeyObject, signatures: "all" | "blocks") {
  const heights = (await pool.query("SELECT height FROM token_blocks ORDER BY height")).rows.map((r) =>
    Number(r.height),
  );
  async function* blocks(): AsyncIterable<StoredBlock> {
    for (let i = 0; i < heights.length; i += 500) {
      const { rows } = await pool.query(
        "SELECT * FROM token_blocks WHERE height = ANY($1::bigint[]) ORDER BY height",
        [heights.slice(i, i + 500)],
      );
      for (const row of rows) yield blockFromRow(row);
    }
  }
  const receiptsOf = async (height: number) =>
    (
      await pool.query("SELECT * FROM token_receipts WHERE block_height = $1 ORDER BY leaf_index", [height])
    ).rows.map(receiptFromRow);
  const unsealed = (
    await pool.query("SELECT * FROM token_receipts WHERE block_height IS NULL ORDER BY seq")
  ).rows.map(receiptFromRow);
  // Receipts whose block was deleted would otherwise go unnoticed.
  const orphaned = await pool.query(
    "SELECT count(*)::int AS n FROM token_receipts r WHERE r.block_height IS NOT NULL AND NOT EXISTS (SELECT 1 FROM token_blocks b WHERE b.height = r.block_height)",
  );
  const report = await verifyChain(blocks(), receiptsOf, unsealed, key, { signatures });
  const problems = [...report.problems];
  if (orphaned.rows[0].n > 0) problems.push(`${orphaned.rows[0].n} receipts point to a missing block`);
  return { ...report, problems };
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
  const config = loadConfig(process.env, {});
  const key = await loadKey(values.key, config.dataDir);
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
    if (!values["database-url"]) return { ok, lines };
  }
  const url =
    values["database-url"] ??
    config.database.url ??
    `postgres://postgres:ledgerflow-local@127.0.0.1:${config.database.embeddedPort}/postgres`;
  const pool = new pg.Pool({ connectionString: url, max: 2 });
  try {
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
