import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { apiClient, startTestPlatform, type TestPlatform } from "../../../test/support/platform.ts";
import { createTopicCodec } from "../../platform/log/topic-codecs.ts";
import { identityTopics } from "../topics.ts";

const password = "correct horse battery staple";

describe("sessions: rotating refresh tokens, reuse detection, logout, revocation", () => {
  let running: TestPlatform;
  let api: ReturnType<typeof apiClient>;

  before(async () => {
    running = await startTestPlatform();
    api = apiClient(running.url);
  });
  after(() => running?.stop());

  async function signUp(
    username: string,
    extra: Record<string, unknown> = {},
    headers: Record<string, string> = {},
  ) {
    await api.call("POST", "/v1/auth/register", { username, password });
    const login = await api.call("POST", "/v1/auth/login", { username, password, ...extra }, headers);
    assert.equal(login.status, 200, JSON.stringify(login.body));
    return login;
  }
  const refresh = (refreshToken: string) => api.call("POST", "/v1/auth/refresh", { refreshToken });
  const me = (accessToken: string) => api.as(accessToken).get("/v1/me/sessions");

  /** identity.events as decoded records, all partitions. */
  async function authEvents(): Promise<Record<string, unknown>[]> {
    const { log, registry } = running.platform;
    const codec = await createTopicCodec(registry, identityTopics.identityEvents);
    const found: Record<string, unknown>[] = [];
    for (let partition = 0; partition < identityTopics.identityEvents.spec.partitions; partition++) {
      for (const record of await log.read(codec.topic, partition, 0n, 10_000))
        found.push(codec.decode(record.value) as Record<string, unknown>);
    }
    return found;
  }

  test("login gives a short access token and a refresh token; refresh rotates both", async () => {
    const login = await signUp("rotator", {}, { "user-agent": "TestBrowser/1.0" });
    assert.equal(login.body.expiresIn, 900);
    assert.match(login.body.refreshToken, /^[A-Za-z0-9_-]{43}$/);
    const next = await refresh(login.body.refreshToken);
    assert.equal(next.status, 200, JSON.stringify(next.body));
    assert.notEqual(next.body.refreshToken, login.body.refreshToken);
    assert.equal(next.body.sessionId, login.body.sessionId);
    const sessions = await me(next.body.accessToken);
    assert.equal(sessions.status, 200);
    assert.equal(sessions.body.items.length, 1);
    assert.equal(sessions.body.items[0].current, true);
    assert.equal(sessions.body.items[0].device, "TestBrowser/1.0");
    assert.equal(sessions.body.items[0].ipCoarse, "127.0.0.0/24");
  });

  test("a replayed refresh token revokes its whole family: 401, the successor and access tokens die, audited", async () => {
    const login = await signUp("replayed");
    const rotated = await refresh(login.body.refreshToken);
    assert.equal(rotated.status, 200);
    const replay = await refresh(login.body.refreshToken);
    assert.equal(replay.status, 401);
    assert.equal(replay.body.code, "refresh_token_invalid");
    // The thief's or the owner's copy: neither may continue.
    const successor = await refresh(rotated.body.refreshToken);
    assert.equal(successor.status, 401);
    assert.equal((await me(rotated.body.accessToken)).status, 401);
    assert.equal((await me(login.body.accessToken)).status, 401);
    const events = await authEvents();
    const reuse = events.filter(
      (e) => e.kind === "refresh_reuse_detected" && e.sessionId === login.body.sessionId,
    );
    assert.equal(reuse.length, 1);
    assert.ok(
      events.some(
        (e) => e.kind === "refresh_refused" && e.sessionId === login.body.sessionId && e.detail === "revoked",
      ),
    );
  });

  test("logout revokes: the refresh token and the access token stop working", async () => {
    const login = await signUp("leaver");
    const out = await api.call("POST", "/v1/auth/logout", { refreshToken: login.body.refreshToken });
    assert.equal(out.status, 204);
    assert.equal((await refresh(login.body.refreshToken)).status, 401);
    assert.equal((await me(login.body.accessToken)).status, 401);
    const events = await authEvents();
    assert.ok(events.some((e) => e.kind === "logout" && e.sessionId === login.body.sessionId));
    assert.ok(events.some((e) => e.kind === "login_succeeded" && e.username === "leaver"));
  });

  test("logout by access token alone ends that session", async () => {
    const login = await signUp("bearerout");
    const out = await api.call("POST", "/v1/auth/logout", undefined, {
      authorization: `Bearer ${login.body.accessToken}`,
    });
    assert.equal(out.status, 204);
    assert.equal((await refresh(login.body.refreshToken)).status, 401);
  });

  test("a session revoked from another device cannot refresh; others cannot revoke it", async () => {
    const phone = await signUp("twodevices", {}, { "user-agent": "Phone" });
    const laptop = await api.call("POST", "/v1/auth/login", { username: "twodevices", password });
    const stranger = await signUp("stranger");
    const theirs = await api
      .as(stranger.body.accessToken)
      .call("DELETE", `/v1/me/sessions/${phone.body.sessionId}`);
    assert.equal(theirs.status, 404);
    assert.equal((await me(phone.body.accessToken)).status, 200, "a stranger changed nothing");
    const listed = await me(laptop.body.accessToken);
    assert.deepEqual(
      listed.body.items.map((s: { id: string }) => s.id).sort(),
      [phone.body.sessionId, laptop.body.sessionId].sort(),
    );
    const revoke = await api
      .as(laptop.body.accessToken)
      .call("DELETE", `/v1/me/sessions/${phone.body.sessionId}`);
    assert.equal(revoke.status, 204);
    const refused = await refresh(phone.body.refreshToken);
    assert.equal(refused.status, 401);
    assert.equal(refused.body.code, "refresh_token_invalid");
    assert.equal((await me(phone.body.accessToken)).status, 401);
    assert.equal((await me(laptop.body.accessToken)).body.items.length, 1);
    const again = await api
      .as(laptop.body.accessToken)
      .call("DELETE", `/v1/me/sessions/${phone.body.sessionId}`);
    assert.equal(again.status, 404);
    assert.ok(
      (await authEvents()).some((e) => e.kind === "session_revoked" && e.sessionId === phone.body.sessionId),
    );
  });

  test("the web app's refresh token is an httpOnly SameSite=Strict cookie on /v1/auth, never in the body", async () => {
    const login = await signUp("cookied", { refreshTokenIn: "cookie" });
    assert.equal(login.body.refreshToken, undefined);
    const cookie = refreshCookieOf(login.headers);
    assert.match(cookie.attributes, /HttpOnly/i);
    assert.match(cookie.attributes, /SameSite=Strict/i);
    assert.match(cookie.attributes, /Path=\/v1\/auth(;|$)/);
    assert.doesNotMatch(cookie.attributes, /Secure/, "plain-HTTP loopback: not Secure (README)");
    const next = await api.call("POST", "/v1/auth/refresh", undefined, { cookie: cookie.pair });
    assert.equal(next.status, 200, JSON.stringify(next.body));
    assert.equal(next.body.refreshToken, undefined);
    const rotated = refreshCookieOf(next.headers);
    assert.notEqual(rotated.pair, cookie.pair);
    assert.equal(
      (await api.call("POST", "/v1/auth/refresh", undefined, { cookie: cookie.pair })).status,
      401,
    );
  });

  test("bad refresh input: none, unknown, overlong", async () => {
    assert.equal((await api.call("POST", "/v1/auth/refresh", {})).body.code, "refresh_token_invalid");
    assert.equal((await refresh("x".repeat(43))).status, 401);
    const long = await refresh("x".repeat(129));
    assert.equal(long.status, 400);
    assert.equal(long.body.field, "refreshToken");
  });
});

function refreshCookieOf(headers: Headers): { pair: string; attributes: string } {
  const cookie = headers.getSetCookie().find((c) => c.startsWith("ledgerflow_refresh="));
  assert.ok(cookie, "a ledgerflow_refresh cookie is set");
  const [pair = "", ...attributes] = cookie.split(";");
  return { pair, attributes: attributes.join(";") };
}
