/**
 * The nearby index of embedded mode: one process holds every entry in memory (one instance for the
 * available officers, one for the citizens sharing their position; "officer" below stands for either).
 *
 * Why H3 buckets and not kdbush/geokdbush: officers move all the time (a location update every few
 * seconds each, 100,000+ of them), and KDBush is a static index: every move would mean rebuilding it
 * (bench/community-geo.ts measures a 100,000-point rebuild at tens of milliseconds, an event-loop
 * stall each time) or querying a stale snapshot plus a side list of recent moves. Bucketing by H3
 * cell (h3-js) is dynamic: a move is one `latLngToCell` and, only when the officer crossed into
 * another cell, a swap-removal and an append per level; nothing is ever rebuilt. A query walks the
 * cells ring by ring outwards from the citizen's cell (`gridRing`), measures each officer in
 * them exactly (haversine), and stops as soon as no farther ring can hold anyone nearer than the
 * `limit` found so far. Poles, the antimeridian and H3's pentagons need no special case.
 *
 * Levels: officers are bucketed at `cellResolution` (default 9: cells of ≈0.1 km², edge ≈200 m) and
 * at every second coarser resolution (7, 5, 3, 1). A query starts at the finest level and walks at
 * most `ringsMax` rings there (default 4, measured best of 3, 4, 6, 10 in bench/community-geo.ts);
 * when that level cannot settle the answer (officers sparse: under a quarter of `limit` found in the
 * first 3 rings, or the radius not covered), it starts over one level coarser, where few rings cover
 * a wide radius; the coarsest walks all it takes. Inside a ring, a cell whose centre is too far to
 * hold anyone nearer than the current `limit`-th is skipped unread, and an officer farther in
 * latitude alone is skipped before the haversine.
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
import {
  cellToLatLng,
  cellToParent,
  getHexagonEdgeLengthAvg,
  getNumCells,
  gridDiskDistances,
  gridRing,
  latLngToCell,
  UNITS,
} from "h3-js";
import type { GeoPoint, IndexedPosition, NearbyEntry, NearbyIndex } from "../port.ts";
import { ExpiryHeap } from "./expiry-heap.ts";
import {
  assertGeoPoint,
  assertPosition,
  earthRadiusM,
  greatCircleDistanceM,
  nearestFirst,
} from "./great-circle.ts";

export interface MemoryNearbyIndexOptions {
  /** The finest H3 resolution officers are bucketed at, 1–15 (default 9: edge ≈200 m). */
  readonly cellResolution?: number;
  /** Rings a query walks at one level before it gives way to a coarser one (default 4). */
  readonly ringsMax?: number;
  /** Expired entries removed by one call at most (default 64). */
  readonly purgeBatchMax?: number;
}

export interface MemoryNearbyIndex extends NearbyIndex {
  /** Removes up to `max` entries expired at `nowMs` (for a timer); returns how many it removed. */
  purgeExpired(nowMs: number, max?: number): number;
  /** Officers indexed, expired ones not yet purged included. */
  readonly size: number;
}

interface Entry {
  readonly id: string;
  lat: number;
  lon: number;
  accuracyM: number;
  untilMs: number;
  /** The entry's cell at each level, finest first. */
  readonly cells: string[];
  /** Where the entry sits in its bucket's array at each level (removal swaps the last one in). */
  readonly slots: number[];
}

/** The officers in one cell, and the cell's centre: a whole cell too far away is skipped unread. */
interface Bucket {
  readonly lat: number;
  readonly lon: number;
  readonly entries: Entry[];
}

interface Level {
  readonly resolution: number;
  readonly averageEdgeM: number;
  /** Cells on the whole globe at this resolution: a walk that has seen as many has seen everyone. */
  readonly cellsTotal: number;
  readonly buckets: Map<string, Bucket>;
}

const ringSpacingPerEdge = 0.9;
const metresPerDegree = (earthRadiusM * Math.PI) / 180;
const cellReachPerEdge = 1.8;
/** After this many rings, a level that has found under a quarter of `limit` gives way to a coarser one. */
const probeRings = 3;
/** A point is at most this far from its cell's centre (sampled ≤ 1.10, with a margin). */
const cellRadiusPerEdge = 1.2;

/** How far away, at least, anyone in ring `ring` of a level is. */
function ringLowerBoundM(level: Level, ring: number): number {
  return Math.max(0, ringSpacingPerEdge * ring - cellReachPerEdge) * level.averageEdgeM;
}

/** Rings enough for a disk to hold every cell of the globe (a pentagon's disk holds fewer: +2). */
function ringsAcrossGlobe(level: Level): number {
  return Math.ceil((-3 + Math.sqrt(9 + 12 * (level.cellsTotal - 1))) / 6) + 2;
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
      cellsTotal: getNumCells(resolution),
      buckets: new Map(),
    });
  return levels;
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
      let bucket = level.buckets.get(cell);
      if (bucket === undefined) {
        const [lat, lon] = cellToLatLng(cell);
        bucket = { lat, lon, entries: [] };
        level.buckets.set(cell, bucket);
      }
      entry.slots[i] = bucket.entries.length;
      bucket.entries.push(entry);
    });
  }

  delete(entry: Entry): void {
    this.levels.forEach((level, i) => {
      const cell = entry.cells[i] as string;
      const bucket = level.buckets.get(cell);
      if (bucket === undefined) return;
      const last = bucket.entries.pop() as Entry;
      if (last !== entry) {
        const slot = entry.slots[i] as number;
        bucket.entries[slot] = last;
        last.slots[i] = slot;
      }
      if (bucket.entries.length === 0) level.buckets.delete(cell);
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
}

/** The `limit` nearest offered so far, nearest first: a short sorted array, objects made only for keepers. */
class Nearest {
  readonly items: NearbyEntry[] = [];
  readonly limit: number;

  constructor(limit: number) {
    this.limit = limit;
  }

  /** The distance a newcomer must beat once full; Infinity before. */
  get worstM(): number {
    return this.items.length < this.limit
      ? Number.POSITIVE_INFINITY
      : (this.items.at(-1) as NearbyEntry).distanceM;
  }

  offer(entry: Entry, distanceM: number): void {
    if (distanceM > this.worstM) return;
    const candidate = { id: entry.id, distanceM, accuracyM: entry.accuracyM };
    let at = this.items.length;
    while (at > 0 && nearestFirst(candidate, this.items[at - 1] as NearbyEntry) < 0) at--;
    if (at === this.limit) return;
    this.items.splice(at, 0, candidate);
    if (this.items.length > this.limit) this.items.pop();
  }
}

/**
 * The cells ring by ring around `origin`, up to `rings`: H3's ring of each as it is needed; where that
 * gives up (near a pentagon) the whole disk's rings, computed once for the rest of the walk.
 */
function ringsAround(origin: string, rings: number): (ring: number) => readonly string[] {
  let disk: string[][] | undefined;
  return (ring) => {
    if (ring === 0) return [origin];
    if (disk === undefined)
      try {
        return gridRing(origin, ring);
      } catch {
        disk = gridDiskDistances(origin, rings);
      }
    return disk[ring] ?? [];
  };
}

/**
 * Walks up to `rings` rings of one level outwards from the point's cell, offering everyone open and
 * within the radius. Answers whether the result is final: the `limit` found are nearer than any
 * farther ring could be, or the rings walked cover the whole radius.
 */
function walkLevel(level: Level, query: Query, nearest: Nearest, rings: number, coarsest: boolean): boolean {
  const { point, radiusM, nowMs } = query;
  const origin = latLngToCell(point.lat, point.lon, level.resolution);
  const cellRadiusM = cellRadiusPerEdge * level.averageEdgeM;
  const cellsOfRing = ringsAround(origin, Math.min(rings, ringsAcrossGlobe(level)));
  let cellsWalked = 0;
  for (let ring = 0; ring <= rings; ring++) {
    const cells = cellsOfRing(ring);
    cellsWalked += cells.length;
    for (const cell of cells) {
      const bucket = level.buckets.get(cell);
      if (bucket === undefined) continue;
      const boundM = Math.min(radiusM, nearest.worstM) * (1 + 1e-9) + 1e-9;
      if (greatCircleDistanceM(point, bucket) - cellRadiusM > boundM) continue;
      // Nobody farther in latitude alone than the radius or the current `limit`-th can be kept:
      // a cheap test (great-circle distance ≥ R·|Δlatitude|) that spares most haversines.
      const boundDeg = boundM / metresPerDegree;
      for (const entry of bucket.entries) {
        if (entry.untilMs <= nowMs || Math.abs(entry.lat - point.lat) > boundDeg) continue;
        const distanceM = greatCircleDistanceM(point, entry);
        if (distanceM <= radiusM) nearest.offer(entry, distanceM);
      }
    }
    if (nearest.worstM < ringLowerBoundM(level, ring + 1) || cellsWalked >= level.cellsTotal) return true;
    // Too fine for this query (officers are sparse here): a coarser level is cheaper.
    if (!coarsest && ring === probeRings && ring < rings && nearest.items.length * 4 < query.limit)
      return false;
  }
  return rings >= ringsCovering(level, query.radiusM);
}

interface Query {
  readonly point: GeoPoint;
  readonly radiusM: number;
  readonly limit: number;
  readonly nowMs: number;
}

/**
 * From the finest level outwards, at most `ringsMax` rings each (the coarsest: all it takes): where
 * officers are dense the finest level already holds the `limit` nearest; where they are sparse a
 * coarser level covers the radius in few rings.
 */
function nearestOf(levels: readonly Level[], query: Query, ringsMax: number): NearbyEntry[] {
  for (const [i, level] of levels.entries()) {
    const covering = ringsCovering(level, query.radiusM);
    const nearest = new Nearest(query.limit);
    const coarsest = i === levels.length - 1;
    if (walkLevel(level, query, nearest, coarsest ? covering : Math.min(covering, ringsMax), coarsest))
      return nearest.items;
  }
  return [];
}

/** The officers by id, in step with their buckets and their windows' expiry heap. */
class Officers {
  readonly entries = new Map<string, Entry>();
  readonly buckets: CellBuckets;
  private readonly expiry = new ExpiryHeap<Entry>();

  constructor(buckets: CellBuckets) {
    this.buckets = buckets;
  }

  put(position: IndexedPosition): void {
    const { id, point, accuracyM, untilMs } = position;
    const entry = this.entries.get(id);
    if (entry === undefined) {
      const cells = this.buckets.cellsOf(point);
      const created = { id, lat: point.lat, lon: point.lon, accuracyM, untilMs, cells, slots: [] };
      this.entries.set(id, created);
      this.buckets.add(created);
      this.expiry.push(untilMs, created);
      return;
    }
    this.buckets.move(entry, point);
    if (entry.untilMs !== untilMs) this.expiry.push(untilMs, entry);
    Object.assign(entry, { lat: point.lat, lon: point.lon, accuracyM, untilMs });
  }

  forget(entry: Entry): void {
    this.entries.delete(entry.id);
    this.buckets.delete(entry);
  }

  /** Removes up to `max` entries whose window closed at `nowMs`; heap items of moved windows are skipped. */
  purge(nowMs: number, max: number): number {
    let removed = 0;
    for (let popped = 0; popped < max; popped++) {
      const next = this.expiry.popUntil(nowMs);
      if (next === undefined) break;
      const { item, untilMs } = next;
      if (this.entries.get(item.id) === item && item.untilMs === untilMs) {
        this.forget(item);
        removed++;
      }
    }
    // Stale heap items (moved windows, removed officers) are dropped in bulk once they outnumber live ones.
    if (this.expiry.size > 2 * this.entries.size + 1_024)
      this.expiry.rebuild([...this.entries.values()].map((e) => [e.untilMs, e]));
    return removed;
  }

  clear(): void {
    this.entries.clear();
    for (const level of this.buckets.levels) level.buckets.clear();
    this.expiry.rebuild([]);
  }
}

export function createMemoryNearbyIndex(options: MemoryNearbyIndexOptions = {}): MemoryNearbyIndex {
  const officers = new Officers(new CellBuckets(levelsFrom(options.cellResolution ?? 9)));
  const ringsMax = options.ringsMax ?? 4;
  const purgeBatchMax = options.purgeBatchMax ?? 64;
  /** The latest `nowMs` a caller told us: `put` has no clock of its own, it purges by this. */
  let latestNowMs = Number.NEGATIVE_INFINITY;
  const purgeExpired = (nowMs: number, max = purgeBatchMax): number => {
    latestNowMs = Math.max(latestNowMs, nowMs);
    return officers.purge(nowMs, max);
  };

  return {
    get size() {
      return officers.entries.size;
    },
    purgeExpired,
    async put(position) {
      assertPosition(position);
      officers.put(position);
      if (latestNowMs > Number.NEGATIVE_INFINITY) purgeExpired(latestNowMs);
    },
    async remove(id) {
      const entry = officers.entries.get(id);
      if (entry) officers.forget(entry);
    },
    async near(point, radiusM, limit, nowMs) {
      assertGeoPoint(point);
      purgeExpired(nowMs);
      const count = Math.floor(limit);
      if (!(radiusM >= 0) || !(count >= 1)) return [];
      return nearestOf(officers.buckets.levels, { point, radiusM, limit: count, nowMs }, ringsMax);
    },
    async positionOf(id, nowMs) {
      purgeExpired(nowMs);
      const entry = officers.entries.get(id);
      if (entry === undefined || entry.untilMs <= nowMs) return undefined;
      const { lat, lon, accuracyM, untilMs } = entry;
      return { id, point: { lat, lon }, accuracyM, untilMs };
    },
    async close() {
      officers.clear();
    },
  };
}
