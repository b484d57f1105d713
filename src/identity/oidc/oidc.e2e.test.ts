/**
 * Sign-in through a real OpenID provider (oidc-provider on loopback, test/support/oidc-provider.ts)
 * over HTTP, redirect by redirect: the platform's start → the provider's login and consent → the
 * platform's callback → the one-time ticket → tokens. Then the attacks of issue 15, each refused
 * with a 4xx, nothing granted (no user, link or ticket), and an audit record.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { decodeJwt } from "jose";
import {
  browserRequest,
  CookieJar,
  signInOverHttp,
  startTestProvider,
  type TestProvider,
} from "../../../test/support/oidc-provider.ts";
import { startTestPlatform, type TestPlatform } from "../../../test/support/platform.ts";
import { freePort } from "../../../test/support/ports.ts";
import { createTopicCodec } from "../../platform/log/topic-codecs.ts";
import { identityTopics } from "../topics.ts";

const accounts = {
  alice: { email: "Alice@Example.test", emailVerified: true, name: "Alice" },
  "alice-work": { email: "alice@example.test", emailVerified: true },
  mallory: { email: "alice@example.test", emailVerified: false },
  bob: { email: "bob@example.test", emailVerified: false },
  carol: { email: "carol@example.test", emailVerified: true },
};

describe("sign-in with an OpenID Connect provider (real provider on loopback)", () => {
  let provider: TestProvider;
  let platform: TestPlatform;
  let startUrl: string;

  before(async () => {
    const port = await freePort();
    provider = await startTestProvider({
      redirectUris: [
        `http://127.0.0.1:${port}/v1/auth/oidc/test-idp/callback`,
        `http://127.0.0.1:${port}/v1/auth/oidc/test-post/callback`,
      ],
      accounts,
    });
    platform = await startTestPlatform({
      http: { port },
      oidc: {
        providers: [
          { id: "test-idp", issuer: provider.issuer, clientId: provider.clientId, displayName: "Test IdP" },
          // The same provider answering as Apple does: the callback is a POSTed form.
          {
            id: "test-post",
            issuer: provider.issuer,
            clientId: provider.clientId,
            responseMode: "form_post",
          },
        ],
        clientSecrets: { "test-idp": provider.clientSecret, "test-post": provider.clientSecret },
      },
    });
    startUrl = `${platform.url}/v1/auth/oidc/test-idp/start`;
  });
  after(async () => {
    await platform?.stop();
    await provider?.stop();
  });

  async function count(table: string): Promise<number> {
    const { rows } = await platform.platform.pool.query(`SELECT count(*)::int AS n FROM ${table}`);
    return rows[0].n as number;
  }
  async function grants() {
    return {
      users: await count("users"),
      links: await count("identity_federated"),
      tickets: await count("identity_sign_in_tickets"),
    };
  }
  async function lastAudit(kind = "oidc.sign_in") {
    const { rows } = await platform.platform.pool.query(
      "SELECT kind, outcome, reason, provider_id, user_id FROM identity_auth_events WHERE kind = $1 ORDER BY id DESC LIMIT 1",
      [kind],
    );
    return rows[0];
  }
  async function exchange(location: string) {
    const ticket = decodeURIComponent(/#ticket=(.+)$/.exec(location)?.[1] ?? "");
    return fetch(`${platform.url}/v1/auth/oidc/exchange`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ ticket }),
    });
  }
  async function signIn(account: string) {
    const { callback } = await signInOverHttp({ jar: new CookieJar(), startUrl, account });
    assert.ok(callback);
    assert.equal(callback.response.status, 303, callback.body);
    const location = callback.response.headers.get("location") ?? "";
    const answer = await exchange(location);
    assert.equal(answer.status, 200);
    const body = (await answer.json()) as { accessToken: string };
    return { location, accessToken: body.accessToken, claims: decodeJwt(body.accessToken) };
  }
  /** A refused attempt: the 4xx problem, nothing granted, the audit record names the reason. */
  async function assertRefused(
    attempt: () => Promise<Response | { status: number; body: string }>,
    expected: { status: number; code: string; reason: string; provider?: string },
  ) {
    const before = await grants();
    const answer = await attempt();
    const text = answer instanceof Response ? await answer.text() : answer.body;
    assert.equal(answer.status, expected.status, text);
    const problem = JSON.parse(text) as { code: string; reason?: string };
    assert.equal(problem.code, expected.code);
    assert.deepEqual(await grants(), before, "nothing granted");
    const audit = await lastAudit();
    assert.equal(audit.outcome, "refused");
    assert.equal(audit.reason, expected.reason);
    assert.equal(audit.provider_id, expected.provider ?? "test-idp");
    // …and it is on the audit trail every other authentication event takes.
    const detail = `refused ${expected.reason} provider=${expected.provider ?? "test-idp"}`;
    const published = await publishedAuthEvents();
    assert.ok(
      published.some((event) => event.kind === "oidc.sign_in" && event.detail === detail),
      `identity.events has ${detail}`,
    );
  }
  /** identity.events as decoded records, all partitions. */
  async function publishedAuthEvents(): Promise<Record<string, unknown>[]> {
    const { log, registry } = platform.platform;
    const codec = await createTopicCodec(registry, identityTopics.identityEvents);
    const found: Record<string, unknown>[] = [];
    for (let partition = 0; partition < identityTopics.identityEvents.spec.partitions; partition++)
      for (const record of await log.read(codec.topic, partition, 0n, 10_000))
        found.push(codec.decode(record.value) as Record<string, unknown>);
    return found;
  }
  async function callbackOf(
    account: string,
    options: Parameters<typeof signInOverHttp>[0]["onCallback"] = undefined,
  ) {
    const { callback } = await signInOverHttp({
      jar: new CookieJar(),
      startUrl,
      account,
      ...(options ? { onCallback: options } : {}),
    });
    assert.ok(callback);
    return { status: callback.response.status, body: callback.body };
  }

  test("GET /v1/auth/providers lists the configured providers for the sign-in page", async () => {
    const answer = await fetch(`${platform.url}/v1/auth/providers`);
    assert.equal(answer.status, 200);
    assert.deepEqual(await answer.json(), {
      providers: [
        { id: "test-idp", displayName: "Test IdP", startUrl: "/v1/auth/oidc/test-idp/start" },
        { id: "test-post", displayName: "test-post", startUrl: "/v1/auth/oidc/test-post/start" },
      ],
    });
  });

  test("start redirects to the provider with PKCE (S256), state and nonce; the flow id is an httpOnly cookie", async () => {
    const answer = await fetch(startUrl, { redirect: "manual" });
    assert.equal(answer.status, 303);
    const location = new URL(answer.headers.get("location") ?? "");
    assert.equal(location.origin, provider.issuer);
    for (const name of ["state", "nonce", "code_challenge"]) assert.ok(location.searchParams.get(name), name);
    assert.equal(location.searchParams.get("code_challenge_method"), "S256");
    assert.equal(location.searchParams.get("redirect_uri"), `${platform.url}/v1/auth/oidc/test-idp/callback`);
    const cookie = answer.headers.getSetCookie().join("\n");
    assert.match(cookie, /ledgerflow_oidc=[^;]+;.*HttpOnly/i);
    assert.match(cookie, /SameSite=Lax/i);
    assert.equal(
      (await fetch(`${platform.url}/v1/auth/oidc/nobody/start`, { redirect: "manual" })).status,
      404,
    );
  });

  test("a first sign-in creates a customer; the ticket gives the tokens a password login gives, once", async () => {
    const usersBefore = await count("users");
    const { location, accessToken, claims } = await signIn("alice");
    assert.match(location, new RegExp(`^${platform.url}/signin/oidc#ticket=`));
    assert.equal(await count("users"), usersBefore + 1);
    assert.deepEqual(claims.roles, ["customer"]);
    assert.equal(claims.username, "alice", "named after the email's local part");
    const accountsAnswer = await fetch(`${platform.url}/v1/accounts`, {
      headers: { authorization: `Bearer ${accessToken}` },
    });
    assert.equal(accountsAnswer.status, 200);
    assert.equal((await exchange(location)).status, 401, "a ticket is single use");
    assert.equal((await lastAudit("oidc.ticket_exchange")).reason, "ticket_unknown");
    // No password signs in to a provider-only account.
    const login = await fetch(`${platform.url}/v1/auth/login`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ username: "Alice", password: "guess-a-password" }),
    });
    assert.equal(login.status, 401);
  });

  test("signing in again is the same user; another identity with the same VERIFIED email links to it", async () => {
    const first = await signIn("alice");
    const again = await signIn("alice");
    assert.equal(again.claims.sub, first.claims.sub);
    assert.equal((await lastAudit()).reason, "returning");
    const work = await signIn("alice-work");
    assert.equal(work.claims.sub, first.claims.sub, "linked through the verified email");
    assert.equal((await lastAudit()).reason, "linked");
  });

  test("attack: linking through an UNVERIFIED email is refused (403), no account is touched", async () => {
    await signIn("alice");
    await assertRefused(() => callbackOf("mallory"), {
      status: 403,
      code: "email_not_verified",
      reason: "email_not_verified",
    });
  });

  test("an unverified email that names nobody signs in as a new user, its email not recorded", async () => {
    const { claims } = await signIn("bob");
    const { rows } = await platform.platform.pool.query(
      "SELECT count(*)::int AS n FROM identity_verified_emails WHERE user_id = $1",
      [claims.sub],
    );
    assert.equal(rows[0].n, 0);
  });

  test("attack: state mismatch (a forged callback) is refused", async () => {
    await assertRefused(
      () =>
        callbackOf("carol", (url) => {
          url.searchParams.set("state", "forged-state");
          return url;
        }),
      { status: 422, code: "oidc_sign_in_failed", reason: "state_mismatch" },
    );
  });

  test("attack: a callback without the browser's flow cookie (login CSRF) is refused", async () => {
    const { callbackUrl } = await signInOverHttp({
      jar: new CookieJar(),
      startUrl,
      account: "carol",
      stopAtCallback: true,
    });
    await assertRefused(() => fetch(callbackUrl, { redirect: "manual" }), {
      status: 422,
      code: "oidc_sign_in_failed",
      reason: "no_flow",
    });
  });

  test("attack: a replayed callback (same code and cookie) is refused", async () => {
    const jar = new CookieJar();
    const { callback, callbackUrl } = await signInOverHttp({ jar, startUrl, account: "carol" });
    assert.equal(callback?.response.status, 303);
    const hop = async () => browserRequest(jar, callbackUrl.href);
    await assertRefused(
      async () => {
        const replay = await hop();
        return { status: replay.response.status, body: replay.body };
      },
      { status: 422, code: "oidc_sign_in_failed", reason: "no_flow" },
    );
  });

  test("attack: a redeemed authorization code injected into another flow is refused by the provider", async () => {
    const victim = await signInOverHttp({ jar: new CookieJar(), startUrl, account: "carol" });
    const code = victim.callbackUrl.searchParams.get("code") ?? "";
    assert.ok(provider.redeemedCodes.includes(code));
    await assertRefused(
      () =>
        callbackOf("carol", (url) => {
          url.searchParams.set("code", code);
          return url;
        }),
      { status: 422, code: "oidc_sign_in_failed", reason: "code_rejected" },
    );
  });

  test("attack: a stolen, unredeemed code used in the attacker's flow fails PKCE at the provider", async () => {
    const victim = await signInOverHttp({
      jar: new CookieJar(),
      startUrl,
      account: "carol",
      stopAtCallback: true,
    });
    const code = victim.callbackUrl.searchParams.get("code") ?? "";
    await assertRefused(
      () =>
        callbackOf("carol", (url) => {
          url.searchParams.set("code", code);
          return url;
        }),
      { status: 422, code: "oidc_sign_in_failed", reason: "code_rejected" },
    );
  });

  const tampered: [string, TestProvider["tamper"], string][] = [
    [
      "nonce mismatch",
      { kind: "claims", change: (claims) => ({ ...claims, nonce: "other-nonce" }) },
      "nonce_mismatch",
    ],
    [
      "wrong issuer",
      { kind: "claims", change: (claims) => ({ ...claims, iss: "https://evil.example" }) },
      "issuer_mismatch",
    ],
    [
      "wrong audience",
      { kind: "claims", change: (claims) => ({ ...claims, aud: "another-client" }) },
      "audience_mismatch",
    ],
    [
      "expired ID token",
      {
        kind: "claims",
        change: (claims) => ({
          ...claims,
          iat: Math.floor(Date.now() / 1000) - 7200,
          exp: Math.floor(Date.now() / 1000) - 3600,
        }),
      },
      "id_token_expired",
    ],
    ["unsigned (alg none) ID token", { kind: "unsigned" }, "id_token_invalid"],
    ["ID token with a forged signature", { kind: "forged-signature" }, "id_token_invalid"],
  ];
  for (const [name, tamper, reason] of tampered) {
    test(`attack: ${name} is refused`, async () => {
      provider.tamper = tamper;
      try {
        await assertRefused(() => callbackOf("carol"), { status: 422, code: "oidc_sign_in_failed", reason });
      } finally {
        provider.tamper = undefined;
      }
    });
  }

  test("form_post (as Apple answers): the callback is a POSTed form; the flow cookie is SameSite=None; Secure", async () => {
    const postStart = `${platform.url}/v1/auth/oidc/test-post/start`;
    const started = await fetch(postStart, { redirect: "manual" });
    assert.match(started.headers.getSetCookie().join("\n"), /SameSite=None.*Secure|Secure.*SameSite=None/i);
    assert.equal(
      new URL(started.headers.get("location") ?? "").searchParams.get("response_mode"),
      "form_post",
    );
    const jar = new CookieJar();
    const { callback, form } = await signInOverHttp({ jar, startUrl: postStart, account: "carol" });
    assert.ok(form?.code && form.state, "the code came in the POSTed form");
    assert.equal(callback?.response.status, 303, callback?.body);
    const answer = await exchange(callback?.response.headers.get("location") ?? "");
    assert.equal(answer.status, 200);
    // A forged state in the POSTed form is refused like in the query.
    await assertRefused(
      async () => {
        const victim = await signInOverHttp({
          jar: new CookieJar(),
          startUrl: postStart,
          account: "carol",
          stopAtCallback: true,
        });
        const attackerJar = new CookieJar();
        await browserRequest(attackerJar, postStart);
        const hop = await browserRequest(attackerJar, victim.callbackUrl.href, { form: victim.form ?? {} });
        return { status: hop.response.status, body: hop.body };
      },
      { status: 422, code: "oidc_sign_in_failed", reason: "state_mismatch", provider: "test-post" },
    );
  });

  test("bad input: callback parameters beyond their limits are a 400 problem (never the server's 431)", async () => {
    const callback = `${platform.url}/v1/auth/oidc/test-idp/callback`;
    for (const query of [
      `code=${"©".repeat(2049)}&error=${"`".repeat(129)}`,
      `code=${"a".repeat(2049)}`,
      "state=%C2%A9",
    ]) {
      const answer = await fetch(`${callback}?${query}`, { redirect: "manual" });
      assert.equal(answer.status, 400, query.slice(0, 40));
      assert.equal(((await answer.json()) as { code: string }).code, "validation_failed");
    }
  });

  test("the provider's own refusal (the user denies consent) is a 422 and audited", async () => {
    await assertRefused(
      () =>
        callbackOf("carol", (url) => {
          const denied = new URL(url.pathname, url);
          denied.searchParams.set("error", "access_denied");
          denied.searchParams.set("state", url.searchParams.get("state") ?? "");
          denied.searchParams.set("iss", provider.issuer);
          return denied;
        }),
      { status: 422, code: "oidc_sign_in_failed", reason: "provider_error" },
    );
  });
});
