import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { decideLinking, isEmailVerified, usernameHintOf } from "./linking.ts";

const claims = {
  issuer: "https://idp.example",
  subject: "s-1",
  email: "ann@example.test",
  emailVerified: true,
};

describe("which user a federated identity signs in as", () => {
  test("an identity seen before signs in as its user, whatever its email says now", () => {
    assert.deepEqual(
      decideLinking({ ...claims, emailVerified: false }, { linkedUserId: "u-1", emailOwnerId: "u-2" }),
      { kind: "sign_in", userId: "u-1" },
    );
  });
  test("a new identity links through a verified email only", () => {
    assert.deepEqual(decideLinking(claims, { linkedUserId: undefined, emailOwnerId: "u-2" }), {
      kind: "link",
      userId: "u-2",
      email: "ann@example.test",
    });
    assert.deepEqual(
      decideLinking({ ...claims, emailVerified: false }, { linkedUserId: undefined, emailOwnerId: "u-2" }),
      { kind: "refuse", reason: "email_not_verified" },
    );
  });
  test("a new identity naming nobody creates a user; an unverified email is not recorded", () => {
    assert.deepEqual(decideLinking(claims, { linkedUserId: undefined, emailOwnerId: undefined }), {
      kind: "create",
      verifiedEmail: "ann@example.test",
    });
    assert.deepEqual(
      decideLinking(
        { ...claims, emailVerified: false },
        { linkedUserId: undefined, emailOwnerId: undefined },
      ),
      { kind: "create", verifiedEmail: undefined },
    );
  });
  test('email_verified is true or Apple\'s "true"; nothing else', () => {
    assert.equal(isEmailVerified(true), true);
    assert.equal(isEmailVerified("true"), true);
    for (const value of [false, "false", 1, "yes", undefined, null])
      assert.equal(isEmailVerified(value), false);
  });
  test("usernames come from the email's local part, in the username alphabet, at least 3 characters", () => {
    assert.equal(usernameHintOf({ email: "ann.o'neil+x@example.test" }), "ann.oneilx");
    assert.equal(usernameHintOf({ email: "a@example.test" }), "usera");
    assert.equal(usernameHintOf({}), "user");
  });
});
