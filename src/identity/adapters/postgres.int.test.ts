import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { promisify } from "node:util";
import { startTestDatabase, type TestDatabase } from "../../../test/support/postgres.ts";
import { manualClock, systemIds } from "../../platform/clock.ts";
import { createDeviceTrust } from "../device-trust.ts";
import { createMemoryLoginLimiter } from "../login-limiter.ts";
import { createArgon2Hasher } from "../passwords.ts";
import { createIdentityService } from "../service.ts";
import type { UserRecord } from "../store.ts";
import { createAccessTokens } from "../tokens.ts";
import { createPostgresUserStore } from "./postgres.ts";

const hash = "$argon2id$v=19$m=256,t=1,p=1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhc2g";

function user(overrides: Partial<UserRecord> = {}): UserRecord {
  return {
    id: systemIds.uuid(),
    username: "Alice",
    passwordHash: hash,
    roles: ["customer"],
    createdAtMs: 1_700_000_000_123,
    ...overrides,
  };
}

describe("PostgreSQL user store", () => {
  let db: TestDatabase;
  before(async () => {
    db = await startTestDatabase();
  });
  after(async () => {
    await db?.close();
  });

  test("creates a user and finds it by id and by username in any case", async () => {
    const store = createPostgresUserStore(db.pool);
    const alice = user({ roles: ["customer", "teller"] });
    assert.deepEqual(await store.createUser(alice), { ok: true, user: alice });
    assert.deepEqual(await store.findById(alice.id), alice);
    assert.deepEqual(await store.findByUsername("aLiCe"), alice);
    assert.equal(await store.findByUsername("alicia"), undefined);
    assert.equal(await store.findById(systemIds.uuid()), undefined);
    assert.equal(await store.findById("not-a-uuid'; DROP TABLE users; --"), undefined);
  });

  test("a username taken in another letter case is rejected and nothing is written", async () => {
    const store = createPostgresUserStore(db.pool);
    const before = await db.pool.query("SELECT count(*)::int AS n FROM users");
    const clash = user({ username: "ALICE" });
    assert.deepEqual(await store.createUser(clash), { ok: false, code: "username_taken" });
    assert.equal(await store.findById(clash.id), undefined);
    const afterCount = await db.pool.query("SELECT count(*)::int AS n FROM users");
    assert.equal(afterCount.rows[0].n, before.rows[0].n);
  });

  test("the table refuses unknown roles, empty roles, bad usernames and non-argon2id hashes", async () => {
    const store = createPostgresUserStore(db.pool);
    const bad: Partial<UserRecord>[] = [
      { username: "bob", roles: ["root" as "admin"] },
      { username: "bob", roles: [] },
      { username: "bob smith" },
      { username: "bob", passwordHash: "plaintext" },
    ];
    for (const overrides of bad) {
      await assert.rejects(store.createUser(user(overrides)), /violates check constraint/);
    }
  });

  test("concurrent bootstrapAdmin calls create exactly one admin", async () => {
    const clock = manualClock();
    const service = createIdentityService({
      store: createPostgresUserStore(db.pool),
      passwords: createArgon2Hasher({ memoryCostKiB: 256, timeCost: 1, parallelism: 1, outputLenBytes: 32 }),
      tokens: await createAccessTokens({ secret: new Uint8Array(32).fill(3) }, clock),
      limiter: createMemoryLoginLimiter(clock),
      devices: createDeviceTrust({ key: new Uint8Array(32).fill(5), ttlMs: 86_400_000 }, clock, systemIds),
      clock,
      ids: systemIds,
    });
    const results = await Promise.all(
      Array.from({ length: 8 }, () => service.bootstrapAdmin("admin", "bootstrap password")),
    );
    const created = results.filter((r) => r.ok && r.created);
    assert.equal(created.length, 1);
    const ids = new Set(results.map((r) => (r.ok ? r.user.id : "rejected")));
    assert.equal(ids.size, 1);
    const rows = await db.pool.query("SELECT roles FROM users WHERE lower(username) = 'admin'");
    assert.deepEqual(rows.rows, [{ roles: ["admin"] }]);
  });

  test("role changes: compare-and-set on the roles, one audit row per change, none on a lost race", async () => {
    const store = createPostgresUserStore(db.pool);
    const bob = user({ username: "bob-roles" });
    await store.createUser(bob);
    const change = {
      userId: bob.id,
      expectedRoles: ["customer"],
      roles: ["customer", "teller"],
      role: "teller",
      action: "grant",
      actorId: undefined,
      atMs: 1_700_000_000_000,
    } as const;
    assert.deepEqual((await store.changeRoles(change))?.roles, ["customer", "teller"]);
    assert.equal(await store.changeRoles(change), undefined, "the roles are no longer the expected ones");
    const audit = await db.pool.query(
      "SELECT role, action, actor_id FROM identity_role_changes WHERE user_id = $1",
      [bob.id],
    );
    assert.deepEqual(audit.rows, [{ role: "teller", action: "grant", actor_id: null }]);
  });

  test("ledgerflow admin roles grant|revoke changes a user's roles in the database; refusals exit 1, usage 2", async () => {
    const store = createPostgresUserStore(db.pool);
    await store.createUser(user({ username: "carol-cli" }));
    const run = (args: string[]) =>
      promisify(execFile)(
        process.execPath,
        [join(import.meta.dirname, "..", "..", "main.ts"), "admin", ...args],
        {
          env: { ...process.env, LEDGERFLOW_DATABASE_URL: db.url, NO_COLOR: "1" },
        },
      ).then(
        (done) => ({ code: 0, ...done }),
        (failed: { code: number; stdout: string; stderr: string }) => failed,
      );
    const granted = await run(["roles", "grant", "--username", "Carol-CLI", "--role", "teller"]);
    assert.equal(granted.code, 0, granted.stderr);
    assert.match(granted.stdout, /carol-cli: teller granted; roles now customer, teller/);
    assert.deepEqual((await store.findByUsername("carol-cli"))?.roles, ["customer", "teller"]);
    const revoked = await run(["roles", "revoke", "--username", "carol-cli", "--role", "customer"]);
    assert.equal(revoked.code, 0, revoked.stderr);
    const last = await run(["roles", "revoke", "--username", "carol-cli", "--role", "teller"]);
    assert.equal(last.code, 1);
    assert.match(last.stderr, /keeps at least one role/);
    assert.equal((await run(["roles", "grant", "--username", "nobody-here", "--role", "teller"])).code, 1);
    assert.equal((await run(["roles", "grant", "--username", "carol-cli", "--role", "overlord"])).code, 2);
    assert.equal((await run(["roles", "promote"])).code, 2);
  });
});
