/**
 * Simulated people moving through a city: a seeded random walk inside a bounding box. Pure: the
 * randomness is injected, the caller says how much time passed. Each walker keeps a heading that
 * turns a little at every step (people walk streets, not Brownian motion) and bounces off the box.
 */
import type { Random } from "../../platform/clock.ts";

export interface BoundingBox {
  readonly minLat: number;
  readonly minLon: number;
  readonly maxLat: number;
  readonly maxLon: number;
}

export interface Walker {
  lat: number;
  lon: number;
  /** Radians, 0 = north, clockwise. */
  heading: number;
  readonly speedMps: number;
}

const metresPerDegreeLat = 111_195;
/** The largest turn of heading per step, either way (about 35°). */
const turnMaxRad = 0.6;

/** "minLat,minLon,maxLat,maxLon" → a box, or an error message naming what is wrong. */
export function parseBoundingBox(text: string): BoundingBox | string {
  const parts = text.split(",").map((part) => Number(part.trim()));
  if (parts.length !== 4 || parts.some((n) => !Number.isFinite(n)))
    return "expected minLat,minLon,maxLat,maxLon";
  const [minLat, minLon, maxLat, maxLon] = parts as [number, number, number, number];
  if (minLat < -85 || maxLat > 85 || minLon < -180 || maxLon > 180) return "coordinates out of range";
  if (minLat >= maxLat || minLon >= maxLon) return "min must be below max";
  if ((maxLat - minLat) * metresPerDegreeLat > 100_000) return "at most 100 km tall";
  return { minLat, minLon, maxLat, maxLon };
}

/** A walker at a random place of the box, heading anywhere, at `speedMps`. */
export function placeWalker(random: Random, box: BoundingBox, speedMps: number): Walker {
  return {
    lat: box.minLat + random.next() * (box.maxLat - box.minLat),
    lon: box.minLon + random.next() * (box.maxLon - box.minLon),
    heading: random.next() * 2 * Math.PI,
    speedMps,
  };
}

/** Moves `walker` for `elapsedMs`, turning at random and bouncing off the box's edges. */
export function step(walker: Walker, random: Random, box: BoundingBox, elapsedMs: number): void {
  walker.heading += (random.next() * 2 - 1) * turnMaxRad;
  const metres = (walker.speedMps * elapsedMs) / 1_000;
  const metresPerDegreeLon = metresPerDegreeLat * Math.cos((walker.lat * Math.PI) / 180);
  let lat = walker.lat + (metres * Math.cos(walker.heading)) / metresPerDegreeLat;
  let lon = walker.lon + (metres * Math.sin(walker.heading)) / metresPerDegreeLon;
  if (lat < box.minLat || lat > box.maxLat) {
    walker.heading = Math.PI - walker.heading;
    lat = Math.min(box.maxLat, Math.max(box.minLat, lat));
  }
  if (lon < box.minLon || lon > box.maxLon) {
    walker.heading = -walker.heading;
    lon = Math.min(box.maxLon, Math.max(box.minLon, lon));
  }
  walker.lat = lat;
  walker.lon = lon;
}
