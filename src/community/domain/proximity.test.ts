import assert from "node:assert/strict";
import { test } from "node:test";
import { distanceM } from "./geo.ts";
import { areNear, decideLocation, reachM } from "./proximity.ts";
import { testRules } from "./testing-rules.ts";

const at = (lat: number, lon: number, accuracyM = 5, atMs = 0) => ({ point: { lat, lon }, accuracyM, atMs });
// About 111 m per 0.001° of latitude.
const north = (metres: number) => 52.37 + metres / 111_195;

test("distance: one degree of latitude is about 111 km", () => {
  assert.ok(Math.abs(distanceM({ lat: 0, lon: 0 }, { lat: 1, lon: 0 }) - 111_195) < 10);
});

test("near within the threshold widened by both accuracies, capped", () => {
  assert.equal(reachM(testRules, 10, 15), 125);
  assert.equal(reachM(testRules, 400, 400), 150, "a vague fix widens the threshold at most by the cap");
  assert.equal(areNear(testRules, at(52.37, 4.89), at(north(95), 4.89)), true);
  assert.equal(areNear(testRules, at(52.37, 4.89, 5), at(north(105), 4.89, 5)), true, "accuracies count");
  assert.equal(areNear(testRules, at(52.37, 4.89, 1), at(north(105), 4.89, 1)), false);
  assert.equal(areNear(testRules, at(52.37, 4.89, 300), at(north(160), 4.89, 300)), false);
});

test("coordinates out of range, NaN or infinite are refused with the field", () => {
  const cases: [number, number, number, string][] = [
    [91, 0, 5, "lat"],
    [-90.1, 0, 5, "lat"],
    [Number.NaN, 0, 5, "lat"],
    [0, 180.5, 5, "lon"],
    [0, Number.POSITIVE_INFINITY, 5, "lon"],
    [0, 0, -1, "accuracyM"],
    [0, 0, Number.NaN, "accuracyM"],
  ];
  for (const [lat, lon, accuracyM, field] of cases)
    assert.deepEqual(decideLocation(testRules, undefined, at(lat, lon, accuracyM)), {
      kind: "rejected",
      code: "invalid_location",
      field,
    });
  assert.equal(decideLocation(testRules, undefined, at(90, -180, 0)).kind, "accepted");
  assert.equal(decideLocation(testRules, undefined, at(0, 0, 501)).kind, "rejected");
});

test("an impossible jump (faster than the maximum speed) is refused; walking and driving are not", () => {
  const start = at(52.37, 4.89, 5, 0);
  assert.equal(decideLocation(testRules, start, at(north(1_500), 4.89, 5, 60_000)).kind, "accepted");
  const jump = decideLocation(testRules, start, at(north(50_000), 4.89, 5, 60_000));
  assert.equal(jump.kind === "rejected" && jump.code, "impossible_jump");
  // Jitter within the fixes' accuracy is no movement, even in the same millisecond.
  assert.equal(decideLocation(testRules, start, at(north(8), 4.89, 5, 0)).kind, "accepted");
});
