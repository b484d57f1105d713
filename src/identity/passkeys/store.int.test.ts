/**
 * The passkey store on a real PostgreSQL: challenges are single use, expire, and are claimed only
 * for their purpose; the counter moves forward only from the value read (two assertions racing on
 * one counter: one wins); a credential id belongs to one user.
 */
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { after, before, describe, test } from "node:test";
import { startTestDatabase, type TestDatabase } from "../../../test/support/postgres.ts";
import { createPostgresPasskeyStore, type PasskeyStore } from "./store.ts";

describe("PostgreSQL passkey store", () => {
  let db: TestDatabase;
  let store: PasskeyStore;
  const nowMs = Date.UTC(2026, 11, 6, 12);
  before(async () => {
    db = await startTestDatabase();
    store = createPostgresPasskeyStore(db.pool);
  });
  after(async () => {
    await db?.close();
  });

  async function newUser(): Promise<string> {
    const id = randomUUID();
    await db.pool.query(
      "INSERT INTO users (id, username, password_hash, roles, created_at) VALUES ($1, $2, '$argon2id$test', '{customer}', now())",
      [id, `u-${id.slice(0, 8)}`],
    );
    return id;
  }

  test("a challenge is claimed once, for its purpose, before it expires", async () => {
    const userId = await newUser();
    await store.saveChallenge("challenge-one-aaaaaaaa", "register", userId, nowMs + 1_000);
    assert.deepEqual(await store.claimChallenge("challenge-one-aaaaaaaa", "register", nowMs), {
      userId,
      binding: undefined,
    });
    assert.equal(
      await store.claimChallenge("challenge-one-aaaaaaaa", "register", nowMs),
      undefined,
      "single use",
    );

    await store.saveChallenge("challenge-two-aaaaaaaa", "sign_in", undefined, nowMs + 1_000);
    assert.equal(
      await store.claimChallenge("challenge-two-aaaaaaaa", "sign_in", nowMs + 1_000),
      undefined,
      "expired",
    );

    await store.saveChallenge("challenge-three-aaaaaa", "step_up", userId, nowMs + 1_000, "bound");
    assert.equal(
      await store.claimChallenge("challenge-three-aaaaaa", "sign_in", nowMs),
      undefined,
      "other purpose",
    );
    assert.equal(
      await store.claimChallenge("challenge-three-aaaaaa", "step_up", nowMs),
      undefined,
      "a wrong-purpose attempt used it up",
    );
    await store.saveChallenge("challenge-four-aaaaaaa", "step_up", userId, nowMs + 1_000, "bound");
    assert.deepEqual(await store.claimChallenge("challenge-four-aaaaaaa", "step_up", nowMs), {
      userId,
      binding: "bound",
    });
  });

  test("expired challenges are purged", async () => {
    await store.saveChallenge("challenge-old-aaaaaaaa", "sign_in", undefined, nowMs - 1);
    const live = await store.liveCount(nowMs);
    assert.ok((await store.purgeExpired(nowMs)) >= 1);
    assert.equal(await store.liveCount(nowMs), live, "only expired ones are purged");
    const { rows } = await db.pool.query("SELECT 1 FROM identity_passkey_challenges WHERE expires_at <= $1", [
      new Date(nowMs),
    ]);
    assert.equal(rows.length, 0);
  });

  test("the counter advances only from the value read; a credential id is one user's", async () => {
    const [alice, bob] = [await newUser(), await newUser()];
    const passkey = {
      id: `cred-${alice}`,
      userId: alice,
      publicKey: new Uint8Array([1, 2, 3]),
      counter: 0,
      transports: ["internal"],
      createdAtMs: nowMs,
    };
    assert.equal(await store.add(passkey), true);
    assert.equal(await store.add({ ...passkey, userId: bob }), false);
    const [first, second] = await Promise.all([
      store.advanceCounter(passkey.id, 0, 1, nowMs),
      store.advanceCounter(passkey.id, 0, 1, nowMs),
    ]);
    assert.deepEqual([first, second].sort(), [false, true]);
    const stored = await store.byId(passkey.id);
    assert.equal(stored?.counter, 1);
    assert.equal(stored?.lastUsedAtMs, nowMs);
    assert.equal(await store.remove(bob, passkey.id), false, "not bob's to remove");
    assert.equal(await store.remove(alice, passkey.id), true);
  });
});
