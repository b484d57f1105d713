import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import Fastify, { type FastifyInstance } from "fastify";
import { startTestDatabase, type TestDatabase } from "../../test/support/postgres.ts";
import { manualClock, systemIds } from "../platform/clock.ts";
import { decoratePrincipal, requireRole } from "../platform/http/auth.ts";
import { installErrorHandler } from "../platform/http/error-handler.ts";
import { createPostgresUserStore } from "./adapters/postgres.ts";
import { createMemoryLoginLimiter, defaultLimitRules } from "./login-limiter.ts";
import { createArgon2Hasher, owaspArgon2Params } from "./passwords.ts";
import { authenticate, identityRoutes } from "./routes.ts";
import type { IdentityService } from "./service.ts";
import { createIdentityService } from "./service.ts";
import type { AccessTokens } from "./tokens.ts";
import { createAccessTokens } from "./tokens.ts";

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
      // Every request here comes from 127.0.0.1; the per-IP rule is covered by the unit tests.
      limiter: createMemoryLoginLimiter(clock, {
        rules: { ...defaultLimitRules, ip: { failuresMax: 10_000, windowMs: 60_000 } },
      }),
      clock,
      ids: systemIds,
    });
    app = Fastify({ logger: false });
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

  after(async () => {
    await app?.close();
    await db?.close();
  });

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
    assert.deepEqual(Object.keys(body).sort(), ["accessToken", "expiresIn", "tokenType"]);
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

  test("after 10 failed logins the username gets 429 rate_limited with Retry-After", async () => {
    assert.equal(
      (await post("/v1/auth/register", { username: "bob", password: "bob's password" })).status,
      201,
    );
    for (let i = 0; i < 10; i += 1) {
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

  test("malformed JSON → 400; prototype pollution → 400; wrong content type → 415; nothing written", async () => {
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
      400,
      "validation_failed",
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
});
