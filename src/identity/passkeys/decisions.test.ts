import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { assertionFits, challengeIn, counterAccepted, relyingPartyOf } from "./decisions.ts";

const clientData = (value: unknown) => Buffer.from(JSON.stringify(value)).toString("base64url");

describe("passkey decisions", () => {
  test("the relying party comes from the public URL, whatever the request's host", () => {
    assert.deepEqual(
      relyingPartyOf("https://bank.example:8443/app", { protocol: "http", host: "evil.test" }),
      {
        id: "bank.example",
        origin: "https://bank.example:8443",
      },
    );
  });

  test("without a public URL only a loopback host is trusted", () => {
    assert.deepEqual(relyingPartyOf(undefined, { protocol: "http", host: "localhost:4000" }), {
      id: "localhost",
      origin: "http://localhost:4000",
    });
    assert.equal(relyingPartyOf(undefined, { protocol: "http", host: "evil.test" }), undefined);
    assert.equal(relyingPartyOf(undefined, { protocol: "http", host: undefined }), undefined);
    assert.equal(relyingPartyOf(undefined, { protocol: "http", host: "localhost/x" }), undefined);
    assert.equal(relyingPartyOf(undefined, { protocol: "http", host: "user@localhost" }), undefined);
  });

  test("the challenge is read from clientDataJSON; junk yields none", () => {
    const challenge = "A".repeat(43);
    assert.equal(challengeIn(clientData({ type: "webauthn.get", challenge })), challenge);
    assert.equal(challengeIn(clientData({ challenge: "short" })), undefined);
    assert.equal(challengeIn(clientData({ challenge: "not base64url!".repeat(3) })), undefined);
    assert.equal(challengeIn(clientData(null)), undefined);
    assert.equal(challengeIn("%%%"), undefined);
    assert.equal(challengeIn(42), undefined);
    assert.equal(challengeIn("A".repeat(5_000)), undefined);
  });

  test("the signature counter must rise, unless the authenticator keeps none", () => {
    assert.equal(counterAccepted(0, 0), true);
    assert.equal(counterAccepted(0, 1), true);
    assert.equal(counterAccepted(5, 6), true);
    assert.equal(counterAccepted(5, 5), false, "a replayed or cloned authenticator's counter");
    assert.equal(counterAccepted(5, 4), false);
    assert.equal(counterAccepted(5, 0), false);
  });

  test("a claimed challenge and a credential fit only when the credential is the challenge's user's", () => {
    const alice = { userId: "alice" };
    assert.equal(assertionFits(undefined, alice), "challenge_unknown");
    assert.equal(assertionFits({ userId: undefined }, undefined), "credential_unknown");
    assert.equal(assertionFits({ userId: "bob" }, alice), "credential_of_another_user");
    assert.equal(assertionFits({ userId: "alice" }, alice), undefined);
    assert.equal(assertionFits({ userId: undefined }, alice), undefined);
  });
});
