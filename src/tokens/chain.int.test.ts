/**
 * The insert-only receipt chain against a real PostgreSQL: appenders racing a sealer, and migration
 * 0013 turning blocks sealed the old way (receipts marked with their block) into seq ranges.
 */
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import type pg from "pg";
import { startTestDatabase, type TestDatabase } from "../../test/support/postgres.ts";
import { chainSchemaPool, sealBlockBefore0013, syntheticReceipt } from "../../test/support/token-chain.ts";
import { seededRandom } from "../platform/clock.ts";
import { inTransaction } from "../platform/db/pool.ts";
import { appendReceipts, type BlockHeader, blockWithLeaves, findReceipt, sealBlock } from "./chain.ts";
import { generateChainKeys } from "./crypto.ts";
import { inclusionProof } from "./merkle.ts";
import { verifyProofDocument } from "./verify.ts";
import { verifyStoredChain } from "./verify-cli.ts";

const { keys } = generateChainKeys();
const nowMs = 1_700_000_000_000;
const migrationsDir = join(import.meta.dirname, "migrations");

let nextToken = 0;
function newReceipt() {
  const n = nextToken++;
  return syntheticReceipt(n, keys, `receipt ${n}`, nowMs + n);
}

/** Serves the proof of every receipt as GET /v1/tokens/{id}/proof does and checks it offline. */
async function assertEveryProofVerifies(pool: pg.Pool, tokenIds: Iterable<string>) {
  for (const tokenId of tokenIds) {
    const receipt = await findReceipt(pool, tokenId);
    assert.ok(receipt, tokenId);
    assert.ok(receipt.blockHeight !== null && receipt.leafIndex !== null, `${tokenId} is sealed`);
    const sealed = await blockWithLeaves(pool, receipt.blockHeight);
    assert.ok(sealed);
    const doc = {
      receipt: { body: receipt.body, signature: receipt.signature },
      proof: {
        leafIndex: receipt.leafIndex,
        treeSize: sealed.leaves.length,
        path: inclusionProof(sealed.leaves, receipt.leafIndex).map((h) => h.toString("hex")),
      },
      block: sealed.block,
    };
    assert.deepEqual(verifyProofDocument(doc, keys.publicKey), [], tokenId);
  }
}

async function sealEverything(pool: pg.Pool, blockSizeMax: number) {
  while ((await sealBlock(pool, keys, blockSizeMax, nowMs)) !== undefined) {}
}

describe("insert-only receipt chain", () => {
  let db: TestDatabase;
  before(async () => {
    db = await startTestDatabase();
  });
  after(async () => db?.close());

  test("receipts committed out of seq order while sealers run each end up in exactly one block", async () => {
    const random = seededRandom(13);
    const blockSizeMax = 16;
    const committed = new Set<string>();
    const rolledBack = new Set<string>();
    let appending = true;
    const appender = async () => {
      const client = await db.pool.connect();
      try {
        for (let round = 0; round < 40; round++) {
          const batch = Array.from({ length: 1 + Math.floor(random.next() * 8) }, newReceipt);
          if (round % 5 === 4) {
            // Outside an explicit transaction the call is its own transaction.
            assert.equal(await appendReceipts(client, batch, nowMs), batch.length);
            for (const r of batch) committed.add(r.tokenId);
            continue;
          }
          await client.query("BEGIN");
          assert.equal(await appendReceipts(client, batch, nowMs), batch.length);
          // Held open so that appenders drawing higher seqs commit first.
          await sleep(random.next() * 8);
          if (random.next() < 0.15) {
            await client.query("ROLLBACK");
            for (const r of batch) rolledBack.add(r.tokenId);
          } else {
            await client.query("COMMIT");
            for (const r of batch) committed.add(r.tokenId);
          }
          await sleep(random.next() * 4);
        }
        // Appending again is idempotent.
        const again = [...committed]
          .slice(0, 3)
          .map((tokenId) => ({ tokenId, text: "", signature: "", leaf: "" }));
        assert.equal(await appendReceipts(client, again, nowMs), 0);
      } finally {
        client.release();
      }
    };
    const sealedHeights: number[] = [];
    const sealer = async () => {
      while (appending) {
        // Keeps up with the appenders, so blocks close on seqs whose appends are still open.
        const height = await sealBlock(db.pool, keys, blockSizeMax, nowMs);
        if (height !== undefined) sealedHeights.push(height);
        else await sleep(random.next());
      }
    };
    const sealers = [sealer(), sealer()];
    await Promise.all([appender(), appender(), appender(), appender()]);
    appending = false;
    await Promise.all(sealers);
    await sealEverything(db.pool, blockSizeMax);

    assert.ok(sealedHeights.length > 10, `sealed while appending: ${sealedHeights.length} blocks`);
    assert.equal(new Set(sealedHeights).size, sealedHeights.length, "one sealer per height");
    const stored = (await db.pool.query("SELECT token_id FROM token_receipts")).rows.map((r) => r.token_id);
    assert.deepEqual(new Set(stored), committed);
    assert.ok(rolledBack.size > 0, "some appends rolled back, leaving seq gaps");

    const blocks = (
      await db.pool.query(
        `SELECT b.height, b.first_seq, b.last_seq, b.header,
                (SELECT count(*)::int FROM token_receipts r WHERE r.seq BETWEEN b.first_seq AND b.last_seq) AS inside
           FROM token_blocks b ORDER BY height`,
      )
    ).rows;
    let previousLast = 0n;
    let total = 0;
    for (const [i, b] of blocks.entries()) {
      const header = JSON.parse(b.header) as BlockHeader;
      assert.equal(Number(b.height), i);
      assert.ok(BigInt(b.first_seq) > previousLast, `block ${i} starts after block ${i - 1}`);
      assert.equal(header.firstSeq, String(b.first_seq));
      assert.equal(header.lastSeq, String(b.last_seq));
      assert.equal(header.count, b.inside, `block ${i} holds exactly the receipts of its range`);
      assert.ok(header.count >= 1 && header.count <= blockSizeMax);
      previousLast = BigInt(b.last_seq);
      total += header.count;
    }
    assert.equal(total, committed.size, "every receipt is in exactly one block");

    const report = await verifyStoredChain(db.pool, keys.publicKey, "all");
    assert.deepEqual(report.problems, []);
    assert.equal(report.unsealed, 0);
    assert.equal(report.receipts, committed.size);
    await assertEveryProofVerifies(db.pool, committed);
  });

  test("a sealer gives up on an append left open instead of holding the appenders back", async () => {
    await sealEverything(db.pool, 100);
    const open = await db.pool.connect();
    try {
      await open.query("BEGIN");
      await appendReceipts(open, [newReceipt()], nowMs);
      const startedMs = performance.now();
      const sealing = sealBlock(db.pool, keys, 100, nowMs, 100);
      // Queued behind the waiting sealer, then let through when it gives up.
      await sleep(20);
      const other = newReceipt();
      assert.equal(await appendReceipts(db.pool, [other], nowMs), 1);
      assert.equal(await sealing, undefined, "nothing sealed while an append is in flight");
      const waitedMs = performance.now() - startedMs;
      assert.ok(waitedMs >= 90 && waitedMs < 2_000, `waited ${waitedMs.toFixed(0)} ms`);
      await open.query("COMMIT");
    } finally {
      open.release();
    }
    const height = await sealBlock(db.pool, keys, 100, nowMs);
    assert.ok(height !== undefined);
    const sealed = await blockWithLeaves(db.pool, height);
    assert.equal(sealed?.leaves.length, 2, "both appends sealed, in one block");
  });

  describe("migration 0013 on a chain sealed the old way", () => {
    const schemaPools: pg.Pool[] = [];
    after(async () => {
      for (const pool of schemaPools) await pool.end();
    });

    /** A pool whose unqualified names resolve in `schema`, holding the chain tables as of 0011. */
    const legacySchema = async (schema: string) => {
      const pool = await chainSchemaPool(db, schema, ["0011_tokens.sql"], 30_000);
      schemaPools.push(pool);
      return pool;
    };
    const applyRangeMigration = async (pool: pg.Pool) => {
      const sql = await readFile(join(migrationsDir, "0013_token_ranges.sql"), "utf8");
      await inTransaction(pool, async (client) => client.query(sql));
    };
    const legacyAppend = async (pool: pg.Pool, receipts: readonly ReturnType<typeof newReceipt>[]) => {
      for (const r of receipts)
        await pool.query(
          "INSERT INTO token_receipts (token_id, body, signature, leaf_hash, created_at_ms) VALUES ($1, $2, $3, $4, $5)",
          [r.tokenId, r.text, r.signature, r.leaf, nowMs],
        );
    };
    /** The sealer before 0013: every waiting receipt, updated with its block and leaf index. */
    const legacySeal = async (pool: pg.Pool) => {
      await sealBlockBefore0013(pool, keys, 1_000_000, nowMs);
    };
    /** Deletes a receipt, as if it were still in flight; `restore` commits it late with its seq. */
    const holdBack = async (pool: pg.Pool, tokenId: string) => {
      const { rows } = await pool.query("DELETE FROM token_receipts WHERE token_id = $1 RETURNING *", [
        tokenId,
      ]);
      const row = rows[0];
      return async () => {
        await pool.query(
          "INSERT INTO token_receipts (seq, token_id, body, signature, leaf_hash, created_at_ms) VALUES ($1, $2, $3, $4, $5, $6)",
          [row.seq, row.token_id, row.body, row.signature, row.leaf_hash, row.created_at_ms],
        );
      };
    };

    test("blocks become seq ranges, a receipt that committed late is moved past them, proofs still verify", async () => {
      const pool = await legacySchema("legacy_ok");
      const receipts = Array.from({ length: 12 }, newReceipt);
      await legacyAppend(pool, receipts.slice(0, 5));
      await legacySeal(pool);
      await legacyAppend(pool, receipts.slice(5, 10));
      const late = receipts[7] as ReturnType<typeof newReceipt>;
      const restore = await holdBack(pool, late.tokenId);
      await legacySeal(pool);
      await restore();
      await legacyAppend(pool, receipts.slice(10));

      await applyRangeMigration(pool);
      const ranges = (await pool.query("SELECT first_seq, last_seq FROM token_blocks ORDER BY height")).rows;
      assert.deepEqual(
        ranges.map((r) => [String(r.first_seq), String(r.last_seq)]),
        [
          ["1", "5"],
          ["6", "10"],
        ],
      );
      const lateSeq = (await pool.query("SELECT seq FROM token_receipts WHERE token_id = $1", [late.tokenId]))
        .rows[0].seq;
      assert.ok(BigInt(lateSeq) > 12n, `the late receipt moved from seq 8 to ${lateSeq}`);
      const before = await verifyStoredChain(pool, keys.publicKey, "all");
      assert.deepEqual(before.problems, []);
      assert.equal(before.unsealed, 3);
      await assertEveryProofVerifies(
        pool,
        [receipts[0], receipts[9]].map((r) => r?.tokenId as string),
      );

      // New appends and seals continue the chain from the migrated blocks.
      const more = Array.from({ length: 4 }, newReceipt);
      assert.equal(await appendReceipts(pool, more, nowMs), more.length);
      assert.equal(await sealBlock(pool, keys, 100, nowMs), 2);
      const after = await verifyStoredChain(pool, keys.publicKey, "all");
      assert.deepEqual(after.problems, []);
      assert.equal(after.unsealed, 0);
      assert.equal(after.receipts, 16);
      await assertEveryProofVerifies(
        pool,
        [...receipts, ...more].map((r) => r.tokenId),
      );
    });

    test("blocks whose receipts overlap another block's range stop the migration", async () => {
      const pool = await legacySchema("legacy_overlap");
      const receipts = Array.from({ length: 6 }, newReceipt);
      await legacyAppend(pool, receipts);
      const restore = await holdBack(pool, (receipts[2] as ReturnType<typeof newReceipt>).tokenId);
      await legacySeal(pool);
      await restore();
      await legacySeal(pool);
      await assert.rejects(applyRangeMigration(pool), /outside the seq range of their block/);
      // Nothing was changed: the old columns are still there.
      await pool.query("SELECT block_height, leaf_index FROM token_receipts");
    });
  });
});
