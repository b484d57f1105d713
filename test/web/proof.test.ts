/**
 * The browser's proof verification (web/src/lib/proof.ts, WebCrypto) against the server's own
 * token cryptography (src/tokens: node:crypto): proofs the server builds verify in the browser code,
 * for every leaf of trees of many sizes, and any edit to a receipt, path or header does not.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { type BlockHeader, genesisHash, type ReceiptBody } from "../../src/tokens/chain.ts";
import { canonicalJson, generateChainKeys, leafHash, sha256Hex, signText } from "../../src/tokens/crypto.ts";
import { inclusionProof, merkleRoot } from "../../src/tokens/merkle.ts";
import {
  leafHash as browserLeafHash,
  bytesToHex,
  type ChainKey,
  type ProofDocument,
  rootFromProof,
  verifyProof,
} from "../../web/src/lib/proof.ts";

const { keys } = generateChainKeys();
const chainKey: ChainKey = {
  keyId: keys.keyId,
  jwk: keys.publicKey.export({ format: "jwk" }) as ChainKey["jwk"],
};

function receipt(i: number) {
  const body: ReceiptBody = {
    v: 1,
    tokenId: `00000000-0000-4000-8000-${String(i).padStart(12, "0")}`,
    kind: "move",
    transferId: `t-${i}`,
    from: "NL00OPEN0000000001",
    to: "NL00OPEN0000000002",
    amount: String(100 + i),
    asset: "EUR",
    description: `payment ${i} “quoted” ünïcode`,
    atMs: 1_700_000_000_000 + i,
    keyId: keys.keyId,
  };
  const text = canonicalJson(body);
  return { tokenId: body.tokenId, body: text, signature: signText(text, keys.privateKey) };
}

/** A block of `size` receipts and the proof document of leaf `index`, as GET /v1/tokens/{id}/proof. */
function documentFor(size: number, index: number): ProofDocument {
  const receipts = Array.from({ length: size }, (_, i) => receipt(i));
  const leaves = receipts.map((r) => leafHash(r.body, r.signature));
  const header: BlockHeader = {
    v: 1,
    height: 7,
    previousHash: genesisHash,
    merkleRoot: merkleRoot(leaves).toString("hex"),
    count: size,
    firstSeq: "1",
    lastSeq: String(size),
    sealedAtMs: 1_700_000_001_000,
    keyId: keys.keyId,
  };
  const headerText = canonicalJson(header);
  const own = receipts[index];
  assert.ok(own);
  return {
    tokenId: own.tokenId,
    sealed: true,
    receipt: { body: own.body, signature: own.signature },
    proof: {
      leafIndex: index,
      treeSize: size,
      path: inclusionProof(leaves, index).map((h) => h.toString("hex")),
    },
    block: {
      height: 7,
      header: headerText,
      headerHash: sha256Hex(headerText),
      signature: signText(headerText, keys.privateKey),
    },
  };
}

describe("proof verification in the browser code", () => {
  it("computes the same leaf hash as the server", async () => {
    const r = receipt(3);
    assert.equal(
      bytesToHex(await browserLeafHash(r.body, r.signature)),
      leafHash(r.body, r.signature).toString("hex"),
    );
  });

  it("recomputes the server's Merkle root for every leaf of trees of 1 to 17 leaves", async () => {
    for (let size = 1; size <= 17; size++) {
      const receipts = Array.from({ length: size }, (_, i) => receipt(i));
      const leaves = receipts.map((r) => leafHash(r.body, r.signature));
      const root = merkleRoot(leaves).toString("hex");
      for (let index = 0; index < size; index++) {
        const path = inclusionProof(leaves, index);
        const computed = await rootFromProof(leaves[index] as Uint8Array, index, size, path);
        assert.equal(computed && bytesToHex(computed), root, `size ${size}, leaf ${index}`);
      }
    }
  });

  it("verifies a proof the server would serve", async () => {
    const result = await verifyProof(documentFor(5, 3), chainKey);
    assert.deepEqual(
      result.checks.filter((check) => !check.ok),
      [],
    );
    assert.equal(result.verified, true);
    assert.equal(result.checks.length, 7);
  });

  it("does not verify an edited receipt, path, header or a foreign key", async () => {
    const good = documentFor(6, 2);
    const failing = async (doc: ProofDocument, key = chainKey) => {
      const result = await verifyProof(doc, key);
      assert.equal(result.verified, false);
      return result.checks.filter((check) => !check.ok).map((check) => check.label);
    };
    const edited = good.receipt.body.replace('"amount":"102"', '"amount":"902"');
    assert.notEqual(edited, good.receipt.body);
    assert.deepEqual(await failing({ ...good, receipt: { ...good.receipt, body: edited } }), [
      "Receipt signature",
      "Merkle inclusion",
    ]);
    const proof = good.proof;
    const block = good.block;
    assert.ok(proof && block);
    assert.deepEqual(await failing({ ...good, proof: { ...proof, path: [...proof.path].reverse() } }), [
      "Merkle inclusion",
    ]);
    assert.deepEqual(await failing({ ...good, proof: { ...proof, leafIndex: 3 } }), ["Merkle inclusion"]);
    const header = block.header.replace('"count":6', '"count":5');
    assert.deepEqual(await failing({ ...good, block: { ...block, header } }), [
      "Block header hash",
      "Block header signature",
      "Block size",
    ]);
    const other = generateChainKeys().keys;
    const otherKey: ChainKey = {
      keyId: keys.keyId,
      jwk: other.publicKey.export({ format: "jwk" }) as ChainKey["jwk"],
    };
    assert.deepEqual(await failing(good, otherKey), ["Receipt signature", "Block header signature"]);
    const { proof: _p, block: _b, ...unsealed } = good;
    assert.deepEqual(await failing({ ...unsealed, sealed: false }), ["Sealed in a block"]);
  });
});
