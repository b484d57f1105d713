import assert from "node:assert/strict";
import { test } from "node:test";
import { decideNearbyNotices } from "./nearby-notices.ts";

test("a citizen entering the range is told once, not again while they stay", () => {
  const first = decideNearbyNotices(new Set(), ["c1"], 10);
  assert.deepEqual(first.notify, ["c1"]);
  const second = decideNearbyNotices(first.told, ["c1"], 10);
  assert.deepEqual(second.notify, []);
  const third = decideNearbyNotices(second.told, ["c1", "c2"], 10);
  assert.deepEqual(third.notify, ["c2"]);
  assert.deepEqual([...third.told], ["c1", "c2"]);
});

test("a citizen who left the range and comes back is told again", () => {
  const inside = decideNearbyNotices(new Set(), ["c1"], 10);
  const left = decideNearbyNotices(inside.told, [], 10);
  assert.deepEqual([left.notify, [...left.told]], [[], []]);
  assert.deepEqual(decideNearbyNotices(left.told, ["c1"], 10).notify, ["c1"]);
});

test("at most toldMax citizens are told and remembered (the nearest), duplicates once", () => {
  const crowded = decideNearbyNotices(new Set(), ["c1", "c1", "c2", "c3", "c4"], 2);
  assert.deepEqual(crowded.notify, ["c1", "c2"]);
  assert.deepEqual([...crowded.told], ["c1", "c2"]);
  const later = decideNearbyNotices(crowded.told, ["c3", "c1"], 2);
  assert.deepEqual(later.notify, ["c3"]);
  assert.deepEqual([...later.told], ["c3", "c1"]);
});
