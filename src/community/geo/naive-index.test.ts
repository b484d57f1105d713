import assert from "node:assert/strict";
import { test } from "node:test";
import { createNaiveNearbyIndex } from "./naive-index.ts";

test("the embedded fallback index: nearest first, within the radius, only open windows", async () => {
  const index = createNaiveNearbyIndex();
  await index.put({ officerId: "a", point: { lat: 52.37, lon: 4.89 }, accuracyM: 5, untilMs: 1_000 });
  await index.put({ officerId: "b", point: { lat: 52.3705, lon: 4.89 }, accuracyM: 8, untilMs: 2_000 });
  await index.put({ officerId: "far", point: { lat: 52.5, lon: 4.89 }, accuracyM: 5, untilMs: 2_000 });
  const here = { lat: 52.3706, lon: 4.89 };
  assert.deepEqual(
    (await index.near(here, 500, 10, 0)).map((o) => o.officerId),
    ["b", "a"],
  );
  assert.deepEqual(
    (await index.near(here, 500, 1, 0)).map((o) => o.officerId),
    ["b"],
  );
  assert.deepEqual(
    (await index.near(here, 500, 10, 1_000)).map((o) => o.officerId),
    ["b"],
    "a's window closed",
  );
  assert.equal(await index.positionOf("a", 1_000), undefined);
  await index.remove("b");
  assert.equal(await index.positionOf("b", 0), undefined);
});
