/** The embedded nearby-officers index: the shared contract, then what only the memory adapter has. */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { seededRandom } from "../../../platform/clock.ts";
import { createMemoryNearbyIndex } from "./memory-index.ts";
import { bruteForceNear, describeNearbyIndexContract } from "./nearby-index.cases.ts";

describe("memory nearby index: the contract (defaults)", () => {
  describeNearbyIndexContract(async () => createMemoryNearbyIndex());
});

describe("memory nearby index: the contract (coarse cells, few rings: other levels walked)", () => {
  describeNearbyIndexContract(async () => createMemoryNearbyIndex({ cellResolution: 6, ringsMax: 3 }));
});

describe("memory nearby index: expiry is purged with bounded work per call", () => {
  const nowMs = 1_800_000_000_000;
  const here = { lat: 52.37, lon: 4.9 };

  test("each call removes at most purgeBatchMax expired entries; purgeExpired empties the rest", async () => {
    const index = createMemoryNearbyIndex({ purgeBatchMax: 5 });
    for (let i = 0; i < 20; i++)
      await index.put({ id: `expired-${i}`, point: here, accuracyM: 5, untilMs: nowMs + i });
    await index.put({ id: "open", point: here, accuracyM: 5, untilMs: nowMs + 60_000 });
    assert.equal(index.size, 21);
    assert.deepEqual(
      (await index.near(here, 10, 50, nowMs + 100)).map((o) => o.id),
      ["open"],
    );
    assert.equal(index.size, 16);
    await index.positionOf("open", nowMs + 100);
    assert.equal(index.size, 11);
    assert.equal(index.purgeExpired(nowMs + 100, 1_000), 10);
    assert.equal(index.size, 1);
  });

  test("put purges too, by the latest time a query told it", async () => {
    const index = createMemoryNearbyIndex({ purgeBatchMax: 3 });
    for (let i = 0; i < 6; i++)
      await index.put({ id: `expired-${i}`, point: here, accuracyM: 5, untilMs: nowMs + i });
    await index.near(here, 10, 1, nowMs - 1);
    assert.equal(index.size, 6);
    await index.near(here, 10, 1, nowMs + 100);
    assert.equal(index.size, 3);
    await index.put({ id: "open", point: here, accuracyM: 5, untilMs: nowMs + 60_000 });
    assert.equal(index.size, 1);
  });

  test("stale expiry records of moved windows do not pile up (the heap is rebuilt)", async () => {
    const index = createMemoryNearbyIndex();
    for (let i = 0; i < 5_000; i++)
      await index.put({ id: "extending", point: here, accuracyM: 5, untilMs: nowMs + 1_000 + i });
    assert.equal(index.purgeExpired(nowMs + 4_000), 0);
    assert.equal((await index.positionOf("extending", nowMs + 5_000))?.untilMs, nowMs + 5_999);
    assert.equal(index.size, 1);
  });
});

describe("memory nearby index: many moves", () => {
  test("after 20,000 random moves of 500 officers it still answers as the brute-force scan", async () => {
    const nowMs = 1_800_000_000_000;
    const index = createMemoryNearbyIndex();
    const random = seededRandom(7);
    const positions = new Map<
      string,
      { id: string; point: { lat: number; lon: number }; accuracyM: number; untilMs: number }
    >();
    for (let move = 0; move < 20_000; move++) {
      const id = `officer-${Math.floor(random.next() * 500)}`;
      const previous = positions.get(id)?.point ?? {
        lat: 52.3 + random.next() * 0.1,
        lon: 4.8 + random.next() * 0.2,
      };
      const point = {
        lat: previous.lat + (random.next() - 0.5) * 0.004,
        lon: previous.lon + (random.next() - 0.5) * 0.006,
      };
      const position = { id, point, accuracyM: 5, untilMs: nowMs + 60_000 };
      positions.set(id, position);
      await index.put(position);
    }
    for (let q = 0; q < 50; q++) {
      const point = { lat: 52.3 + random.next() * 0.1, lon: 4.8 + random.next() * 0.2 };
      const expected = bruteForceNear(positions.values(), point, 2_000, 20, nowMs);
      assert.deepEqual(
        (await index.near(point, 2_000, 20, nowMs)).map((o) => o.id),
        expected.map((o) => o.id),
      );
    }
  });
});
