/**
 * The nearby-officers index contract, run against each adapter (memory-index.test.ts for embedded
 * mode, redis-geo-index.int.test.ts on a real Redis for distributed mode): the same cases, the same
 * answers, down to the distances (both adapters measure with great-circle.ts).
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { cellToLatLng, getPentagons } from "h3-js";
import { type Random, seededRandom } from "../../../platform/clock.ts";
import type { GeoPoint, IndexedPosition, NearbyEntry, NearbyIndex } from "../port.ts";
import { greatCircleDistanceM, nearestFirst } from "./great-circle.ts";

const nowMs = 1_800_000_000_000;
const windowMs = 15 * 60_000;

/** A region to scatter officers in: a centre and a spread in degrees (longitudes wrap at ±180). */
interface Region {
  readonly name: string;
  readonly centre: GeoPoint;
  readonly latSpreadDeg: number;
  readonly lonSpreadDeg: number;
  readonly radiusMaxM: number;
}

const wrapLon = (lon: number) => ((((lon + 180) % 360) + 360) % 360) - 180;
const clampLat = (lat: number) => Math.max(-90, Math.min(90, lat));

function pointIn(region: Region, random: Random): GeoPoint {
  const { centre, latSpreadDeg, lonSpreadDeg } = region;
  return {
    lat: clampLat(centre.lat + (random.next() * 2 - 1) * latSpreadDeg),
    lon: wrapLon(centre.lon + (random.next() * 2 - 1) * lonSpreadDeg),
  };
}

/** A resolution-9 pentagon of H3's: cells around it have five neighbours, not six. */
const [pentagonLat, pentagonLon] = cellToLatLng(getPentagons(9)[3] as string);

export const regions: readonly Region[] = [
  {
    name: "a city (Amsterdam)",
    centre: { lat: 52.37, lon: 4.9 },
    latSpreadDeg: 0.1,
    lonSpreadDeg: 0.15,
    radiusMaxM: 20_000,
  },
  {
    name: "a country (France)",
    centre: { lat: 46.5, lon: 2.5 },
    latSpreadDeg: 4,
    lonSpreadDeg: 5,
    radiusMaxM: 600_000,
  },
  {
    name: "across the antimeridian (Fiji)",
    centre: { lat: -17.7, lon: 179.95 },
    latSpreadDeg: 0.3,
    lonSpreadDeg: 0.3,
    radiusMaxM: 40_000,
  },
  {
    name: "astride Redis GEO's latitude limit (85.05°)",
    centre: { lat: 85.05, lon: 30 },
    latSpreadDeg: 0.2,
    lonSpreadDeg: 3,
    radiusMaxM: 50_000,
  },
  {
    name: "at the North Pole",
    centre: { lat: 89.9, lon: 0 },
    latSpreadDeg: 0.1,
    lonSpreadDeg: 180,
    radiusMaxM: 60_000,
  },
  {
    name: "at the South Pole",
    centre: { lat: -89.95, lon: 0 },
    latSpreadDeg: 0.05,
    lonSpreadDeg: 180,
    radiusMaxM: 30_000,
  },
  {
    name: "around an H3 pentagon",
    centre: { lat: pentagonLat, lon: pentagonLon },
    latSpreadDeg: 0.05,
    lonSpreadDeg: 0.05,
    radiusMaxM: 8_000,
  },
];

/** What the index must answer: every open officer within the radius, nearest first, at most `limit`. */
export function bruteForceNear(
  positions: Iterable<IndexedPosition>,
  point: GeoPoint,
  radiusM: number,
  limit: number,
  atMs: number,
): NearbyEntry[] {
  const found: NearbyEntry[] = [];
  for (const p of positions) {
    if (p.untilMs <= atMs) continue;
    const distanceM = greatCircleDistanceM(point, p.point);
    if (distanceM <= radiusM) found.push({ id: p.id, distanceM, accuracyM: p.accuracyM });
  }
  return found.sort(nearestFirst).slice(0, limit);
}

function assertSameAnswer(actual: readonly NearbyEntry[], expected: readonly NearbyEntry[], what: string) {
  assert.deepEqual(
    actual.map((o) => o.id),
    expected.map((o) => o.id),
    what,
  );
  actual.forEach((o, i) => {
    assert.ok(
      Math.abs(o.distanceM - (expected[i]?.distanceM ?? Number.NaN)) < 1e-6,
      `${what}: distance of ${o.id}`,
    );
    assert.equal(o.accuracyM, expected[i]?.accuracyM, `${what}: accuracy of ${o.id}`);
  });
}

/** Puts `count` officers scattered in the region; a tenth already expired, a tenth expiring soon. */
async function scatter(index: NearbyIndex, region: Region, random: Random, count: number) {
  const positions = new Map<string, IndexedPosition>();
  for (let i = 0; i < count; i++) {
    const kind = random.next();
    const untilMs = kind < 0.1 ? nowMs - 1 : kind < 0.2 ? nowMs + 1 : nowMs + windowMs;
    const position = {
      id: `officer-${String(i).padStart(5, "0")}`,
      point: pointIn(region, random),
      accuracyM: Math.round(random.next() * 50),
      untilMs,
    };
    positions.set(position.id, position);
  }
  await Promise.all([...positions.values()].map((p) => index.put(p)));
  return positions;
}

const officer = (id: string, point: GeoPoint, untilMs = nowMs + windowMs): IndexedPosition => ({
  id,
  point,
  accuracyM: 10,
  untilMs,
});

/** `metres` north of `point` (along its meridian). */
const north = (point: GeoPoint, metres: number): GeoPoint => ({
  lat: point.lat + (metres / 6_371_008.8) * (180 / Math.PI),
  lon: point.lon,
});

export function describeNearbyIndexContract(create: () => Promise<NearbyIndex>): void {
  const using = async (run: (index: NearbyIndex) => Promise<void>) => {
    const index = await create();
    try {
      await run(index);
    } finally {
      await index.close();
    }
  };

  for (const [r, region] of regions.entries())
    test(`answers as a brute-force haversine scan does: ${region.name}`, () =>
      using(async (index) => {
        const random = seededRandom(1_000 + r);
        const positions = await scatter(index, region, random, 1_500);
        for (let q = 0; q < 60; q++) {
          const point = pointIn(region, random);
          const radiusM = region.radiusMaxM * random.next() ** 2;
          const limit = q % 5 === 0 ? 10_000 : 1 + Math.floor(random.next() * 30);
          const atMs = q < 30 ? nowMs : nowMs + 1; // time only moves forwards
          const what = `${region.name}, query ${q}: ${radiusM.toFixed(0)} m, limit ${limit}`;
          assertSameAnswer(
            await index.near(point, radiusM, limit, atMs),
            bruteForceNear(positions.values(), point, radiusM, limit, atMs),
            what,
          );
        }
      }));

  test("radii up to the whole globe: everyone open within it, each once, nearest first", () =>
    using(async (index) => {
      const random = seededRandom(99);
      const globe: Region = {
        name: "the globe",
        centre: { lat: 0, lon: 0 },
        latSpreadDeg: 90,
        lonSpreadDeg: 180,
        radiusMaxM: 0,
      };
      const positions = await scatter(index, globe, random, 400);
      for (const radiusM of [2_000_000, 10_000_000, 21_000_000])
        for (const point of [
          { lat: 10, lon: 20 },
          { lat: -89.99, lon: 0 },
          { lat: 45, lon: -179.99 },
        ])
          assertSameAnswer(
            await index.near(point, radiusM, 1_000, nowMs),
            bruteForceNear(positions.values(), point, radiusM, 1_000, nowMs),
            `${radiusM} m from ${point.lat}, ${point.lon}`,
          );
    }));

  test("an officer's window: open before untilMs, gone at untilMs", () =>
    using(async (index) => {
      const here = { lat: 48.8566, lon: 2.3522 };
      await index.put(officer("officer-a", here, nowMs + 1_000));
      assert.deepEqual(
        (await index.near(here, 100, 10, nowMs + 999)).map((o) => o.id),
        ["officer-a"],
      );
      assert.equal((await index.positionOf("officer-a", nowMs + 999))?.untilMs, nowMs + 1_000);
      assert.deepEqual(await index.near(here, 100, 10, nowMs + 1_000), []);
      assert.equal(await index.positionOf("officer-a", nowMs + 1_000), undefined);
    }));

  test("a window extended by a later put stays open; one shortened closes at its new end", () =>
    using(async (index) => {
      const here = { lat: 40.4168, lon: -3.7038 };
      await index.put(officer("officer-longer", here, nowMs + 1_000));
      await index.put(officer("officer-longer", here, nowMs + 5_000));
      await index.put(officer("officer-shorter", north(here, 10), nowMs + 5_000));
      await index.put(officer("officer-shorter", north(here, 10), nowMs + 1_000));
      const ids = async (atMs: number) => (await index.near(here, 100, 10, atMs)).map((o) => o.id);
      assert.deepEqual(await ids(nowMs), ["officer-longer", "officer-shorter"]);
      assert.deepEqual(await ids(nowMs + 2_000), ["officer-longer"]);
      assert.equal((await index.positionOf("officer-longer", nowMs + 2_000))?.untilMs, nowMs + 5_000);
      assert.deepEqual(await ids(nowMs + 5_000), []);
    }));

  test("a move: found at the new point, no longer at the old one; positionOf tells the new one", () =>
    using(async (index) => {
      const before = { lat: 51.5074, lon: -0.1278 };
      const after = { lat: 51.4545, lon: -2.5879 };
      await index.put(officer("officer-moving", before));
      await index.put({ ...officer("officer-moving", after), accuracyM: 25 });
      assert.deepEqual(await index.near(before, 1_000, 10, nowMs), []);
      const found = await index.near(after, 1_000, 10, nowMs);
      assert.deepEqual(
        found.map((o) => [o.id, o.accuracyM]),
        [["officer-moving", 25]],
      );
      assert.deepEqual(await index.positionOf("officer-moving", nowMs), {
        id: "officer-moving",
        point: after,
        accuracyM: 25,
        untilMs: nowMs + windowMs,
      });
    }));

  test("remove: the officer is gone at once; removing an absent officer is a no-op", () =>
    using(async (index) => {
      const here = { lat: 35.6762, lon: 139.6503 };
      await index.put(officer("officer-leaving", here));
      await index.put(officer("officer-staying", north(here, 50)));
      await index.remove("officer-leaving");
      await index.remove("officer-never-there");
      assert.deepEqual(
        (await index.near(here, 500, 10, nowMs)).map((o) => o.id),
        ["officer-staying"],
      );
      assert.equal(await index.positionOf("officer-leaving", nowMs), undefined);
    }));

  test("nearest first, at most limit, ties by officer id, the radius inclusive of nothing beyond it", () =>
    using(async (index) => {
      const here = { lat: -33.8688, lon: 151.2093 };
      for (const [i, metres] of [500, 100, 300, 200, 400].entries())
        await index.put(officer(`officer-${i}`, north(here, metres)));
      await index.put(officer("officer-tie-b", north(here, 150)));
      await index.put(officer("officer-tie-a", north(here, 150)));
      const found = await index.near(here, 350, 4, nowMs);
      assert.deepEqual(
        found.map((o) => o.id),
        ["officer-1", "officer-tie-a", "officer-tie-b", "officer-3"],
      );
      found.forEach((o) => {
        assert.ok(
          Math.abs(o.distanceM - Number(o.id === "officer-1" ? 100 : o.id === "officer-3" ? 200 : 150)) <
            0.01,
        );
      });
      assert.deepEqual((await index.near(here, 350, 100, nowMs)).length, 5);
      assert.deepEqual(await index.near(here, 99, 100, nowMs), []);
      assert.deepEqual(await index.near(here, 1_000, 0, nowMs), []);
    }));

  test("a point that is not WGS 84 degrees is refused (RangeError), nothing indexed", () =>
    using(async (index) => {
      for (const point of [
        { lat: Number.NaN, lon: 0 },
        { lat: 91, lon: 0 },
        { lat: 0, lon: 180.5 },
      ]) {
        await assert.rejects(index.put(officer("officer-bad", point)), RangeError);
        await assert.rejects(index.near(point, 100, 10, nowMs), RangeError);
      }
      assert.equal(await index.positionOf("officer-bad", nowMs), undefined);
    }));
}
