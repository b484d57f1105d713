import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { canonicalJson, generateChainKeys, leafHash, nodeHash, signText, verifyText } from "./crypto.ts";
import { inclusionProof, merkleRoot, rootFromProof } from "./merkle.ts";

const leaves = (n: number) => Array.from({ length: n }, (_, i) => leafHash(`body-${i}`, `sig-${i}`));

/** RFC 6962 MTH, recursive, as the reference. */
function referenceRoot(items: readonly Buffer[]): Buffer {
  if (items.length === 1) return items[0] as Buffer;
  let k = 1;
  while (k * 2 < items.length) k *= 2;
  return nodeHash(referenceRoot(items.slice(0, k)), referenceRoot(items.slice(k)));
}

test("property: root equals RFC 6962 MTH; every inclusion proof verifies; a changed leaf does not", () => {
  fc.assert(
    fc.property(fc.integer({ min: 1, max: 70 }), fc.nat(), (n, pick) => {
      const items = leaves(n);
      const root = merkleRoot(items);
      assert.deepEqual(root, referenceRoot(items));
      const index = pick % n;
      const proof = inclusionProof(items, index);
      assert.deepEqual(rootFromProof(items[index] as Buffer, index, n, proof), root);
      const wrong = rootFromProof(leafHash("forged", "sig"), index, n, proof);
      assert.notDeepEqual(wrong, root);
      if (n > 1) assert.notDeepEqual(rootFromProof(items[index] as Buffer, (index + 1) % n, n, proof), root);
    }),
  );
});

test("canonical JSON ignores key order; signatures cover the exact text", () => {
  assert.equal(canonicalJson({ b: 1, a: [2, { d: "x", c: null }] }), '{"a":[2,{"c":null,"d":"x"}],"b":1}');
  const { keys } = generateChainKeys();
  const text = canonicalJson({ amount: "100" });
  const signature = signText(text, keys.privateKey);
  assert.ok(verifyText(text, signature, keys.publicKey));
  assert.ok(!verifyText(text.replace("100", "101"), signature, keys.publicKey));
  assert.ok(!verifyText(text, "garbage", keys.publicKey));
});
