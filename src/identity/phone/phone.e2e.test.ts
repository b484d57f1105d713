/**
 * Phone verification over HTTP on the real platform (embedded mode, the development SMS sink whose
 * codes `GET /v1/me/phone/dev-code` shows): codes expire, attempts are limited (then the code is
 * burned), resends are limited, one account per number, and a new number is verified before it
 * replaces the old one.
 */
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { after, before, describe, test } from "node:test";
import { apiClient, startTestPlatform, type TestPlatform } from "../../../test/support/platform.ts";

const codeTtlMs = 3_000;

describe("phone verification (embedded mode, development SMS sink)", () => {
  let platform: TestPlatform;
  let api: ReturnType<typeof apiClient>;
  let numbers = 0;
  /** A valid Dutch mobile number no other test uses. */
  const freshNumber = () => `+316${String(20_000_000 + numbers++ * 7919).slice(0, 8)}`;

  before(async () => {
    platform = await startTestPlatform({ phone: { codeTtlMs, attemptsMax: 3, sendsMax: 2 } });
    api = apiClient(platform.url);
  });
  after(async () => {
    await platform?.stop();
  });

  async function user() {
    const token = await api.signUp(`phone-${randomUUID().slice(0, 8)}`);
    const as = api.as(token);
    return {
      ...as,
      async start(phoneNumber: string) {
        return as.call("POST", "/v1/me/phone", { phoneNumber });
      },
      async devCode(): Promise<string> {
        const answer = await as.get("/v1/me/phone/dev-code");
        assert.equal(answer.status, 200, JSON.stringify(answer.body));
        assert.match(answer.body.note, /Development SMS sink/);
        return answer.body.code as string;
      },
      verify: (code: string) => as.call("POST", "/v1/me/phone/verify", { code }),
      status: async () => (await as.get("/v1/me/phone")).body,
    };
  }
  const wrong = (code: string) => String((Number(code) + 1) % 1_000_000).padStart(6, "0");

  async function lastPhoneAudit() {
    const { rows } = await platform.platform.pool.query(
      "SELECT kind, outcome, reason FROM identity_auth_events WHERE kind LIKE 'phone.%' ORDER BY id DESC LIMIT 1",
    );
    return rows[0];
  }

  test("a code is sent to the E.164 number, shown by the dev sink, and verifies the number", async () => {
    const alice = await user();
    const sent = await alice.start("+31 6 1234 5678");
    assert.equal(sent.status, 202);
    assert.deepEqual(sent.body, { status: "code_sent", phoneNumber: "+31612345678", expiresInS: 3 });
    const status = await alice.status();
    assert.equal(status.verified, false);
    assert.equal(status.pending.phoneNumber, "+31612345678");
    const code = await alice.devCode();
    assert.match(code, /^[0-9]{6}$/);
    const { rows } = await platform.platform.pool.query(
      "SELECT encode(code_hash, 'hex') AS hash FROM identity_phone_challenges",
    );
    assert.ok(
      rows.every((row) => !String(row.hash).includes(code)),
      "only a hash of the code is stored",
    );
    const bad = await alice.verify(wrong(code));
    assert.equal(bad.status, 422);
    assert.equal(bad.body.code, "otp_invalid");
    assert.equal(bad.body.attemptsLeft, 2);
    const good = await alice.verify(code);
    assert.equal(good.status, 200, JSON.stringify(good.body));
    assert.deepEqual(good.body, { phoneNumber: "+31612345678", verified: true });
    assert.deepEqual(await alice.status(), { phoneNumber: "+31612345678", verified: true });
    assert.equal((await alice.verify(code)).body.code, "otp_expired", "a code works once");
  });

  test("attack: guessing past the attempt limit burns the code; even the right one fails then", async () => {
    const mallory = await user();
    await mallory.start(freshNumber());
    const code = await mallory.devCode();
    for (const left of [2, 1, 0]) {
      const guess = await mallory.verify(wrong(code));
      assert.equal(guess.status, 422);
      assert.equal(guess.body.attemptsLeft, left);
    }
    assert.deepEqual(await lastPhoneAudit(), {
      kind: "phone.verify",
      outcome: "refused",
      reason: "code_wrong_burned",
    });
    const late = await mallory.verify(code);
    assert.equal(late.status, 422);
    assert.equal(late.body.code, "otp_expired");
    assert.equal((await mallory.status()).verified, false, "nothing granted");
    assert.deepEqual(await lastPhoneAudit(), {
      kind: "phone.verify",
      outcome: "refused",
      reason: "no_live_code",
    });
  });

  test("attack: parallel guesses cannot exceed the attempt limit", async () => {
    const mallory = await user();
    await mallory.start(freshNumber());
    const code = await mallory.devCode();
    const guesses = await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        mallory.verify(String((Number(code) + 1 + i) % 1_000_000).padStart(6, "0")),
      ),
    );
    assert.equal(guesses.filter((guess) => guess.body.code === "otp_invalid").length, 3);
    assert.equal(guesses.filter((guess) => guess.body.code === "otp_expired").length, 7);
    assert.equal((await mallory.verify(code)).body.code, "otp_expired");
  });

  test("a code expires", async () => {
    const bob = await user();
    await bob.start(freshNumber());
    const code = await bob.devCode();
    await new Promise((resolve) => setTimeout(resolve, codeTtlMs + 200));
    const late = await bob.verify(code);
    assert.equal(late.status, 422);
    assert.equal(late.body.code, "otp_expired");
    assert.equal((await bob.status()).verified, false);
  });

  test("resends are limited per window (429 with retryAfterS)", async () => {
    const carol = await user();
    const number = freshNumber();
    assert.equal((await carol.start(number)).status, 202);
    assert.equal((await carol.start(number)).status, 202);
    const third = await carol.start(number);
    assert.equal(third.status, 429);
    assert.equal(third.body.code, "rate_limited");
    assert.ok(third.body.retryAfterS > 0);
  });

  test("one account per number: another user is refused (409), also when both were pending", async () => {
    const dave = await user();
    const erin = await user();
    const number = freshNumber();
    await dave.start(number);
    // The sink keeps the last code per number (as the phone's inbox would show it).
    const davesCode = await dave.devCode();
    await erin.start(number);
    const erinsCode = await erin.devCode();
    assert.equal((await dave.verify(davesCode)).status, 200);
    const late = await erin.verify(erinsCode);
    assert.equal(late.status, 409);
    assert.equal(late.body.code, "phone_taken");
    const again = await erin.start(number);
    assert.equal(again.status, 409);
    assert.equal(again.body.code, "phone_taken");
    assert.equal((await erin.status()).verified, false);
  });

  test("changing the number verifies the new one; the old one stays until then, then is free", async () => {
    const frank = await user();
    const first = freshNumber();
    const second = freshNumber();
    await frank.start(first);
    assert.equal((await frank.verify(await frank.devCode())).status, 200);
    assert.equal((await frank.start(first)).body.status, "verified", "the same number needs no new code");
    await frank.start(second);
    const during = await frank.status();
    assert.equal(during.phoneNumber, first);
    assert.equal(during.pending.phoneNumber, second);
    assert.equal((await frank.verify(await frank.devCode())).status, 200);
    assert.deepEqual(await frank.status(), { phoneNumber: second, verified: true });
    const grace = await user();
    assert.equal((await grace.start(first)).status, 202, "the old number is free again");
  });

  test("bad input: a malformed body is 400, a number that is no number 422 phone_invalid; no token is 401", async () => {
    const henry = await user();
    const invalid = await henry.start("12");
    assert.equal(invalid.status, 400, "too short for the schema");
    assert.equal(invalid.body.field, "phoneNumber");
    const notANumber = await henry.start("+00 0000 0000");
    assert.equal(notANumber.status, 422);
    assert.deepEqual([notANumber.body.code, notANumber.body.field], ["phone_invalid", "phoneNumber"]);
    const national = await henry.start("06 1234 5678");
    assert.equal(national.status, 422, "no default country configured: a national number is ambiguous");
    assert.equal((await henry.verify("12345")).status, 400);
    assert.equal((await api.call("POST", "/v1/me/phone", { phoneNumber: "+31612345678" })).status, 401);
    assert.equal((await api.call("GET", "/v1/me/phone/dev-code")).status, 401);
    assert.equal((await henry.get("/v1/me/phone/dev-code")).status, 404, "no code waiting");
  });
});
