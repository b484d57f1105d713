import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { deidentify } from "./deidentify.ts";

const user = {
  userId: "3f2504e0-4f89-41d3-9a0c-0305e82c3301",
  roles: ["officer", "citizen"],
  createdAtMs: Date.UTC(2026, 10, 23, 14, 5),
  zipCode: "94110-1234",
  officerAgency: "SFPD Mission",
  officerVerified: true,
  hasEmail: true,
  hasPhone: false,
  hasLegalName: true,
};
const key = new Uint8Array(32).fill(7);

describe("deidentify", () => {
  test("keeps what analysis needs, coarsened; the user id becomes a keyed pseudonym", () => {
    const out = deidentify(user, key);
    assert.deepEqual(
      { ...out, subject: out.subject.length },
      {
        subject: 32,
        roles: ["citizen", "officer"],
        signedUpMonth: "2026-11",
        zip3: "941",
        officer: { agency: "SFPD Mission", verified: true },
        hasEmail: true,
        hasPhone: false,
        hasLegalName: true,
      },
    );
    assert.ok(!JSON.stringify(out).includes(user.userId));
  });

  test("the same key gives the same pseudonym; another key another (exports do not join by default)", () => {
    assert.equal(deidentify(user, key).subject, deidentify(user, key).subject);
    assert.notEqual(deidentify(user, key).subject, deidentify(user, new Uint8Array(32).fill(8)).subject);
  });

  test("sparsely populated ZIP prefixes are reported as 000 (Safe Harbor)", () => {
    assert.equal(deidentify({ ...user, zipCode: "03601" }, key).zip3, "000");
    assert.equal(deidentify({ ...user, zipCode: null }, key).zip3, null);
  });
});
