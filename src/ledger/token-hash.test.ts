import assert from "node:assert/strict";
import { test } from "node:test";
import { tokenHashMatches } from "./token-hash.ts";

test("token hashes match only when equal and non-empty", () => {
  assert.equal(tokenHashMatches("a".repeat(64), "a".repeat(64)), true);
  assert.equal(tokenHashMatches("a".repeat(64), `${"a".repeat(63)}b`), false);
  assert.equal(tokenHashMatches("a".repeat(64), "a".repeat(63)), false);
  assert.equal(tokenHashMatches("", ""), false);
});
