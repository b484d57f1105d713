import assert from "node:assert/strict";
import { test } from "node:test";
import { amountMax } from "./domain/money.ts";
import { branchKey, branchNameInput, decimalUpToPattern, ibanPattern } from "./inputs.ts";

test("decimalUpToPattern matches exactly 1…max, without leading zeros", () => {
  for (const max of [1n, 9n, 10n, 305n, 1000n, 2099n]) {
    const pattern = new RegExp(decimalUpToPattern(max));
    for (let n = 0n; n <= max + 150n; n++)
      assert.equal(pattern.test(String(n)), n >= 1n && n <= max, `${n} ≤ ${max}`);
    assert.equal(pattern.test(`0${max}`), false);
  }
  const amounts = new RegExp(decimalUpToPattern(amountMax));
  for (const text of ["1", "9223372036854775807", "9223372036854775799", "999999999999999999"])
    assert.ok(amounts.test(text), text);
  for (const text of ["0", "9223372036854775808", "9999999999999999999", "-1", "1.0", "1e3", "01"])
    assert.ok(!amounts.test(text), text);
});

test("ibanPattern takes the plain and the printed form", () => {
  for (const text of ["NL39OPEN0000000001", "NL39 OPEN 0000 0000 01", "nl39open0000000001"])
    assert.ok(ibanPattern.test(text), text);
  for (const text of [
    "",
    "NL39",
    " NL39OPEN0000000001",
    "NL39OPEN0000000001 ",
    "NL39  OPEN0000000001",
    "NL3XOPEN0000000001",
  ])
    assert.ok(!ibanPattern.test(text), text);
});

test("branch names are as tellers type them; case variants share one key", () => {
  for (const name of [
    "Utrecht",
    "Amsterdam Zuid",
    "amsterdam-centraal",
    "'s-Hertogenbosch",
    "Den Haag HS",
    "Zürich",
  ])
    assert.ok(branchNameInput.safeParse(name).success, name);
  for (const name of [
    "",
    " Utrecht",
    "Utrecht ",
    "Amsterdam  Zuid",
    "'; DROP--",
    "a/b",
    "x".repeat(65),
    "Utrecht\n",
  ])
    assert.equal(branchNameInput.safeParse(name).success, false, JSON.stringify(name));
  assert.equal(branchKey("Amsterdam Zuid"), branchKey("AMSTERDAM zuid"));
  assert.equal(
    branchKey("amsterdam-centraal"),
    "amsterdam-centraal",
    "names valid before keep their cash account",
  );
  assert.notEqual(branchKey("Amsterdam Zuid"), branchKey("Amsterdam-Zuid"));
});
