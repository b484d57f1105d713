/**
 * What the receipt chain costs PostgreSQL per receipt, before and after migration 0013, on the
 * embedded PostgreSQL of the tests: appends `--receipts` receipts in batches of `--batch` as the
 * tokenizer does, sealing a block of `--block` whenever that many wait, and reports wall time and
 * server time (pg_stat_statements) per receipt.
 *
 *   node bench/token-chain-cost.ts [--receipts 50000] [--batch 500] [--block 1000] [--rounds 2] [--detail]
 *
 * --detail also lists each run's five costliest statements.
 *
 * "before" runs the statements of the previous chain.ts and service.ts (per-receipt UPDATE when
 * sealing, a count of waiting receipts after every batch) on the schema of migration 0011 alone;
 * "after" runs today's appendReceipts and sealBlock on 0011 + 0013. Each run gets a fresh schema in
 * the same database; runs alternate so neither side always goes first.
 */
import { parseArgs } from "node:util";
import type pg from "pg";
import { appendReceipts, sealBlock } from "../src/tokens/chain.ts";
import { type ChainKeys, generateChainKeys } from "../src/tokens/crypto.ts";
import { verifyStoredChain } from "../src/tokens/verify-cli.ts";
import { startTestDatabase } from "../test/support/postgres.ts";
import { chainSchemaPool, sealBlockBefore0013, syntheticReceipt } from "../test/support/token-chain.ts";

type Signed = { tokenId: string; text: string; signature: string; leaf: string };

const nowMs = 1_700_000_000_000;

function signedReceipts(count: number, keys: ChainKeys): Signed[] {
  return Array.from({ length: count }, (_, i) => syntheticReceipt(i, keys, "chain cost", nowMs + i));
}

const sealBlockBefore = (pool: pg.Pool, keys: ChainKeys, blockSizeMax: number) =>
  sealBlockBefore0013(pool, keys, blockSizeMax, nowMs);

/** One batch as the previous tokenizer stored it: insert, then count the waiting receipts. */
async function appendBefore(pool: pg.Pool, keys: ChainKeys, batch: readonly Signed[], blockSizeMax: number) {
  await pool.query(
    `INSERT INTO token_receipts (token_id, body, signature, leaf_hash, created_at_ms)
     SELECT * FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::bigint[])
     ON CONFLICT (token_id) DO NOTHING`,
    [
      batch.map((r) => r.tokenId),
      batch.map((r) => r.text),
      batch.map((r) => r.signature),
      batch.map((r) => r.leaf),
      batch.map(() => nowMs),
    ],
  );
  const { rows } = await pool.query(
    "SELECT count(*)::int AS n FROM (SELECT 1 FROM token_receipts WHERE block_height IS NULL LIMIT $1) w",
    [blockSizeMax],
  );
  if (rows[0].n >= blockSizeMax) while ((await sealBlockBefore(pool, keys, blockSizeMax)) !== undefined) {}
}

/** Today's tokenizer: append, count in memory, seal when a block is full. */
function afterAppender(pool: pg.Pool, keys: ChainKeys, blockSizeMax: number) {
  let waiting = 0;
  return async (batch: readonly Signed[]) => {
    waiting += await appendReceipts(pool, batch, nowMs);
    if (waiting < blockSizeMax) return;
    waiting = 0;
    while ((await sealBlock(pool, keys, blockSizeMax, nowMs)) !== undefined) {}
  };
}

async function main() {
  const { values } = parseArgs({
    options: {
      receipts: { type: "string", default: "50000" },
      batch: { type: "string", default: "500" },
      block: { type: "string", default: "1000" },
      rounds: { type: "string", default: "2" },
      detail: { type: "boolean", default: false },
    },
  });
  const count = Number(values.receipts);
  const batchSize = Number(values.batch);
  const blockSizeMax = Number(values.block);
  const rounds = Number(values.rounds);
  const { keys } = generateChainKeys();
  const receipts = signedReceipts(count, keys);
  const db = await startTestDatabase();
  const pools: pg.Pool[] = [];
  try {
    await db.pool.query("CREATE EXTENSION IF NOT EXISTS pg_stat_statements");
    const schemaPool = async (schema: string, migrations: readonly string[]) => {
      const pool = await chainSchemaPool(db, schema, migrations, 60_000);
      pools.push(pool);
      return pool;
    };
    const run = async (label: string, pool: pg.Pool, store: (batch: readonly Signed[]) => Promise<void>) => {
      await db.pool.query("SELECT pg_stat_statements_reset()");
      const startedMs = performance.now();
      for (let i = 0; i < receipts.length; i += batchSize) await store(receipts.slice(i, i + batchSize));
      const wallUs = ((performance.now() - startedMs) * 1000) / count;
      const { rows } = await db.pool.query(
        "SELECT coalesce(sum(total_exec_time), 0) AS ms FROM pg_stat_statements WHERE query NOT ILIKE '%pg_stat_statements%'",
      );
      const serverUs = (Number(rows[0].ms) * 1000) / count;
      if (values.detail) {
        const top = await db.pool.query(
          `SELECT calls, total_exec_time AS ms, left(regexp_replace(query, '\\s+', ' ', 'g'), 90) AS query
             FROM pg_stat_statements WHERE query NOT ILIKE '%pg_stat_statements%'
            ORDER BY total_exec_time DESC LIMIT 5`,
        );
        for (const row of top.rows)
          process.stdout.write(
            `    ${((Number(row.ms) * 1000) / count).toFixed(2).padStart(6)} µs/receipt ${String(row.calls).padStart(5)} calls  ${row.query}\n`,
          );
      }
      const blocks = (await pool.query("SELECT count(*)::int AS n FROM token_blocks")).rows[0].n;
      process.stdout.write(
        `${label}: ${wallUs.toFixed(1)} µs/receipt wall, ${serverUs.toFixed(1)} µs/receipt PostgreSQL execution (${count} receipts, ${blocks} blocks)\n`,
      );
      return { wallUs, serverUs };
    };
    const results: Record<"before" | "after", { wallUs: number; serverUs: number }[]> = {
      before: [],
      after: [],
    };
    for (let round = 0; round < rounds; round++) {
      const order = round % 2 === 0 ? (["before", "after"] as const) : (["after", "before"] as const);
      for (const side of order) {
        if (side === "before") {
          const pool = await schemaPool(`before_${round}`, ["0011_tokens.sql"]);
          results.before.push(
            await run(`before (round ${round + 1})`, pool, (batch) =>
              appendBefore(pool, keys, batch, blockSizeMax),
            ),
          );
        } else {
          const pool = await schemaPool(`after_${round}`, ["0011_tokens.sql", "0013_token_ranges.sql"]);
          results.after.push(
            await run(`after  (round ${round + 1})`, pool, afterAppender(pool, keys, blockSizeMax)),
          );
          const report = await verifyStoredChain(pool, keys.publicKey, "blocks");
          if (report.problems.length > 0 || report.unsealed > 0 || report.receipts !== count)
            throw new Error(`the chain does not verify: ${JSON.stringify(report).slice(0, 500)}`);
        }
      }
    }
    const best = (side: "before" | "after", key: "wallUs" | "serverUs") =>
      Math.min(...results[side].map((r) => r[key]));
    process.stdout.write(
      `best of ${rounds}: before ${best("before", "wallUs").toFixed(1)} µs wall / ${best("before", "serverUs").toFixed(1)} µs PostgreSQL; after ${best("after", "wallUs").toFixed(1)} µs wall / ${best("after", "serverUs").toFixed(1)} µs PostgreSQL per receipt\n`,
    );
  } finally {
    for (const pool of pools) await pool.end();
    await db.close();
  }
}

if (import.meta.main) await main();
