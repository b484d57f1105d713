import assert from "node:assert/strict";
import { test } from "node:test";
import type { Principal } from "../../platform/http/auth.ts";
import { ProblemError } from "../../platform/http/problems.ts";
import { clientIdFor, pageSizeOf, pageTokenOf } from "./client-data.ts";

const alice: Principal = {
  userId: "0b9d4c8e-8f5c-4a39-9d2c-3f8e2a1b7c61",
  username: "alice",
  roles: ["customer"],
};
const bobId = "5f0e2d4a-1c3b-4e8f-9a7d-6b2c1e0f3a94";

function problemOf(run: () => unknown): { code: string; field: string | undefined } {
  try {
    run();
  } catch (error) {
    assert.ok(error instanceof ProblemError);
    return { code: error.problem.code, field: error.problem.field };
  }
  assert.fail("expected a problem");
}

test("an empty client id is the caller; a customer reading another client finds nothing (no leak)", () => {
  assert.equal(clientIdFor(alice, undefined), alice.userId);
  assert.equal(clientIdFor(alice, ""), alice.userId);
  assert.equal(clientIdFor(alice, alice.userId), alice.userId);
  assert.deepEqual(
    problemOf(() => clientIdFor(alice, bobId)),
    { code: "not_found", field: "client_id" },
  );
});

test("tellers, compliance, auditors and admins read any client", () => {
  for (const role of ["teller", "compliance", "auditor", "admin"] as const)
    assert.equal(clientIdFor({ ...alice, roles: [role] }, bobId), bobId);
});

test("a malformed client id, page size or page token is validation_failed naming the field", () => {
  assert.deepEqual(
    problemOf(() => clientIdFor(alice, "bob")),
    { code: "validation_failed", field: "client_id" },
  );
  assert.equal(pageSizeOf(undefined), 50);
  assert.equal(pageSizeOf(500), 500);
  for (const size of [-1, 501, 1.5])
    assert.deepEqual(
      problemOf(() => pageSizeOf(size)),
      { code: "validation_failed", field: "page_size" },
    );
  assert.equal(pageTokenOf(""), undefined);
  assert.equal(pageTokenOf("12345"), "12345");
  for (const token of ["abc", "-1", "1".repeat(20), "12 "])
    assert.deepEqual(
      problemOf(() => pageTokenOf(token)),
      { code: "validation_failed", field: "page_token" },
    );
});
