import assert from "node:assert/strict";
import { request as httpRequest } from "node:http";
import { after, before, describe, test } from "node:test";
import Fastify, { type FastifyInstance } from "fastify";
import { startTestDatabase, type TestDatabase } from "../../test/support/postgres.ts";
import { installJsonBodyParser } from "../api/json-body.ts";
import { manualClock, systemIds } from "../platform/clock.ts";
import { decoratePrincipal, requireRole } from "../platform/http/auth.ts";
import { installErrorHandler } from "../platform/http/error-handler.ts";
import { createPostgresUserStore } from "./adapters/postgres.ts";
import { createDeviceTrust } from "./device-trust.ts";
import { createHashingQueue } from "./hashing-queue.ts";
import { createMemoryLoginLimiter, defaultLimitRules } from "./login-limiter.ts";
import type { PasswordHasher } from "./passwords.ts";
import { createArgon2Hasher, owaspArgon2Params } from "./passwords.ts";
import { authenticate, identityRoutes } from "./routes.ts";
import type { IdentityService } from "./service.ts";
import { createIdentityService } from "./service.ts";
import type { AccessTokens } from "./tokens.ts";
import { createAccessTokens } from "./tokens.ts";

interface Answer {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body: Record<string, unknown>;
}

/**
 * POST from a chosen loopback address (127.0.0.0/8 is all local on Linux), so that one test can be
 * several clients, an attacker's and the owner's, as the server's `request.ip` tells them apart.
 */
function postFrom(
  localAddress: string,
  url: string,
  body: unknown,
  headers: Record<string, string> = {},
): Promise<Answer> {
  const payload = JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const outgoing = httpRequest(
      url,
      {
        method: "POST",
        localAddress,
        agent: false,
        headers: {
          "content-type": "application/json",
          "content-length": Buffer.byteLength(payload),
          ...headers,
        },
      },
      (response) => {
        let text = "";
        response.setEncoding("utf8");
        response.on("data", (chunk: string) => {
          text += chunk;
        });
        response.on("end", () =>
          resolve({ status: response.statusCode ?? 0, headers: response.headers, body: JSON.parse(text) }),
        );
      },
    );
    outgoing.on("error", reject);
    outgoing.end(payload);
  });
}

describe("identity over HTTP", () => {
  let db: TestDatabase;
  let app: FastifyInstance;
  let base: string;
  let tokens: AccessTokens;
  let service: IdentityService;
  const clock = manualClock(Date.now());

  before(async () => {
    db = await startTestDatabase();
    tokens = await createAccessTokens({ secret: new Uint8Array(32).fill(9) }, clock);
    service = createIdentityService({
      store: createPostgresUserStore(db.pool),
      passwords: createArgon2Hasher(owaspArgon2Params),
      tokens,
      // Every request here comes from 127.0.0.1: per-client limits are tested in their own apps below.
      limiter: createMemoryLoginLimiter(clock, {
        rules: {
          ...defaultLimitRules,
          client: { kind: "block", attemptsMax: 10_000, windowMs: 60_000 },
          registration: { kind: "block", attemptsMax: 10_000, windowMs: 60_000 },
        },
      }),
      devices: createDeviceTrust({ key: new Uint8Array(32).fill(8), ttlMs: 86_400_000 }, clock, systemIds),
      clock,
      ids: systemIds,
    });
    app = Fastify({ logger: false });
    installJsonBodyParser(app, { moneyLiterals: true }); // the edge's parser, as buildHttpApp installs it
    installErrorHandler(app);
    decoratePrincipal(app);
    await app.register(identityRoutes, { service });
    await app.register(async (scope) => {
      scope.get(
        "/v1/test/whoami",
        { preHandler: authenticate(tokens) },
        async (request) => request.principal,
      );
      scope.get("/v1/test/admin", { preHandler: [authenticate(tokens), requireRole("admin")] }, async () => ({
        secret: "for admins",
      }));
      scope.get("/v1/test/crash", async () => {
        throw new Error("connection string postgres://user:hunter2@db");
      });
    });
    base = await app.listen({ host: "127.0.0.1", port: 0 });
  });

  // Apps of the limit tests below, each with its own limiter and clock.
  const extraApps: FastifyInstance[] = [];

  after(async () => {
    for (const extra of extraApps) await extra.close();
    await app?.close();
    await db?.close();
  });

  async function startLimitedApp(options: { passwords?: PasswordHasher } = {}): Promise<string> {
    const ownClock = manualClock(Date.now());
    const limited = createIdentityService({
      store: createPostgresUserStore(db.pool),
      passwords: options.passwords ?? createArgon2Hasher(owaspArgon2Params),
      tokens: await createAccessTokens({ secret: new Uint8Array(32).fill(9) }, ownClock),
      limiter: createMemoryLoginLimiter(ownClock, { rules: defaultLimitRules }),
      devices: createDeviceTrust({ key: new Uint8Array(32).fill(8), ttlMs: 86_400_000 }, ownClock, systemIds),
      clock: ownClock,
      ids: systemIds,
    });
    const extra = Fastify({ logger: false });
    extraApps.push(extra);
    installErrorHandler(extra);
    await extra.register(identityRoutes, { service: limited });
    return extra.listen({ host: "127.0.0.1", port: 0 });
  }

  const post = (path: string, body: unknown, headers: Record<string, string> = {}) =>
    fetch(`${base}${path}`, {
      method: "POST",
      headers: { "content-type": "application/json", ...headers },
      body: typeof body === "string" ? body : JSON.stringify(body),
    });

  const userCount = async (): Promise<number> =>
    (await db.pool.query("SELECT count(*)::int AS n FROM users")).rows[0].n as number;

  async function expectProblem(response: Response, status: number, code: string, field?: string) {
    const text = await response.text();
    assert.equal(response.status, status, text);
    assert.equal(response.headers.get("content-type"), "application/problem+json; charset=utf-8");
    const problem = JSON.parse(text);
    assert.equal(problem.code, code, text);
    assert.equal(problem.status, status);
    assert.equal(typeof problem.type, "string");
    assert.equal(typeof problem.title, "string");
    if (field !== undefined) assert.equal(problem.field, field, text);
    assert.ok(!/at .*\.ts|node_modules/.test(text), `no stack trace leaks: ${text}`);
    return problem;
  }

  test("register → 201 with the public user; the password is stored only as an argon2id hash", async () => {
    const response = await post("/v1/auth/register", {
      username: "Alice",
      password: "correct horse battery",
    });
    assert.equal(response.status, 201);
    const body = await response.json();
    assert.match(body.id, /^[0-9a-f-]{36}$/);
    assert.deepEqual(body, { id: body.id, username: "Alice", roles: ["customer"] });
    const row = (await db.pool.query("SELECT password_hash FROM users WHERE id = $1", [body.id])).rows[0];
    assert.match(row.password_hash, /^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
  });

  test("a taken username (any case) → 409 username_taken", async () => {
    const before = await userCount();
    const response = await post("/v1/auth/register", { username: "ALICE", password: "another password" });
    await expectProblem(response, 409, "username_taken", "username");
    assert.equal(await userCount(), before);
  });

  test("login → 200 bearer token that authenticates; wrong password and unknown user → 401 alike", async () => {
    const ok = await post("/v1/auth/login", { username: "alice", password: "correct horse battery" });
    assert.equal(ok.status, 200);
    const body = await ok.json();
    assert.deepEqual(Object.keys(body).sort(), ["accessToken", "deviceToken", "expiresIn", "tokenType"]);
    assert.equal(body.tokenType, "Bearer");
    assert.equal(body.expiresIn, 3600);
    const me = await fetch(`${base}/v1/test/whoami`, {
      headers: { authorization: `Bearer ${body.accessToken}` },
    });
    assert.equal(me.status, 200);
    assert.deepEqual(await me.json(), {
      userId: (await db.pool.query("SELECT id FROM users WHERE username = 'Alice'")).rows[0].id,
      username: "Alice",
      roles: ["customer"],
    });

    const wrong = await expectProblem(
      await post("/v1/auth/login", { username: "alice", password: "wrong password" }),
      401,
      "invalid_credentials",
    );
    const unknown = await expectProblem(
      await post("/v1/auth/login", { username: "nobody", password: "wrong password" }),
      401,
      "invalid_credentials",
    );
    assert.deepEqual(wrong, unknown);
  });

  test("after 5 failed logins from one client the username gets 429 rate_limited there, with Retry-After", async () => {
    assert.equal(
      (await post("/v1/auth/register", { username: "bob", password: "bob's password" })).status,
      201,
    );
    for (let i = 0; i < 5; i += 1) {
      await expectProblem(
        await post("/v1/auth/login", { username: "bob", password: `guess ${i} xxxxx` }),
        401,
        "invalid_credentials",
      );
    }
    const limited = await post("/v1/auth/login", { username: "BOB", password: "bob's password" });
    const problem = await expectProblem(limited, 429, "rate_limited");
    assert.equal(limited.headers.get("retry-after"), "900");
    assert.equal(problem.retryAfterS, 900);
    clock.advance(900_000);
    assert.equal((await post("/v1/auth/login", { username: "bob", password: "bob's password" })).status, 200);
  });

  const badRegistrations: { name: string; body: unknown; field?: string }[] = [
    {
      name: "unknown field",
      body: { username: "carol", password: "carol password", isAdmin: true },
      field: "isAdmin",
    },
    {
      name: "roles smuggled in",
      body: { username: "carol", password: "carol password", roles: ["admin"] },
      field: "roles",
    },
    { name: "missing password", body: { username: "carol" }, field: "password" },
    { name: "missing username", body: { password: "carol password" }, field: "username" },
    {
      name: "username is a number",
      body: { username: 12345, password: "carol password" },
      field: "username",
    },
    {
      name: "password is an array",
      body: { username: "carol", password: ["carol password"] },
      field: "password",
    },
    { name: "password is null", body: { username: "carol", password: null }, field: "password" },
    { name: "short password", body: { username: "carol", password: "short" }, field: "password" },
    {
      name: "5 emoji (10 UTF-16 units)",
      body: { username: "carol", password: "🔒🔒🔒🔒🔒" },
      field: "password",
    },
    { name: "unicode username", body: { username: "cärol", password: "carol password" }, field: "username" },
    {
      name: "RTL override username",
      body: { username: "carol\u202e", password: "carol password" },
      field: "username",
    },
    {
      name: "NUL in username",
      body: { username: "car\u0000ol", password: "carol password" },
      field: "username",
    },
    {
      name: "SQL-like username",
      body: { username: "x'); DROP TABLE users; --", password: "carol password" },
      field: "username",
    },
    {
      name: "long username",
      body: { username: "c".repeat(65), password: "carol password" },
      field: "username",
    },
    { name: "body is an array", body: [{ username: "carol", password: "carol password" }] },
    { name: "body is a string", body: '"carol"' },
  ];
  for (const { name, body, field } of badRegistrations) {
    test(`register with ${name} → 400 validation_failed${field ? ` naming ${field}` : ""}, nothing written`, async () => {
      const before = await userCount();
      await expectProblem(await post("/v1/auth/register", body), 400, "validation_failed", field);
      assert.equal(await userCount(), before);
    });
  }

  test("login with an unknown field or wrong type → 400 naming the field", async () => {
    const extra = await post("/v1/auth/login", {
      username: "alice",
      password: "x".repeat(12),
      otp: "123456",
    });
    await expectProblem(extra, 400, "validation_failed", "otp");
    await expectProblem(
      await post("/v1/auth/login", { username: ["alice"], password: "x" }),
      400,
      "validation_failed",
      "username",
    );
  });

  test("malformed JSON → 400; prototype pollution → 422; wrong content type → 415; nothing written", async () => {
    const before = await userCount();
    await expectProblem(
      await post("/v1/auth/register", '{"username": "dave", "password":'),
      400,
      "validation_failed",
    );
    await expectProblem(
      await post(
        "/v1/auth/register",
        '{"username":"dave","password":"dave password","__proto__":{"roles":["admin"]}}',
      ),
      422,
      "forbidden_json_key",
    );
    const text = await fetch(`${base}/v1/auth/register`, {
      method: "POST",
      headers: { "content-type": "text/plain" },
      body: "username=dave&password=dave password",
    });
    await expectProblem(text, 415, "unsupported_media_type");
    await expectProblem(await post("/v1/auth/register", ""), 400, "validation_failed");
    assert.equal(await userCount(), before);
  });

  test("a 10 MB body → 413 body_too_large, nothing written", async () => {
    const before = await userCount();
    const huge = JSON.stringify({ username: "erin", password: "p".repeat(10 * 1024 * 1024) });
    await expectProblem(await post("/v1/auth/register", huge), 413, "body_too_large");
    assert.equal(await userCount(), before);
  });

  test("a password over 256 code points → 400 naming password", async () => {
    const before = await userCount();
    const response = await post("/v1/auth/register", { username: "frank", password: "p".repeat(257) });
    await expectProblem(response, 400, "validation_failed", "password");
    assert.equal(await userCount(), before);
  });

  test("unicode and SQL-like passwords are just passwords", async () => {
    for (const [username, password] of [
      ["grace", "pässwörd 密码 🔒🔒"],
      ["heidi", "' OR '1'='1' --; DROP TABLE users"],
    ] as const) {
      assert.equal((await post("/v1/auth/register", { username, password })).status, 201);
      assert.equal((await post("/v1/auth/login", { username, password })).status, 200);
    }
    assert.ok((await userCount()) >= 4);
  });

  test("bearer auth: missing, malformed, tampered and expired tokens → 401; role check → 403", async () => {
    const noHeader = await fetch(`${base}/v1/test/whoami`);
    await expectProblem(noHeader, 401, "unauthenticated");
    assert.equal(noHeader.headers.get("www-authenticate"), 'Bearer realm="ledgerflow"');

    const basic = await fetch(`${base}/v1/test/whoami`, { headers: { authorization: "Basic YWxpY2U6cHc=" } });
    await expectProblem(basic, 401, "unauthenticated");

    const login = await (
      await post("/v1/auth/login", { username: "alice", password: "correct horse battery" })
    ).json();
    const tampered = `${login.accessToken.slice(0, -4)}AAAA`;
    const bad = await fetch(`${base}/v1/test/whoami`, { headers: { authorization: `Bearer ${tampered}` } });
    await expectProblem(bad, 401, "unauthenticated");
    assert.match(bad.headers.get("www-authenticate") ?? "", /error="invalid_token"/);

    const asCustomer = await fetch(`${base}/v1/test/admin`, {
      headers: { authorization: `Bearer ${login.accessToken}` },
    });
    await expectProblem(asCustomer, 403, "forbidden");

    const admin = await service.bootstrapAdmin("root", "root password 1");
    assert.ok(admin.ok);
    const adminLogin = await (
      await post("/v1/auth/login", { username: "root", password: "root password 1" })
    ).json();
    const asAdmin = await fetch(`${base}/v1/test/admin`, {
      headers: { authorization: `Bearer ${adminLogin.accessToken}` },
    });
    assert.equal(asAdmin.status, 200);
    assert.deepEqual(await asAdmin.json(), { secret: "for admins" });

    clock.advance(3_600_000 + 10_000);
    const expired = await fetch(`${base}/v1/test/admin`, {
      headers: { authorization: `Bearer ${adminLogin.accessToken}` },
    });
    const problem = await expectProblem(expired, 401, "unauthenticated");
    assert.match(problem.detail, /expired/);
  });

  test("unknown route → 404 not_found; an unexpected error → 500 internal without its message", async () => {
    await expectProblem(await fetch(`${base}/v1/nope`), 404, "not_found");
    const crash = await expectProblem(await fetch(`${base}/v1/test/crash`), 500, "internal");
    assert.ok(!JSON.stringify(crash).includes("hunter2"));
  });
  describe("login and registration limits (OWASP: throttle guessing without handing out lockouts)", () => {
    const owner = { username: "owner1", password: "owner's long password" };
    const attacker = "127.0.0.2";

    test("1000 failures from client A stop neither the owner at client B nor the owner's browser at A", async () => {
      const limitedBase = await startLimitedApp();
      const register = await postFrom("127.0.0.4", `${limitedBase}/v1/auth/register`, owner);
      assert.equal(register.status, 201);
      // Earlier, the owner signed in from A: the browser got the device cookie.
      const earlier = await postFrom(attacker, `${limitedBase}/v1/auth/login`, owner);
      assert.equal(earlier.status, 200);
      const setCookie = String(earlier.headers["set-cookie"]);
      const cookie = setCookie.split(";")[0] ?? "";

      const statuses = new Map<number, number>();
      for (let i = 0; i < 1000; i += 1) {
        const guess = await postFrom(attacker, `${limitedBase}/v1/auth/login`, {
          username: owner.username,
          password: `guess number ${i}`,
        });
        statuses.set(guess.status, (statuses.get(guess.status) ?? 0) + 1);
      }

      const elsewhere = await postFrom("127.0.0.3", `${limitedBase}/v1/auth/login`, owner);
      assert.equal(elsewhere.status, 200, JSON.stringify(elsewhere.body));
      // Only 5 guesses at the owner from A were checked at all.
      assert.deepEqual(Object.fromEntries(statuses), { 401: 5, 429: 995 });
      assert.match(
        setCookie,
        /^ledgerflow_device=[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+; Max-Age=86400; Path=\/v1\/auth; HttpOnly; SameSite=Strict$/,
      );
      assert.equal(cookie, `ledgerflow_device=${earlier.body.deviceToken}`);
      const untrustedAtA = await postFrom(attacker, `${limitedBase}/v1/auth/login`, owner);
      assert.equal(untrustedAtA.status, 429, "client A itself is blocked for untrusted logins");
      const browserAtA = await postFrom(attacker, `${limitedBase}/v1/auth/login`, owner, { cookie });
      assert.equal(browserAtA.status, 200, JSON.stringify(browserAtA.body));
      const apiClientAtA = await postFrom(attacker, `${limitedBase}/v1/auth/login`, {
        ...owner,
        deviceToken: browserAtA.body.deviceToken,
      });
      assert.equal(apiClientAtA.status, 200, JSON.stringify(apiClientAtA.body));
    });

    test("20 concurrent registrations from one client: 10 × 201, the rest 429 rate_limited, not written", async () => {
      const limitedBase = await startLimitedApp();
      const answers = await Promise.all(
        Array.from({ length: 20 }, (_, i) =>
          postFrom("127.0.0.5", `${limitedBase}/v1/auth/register`, {
            username: `burst-${i}`,
            password: "a long enough password",
          }),
        ),
      );
      const created = answers.filter((answer) => answer.status === 201);
      const refused = answers.filter((answer) => answer.status === 429);
      assert.equal(created.length, 10);
      assert.equal(refused.length, 10);
      for (const answer of refused) {
        assert.equal(answer.headers["content-type"], "application/problem+json; charset=utf-8");
        assert.equal(answer.body.code, "rate_limited");
        assert.equal(answer.body.status, 429);
        assert.equal(answer.headers["retry-after"], "3600");
      }
      const rows = await db.pool.query("SELECT count(*)::int AS n FROM users WHERE username LIKE 'burst-%'");
      assert.equal(rows.rows[0].n, 10);
      const otherClient = await postFrom("127.0.0.6", `${limitedBase}/v1/auth/register`, {
        username: "burst-other",
        password: "a long enough password",
      });
      assert.equal(otherClient.status, 201);
    });

    test("past the hashing queue a login is 503 busy with Retry-After", async () => {
      const releases: (() => void)[] = [];
      let entered = 0;
      const gated: PasswordHasher = {
        hash: async () => "unused",
        verify: async () => {
          await new Promise<void>((resolve) => releases.push(resolve));
          return false;
        },
      };
      const queue = createHashingQueue(gated, { concurrencyMax: 1, queuedMax: 1 });
      const counting: PasswordHasher = {
        hash: queue.hash,
        verify: (storedHash, password) => {
          entered += 1;
          return queue.verify(storedHash, password);
        },
      };
      const limitedBase = await startLimitedApp({ passwords: counting });
      const attempt = (username: string) =>
        postFrom("127.0.0.7", `${limitedBase}/v1/auth/login`, { username, password: "some password" });
      const waitFor = async (count: number) => {
        while (entered < count) await new Promise((resolve) => setTimeout(resolve, 5));
      };
      const running = attempt("busy-1");
      await waitFor(1);
      const queued = attempt("busy-2");
      await waitFor(2);
      const refused = await attempt("busy-3");
      assert.equal(refused.status, 503);
      assert.equal(refused.headers["content-type"], "application/problem+json; charset=utf-8");
      assert.equal(refused.headers["retry-after"], "1");
      assert.equal(refused.body.code, "busy");
      const releaseNext = async () => {
        while (releases.length === 0) await new Promise((resolve) => setTimeout(resolve, 5));
        releases.shift()?.();
      };
      await releaseNext();
      assert.equal((await running).status, 401);
      await releaseNext();
      assert.equal((await queued).status, 401);
    });
  });
});
