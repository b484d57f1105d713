import assert from "node:assert/strict";
import { createHmac } from "node:crypto";
import { describe, test } from "node:test";
import { manualClock } from "../platform/clock.ts";
import { InvariantViolation } from "../platform/errors.ts";
import { createAccessTokens } from "./tokens.ts";

const secret = new Uint8Array(32).fill(42);
const user = { id: "0b8f1f9e-3a51-4c0e-9d55-2f6e3c1d7a10", username: "Alice", roles: ["customer"] as const };

function b64url(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString("base64url");
}

function signHs(algorithm: "sha256" | "sha512", header: object, payload: object, key: Uint8Array): string {
  const input = `${b64url(header)}.${b64url(payload)}`;
  return `${input}.${createHmac(algorithm, key).update(input).digest("base64url")}`;
}

describe("access tokens", () => {
  test("a fresh token verifies to the principal it was issued for", async () => {
    const clock = manualClock();
    const tokens = await createAccessTokens({ secret }, clock);
    const issued = await tokens.issue(user);
    assert.equal(issued.expiresInS, 3600);
    const result = await tokens.verify(issued.accessToken);
    assert.deepEqual(result, {
      ok: true,
      principal: { userId: user.id, username: "Alice", roles: ["customer"] },
      expiresAtMs: clock.nowMs() + 3_600_000,
    });
  });

  test("claims carry sub, username, roles, iat and exp = iat + expiresIn", async () => {
    const clock = manualClock(1_700_000_000_500);
    const tokens = await createAccessTokens({ secret, expiresInS: 120 }, clock);
    const { accessToken } = await tokens.issue(user);
    const [header, payload] = accessToken
      .split(".")
      .slice(0, 2)
      .map((part) => JSON.parse(Buffer.from(part, "base64url").toString()));
    assert.deepEqual(header, { alg: "HS256", typ: "JWT" });
    assert.equal(payload.sub, user.id);
    assert.equal(payload.username, "Alice");
    assert.deepEqual(payload.roles, ["customer"]);
    assert.equal(payload.iat, 1_700_000_000);
    assert.equal(payload.exp, 1_700_000_120);
  });

  test("valid until exp (plus tolerance), expired after", async () => {
    const clock = manualClock();
    const tokens = await createAccessTokens({ secret, expiresInS: 60, clockToleranceS: 5 }, clock);
    const { accessToken } = await tokens.issue(user);
    clock.advance(64_000);
    assert.equal((await tokens.verify(accessToken)).ok, true);
    clock.advance(2_000);
    assert.deepEqual(await tokens.verify(accessToken), { ok: false, code: "token_expired" });
  });

  test("a tampered payload is rejected", async () => {
    const tokens = await createAccessTokens({ secret }, manualClock());
    const { accessToken } = await tokens.issue(user);
    const [header, payload, signature] = accessToken.split(".");
    const claims = JSON.parse(Buffer.from(payload ?? "", "base64url").toString());
    const forged = `${header}.${b64url({ ...claims, roles: ["admin"] })}.${signature}`;
    assert.deepEqual(await tokens.verify(forged), { ok: false, code: "token_invalid" });
  });

  test("a token signed with another secret is rejected", async () => {
    const clock = manualClock();
    const other = await createAccessTokens({ secret: new Uint8Array(32).fill(7) }, clock);
    const tokens = await createAccessTokens({ secret }, clock);
    const { accessToken } = await other.issue(user);
    assert.deepEqual(await tokens.verify(accessToken), { ok: false, code: "token_invalid" });
  });

  test("only HS256 is accepted: alg none and HS512 with the right secret are rejected", async () => {
    const clock = manualClock();
    const tokens = await createAccessTokens({ secret }, clock);
    const nowS = Math.floor(clock.nowMs() / 1000);
    const claims = {
      sub: user.id,
      username: "Alice",
      roles: ["admin"],
      iss: "ledgerflow",
      aud: "ledgerflow-api",
      iat: nowS,
      exp: nowS + 60,
    };
    const unsigned = `${b64url({ alg: "none", typ: "JWT" })}.${b64url(claims)}.`;
    assert.deepEqual(await tokens.verify(unsigned), { ok: false, code: "token_invalid" });
    const hs512 = signHs("sha512", { alg: "HS512", typ: "JWT" }, claims, secret);
    assert.deepEqual(await tokens.verify(hs512), { ok: false, code: "token_invalid" });
    // The same claims correctly signed pass, so the two rejections above are about the algorithm.
    const hs256 = signHs("sha256", { alg: "HS256", typ: "JWT" }, claims, secret);
    assert.equal((await tokens.verify(hs256)).ok, true);
  });

  test("a correctly signed token with a wrong audience, unknown role or missing exp is rejected", async () => {
    const clock = manualClock();
    const tokens = await createAccessTokens({ secret }, clock);
    const nowS = Math.floor(clock.nowMs() / 1000);
    const base = {
      sub: user.id,
      username: "A",
      roles: ["customer"],
      iss: "ledgerflow",
      aud: "ledgerflow-api",
      iat: nowS,
    };
    const header = { alg: "HS256", typ: "JWT" };
    const cases = [
      { ...base, exp: nowS + 60, aud: "another-service" },
      { ...base, exp: nowS + 60, roles: ["superuser"] },
      { ...base, exp: nowS + 60, roles: "admin" },
      base,
    ];
    for (const claims of cases) {
      assert.deepEqual(await tokens.verify(signHs("sha256", header, claims, secret)), {
        ok: false,
        code: "token_invalid",
      });
    }
  });

  test("a token issued in the future (beyond the clock tolerance) is rejected", async () => {
    const clock = manualClock();
    const tokens = await createAccessTokens({ secret, expiresInS: 60, clockToleranceS: 5 }, clock);
    const nowS = Math.floor(clock.nowMs() / 1000);
    const claimsAt = (iatS: number) => ({
      sub: user.id,
      username: "A",
      roles: ["customer"],
      iss: "ledgerflow",
      aud: "ledgerflow-api",
      iat: iatS,
      exp: iatS + 60,
    });
    const header = { alg: "HS256", typ: "JWT" };
    const future = signHs("sha256", header, claimsAt(nowS + 3600), secret);
    assert.deepEqual(await tokens.verify(future), { ok: false, code: "token_invalid" });
    // Within the tolerance (a peer's clock slightly ahead) it passes.
    assert.equal((await tokens.verify(signHs("sha256", header, claimsAt(nowS + 5), secret))).ok, true);
    assert.deepEqual(await tokens.verify(signHs("sha256", header, claimsAt(nowS + 6), secret)), {
      ok: false,
      code: "token_invalid",
    });
  });

  test("garbage and oversized input are rejections, not exceptions", async () => {
    const tokens = await createAccessTokens({ secret }, manualClock());
    for (const token of ["", "abc", "a.b.c", "....", `${"a".repeat(3000)}.${"b".repeat(3000)}.c`]) {
      assert.deepEqual(await tokens.verify(token), { ok: false, code: "token_invalid" });
    }
  });

  test("a secret shorter than 32 bytes is refused at start", async () => {
    await assert.rejects(
      createAccessTokens({ secret: new Uint8Array(31) }, manualClock()),
      InvariantViolation,
    );
  });
});

test("a verified token is cached, yet still expires on time", async () => {
  const clock = manualClock();
  const tokens = await createAccessTokens(
    { secret: new Uint8Array(32).fill(7), expiresInS: 60, clockToleranceS: 0 },
    clock,
  );
  const { accessToken } = await tokens.issue({ id: "u1", username: "ann", roles: ["customer"] });
  assert.equal((await tokens.verify(accessToken)).ok, true);
  assert.equal((await tokens.verify(accessToken)).ok, true, "second verification answers from the cache");
  clock.advance(60_000);
  assert.deepEqual(await tokens.verify(accessToken), { ok: false, code: "token_expired" });
  const forged = `${accessToken.slice(0, -2)}xx`;
  assert.deepEqual(await tokens.verify(forged), { ok: false, code: "token_invalid" });
});
