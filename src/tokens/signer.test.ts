import assert from "node:assert/strict";
import { test } from "node:test";
import { generateChainKeys, signText, verifyText } from "./crypto.ts";
import { startReceiptSigner } from "./signer.ts";

test("the worker signs exactly as the main thread does, in order, and verifies", async () => {
  const { keys } = generateChainKeys();
  const signer = startReceiptSigner(keys.privateKey);
  try {
    const texts = Array.from({ length: 50 }, (_, i) => `{"tokenId":"t${i}","amount":"${i}"}`);
    const [a, b] = await Promise.all([signer.signMany(texts), signer.signMany(texts.slice(0, 3))]);
    assert.deepEqual(
      a,
      texts.map((t) => signText(t, keys.privateKey)),
      "Ed25519 is deterministic",
    );
    assert.deepEqual(b, a.slice(0, 3));
    for (const [i, text] of texts.entries())
      assert.equal(verifyText(text, a[i] as string, keys.publicKey), true);
    assert.deepEqual(await signer.signMany([]), []);
  } finally {
    await signer.close();
  }
});

test("a stopped worker fails pending and later requests instead of hanging", async () => {
  const { keys } = generateChainKeys();
  const signer = startReceiptSigner(keys.privateKey);
  await signer.close();
  await assert.rejects(
    Promise.race([
      signer.signMany(["x"]),
      new Promise((_, reject) => setTimeout(() => reject(new Error("hung")), 2000)),
    ]),
    (error: Error) => error.message !== "hung",
  );
});
