/**
 * The nearby-officers index of embedded mode: one process holds every available officer in memory.
 *
 * Why H3 buckets and not kdbush/geokdbush: officers move all the time (a location update every few
 * seconds each, 100,000+ of them), and KDBush is a static index: every move would mean rebuilding it
 * (bench/community-geo.ts measures a 100,000-point rebuild at tens of milliseconds, an event-loop
 * stall each time) or querying a stale snapshot plus a side list of recent moves. Bucketing by H3
 * cell (h3-js) is dynamic: a move is one `latLngToCell` and, only when the officer crossed into
 * another cell, a delete and an add in two Sets per level; nothing is ever rebuilt. A query walks the
 * cells ring by ring outwards from the citizen's cell (`gridDiskDistances`), measures each officer in
 * them exactly (haversine), and stops as soon as no farther ring can hold anyone nearer than the
 * `limit` found so far. Poles, the antimeridian and H3's pentagons need no special case.
 *
 * Levels: officers are bucketed at `cellResolution` (default 9: cells of ≈0.1 km², edge ≈200 m) and
 * at every second coarser resolution (7, 5, 3, 1); a query uses the finest level whose rings covering
 * the radius number at most `ringsMax`, so a wide radius does not walk hundreds of thousands of cells.
 *
 * Ring bounds (what makes the walk exact): on a regular hexagon grid of edge e, a cell d rings out is
 * at least (1.5·d − 1)·e from the origin cell's centre, and a point is at most e from its own cell's
 * centre. H3 cells are not all alike; sampling the globe at resolutions 5, 7 and 9 found local edges
 * ≥ 0.70 and centre-to-vertex ≤ 1.10 of the resolution's average edge. With margins (0.6 and 1.2):
 * anyone in ring d is at least (0.9·d − 1.8)·averageEdge away. memory-index.test.ts checks the walk
 * against a brute-force scan, at poles, across the antimeridian and around a pentagon.
 *
 * Expiry: an entry whose `untilMs` ≤ the query's `nowMs` is never returned; a min-heap by `untilMs`
 * lets each call remove at most `purgeBatchMax` expired entries (bounded work per call), and
 * `purgeExpired` lets a timer do it when nobody queries (exact coordinates live only while the
 * window is open).
 */
import { cellToParent, getHexagonEdgeLengthAvg, gridDiskDistances, latLngToCell, UNITS } from "h3-js";
import type { GeoPoint, NearbyOfficer, NearbyOfficersIndex, OfficerPosition } from "../port.ts";
import { ExpiryHeap } from "./expiry-heap.ts";
import { assertGeoPoint, greatCircleDistanceM, nearestFirst } from "./great-circle.ts";

export interface MemoryNearbyIndexOptions {
  /** The finest H3 resolution officers are bucketed at, 1–15 (default 9: edge ≈200 m). */
  readonly cellResolution?: number;
  /** A query uses the finest level whose rings covering the radius are at most this many (default 10). */
  readonly ringsMax?: number;
  /** Expired entries removed by one call at most (default 64). */
  readonly purgeBatchMax?: number;
}

export interface MemoryNearbyIndex extends NearbyOfficersIndex {
  /** Removes up to `max` entries expired at `nowMs` (for a timer); returns how many it removed. */
  purgeExpired(nowMs: number, max?: number): number;
  /** Officers indexed, expired ones not yet purged included. */
  readonly size: number;
}

interface Entry {
  readonly officerId: string;
  lat: number;
  lon: number;
  accuracyM: number;
  untilMs: number;
  /** The entry's cell at each level, finest first. */
  readonly cells: string[];
}

interface Level {
  readonly resolution: number;
  readonly averageEdgeM: number;
  readonly buckets: Map<string, Set<Entry>>;
}

const ringSpacingPerEdge = 0.9;
const cellReachPerEdge = 1.8;

/** How far away, at least, anyone in ring `ring` of a level is. */
function ringLowerBoundM(level: Level, ring: number): number {
  return Math.max(0, ringSpacingPerEdge * ring - cellReachPerEdge) * level.averageEdgeM;
}

/** The rings to walk so that everyone within `radiusM` is in them. */
function ringsCovering(level: Level, radiusM: number): number {
  return Math.floor((radiusM / level.averageEdgeM + cellReachPerEdge) / ringSpacingPerEdge);
}

function levelsFrom(finest: number): Level[] {
  if (!(Number.isInteger(finest) && finest >= 1 && finest <= 15))
    throw new RangeError(`cellResolution must be an integer in 1..15, got ${finest}`);
  const levels: Level[] = [];
  for (let resolution = finest; resolution >= 0; resolution -= 2)
    levels.push({
      resolution,
      averageEdgeM: getHexagonEdgeLengthAvg(resolution, UNITS.m),
      buckets: new Map(),
    });
  return levels;
}

function assertPosition(position: OfficerPosition): void {
  assertGeoPoint(position.point);
  if (!(Number.isFinite(position.accuracyM) && position.accuracyM >= 0))
    throw new RangeError(`accuracyM must be a finite number ≥ 0, got ${position.accuracyM}`);
  if (!Number.isFinite(position.untilMs))
    throw new RangeError(`untilMs must be finite, got ${position.untilMs}`);
}

/** The buckets of all levels, kept in step with the entries' positions. */
class CellBuckets {
  readonly levels: readonly Level[];

  constructor(levels: readonly Level[]) {
    this.levels = levels;
  }

  cellsOf(point: GeoPoint): string[] {
    const finest = latLngToCell(point.lat, point.lon, this.levels[0]?.resolution ?? 0);
    return this.levels.map((level, i) => (i === 0 ? finest : cellToParent(finest, level.resolution)));
  }

  add(entry: Entry): void {
    this.levels.forEach((level, i) => {
      const cell = entry.cells[i] as string;
      const bucket = level.buckets.get(cell);
      if (bucket) bucket.add(entry);
      else level.buckets.set(cell, new Set([entry]));
    });
  }

  delete(entry: Entry): void {
    this.levels.forEach((level, i) => {
      const cell = entry.cells[i] as string;
      const bucket = level.buckets.get(cell);
      bucket?.delete(entry);
      if (bucket?.size === 0) level.buckets.delete(cell);
    });
  }

  /** Moves the entry to its new point's cells; nothing to do while it stays in its finest cell. */
  move(entry: Entry, point: GeoPoint): void {
    const finest = latLngToCell(point.lat, point.lon, this.levels[0]?.resolution ?? 0);
    if (finest === entry.cells[0]) return;
    this.delete(entry);
    entry.cells.splice(0, entry.cells.length, ...this.cellsOf(point));
    this.add(entry);
  }

  /** The level a query of this radius walks: the finest within `ringsMax` rings, else the coarsest. */
  levelFor(radiusM: number, ringsMax: number): Level {
    const fitting = this.levels.find((level) => ringsCovering(level, radiusM) <= ringsMax);
    return fitting ?? (this.levels[this.levels.length - 1] as Level);
  }
}

/** Walks rings outwards; stops once `limit` officers are found nearer than any farther ring could be. */
function walkRings(
  level: Level,
  point: GeoPoint,
  radiusM: number,
  limit: number,
  nowMs: number,
): NearbyOfficer[] {
  const origin = latLngToCell(point.lat, point.lon, level.resolution);
  const rings = gridDiskDistances(origin, ringsCovering(level, radiusM));
  let found: NearbyOfficer[] = [];
  for (let ring = 0; ring < rings.length; ring++) {
    for (const cell of rings[ring] ?? []) {
      const bucket = level.buckets.get(cell);
      if (bucket === undefined) continue;
      for (const entry of bucket) {
        if (entry.untilMs <= nowMs) continue;
        const distanceM = greatCircleDistanceM(point, entry);
        if (distanceM <= radiusM)
          found.push({ officerId: entry.officerId, distanceM, accuracyM: entry.accuracyM });
      }
    }
    if (found.length >= limit) {
      found.sort(nearestFirst);
      found = found.slice(0, limit);
      if ((found[limit - 1] as NearbyOfficer).distanceM < ringLowerBoundM(level, ring + 1)) break;
    }
  }
  return found.sort(nearestFirst).slice(0, limit);
}

export function createMemoryNearbyIndex(options: MemoryNearbyIndexOptions = {}): MemoryNearbyIndex {
  const buckets = new CellBuckets(levelsFrom(options.cellResolution ?? 9));
  const ringsMax = options.ringsMax ?? 10;
  const purgeBatchMax = options.purgeBatchMax ?? 64;
  const entries = new Map<string, Entry>();
  const expiry = new ExpiryHeap<Entry>();
  /** The latest `nowMs` a caller told us: `put` has no clock of its own, it purges by this. */
  let latestNowMs = Number.NEGATIVE_INFINITY;

  const isCurrent = (entry: Entry, untilMs: number) =>
    entries.get(entry.officerId) === entry && entry.untilMs === untilMs;
  const forget = (entry: Entry) => {
    entries.delete(entry.officerId);
    buckets.delete(entry);
  };
  const purgeExpired = (nowMs: number, max = purgeBatchMax): number => {
    latestNowMs = Math.max(latestNowMs, nowMs);
    let removed = 0;
    for (let popped = 0; popped < max; popped++) {
      const next = expiry.popUntil(nowMs);
      if (next === undefined) break;
      if (isCurrent(next.item, next.untilMs)) {
        forget(next.item);
        removed++;
      }
    }
    // Stale heap items (moved windows, removed officers) are dropped in bulk once they outnumber live ones.
    if (expiry.size > 2 * entries.size + 1_024)
      expiry.rebuild([...entries.values()].map((e) => [e.untilMs, e]));
    return removed;
  };

  return {
    get size() {
      return entries.size;
    },
    purgeExpired,
    async put(position) {
      assertPosition(position);
      const { officerId, point, accuracyM, untilMs } = position;
      let entry = entries.get(officerId);
      if (entry === undefined) {
        entry = {
          officerId,
          lat: point.lat,
          lon: point.lon,
          accuracyM,
          untilMs,
          cells: buckets.cellsOf(point),
        };
        entries.set(officerId, entry);
        buckets.add(entry);
        expiry.push(untilMs, entry);
      } else {
        buckets.move(entry, point);
        if (entry.untilMs !== untilMs) expiry.push(untilMs, entry);
        Object.assign(entry, { lat: point.lat, lon: point.lon, accuracyM, untilMs });
      }
      if (latestNowMs > Number.NEGATIVE_INFINITY) purgeExpired(latestNowMs);
    },
    async remove(officerId) {
      const entry = entries.get(officerId);
      if (entry) forget(entry);
    },
    async near(point, radiusM, limit, nowMs) {
      assertGeoPoint(point);
      purgeExpired(nowMs);
      const count = Math.floor(limit);
      if (!(radiusM >= 0) || !(count >= 1)) return [];
      return walkRings(buckets.levelFor(radiusM, ringsMax), point, radiusM, count, nowMs);
    },
    async positionOf(officerId, nowMs) {
      purgeExpired(nowMs);
      const entry = entries.get(officerId);
      if (entry === undefined || entry.untilMs <= nowMs) return undefined;
      const { lat, lon, accuracyM, untilMs } = entry;
      return { officerId, point: { lat, lon }, accuracyM, untilMs };
    },
    async close() {
      entries.clear();
      for (const level of buckets.levels) level.buckets.clear();
      expiry.rebuild([]);
    },
  };
}
