import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { parseOptions } from "@node-rs/argon2";
import { createArgon2Hasher, owaspArgon2Params } from "./passwords.ts";

describe("argon2id password hashing", () => {
  const hasher = createArgon2Hasher(owaspArgon2Params);

  test("hashes with argon2id, m=19 MiB, t=2, p=1 and a 16-byte salt", async () => {
    const hash = await hasher.hash("correct horse battery");
    assert.match(hash, /^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
    const options = parseOptions(hash);
    assert.equal(options.saltLen, 16);
    assert.equal(options.outputLen, 32);
  });

  test("salts differ, so equal passwords give different hashes", async () => {
    assert.notEqual(await hasher.hash("same password"), await hasher.hash("same password"));
  });

  test("verifies the right password and refuses others", async () => {
    const hash = await hasher.hash("correct horse battery");
    assert.equal(await hasher.verify(hash, "correct horse battery"), true);
    assert.equal(await hasher.verify(hash, "correct horse batter"), false);
    assert.equal(await hasher.verify(hash, "Correct horse battery"), false);
    assert.equal(await hasher.verify(hash, ""), false);
  });

  test("a hash made with other parameters still verifies (parameters live in the hash)", async () => {
    const old = await createArgon2Hasher({
      memoryCostKiB: 1024,
      timeCost: 1,
      parallelism: 1,
      outputLenBytes: 32,
    }).hash("old password 123");
    assert.equal(await hasher.verify(old, "old password 123"), true);
  });

  test("an unknown user (no hash) is refused after as much work as a wrong password", async () => {
    const hash = await hasher.hash("correct horse battery");
    await hasher.verify(undefined, "warm up"); // the dummy hash is ready from here on
    // Interleaved, so that load from other processes hits both kinds of attempt alike.
    const wrongPasswordMs: number[] = [];
    const unknownUserMs: number[] = [];
    const timed = async (samples: number[], work: () => Promise<boolean>) => {
      const start = performance.now();
      assert.equal(await work(), false);
      samples.push(performance.now() - start);
    };
    for (let i = 0; i < 15; i += 1) {
      await timed(wrongPasswordMs, () => hasher.verify(hash, "wrong password"));
      await timed(unknownUserMs, () => hasher.verify(undefined, "wrong password"));
    }
    const median = (samples: number[]) => samples.sort((a, b) => a - b)[7] ?? Number.NaN;
    const ratio = median(unknownUserMs) / median(wrongPasswordMs);
    assert.ok(
      ratio > 0.5 && ratio < 2,
      `unknown ${median(unknownUserMs)} ms vs wrong ${median(wrongPasswordMs)} ms`,
    );
  });
});
