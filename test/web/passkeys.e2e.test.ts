/**
 * Passkeys in Chromium with its virtual authenticator (DevTools protocol WebAuthn domain): register
 * one, sign in with it, and the attacks over HTTP — a replayed assertion, a wrong challenge, another
 * user's passkey, a registration answering another user's challenge — each refused with a 4xx,
 * nothing granted, and an audit record. The page is opened on `localhost` (WebAuthn refuses IP
 * addresses as relying party ids); the server derives the relying party from that loopback host.
 */
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { describe, it } from "node:test";
import type { BrowserContext, Page } from "playwright-core";
import {
  depositAsAdmin,
  desktop,
  login,
  openAccountThroughUi,
  platformAndBrowser,
  registerThroughUi,
  skipReason,
  testPassword,
  transferThroughUi,
  uniqueUsername,
  watchConsole,
} from "./browser.ts";

const reason = await skipReason();

type Json = Record<string, unknown>;

async function call(
  base: string,
  method: string,
  path: string,
  body?: unknown,
  token?: string,
  extra: Record<string, string> = {},
) {
  const headers: Record<string, string> = { ...extra };
  if (body !== undefined) headers["content-type"] = "application/json";
  if (token !== undefined) headers.authorization = `Bearer ${token}`;
  const response = await fetch(`${base}${path}`, {
    method,
    headers,
    body: body === undefined ? null : JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, body: (text ? JSON.parse(text) : undefined) as Json };
}

/** A page on the platform's origin with a virtual platform authenticator that says yes at once. */
async function pageWithAuthenticator(context: BrowserContext, base: string): Promise<Page> {
  const page = await context.newPage();
  const cdp = await context.newCDPSession(page);
  await cdp.send("WebAuthn.enable");
  await cdp.send("WebAuthn.addVirtualAuthenticator", {
    options: {
      protocol: "ctap2",
      transport: "internal",
      hasResidentKey: true,
      hasUserVerification: true,
      isUserVerified: true,
      automaticPresenceSimulation: true,
    },
  });
  await page.goto(`${base}/`);
  return page;
}

const create = (page: Page, options: Json) =>
  page.evaluate(async (json) => {
    const publicKey = PublicKeyCredential.parseCreationOptionsFromJSON(json as never);
    const credential = (await navigator.credentials.create({ publicKey })) as PublicKeyCredential;
    return credential.toJSON() as Record<string, unknown>;
  }, options);

const assertWith = (page: Page, options: Json) =>
  page.evaluate(async (json) => {
    const publicKey = PublicKeyCredential.parseRequestOptionsFromJSON(json as never);
    const credential = (await navigator.credentials.get({ publicKey })) as PublicKeyCredential;
    return credential.toJSON() as Record<string, unknown>;
  }, options);

describe("passkeys with Chromium's virtual authenticator", {
  skip: reason ?? false,
  timeout: 180_000,
}, () => {
  // Transfers of 1,000.00 EUR or more need a passkey.
  const started = platformAndBrowser({ passkeys: { stepUpAmountMin: { EUR: "100000" } } });
  const baseOf = () => started.platform.url.replace("127.0.0.1", "localhost");

  async function newUser(prefix: string) {
    const base = baseOf();
    const username = uniqueUsername(prefix);
    const registered = await call(base, "POST", "/v1/auth/register", { username, password: testPassword });
    assert.equal(registered.status, 201);
    return { username, id: registered.body.id as string, token: await login(base, username, testPassword) };
  }

  async function lastAudit(kind: string) {
    const pool = (started.platform as unknown as { platform: { pool: import("pg").Pool } }).platform.pool;
    const { rows } = await pool.query(
      "SELECT outcome, reason, user_id FROM identity_auth_events WHERE kind = $1 ORDER BY id DESC LIMIT 1",
      [kind],
    );
    return rows[0];
  }

  async function registerPasskey(page: Page, token: string) {
    const base = baseOf();
    const options = await call(base, "POST", "/v1/me/passkeys/options", {}, token);
    assert.equal(options.status, 200, JSON.stringify(options.body));
    const stored = await call(base, "POST", "/v1/me/passkeys", await create(page, options.body), token);
    assert.equal(stored.status, 201, JSON.stringify(stored.body));
    return stored.body;
  }

  it("registers a passkey and signs in with it; a replayed assertion is refused", async () => {
    const base = baseOf();
    const context = await started.browser.newContext(desktop);
    const page = await pageWithAuthenticator(context, base);
    const alice = await newUser("pk-alice");
    const passkey = await registerPasskey(page, alice.token);
    const listed = await call(base, "GET", "/v1/me/passkeys", undefined, alice.token);
    assert.deepEqual(
      (listed.body.items as Json[]).map((p) => p.id),
      [passkey.id],
    );

    const options = await call(base, "POST", "/v1/auth/passkeys/options", {});
    const assertion = await assertWith(page, options.body);
    const signedIn = await call(base, "POST", "/v1/auth/passkeys/verify", { credential: assertion });
    assert.equal(signedIn.status, 200, JSON.stringify(signedIn.body));
    assert.ok(signedIn.body.sessionId, "a session, as every sign-in gets");
    const me = await call(base, "GET", "/v1/me/passkeys", undefined, signedIn.body.accessToken as string);
    assert.equal(me.status, 200);
    assert.ok((me.body.items as Json[])[0]?.lastUsedAt, "the passkey's use is recorded");
    assert.equal((await lastAudit("passkey.sign_in")).outcome, "succeeded");

    const replayed = await call(base, "POST", "/v1/auth/passkeys/verify", { credential: assertion });
    assert.equal(replayed.status, 401);
    assert.equal(replayed.body.code, "passkey_sign_in_failed");
    assert.equal(replayed.body.reason, "challenge_unknown");
    assert.equal(replayed.body.accessToken, undefined);
    assert.deepEqual(await lastAudit("passkey.sign_in"), {
      outcome: "refused",
      reason: "challenge_unknown",
      user_id: alice.id,
    });

    // Removed, it signs in no more.
    const removed = await call(base, "DELETE", `/v1/me/passkeys/${passkey.id}`, undefined, alice.token);
    assert.equal(removed.status, 204);
    const after = await assertWith(page, (await call(base, "POST", "/v1/auth/passkeys/options", {})).body);
    const refused = await call(base, "POST", "/v1/auth/passkeys/verify", { credential: after });
    assert.equal(refused.status, 401);
    assert.equal(refused.body.reason, "credential_unknown");
    await context.close();
  });

  it("refuses an assertion over a challenge the server never issued", async () => {
    const base = baseOf();
    const context = await started.browser.newContext(desktop);
    const page = await pageWithAuthenticator(context, base);
    const carol = await newUser("pk-carol");
    await registerPasskey(page, carol.token);
    const options = await call(base, "POST", "/v1/auth/passkeys/options", {});
    const forged = {
      ...options.body,
      challenge: Buffer.from("not-a-challenge-we-issued!").toString("base64url"),
    };
    const assertion = await assertWith(page, forged);
    const answer = await call(base, "POST", "/v1/auth/passkeys/verify", { credential: assertion });
    assert.equal(answer.status, 401);
    assert.equal(answer.body.reason, "challenge_unknown");
    assert.equal(answer.body.accessToken, undefined);
    assert.equal((await lastAudit("passkey.sign_in")).reason, "challenge_unknown");
    await context.close();
  });

  it("refuses another user's passkey for a sign-in naming a user, and a registration on another's challenge", async () => {
    const base = baseOf();
    const context = await started.browser.newContext(desktop);
    const page = await pageWithAuthenticator(context, base);
    const dave = await newUser("pk-dave");
    const erin = await newUser("pk-erin");
    await registerPasskey(page, dave.token);

    // Erin's sign-in answered by Dave's passkey: refused, nobody signed in.
    const options = await call(base, "POST", "/v1/auth/passkeys/options", { username: erin.username });
    const assertion = await assertWith(page, options.body);
    const answer = await call(base, "POST", "/v1/auth/passkeys/verify", { credential: assertion });
    assert.equal(answer.status, 401);
    assert.equal(answer.body.reason, "credential_of_another_user");
    assert.equal(answer.body.accessToken, undefined);
    assert.deepEqual(await lastAudit("passkey.sign_in"), {
      outcome: "refused",
      reason: "credential_of_another_user",
      user_id: dave.id,
    });

    // Dave's registration challenge, answered and submitted by Erin: refused, nothing stored.
    const daveOptions = await call(base, "POST", "/v1/me/passkeys/options", {}, dave.token);
    // Another browser (its own authenticator: Dave's already holds a passkey the options exclude).
    const other = await started.browser.newContext(desktop);
    const created = await create(await pageWithAuthenticator(other, base), daveOptions.body);
    await other.close();
    const stolen = await call(base, "POST", "/v1/me/passkeys", created, erin.token);
    assert.equal(stolen.status, 422);
    assert.equal(stolen.body.reason, "challenge_unknown");
    assert.deepEqual((await call(base, "GET", "/v1/me/passkeys", undefined, erin.token)).body.items, []);
    assert.equal((await lastAudit("passkey.register")).reason, "challenge_unknown");
    await context.close();
  });

  it("a large transfer needs a fresh passkey assertion bound to it, verified before anything is appended", async () => {
    const base = baseOf();
    const context = await started.browser.newContext(desktop);
    const page = await pageWithAuthenticator(context, base);
    const frank = await newUser("pk-frank");
    await registerPasskey(page, frank.token);
    const open = async () =>
      (
        await call(base, "POST", "/v1/accounts", { id: randomUUID(), asset: "EUR" }, frank.token, {
          prefer: "wait=5",
        })
      ).body.iban as string;
    const [from, to] = [await open(), await open()];
    await depositAsAdmin(base, from, "500000");
    const transfer = (amount: string) => ({ id: randomUUID(), from, to, amount, asset: "EUR" });
    const send = (body: Json, assertion?: Json) =>
      call(base, "POST", "/v1/transfers", body, frank.token, {
        prefer: "wait=5",
        ...(assertion === undefined
          ? {}
          : { "passkey-assertion": Buffer.from(JSON.stringify(assertion)).toString("base64url") }),
      });
    const stepUpOptions = async (body: Json) => {
      const { id, from: _from, ...rest } = body;
      const answer = await call(
        base,
        "POST",
        "/v1/me/passkeys/step-up/options",
        { transferId: id, ...rest },
        frank.token,
      );
      assert.equal(answer.status, 200, JSON.stringify(answer.body));
      return answer.body;
    };
    const commandStatus = async (id: unknown) =>
      (await call(base, "GET", `/v1/commands/${id}`, undefined, frank.token)).status;

    // Below the threshold: as before.
    assert.equal((await send(transfer("99999"))).status, 201);

    // At the threshold without an assertion: 401 step_up_required, nothing appended.
    const large = transfer("100000");
    const bare = await send(large);
    assert.equal(bare.status, 401, JSON.stringify(bare.body));
    assert.equal(bare.body.code, "step_up_required");
    assert.equal(bare.body.reason, "assertion_missing");
    assert.equal(bare.body.header, "Passkey-Assertion");
    assert.equal(await commandStatus(large.id), 404);

    // An assertion made for another transfer (other amount) does not confirm this one.
    const other = await assertWith(page, await stepUpOptions({ ...large, amount: "100001" }));
    const misbound = await send(large, other);
    assert.equal(misbound.status, 401);
    assert.equal(misbound.body.reason, "challenge_for_another_transfer");
    assert.equal(await commandStatus(large.id), 404);

    // Confirmed with an assertion over this transfer's own challenge: booked, and marked confirmed.
    const assertion = await assertWith(page, await stepUpOptions(large));
    const confirmed = await send(large, assertion);
    assert.equal(confirmed.status, 201, JSON.stringify(confirmed.body));
    assert.equal(confirmed.body.confirmedWithPasskey, true);
    const pool = (started.platform as unknown as { platform: { pool: import("pg").Pool } }).platform.pool;
    const { rows } = await pool.query(
      "SELECT user_id FROM identity_step_up_confirmations WHERE transfer_id = $1",
      [large.id],
    );
    assert.deepEqual(rows, [{ user_id: frank.id }]);
    // …and the command on the log says how it was confirmed.
    const running = (
      started.platform as unknown as { platform: import("../../src/app/platform.ts").RunningPlatform }
    ).platform;
    const codec = running.codecs.commands;
    const logged = [];
    const partitions = running.topology.find((t) => t.spec.name === codec.topic)?.spec.partitions ?? 0;
    for (let partition = 0; partition < partitions; partition++) {
      const records = await running.log.read(codec.topic, partition, 0n, 10_000);
      logged.push(
        ...records.map((record) => codec.decode(record.value) as { commandId: string; body: unknown }),
      );
    }
    const appended = logged.find((command) => command.commandId === large.id);
    const text = JSON.stringify(appended?.body, (_, v) => (typeof v === "bigint" ? String(v) : v));
    assert.match(text, /"confirmedWith":\{"string":"passkey"\}/);

    // The same assertion replayed for a new transfer: refused (its challenge is used up).
    const next = transfer("100000");
    const replayed = await send(next, assertion);
    assert.equal(replayed.status, 401);
    assert.equal(replayed.body.reason, "challenge_unknown");
    assert.equal(await commandStatus(next.id), 404);

    // A batch cannot carry an assertion: a large item is refused, naming it.
    const batch = await call(
      base,
      "POST",
      "/v1/transfers/batch",
      { transfers: [transfer("100000")] },
      frank.token,
    );
    assert.equal(batch.status, 401);
    assert.equal(batch.body.field, "transfers/0/amount");
    await context.close();
  });

  it("adds a passkey on the sessions page and signs in with it from the sign-in page", async () => {
    const base = baseOf();
    const context = await started.browser.newContext(desktop);
    const console = watchConsole(context);
    const page = await pageWithAuthenticator(context, base);
    await registerThroughUi(page, base, uniqueUsername("pk-gina"));
    await page.goto(`${base}/sessions`);
    await page.getByRole("button", { name: "Add a passkey" }).click();
    await page.getByText("Passkey 1", { exact: true }).waitFor();

    // Signed out (no stored token, no refresh cookie): the passkey alone signs back in.
    await page.evaluate(() => sessionStorage.clear());
    await context.clearCookies();
    await page.goto(`${base}/signin`);
    await page.getByRole("button", { name: "Sign in with a passkey" }).click();
    await page.getByRole("heading", { name: "Your accounts" }).waitFor();
    assert.deepEqual(console.errors, []);
    await context.close();
  });

  it("the wallet confirms a large transfer with the passkey (step-up) and sends it", async () => {
    const base = baseOf();
    const context = await started.browser.newContext(desktop);
    const console = watchConsole(context);
    const page = await pageWithAuthenticator(context, base);
    await registerThroughUi(page, base, uniqueUsername("pk-hank"));
    await page.goto(`${base}/sessions`);
    await page.getByRole("button", { name: "Add a passkey" }).click();
    await page.getByText("Passkey 1", { exact: true }).waitFor();
    const from = await openAccountThroughUi(page, base);
    const to = await openAccountThroughUi(page, base);
    await depositAsAdmin(base, from.iban, "500000");
    // 2,500.00 EUR is over the 1,000.00 threshold: the server asks for a passkey, the page asks the
    // (virtual) authenticator and sends the transfer again with the assertion.
    const sent = await transferThroughUi(page, base, { from: from.iban, to: to.iban, amount: "2500" });
    assert.deepEqual(sent, { status: "confirmed", reason: undefined });
    assert.equal((await lastAudit("passkey.step_up")).outcome, "succeeded");
    // The first send's 401 step_up_required is how the server asks; Chromium logs every 4xx answer.
    const unexpected = console.errors.filter((e) => !/status of 401 \(Unauthorized\)/.test(e));
    assert.deepEqual(unexpected, []);
    assert.equal(console.errors.length, 1, "exactly the one step-up answer");
    await context.close();
  });
});
