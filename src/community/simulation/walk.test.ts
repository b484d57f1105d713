import assert from "node:assert/strict";
import { test } from "node:test";
import { seededRandom } from "../../platform/clock.ts";
import { parseBoundingBox, placeWalker, step } from "./walk.ts";

const box = { minLat: 52.365, minLon: 4.88, maxLat: 52.38, maxLon: 4.905 };

test("a walker stays in the box, moves at most its speed, and the same seed walks the same way", () => {
  const walk = (seed: number) => {
    const random = seededRandom(seed);
    const walker = placeWalker(random, box, 1.5);
    const path: [number, number][] = [];
    for (let i = 0; i < 2_000; i++) {
      const before = { ...walker };
      step(walker, random, box, 1_000);
      const dLat = (walker.lat - before.lat) * 111_195;
      const dLon = (walker.lon - before.lon) * 111_195 * Math.cos((walker.lat * Math.PI) / 180);
      assert.ok(Math.hypot(dLat, dLon) <= 1.5 + 1e-6, "no faster than its speed");
      assert.ok(walker.lat >= box.minLat && walker.lat <= box.maxLat);
      assert.ok(walker.lon >= box.minLon && walker.lon <= box.maxLon);
      path.push([walker.lat, walker.lon]);
    }
    return path;
  };
  assert.deepEqual(walk(7), walk(7));
  assert.notDeepEqual(walk(7), walk(8));
});

test("bounding boxes are checked", () => {
  assert.deepEqual(parseBoundingBox("52.365,4.88,52.38,4.905"), box);
  assert.equal(typeof parseBoundingBox("1,2,3"), "string");
  assert.equal(typeof parseBoundingBox("52.38,4.88,52.365,4.905"), "string");
  assert.equal(typeof parseBoundingBox("91,4.88,92,4.905"), "string");
  assert.equal(typeof parseBoundingBox("10,4,12,5"), "string");
  assert.equal(typeof parseBoundingBox("a,b,c,d"), "string");
});
