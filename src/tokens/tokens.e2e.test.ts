import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import {
  euroGateway,
  finalPayment,
  type PaymentsHarness,
  startPaymentsHarness,
} from "../payments/test/harness.ts";
import { publicKeyFrom } from "./crypto.ts";
import type { RunningTokens } from "./index.ts";
import { type ProofDocument, verifyProofDocument } from "./verify.ts";
import { runVerify, verifyStoredChain } from "./verify-cli.ts";

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe("tokenized money: receipts, chain, proofs", () => {
  let h: PaymentsHarness;
  let tokens: RunningTokens | undefined;
  const poisoned = new Set<string>();
  let attemptsOnPoison = 0;

  before(async () => {
    h = await startPaymentsHarness([euroGateway("alpha"), euroGateway("beta")], {}, 5, {
      config: { tokens: { sealIntervalMs: 100, blockSizeMax: 4 } },
      tokens: {
        retry: { attemptsMax: 2, backoffBaseMs: 10, backoffMaxMs: 50 },
        beforeStore: (ids) => {
          if (ids.some((id) => poisoned.has(id))) {
            attemptsOnPoison++;
            throw new Error("simulated signing failure");
          }
        },
      },
    });
    tokens = h.tp.platform.tokens;
  });
  after(async () => h?.stop());

  const proofOf = async (
    id: string,
  ): Promise<ProofDocument & { receipt: { data: Record<string, string> } }> => {
    for (let i = 0; i < 200; i++) {
      const got = await h.customer.get(`/v1/tokens/${id}/proof`);
      if (got.status === 200) return got.body as never;
      await sleep(50);
    }
    throw new Error(`no sealed proof for ${id}`);
  };

  test("every completed movement gets a signed receipt with a verifiable inclusion proof", async () => {
    const deposits = Array.from({ length: 6 }, () => randomUUID());
    for (const id of deposits)
      await h.customer.post("/v1/deposits", { id, iban: h.iban, amount: "1000", asset: "EUR" }, false);
    for (const id of deposits) assert.equal((await finalPayment(h.customer, id)).status, "SUCCESS");
    const withdrawal = randomUUID();
    await h.customer.post("/v1/withdrawals", { id: withdrawal, iban: h.iban, amount: "300", asset: "EUR" });
    assert.equal((await finalPayment(h.customer, withdrawal)).status, "SUCCESS");
    const other = await h.customer.post("/v1/accounts", { id: randomUUID(), asset: "EUR" });
    const transferId = randomUUID();
    const moved = await h.customer.post("/v1/transfers", {
      id: transferId,
      from: h.iban,
      to: other.body.iban,
      amount: "50",
      asset: "EUR",
    });
    assert.equal(moved.status, 201, JSON.stringify(moved.body));

    const key = (await h.api.call("GET", "/v1/chain/key")).body;
    const publicKey = publicKeyFrom(JSON.stringify(key.jwk));
    const mint = await proofOf(deposits[0] as string);
    assert.equal(mint.receipt.data.kind, "mint");
    assert.equal(mint.receipt.data.amount, "1000");
    assert.deepEqual(verifyProofDocument(mint, publicKey), []);
    const burn = await proofOf(withdrawal);
    assert.equal(burn.receipt.data.kind, "burn");
    assert.deepEqual(verifyProofDocument(burn, publicKey), []);
    const move = await proofOf(transferId);
    assert.equal(move.receipt.data.kind, "move");
    assert.deepEqual(verifyProofDocument(move, publicKey), []);

    // Auditors read any receipt, as staff do; another customer is told it does not exist.
    const auditorName = `auditor-${randomUUID().slice(0, 6)}`;
    const claims = (token: string) =>
      JSON.parse(Buffer.from(token.split(".")[1] ?? "", "base64url").toString());
    const auditorId = claims(await h.api.signUp(auditorName)).sub as string;
    assert.equal((await h.admin.call("PUT", `/v1/admin/users/${auditorId}/roles/auditor`)).status, 200);
    const auditor = h.api.as(await h.api.signIn(auditorName, "correct horse battery staple"));
    assert.equal((await auditor.get(`/v1/tokens/${transferId}/proof`)).status, 200);
    const stranger = h.api.as(await h.api.signUp(`stranger-${randomUUID().slice(0, 6)}`));
    assert.equal((await stranger.get(`/v1/tokens/${transferId}/proof`)).status, 404);

    // A modified receipt no longer verifies against its proof.
    const forged = {
      ...mint,
      receipt: { ...mint.receipt, body: mint.receipt.body.replace('"amount":"1000"', '"amount":"9000"') },
    };
    assert.ok(verifyProofDocument(forged, publicKey).length > 0);
  });

  test("the whole chain verifies offline; editing any row is detected", async () => {
    assert.ok(tokens);
    await tokens.sealAll();
    const pool = h.tp.platform.pool;
    const publicKey = tokens.keys.publicKey;
    const clean = await verifyStoredChain(pool, publicKey, "all");
    assert.deepEqual(clean.problems, []);
    assert.ok(clean.blocks >= 2 && clean.receipts >= 8, JSON.stringify(clean));

    const databaseUrl = (pool as unknown as { options: { connectionString: string } }).options
      .connectionString;
    const keyFile = join(await mkdtemp(join(tmpdir(), "ledgerflow-key-")), "key.json");
    await writeFile(keyFile, JSON.stringify((await h.api.call("GET", "/v1/chain/key")).body));
    const cli = await runVerify(["--database-url", databaseUrl, "--key", keyFile, "--signatures", "all"]);
    assert.equal(cli.ok, true, cli.lines.join("\n"));

    const tamper = async (sql: string, undo: string, expected: RegExp) => {
      await pool.query(sql);
      const report = await verifyStoredChain(pool, publicKey, "blocks");
      await pool.query(undo);
      assert.ok(
        report.problems.some((p) => expected.test(p)),
        `${sql}: ${report.problems.join("; ")}`,
      );
    };
    const { rows } = await pool.query(
      `SELECT r.token_id, r.body FROM token_receipts r JOIN token_blocks b ON r.seq BETWEEN b.first_seq AND b.last_seq
        WHERE b.height = 1 ORDER BY r.seq LIMIT 1`,
    );
    const row = rows[0] as { token_id: string; body: string };
    const edited = row.body.replace(/"amount":"(\d+)"/, '"amount":"1$1"');
    await tamper(
      `UPDATE token_receipts SET body = '${edited}' WHERE token_id = '${row.token_id}'`,
      `UPDATE token_receipts SET body = '${row.body}' WHERE token_id = '${row.token_id}'`,
      /leaf hash does not match|Merkle root/,
    );
    await tamper(
      `UPDATE token_receipts SET body = '${edited}', leaf_hash = 'ff' WHERE token_id = '${row.token_id}'`,
      `UPDATE token_receipts SET body = '${row.body}', leaf_hash = '${(await pool.query("SELECT leaf_hash FROM token_receipts WHERE token_id = $1", [row.token_id])).rows[0].leaf_hash}' WHERE token_id = '${row.token_id}'`,
      /Merkle root/,
    );
    const block = (await pool.query("SELECT header FROM token_blocks WHERE height = 0")).rows[0]
      .header as string;
    await tamper(
      `UPDATE token_blocks SET header = '${block.replace('"count":', '"count":1')}' WHERE height = 0`,
      `UPDATE token_blocks SET header = '${block}' WHERE height = 0`,
      /header hash|signature/,
    );
    const hash1 = (await pool.query("SELECT header_hash FROM token_blocks WHERE height = 0")).rows[0]
      .header_hash as string;
    await tamper(
      `UPDATE token_blocks SET header_hash = '${"0".repeat(64)}' WHERE height = 0`,
      `UPDATE token_blocks SET header_hash = '${hash1}' WHERE height = 0`,
      /header hash|previous hash/,
    );
    // The stored range that proofs are served from must be the one the header signs.
    await tamper(
      // Widened downwards: always a valid, disjoint range (block 0 may hold a single receipt, and
      // block 1 starts right after it).
      "UPDATE token_blocks SET first_seq = first_seq - 1 WHERE height = 0",
      "UPDATE token_blocks SET first_seq = first_seq + 1 WHERE height = 0",
      /stored seq range .* differs/,
    );
    // Without its block, a sealed range's receipts belong to no block.
    await pool.query("CREATE TABLE block_zero AS SELECT * FROM token_blocks WHERE height = 0");
    await tamper(
      "DELETE FROM token_blocks WHERE height = 0",
      "INSERT INTO token_blocks SELECT * FROM block_zero",
      /in no block/,
    );
    await pool.query("DROP TABLE block_zero");
    // A receipt moved out of its block's range leaves the block short. (Moved below every range, not
    // past the head: the live sealer would seal a receipt past the head into a new block.)
    await tamper(
      `UPDATE token_receipts SET seq = -seq WHERE token_id = '${row.token_id}'`,
      `UPDATE token_receipts SET seq = -seq WHERE token_id = '${row.token_id}'`,
      /counts|span/,
    );
    assert.deepEqual((await verifyStoredChain(pool, publicKey, "all")).problems, [], "restored");
    await pool.query("DELETE FROM token_receipts WHERE token_id = $1", [row.token_id]);
    const deleted = await verifyStoredChain(pool, publicKey, "blocks");
    assert.ok(
      deleted.problems.some((p) => /counts|Merkle|leaf index/.test(p)),
      deleted.problems.join("; "),
    );
  });

  test("a receipt that keeps failing is retried, then dead-lettered", async () => {
    const id = randomUUID();
    const other = await h.customer.post("/v1/accounts", { id: randomUUID(), asset: "EUR" });
    poisoned.add(id);
    const moved = await h.customer.post("/v1/transfers", {
      id,
      from: h.iban,
      to: other.body.iban,
      amount: "1",
      asset: "EUR",
    });
    assert.equal(moved.status, 201);
    const log = h.tp.platform.log;
    let dead: readonly { headers: Record<string, string> }[] = [];
    for (let i = 0; i < 200 && dead.length === 0; i++) {
      await sleep(50);
      dead = await log.read("tokens.receipts.dlq", 0, 0n, 100);
    }
    assert.equal(dead.length, 1);
    assert.ok(attemptsOnPoison >= 2, `retried (${attemptsOnPoison} attempts)`);
    assert.equal(dead[0]?.headers["dlq.original.topic"], "ledger.outcomes");
    // Later receipts are not blocked by the dead one.
    const next = randomUUID();
    await h.customer.post("/v1/transfers", {
      id: next,
      from: h.iban,
      to: other.body.iban,
      amount: "2",
      asset: "EUR",
    });
    assert.equal((await proofOf(next)).receipt.data.amount, "2");
  });
});
