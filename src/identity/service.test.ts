import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { manualClock, seededIds, seededRandom } from "../platform/clock.ts";
import { createMemoryUserStore } from "./adapters/memory.ts";
import type { LimitRules } from "./login-limiter.ts";
import { createMemoryLoginLimiter, defaultLimitRules } from "./login-limiter.ts";
import { createArgon2Hasher } from "./passwords.ts";
import type { LoginResult } from "./service.ts";
import { createIdentityService } from "./service.ts";
import { createAccessTokens } from "./tokens.ts";

// Real argon2id, with cheap parameters so the rules can be exercised hundreds of times quickly.
const cheapArgon2 = { memoryCostKiB: 256, timeCost: 1, parallelism: 1, outputLenBytes: 32 };
const password = "correct horse battery";

async function setup(rules: LimitRules = defaultLimitRules) {
  const clock = manualClock();
  const tokens = await createAccessTokens({ secret: new Uint8Array(32).fill(1) }, clock);
  const store = createMemoryUserStore();
  const service = createIdentityService({
    store,
    passwords: createArgon2Hasher(cheapArgon2),
    tokens,
    limiter: createMemoryLoginLimiter(clock, { rules }),
    clock,
    ids: seededIds(seededRandom(7)),
  });
  return { clock, tokens, store, service };
}

const login = (
  service: Awaited<ReturnType<typeof setup>>["service"],
  username: string,
  secret: string,
  clientIp = "192.0.2.1",
): Promise<LoginResult> => service.login({ username, password: secret, clientIp });

describe("register", () => {
  test("creates a customer and stores an argon2id hash, never the password", async () => {
    const { service, store } = await setup();
    const result = await service.register("alice.b-1_x", password);
    assert.equal(result.ok, true);
    assert.ok(result.ok);
    assert.deepEqual(result.user.roles, ["customer"]);
    assert.equal(result.user.username, "alice.b-1_x");
    const stored = await store.findById(result.user.id);
    assert.ok(stored?.passwordHash.startsWith("$argon2id$"));
    assert.ok(!stored?.passwordHash.includes(password));
  });

  test("usernames are unique regardless of letter case", async () => {
    const { service } = await setup();
    assert.equal((await service.register("Alice", password)).ok, true);
    assert.deepEqual(await service.register("aLICE", password), { ok: false, code: "username_taken" });
  });

  for (const [username, why] of [
    ["ab", "too short"],
    ["a".repeat(65), "too long"],
    ["alice bob", "space"],
    ["ålice", "non-ASCII letter"],
    ["alice'--", "SQL-like"],
    ["", "empty"],
  ] as const) {
    test(`rejects username (${why}) naming the field`, async () => {
      const { service } = await setup();
      const result = await service.register(username, password);
      assert.equal(result.ok, false);
      assert.ok(!result.ok && result.code === "validation_failed" && result.field === "username");
    });
  }

  test("password length is 10 to 256 code points", async () => {
    const { service } = await setup();
    const cases: [string, boolean][] = [
      ["123456789", false],
      ["1234567890", true],
      ["x".repeat(256), true],
      ["x".repeat(257), false],
      ["🔒".repeat(256), true], // 512 UTF-16 units, 256 code points
      ["🔒".repeat(257), false],
      ["🔒".repeat(5), false], // 10 UTF-16 units but only 5 code points
    ];
    for (const [index, [candidate, accepted]] of cases.entries()) {
      const result = await service.register(`user${index}`, candidate);
      if (accepted) assert.equal(result.ok, true, `case ${index}`);
      else
        assert.ok(
          !result.ok && result.code === "validation_failed" && result.field === "password",
          `case ${index}`,
        );
    }
  });

  test("rejects a password with a lone surrogate", async () => {
    const { service } = await setup();
    const result = await service.register("alice", "abcdefghij\ud800");
    assert.ok(!result.ok && result.code === "validation_failed" && result.field === "password");
  });
});

describe("login", () => {
  test("right password → token for the user; wrong password or unknown user → invalid_credentials", async () => {
    const { service, tokens } = await setup();
    const registered = await service.register("Alice", password);
    assert.ok(registered.ok);
    const ok = await login(service, "alice", password);
    assert.ok(ok.ok);
    assert.equal(ok.expiresInS, 3600);
    const verified = await tokens.verify(ok.accessToken);
    assert.ok(verified.ok);
    assert.deepEqual(verified.principal, {
      userId: registered.user.id,
      username: "Alice",
      roles: ["customer"],
    });
    assert.deepEqual(await login(service, "alice", `${password}!`), {
      ok: false,
      code: "invalid_credentials",
    });
    assert.deepEqual(await login(service, "bob", password), { ok: false, code: "invalid_credentials" });
    assert.deepEqual(await login(service, "no such user!", password), {
      ok: false,
      code: "invalid_credentials",
    });
  });

  test("passwords are compared after NFKC normalisation", async () => {
    const { service } = await setup();
    assert.ok((await service.register("alice", "caf\u00e9 au lait")).ok);
    assert.equal((await login(service, "alice", "cafe\u0301 au lait")).ok, true);
  });

  test("a password longer than the maximum never logs in, even if its prefix is right", async () => {
    const { service } = await setup();
    const longest = "p".repeat(256);
    assert.ok((await service.register("alice", longest)).ok);
    assert.equal((await login(service, "alice", longest)).ok, true);
    assert.deepEqual(await login(service, "alice", `${longest}p`), {
      ok: false,
      code: "invalid_credentials",
    });
  });

  test("10 failures per username in 15 min block that username, even with the right password", async () => {
    const { service, clock } = await setup();
    assert.ok((await service.register("alice", password)).ok);
    for (let i = 0; i < 10; i += 1) {
      assert.deepEqual(await login(service, "alice", "wrong password", `198.51.100.${i}`), {
        ok: false,
        code: "invalid_credentials",
      });
      clock.advance(1000);
    }
    const blocked = await login(service, "ALICE", password, "203.0.113.9");
    assert.deepEqual(blocked, { ok: false, code: "rate_limited", retryAfterS: 15 * 60 - 10 });
    clock.advance((15 * 60 - 10) * 1000 - 1);
    assert.equal((await login(service, "alice", password)).ok, false);
    clock.advance(1);
    assert.equal((await login(service, "alice", password)).ok, true);
  });

  test("the per-IP budget stops password spraying across usernames from one address", async () => {
    const rules = { username: defaultLimitRules.username, ip: { failuresMax: 5, windowMs: 60_000 } };
    const { service } = await setup(rules);
    assert.ok((await service.register("victim", password)).ok);
    for (let i = 0; i < 5; i += 1) {
      assert.equal((await login(service, `user${i}`, password, "192.0.2.66")).ok, false);
    }
    const blocked = await login(service, "victim", password, "192.0.2.66");
    assert.ok(!blocked.ok && blocked.code === "rate_limited");
    assert.equal((await login(service, "victim", password, "192.0.2.67")).ok, true);
  });

  test("successful logins do not count as failures", async () => {
    const { service } = await setup();
    assert.ok((await service.register("alice", password)).ok);
    for (let i = 0; i < 30; i += 1) assert.equal((await login(service, "alice", password)).ok, true);
    for (let i = 0; i < 9; i += 1) assert.equal((await login(service, "alice", "wrong password")).ok, false);
    assert.equal((await login(service, "alice", password)).ok, true);
  });

  test("a concurrent burst of guesses gets exactly the budget of tries", async () => {
    const { service } = await setup();
    assert.ok((await service.register("alice", password)).ok);
    const results = await Promise.all(
      Array.from({ length: 40 }, (_, i) => login(service, "alice", `guess number ${i}`, `198.51.100.${i}`)),
    );
    const codes = results.map((r) => (r.ok ? "ok" : r.code));
    assert.equal(codes.filter((c) => c === "invalid_credentials").length, 10);
    assert.equal(codes.filter((c) => c === "rate_limited").length, 30);
  });
});

describe("bootstrapAdmin", () => {
  test("creates the admin once; later starts leave it (and its password) untouched", async () => {
    const { service } = await setup();
    const first = await service.bootstrapAdmin("root", "first admin password");
    assert.ok(first.ok && first.created);
    assert.deepEqual(first.user.roles, ["admin"]);
    const second = await service.bootstrapAdmin("ROOT", "another password!!");
    assert.deepEqual(second, { ok: true, created: false, user: first.user });
    assert.equal((await login(service, "root", "first admin password")).ok, true);
    assert.equal((await login(service, "root", "another password!!")).ok, false);
  });

  test("refuses a weak admin password", async () => {
    const { service } = await setup();
    const result = await service.bootstrapAdmin("root", "admin");
    assert.ok(!result.ok && result.field === "password");
  });
});
