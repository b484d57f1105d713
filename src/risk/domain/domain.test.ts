import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { diffList, keyed } from "./diff.ts";
import { EntryError, entryKey, entryOfLine } from "./entries.ts";
import { type ListMatch, nextSnapshot, type PartyVerdict, screenParty, snapshotOf } from "./match.ts";
import { nameSimilarity, normaliseName } from "./names.ts";

const listedIban = "NL91ABNA0417164300";
const listedUser = "3f2504e0-4f89-41d3-9a0c-0305e82c3301";

describe("name normalisation", () => {
  test("diacritics, case, punctuation and the order of name parts do not matter", () => {
    assert.equal(normaliseName("Müller, Hans-Jürgen"), "hans jurgen muller");
    assert.equal(normaliseName("HANS JURGEN MULLER"), "hans jurgen muller");
    assert.equal(normaliseName("  jürgen   müller.hans "), "hans jurgen muller");
    assert.equal(normaliseName("Ｊｏｓé Ｇarcía"), "garcia jose"); // NFKD folds full-width letters
    assert.equal(normaliseName("Straße Łukasz"), "lukasz strasse");
    assert.equal(normaliseName("--, ."), "");
  });
  test("similarity is 1 for equal names and high for a one-letter slip", () => {
    assert.equal(nameSimilarity("hans muller", "hans muller"), 1);
    assert.ok(nameSimilarity(normaliseName("Hans Muller"), normaliseName("Hans Mueller")) > 0.9);
    assert.ok(nameSimilarity(normaliseName("Hans Muller"), normaliseName("Petra Jansen")) < 0.7);
  });
});

describe("list lines", () => {
  test("an IBAN, a user id and a name are told apart by shape, or by a prefix", () => {
    assert.deepEqual(entryOfLine(" nl91 abna 0417 1643 00 "), {
      kind: "iban",
      value: listedIban,
      display: listedIban,
    });
    assert.equal(entryOfLine(listedUser.toUpperCase())?.kind, "user");
    assert.deepEqual(entryOfLine("Müller, Hans"), {
      kind: "name",
      value: "hans muller",
      display: "Müller, Hans",
    });
    assert.equal(entryOfLine("name: NL91ABNA0417164300")?.kind, "name");
    assert.equal(entryOfLine("# comment"), undefined);
    assert.equal(entryOfLine("   "), undefined);
  });
  test("an IBAN with wrong check digits, a bad user id or a name without letters is an error", () => {
    assert.throws(() => entryOfLine("NL92ABNA0417164300"), EntryError);
    assert.throws(() => entryOfLine("user: 12345"), EntryError);
    assert.throws(() => entryOfLine("name: ---"), EntryError);
    assert.throws(() => entryOfLine(`name: ${"x".repeat(600)}`), EntryError);
  });
});

describe("list diff", () => {
  test("counts added, removed and unchanged entries by key", () => {
    const current = new Set(["iban:A", "user:b", "name:c d"]);
    const next = keyed([
      { kind: "iban", value: "A", display: "A" },
      { kind: "name", value: "e f", display: "E F" },
    ]);
    const diff = diffList(current, next);
    assert.deepEqual(
      diff.added.map((e) => entryKey(e)),
      ["name:e f"],
    );
    assert.deepEqual([...diff.removed].sort(), ["name:c d", "user:b"]);
    assert.equal(diff.unchangedCount, 1);
  });
});

function matchOf(verdict: PartyVerdict, decision: "block" | "hold"): ListMatch {
  if (verdict.decision === "clear") assert.fail(`expected ${decision}, got clear`);
  assert.equal(verdict.decision, decision);
  return verdict.match;
}

describe("matching", () => {
  const snapshot = snapshotOf("fraud", 3, [
    { kind: "iban", value: listedIban, display: listedIban },
    { kind: "user", value: listedUser, display: listedUser },
    { kind: "name", value: normaliseName("Müller, Hans"), display: "MÜLLER, Hans" },
  ]);
  const party = { iban: "NL39OPEN0000000001", userId: "00000000-0000-4000-8000-000000000001" };

  test("an exact IBAN, user id or normalised name blocks, naming the list version and entry", () => {
    const byIban = matchOf(screenParty([snapshot], { ...party, iban: listedIban }, 0.9), "block");
    assert.equal(byIban.version, 3);
    assert.equal(
      screenParty([snapshot], { ...party, userId: listedUser.toUpperCase() }, 0.9).decision,
      "block",
    );
    const byName = matchOf(screenParty([snapshot], { ...party, name: "hans MULLER" }, 0.9), "block");
    assert.equal(byName.kind, "name");
  });
  test("a similar name above the threshold is held with its score explained; others are clear", () => {
    const held = matchOf(screenParty([snapshot], { ...party, name: "Hans Mueller" }, 0.9), "hold");
    assert.ok(held.score > 0.9 && held.score < 1);
    assert.match(held.explanation, /Jaro–Winkler/);
    assert.equal(screenParty([snapshot], { ...party, name: "Petra Jansen" }, 0.9).decision, "clear");
    assert.equal(screenParty([snapshot], party, 0.9).decision, "clear");
  });
  test("a slip in the first letters of every name part is still held (no first-letters blocking)", () => {
    const listed = snapshotOf("fraud", 1, [
      { kind: "name", value: normaliseName("Alexandrov, Konstantin"), display: "ALEXANDROV, Konstantin" },
      { kind: "name", value: normaliseName("Petra Jansen"), display: "Petra Jansen" },
    ]);
    const held = matchOf(screenParty([listed], { ...party, name: "Alaxandrov Kanstantin" }, 0.9), "hold");
    assert.equal(held.display, "ALEXANDROV, Konstantin");
  });
  test("the next snapshot applies a diff without changing the previous one", () => {
    const next = nextSnapshot(snapshot, 4, [], [{ kind: "iban", value: listedIban }]);
    assert.equal(screenParty([next], { ...party, iban: listedIban }, 0.9).decision, "clear");
    assert.equal(screenParty([snapshot], { ...party, iban: listedIban }, 0.9).decision, "block");
    assert.equal(next.version, 4);
  });
});
