import assert from "node:assert/strict";
import { describe, test } from "node:test";
import {
  assertionFits,
  bindingOf,
  challengeIn,
  counterAccepted,
  relyingPartyOf,
  stepUpNeeded,
} from "./decisions.ts";

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

  test("a step-up is needed from the asset's threshold on, and only for assets that have one", () => {
    const thresholds = { EUR: "100000" };
    assert.equal(stepUpNeeded(thresholds, "EUR", 99_999n), false);
    assert.equal(stepUpNeeded(thresholds, "EUR", 100_000n), true);
    assert.equal(stepUpNeeded(thresholds, "USD", 10n ** 12n), false);
    assert.equal(stepUpNeeded(undefined, "EUR", 10n ** 12n), false, "unset: off");
  });

  test("a step-up challenge is bound to the transfer's id, creditor, amount and asset", () => {
    const transfer = { transferId: "0b6f", to: "NL91 abna 0417 1643 00", amount: 100_000n, asset: "EUR" };
    const binding = bindingOf(transfer);
    assert.equal(bindingOf({ ...transfer, to: "NL91ABNA0417164300" }), binding, "IBAN spacing and case");
    assert.notEqual(bindingOf({ ...transfer, amount: 100_001n }), binding);
    assert.notEqual(bindingOf({ ...transfer, to: "NL91ABNA0417164301" }), binding);
    assert.notEqual(bindingOf({ ...transfer, transferId: "0b70" }), binding);
    assert.notEqual(bindingOf({ ...transfer, asset: "USD" }), binding);
  });
});
