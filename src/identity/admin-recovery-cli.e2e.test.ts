/**
 * `ledgerflow admin` as an operator runs it (a child process) against a real PostgreSQL given by
 * LEDGERFLOW_DATABASE_URL: create an admin, reset a password (generated or from stdin), exit codes.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { startTestDatabase, type TestDatabase } from "../../test/support/postgres.ts";
import { systemClock, systemIds, systemRandom } from "../platform/clock.ts";
import { createPostgresLog } from "../platform/log/adapters/postgres.ts";
import { createTopicCodec } from "../platform/log/topic-codecs.ts";
import { createPostgresSchemaRegistry } from "../platform/schema-registry/postgres.ts";
import { createPostgresUserStore } from "./adapters/postgres.ts";
import { createDeviceTrust } from "./device-trust.ts";
import { createMemoryLoginLimiter } from "./login-limiter.ts";
import { createArgon2Hasher } from "./passwords.ts";
import { createIdentityService, type IdentityService } from "./service.ts";
import { createPostgresSessionStore } from "./sessions/postgres.ts";
import { createMemoryRevocations } from "./sessions/revocations.ts";
import { createSessions } from "./sessions/sessions.ts";
import { createAccessTokens } from "./tokens.ts";
import { identityTopics } from "./topics.ts";

const bin = join(import.meta.dirname, "..", "..", "bin", "ledgerflow.js");

function ledgerflow(args: string[], env: NodeJS.ProcessEnv, stdin = "") {
  const child = spawn(process.execPath, [bin, ...args], {
    env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env },
  });
  let stdout = "";
  let stderr = "";
  child.stdout.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
  child.stdin.end(stdin);
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) =>
    child.on("close", (code) => resolve({ code, stdout, stderr })),
  );
}

describe("ledgerflow admin (recovery on the command line)", () => {
  let db: TestDatabase;
  let env: NodeJS.ProcessEnv;
  let service: IdentityService;

  before(async () => {
    db = await startTestDatabase();
    env = { LEDGERFLOW_DATABASE_URL: db.url };
    const tokens = await createAccessTokens({ secret: new Uint8Array(32).fill(7) }, systemClock);
    const users = createPostgresUserStore(db.pool);
    const sessions = createSessions({
      store: createPostgresSessionStore(db.pool),
      users,
      tokens,
      revocations: createMemoryRevocations(systemClock, 60_000),
      events: { publish: async () => {} },
      clock: systemClock,
      ids: systemIds,
      random: systemRandom,
      refreshTokenTtlMs: 60_000,
    });
    service = createIdentityService({
      store: users,
      passwords: createArgon2Hasher(),
      tokens,
      sessions,
      limiter: createMemoryLoginLimiter(systemClock),
      devices: createDeviceTrust({ key: new Uint8Array(32).fill(3), ttlMs: 60_000 }, systemClock, systemIds),
      clock: systemClock,
      ids: systemIds,
    });
  });
  after(() => db?.close());

  const login = (username: string, password: string) =>
    service.login({ username, password, clientIp: "127.0.0.1" });

  test("create-admin prints a generated password once; it signs in as admin", async () => {
    const created = await ledgerflow(["admin", "create-admin", "--username", "rescuer"], env);
    assert.equal(created.code, 0, created.stderr);
    const password = /password: (\S+)/.exec(created.stdout)?.[1];
    assert.ok(password, created.stdout);
    const signedIn = await login("rescuer", password);
    assert.ok(signedIn.ok);
    assert.deepEqual(signedIn.user.roles, ["admin"]);
    const again = await ledgerflow(["admin", "create-admin", "--username", "RESCUER"], env);
    assert.equal(again.code, 1);
    assert.match(again.stderr, /exists already/);
  });

  test("reset-password from stdin: the new password works, the old does not, sessions end, audited", async () => {
    await service.register("forgetful", "the old password 1");
    const before = await login("forgetful", "the old password 1");
    assert.ok(before.ok && before.session);
    const reset = await ledgerflow(
      ["admin", "reset-password", "--username", "forgetful", "--password-stdin"],
      env,
      "a brand new password\n",
    );
    assert.equal(reset.code, 0, reset.stderr);
    assert.doesNotMatch(reset.stdout, /a brand new password/, "a password from stdin is not echoed");
    assert.match(reset.stdout, /1 session\(s\) ended/);
    assert.equal((await login("forgetful", "the old password 1")).ok, false);
    assert.equal((await login("forgetful", "a brand new password")).ok, true);
    const refused = await createSessions({
      store: createPostgresSessionStore(db.pool),
      users: createPostgresUserStore(db.pool),
      tokens: await createAccessTokens({ secret: new Uint8Array(32).fill(7) }, systemClock),
      revocations: createMemoryRevocations(systemClock, 60_000),
      events: { publish: async () => {} },
      ...{ clock: systemClock, ids: systemIds, random: systemRandom, refreshTokenTtlMs: 60_000 },
    }).refresh(before.session.refreshToken, { ip: "127.0.0.1" });
    assert.equal(refused.ok, false, "the reset ended the session");
    const log = createPostgresLog({ pool: db.pool, clock: systemClock });
    const codec = await createTopicCodec(
      createPostgresSchemaRegistry(db.pool),
      identityTopics.identityEvents,
    );
    const kinds: unknown[] = [];
    for (let partition = 0; partition < identityTopics.identityEvents.spec.partitions; partition++)
      for (const record of await log.read(codec.topic, partition, 0n, 1000))
        kinds.push((codec.decode(record.value) as { kind: string; actor: string }).kind);
    await log.close();
    assert.ok(kinds.includes("password_reset"));
    assert.ok(kinds.includes("admin_created"));
  });

  test("exit codes: unknown user 1; missing username, short password, unknown subcommand 2; --help 0", async () => {
    const unknown = await ledgerflow(["admin", "reset-password", "--username", "nobody"], env);
    assert.equal(unknown.code, 1);
    assert.match(unknown.stderr, /no user named "nobody"/);
    assert.equal((await ledgerflow(["admin", "reset-password"], env)).code, 2);
    const short = await ledgerflow(
      ["admin", "reset-password", "--username", "forgetful", "--password-stdin"],
      env,
      "short\n",
    );
    assert.equal(short.code, 2);
    assert.match(short.stderr, /password must be 10 to 256 characters/);
    assert.equal((await ledgerflow(["admin", "promote"], env)).code, 2);
    assert.equal((await ledgerflow(["admin", "reset-password", "--bogus"], env)).code, 2);
    const help = await ledgerflow(["admin", "--help"], env);
    assert.equal(help.code, 0);
    assert.match(help.stdout, /reset-password --username NAME/);
  });

  test("export-users writes every user de-identified: no names, usernames, ids or contact data", async () => {
    const registered = await service.register("pii-person", "a long enough password");
    assert.ok(registered.ok);
    const userId = registered.user.id;
    await db.pool.query(
      `INSERT INTO identity_profiles (user_id, display_name, zip_code, email_enc, legal_name_enc, created_at, updated_at)
       VALUES ($1, 'Jane Q Public', '94110', 'sealed-email', 'sealed-name', now(), now())`,
      [userId],
    );
    const key = "ab".repeat(32);
    const first = await ledgerflow(["admin", "export-users", "--key-stdin"], env, `${key}\n`);
    assert.equal(first.code, 0, first.stderr);
    for (const secret of ["pii-person", "Jane", userId, "sealed", "94110"])
      assert.ok(!first.stdout.includes(secret), `the export leaks ${secret}`);
    const lines = first.stdout
      .trim()
      .split("\n")
      .map((line) => JSON.parse(line));
    const person = lines.find((line) => line.zip3 === "941");
    assert.deepEqual(
      { ...person, subject: typeof person.subject },
      {
        subject: "string",
        roles: ["customer"],
        signedUpMonth: new Date().toISOString().slice(0, 7),
        zip3: "941",
        officer: null,
        hasEmail: true,
        hasPhone: false,
        hasLegalName: true,
      },
    );
    const again = await ledgerflow(["admin", "export-users", "--key-stdin"], env, `${key}\n`);
    assert.equal(again.stdout, first.stdout, "the same key joins exports");
    const fresh = await ledgerflow(["admin", "export-users"], env);
    assert.notEqual(fresh.stdout, first.stdout, "by default each export has its own key");
    assert.equal((await ledgerflow(["admin", "export-users", "--key-stdin"], env, "short\n")).code, 2);
  });
});
