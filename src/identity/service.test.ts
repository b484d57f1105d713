import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { manualClock, seededIds, seededRandom } from "../platform/clock.ts";
import { BusyError } from "../platform/errors.ts";
import { createMemoryUserStore } from "./adapters/memory.ts";
import { createDeviceTrust } from "./device-trust.ts";
import type { LimitRules } from "./login-limiter.ts";
import { createMemoryLoginLimiter, defaultLimitRules } from "./login-limiter.ts";
import { createArgon2Hasher } from "./passwords.ts";
import type { LoginResult } from "./service.ts";
import { createIdentityService } from "./service.ts";
import { createAccessTokens } from "./tokens.ts";

// Real argon2id, with cheap parameters so the rules can be exercised hundreds of times quickly.
const cheapArgon2 = { memoryCostKiB: 256, timeCost: 1, parallelism: 1, outputLenBytes: 32 };
const password = "correct horse battery";

const dayMs = 24 * 60 * 60 * 1000;

async function setup(rules: LimitRules = defaultLimitRules) {
  const clock = manualClock();
  const tokens = await createAccessTokens({ secret: new Uint8Array(32).fill(1) }, clock);
  const store = createMemoryUserStore();
  const ids = seededIds(seededRandom(7));
  const service = createIdentityService({
    store,
    passwords: createArgon2Hasher(cheapArgon2),
    tokens,
    limiter: createMemoryLoginLimiter(clock, { rules }),
    devices: createDeviceTrust({ key: new Uint8Array(32).fill(2), ttlMs: 30 * dayMs }, clock, ids),
    clock,
    ids,
  });
  return { clock, tokens, store, service };
}

const login = (
  service: Awaited<ReturnType<typeof setup>>["service"],
  username: string,
  secret: string,
  clientIp = "192.0.2.1",
  deviceToken?: string,
): Promise<LoginResult> => service.login({ username, password: secret, clientIp, deviceToken });

const codeOf = (result: LoginResult): string => (result.ok ? "ok" : result.code);

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

  test("1000 failures from client A cannot stop the owner signing in from client B", async () => {
    const { service, clock } = await setup();
    assert.ok((await service.register("alice", password)).ok);
    for (let i = 0; i < 1000; i += 1) {
      await login(service, "alice", `guess ${i} xxxxxxxx`, "198.51.100.66");
      clock.advance(100);
    }
    const owner = await login(service, "ALICE", password, "203.0.113.9");
    assert.equal(codeOf(owner), "ok", JSON.stringify(owner));
  });

  test("nor from the owner's trusted device on client A itself", async () => {
    const { service, clock } = await setup();
    assert.ok((await service.register("alice", password)).ok);
    const earlier = await login(service, "alice", password, "198.51.100.66");
    assert.ok(earlier.ok);
    for (let i = 0; i < 1000; i += 1) await login(service, "alice", `guess ${i} xxxxxxxx`, "198.51.100.66");
    // Client A is now blocked for untrusted attempts, the owner's device is not.
    assert.equal(codeOf(await login(service, "alice", password, "198.51.100.66")), "rate_limited");
    clock.advance(60_000);
    const trusted = await login(service, "alice", password, "198.51.100.66", earlier.deviceToken);
    assert.equal(codeOf(trusted), "ok", JSON.stringify(trusted));
  });

  test("per (username, client): 5 failures in 15 min stop guessing from that client", async () => {
    const { service, clock } = await setup();
    assert.ok((await service.register("alice", password)).ok);
    const codes: string[] = [];
    for (let i = 0; i < 20; i += 1) codes.push(codeOf(await login(service, "alice", `guess ${i} xxxxxxxx`)));
    assert.deepEqual(codes, [...Array(5).fill("invalid_credentials"), ...Array(15).fill("rate_limited")]);
    // Even the right password is refused from there until the window ends: no sixth guess.
    assert.deepEqual(await login(service, "alice", password), {
      ok: false,
      code: "rate_limited",
      retryAfterS: 15 * 60,
    });
    clock.advance(15 * 60 * 1000);
    assert.equal(codeOf(await login(service, "alice", password)), "ok");
  });

  test("a username attacked from many clients is slowed down, never locked", async () => {
    const { service, clock } = await setup();
    assert.ok((await service.register("alice", password)).ok);
    // 1000 clients, one guess each, as fast as the limiter lets them.
    let admitted = 0;
    for (let i = 0; i < 1000; i += 1) {
      const result = await login(service, "alice", "wrong password", `10.0.${i >> 8}.${i & 255}`);
      if (codeOf(result) === "invalid_credentials") admitted += 1;
      clock.advance(100);
    }
    // 10 free, then 1, 2, 4, 8, 16 and 32 s apart (then 60 s): a 100-second attack gets 16 guesses.
    assert.equal(admitted, 16);
    const owner = await login(service, "alice", password, "203.0.113.9");
    assert.ok(!owner.ok && owner.code === "rate_limited" && owner.retryAfterS <= 60, JSON.stringify(owner));
    clock.advance(owner.retryAfterS * 1000);
    assert.equal(codeOf(await login(service, "alice", password, "203.0.113.9")), "ok");
  });

  test("a device token is locked out on its own after 10 failures", async () => {
    const { service } = await setup();
    assert.ok((await service.register("alice", password)).ok);
    const first = await login(service, "alice", password, "192.0.2.1");
    const second = await login(service, "alice", password, "192.0.2.2");
    assert.ok(first.ok && second.ok);
    for (let i = 0; i < 10; i += 1) {
      const result = await login(service, "alice", "wrong password", "192.0.2.1", first.deviceToken);
      assert.equal(codeOf(result), "invalid_credentials");
    }
    assert.equal(
      codeOf(await login(service, "alice", password, "192.0.2.1", first.deviceToken)),
      "rate_limited",
    );
    // Its failures were counted on the token only: the other device and untrusted clients go on.
    assert.equal(codeOf(await login(service, "alice", password, "192.0.2.2", second.deviceToken)), "ok");
    assert.equal(codeOf(await login(service, "alice", password, "192.0.2.1")), "ok");
  });

  test("a device token counts only for its own user, unaltered and unexpired", async () => {
    const { service, clock } = await setup();
    assert.ok((await service.register("alice", password)).ok);
    assert.ok((await service.register("mallory", password)).ok);
    const mallory = await login(service, "mallory", password, "198.51.100.66");
    assert.ok(mallory.ok);
    const [payload, signature] = mallory.deviceToken.split(".");
    const forged = `${Buffer.from(JSON.stringify({ u: "alice", d: "x", e: 9e15 })).toString("base64url")}.${signature}`;
    for (const token of [mallory.deviceToken, forged, `${payload}.AAAA`, "junk"]) {
      for (let i = 0; i < 5; i += 1) await login(service, "alice", "wrong password", "198.51.100.66", token);
      // All five counted against (alice, this client): no extra guesses through a foreign token.
      assert.equal(codeOf(await login(service, "alice", password, "198.51.100.66", token)), "rate_limited");
      clock.advance(15 * 60 * 1000);
    }
    const aliceToken = await login(service, "alice", password, "192.0.2.1");
    assert.ok(aliceToken.ok);
    clock.advance(30 * dayMs);
    for (let i = 0; i < 5; i += 1)
      await login(service, "alice", "wrong password", "192.0.2.1", aliceToken.deviceToken);
    const expired = await login(service, "alice", password, "192.0.2.1", aliceToken.deviceToken);
    assert.equal(codeOf(expired), "rate_limited", "an expired token is no longer trusted");
  });

  test("the per-client budget stops password spraying across usernames from one address", async () => {
    const rules: LimitRules = {
      ...defaultLimitRules,
      client: { kind: "block", attemptsMax: 5, windowMs: 60_000 },
    };
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
    for (let i = 0; i < 4; i += 1) assert.equal((await login(service, "alice", "wrong password")).ok, false);
    assert.equal((await login(service, "alice", password)).ok, true);
  });

  test("a concurrent burst of guesses gets exactly the budget of tries", async () => {
    const { service } = await setup();
    assert.ok((await service.register("alice", password)).ok);
    const fromMany = await Promise.all(
      Array.from({ length: 40 }, (_, i) => login(service, "alice", `guess number ${i}`, `198.51.100.${i}`)),
    );
    // 10 free for the username; the 11th would have to wait a second.
    assert.equal(fromMany.filter((r) => codeOf(r) === "invalid_credentials").length, 10);
    assert.equal(fromMany.filter((r) => codeOf(r) === "rate_limited").length, 30);
    const fromOne = await Promise.all(
      Array.from({ length: 40 }, (_, i) => login(service, "bob", `guess number ${i}`, "203.0.113.1")),
    );
    assert.equal(fromOne.filter((r) => codeOf(r) === "invalid_credentials").length, 5);
  });

  test("a login whose password was never checked (hashing busy) is not counted", async () => {
    const clock = manualClock();
    const busy = createIdentityService({
      store: createMemoryUserStore(),
      passwords: {
        hash: async () => "x",
        verify: async () => {
          throw new BusyError("password hashing");
        },
      },
      tokens: await createAccessTokens({ secret: new Uint8Array(32).fill(1) }, clock),
      limiter: createMemoryLoginLimiter(clock),
      devices: createDeviceTrust(
        { key: new Uint8Array(32), ttlMs: dayMs },
        clock,
        seededIds(seededRandom(1)),
      ),
      clock,
      ids: seededIds(seededRandom(1)),
    });
    // Counted, the sixth would be rate_limited instead.
    for (let i = 0; i < 20; i += 1) await assert.rejects(login(busy, "alice", "wrong password"), BusyError);
  });
});

describe("registration limit", () => {
  test("20 concurrent registrations from one client: 10 succeed, 10 are rate limited", async () => {
    const { service } = await setup();
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) => service.register(`user${i}`, password, "192.0.2.1")),
    );
    const codes = results.map((r) => (r.ok ? "ok" : r.code));
    assert.equal(codes.filter((c) => c === "ok").length, 10);
    assert.equal(codes.filter((c) => c === "rate_limited").length, 10);
    assert.equal((await service.register("other", password, "192.0.2.2")).ok, true);
  });

  test("taken usernames count too, so names cannot be probed in bulk", async () => {
    const { service, clock } = await setup();
    assert.ok((await service.register("alice", password)).ok);
    for (let i = 0; i < 10; i += 1) {
      assert.deepEqual(await service.register("alice", password, "192.0.2.1"), {
        ok: false,
        code: "username_taken",
      });
    }
    assert.deepEqual(await service.register("alice", password, "192.0.2.1"), {
      ok: false,
      code: "rate_limited",
      retryAfterS: 3600,
    });
    clock.advance(3_600_000);
    assert.equal((await service.register("bob", password, "192.0.2.1")).ok, true);
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
