/**
 * Great-circle distance, the one both index adapters answer with (the Redis adapter recomputes its
 * candidates' distances with it, so both adapters give the same distances and the same order).
 */
import type { GeoPoint, IndexedPosition, NearbyEntry } from "../port.ts";

/** Mean Earth radius (IUGG), metres. */
export const earthRadiusM = 6_371_008.8;
const radiansPerDegree = Math.PI / 180;

/** Haversine distance in metres: exact on the sphere, and stable for short distances. */
export function greatCircleDistanceM(a: GeoPoint, b: GeoPoint): number {
  const dLat = (b.lat - a.lat) * radiansPerDegree;
  const dLon = (b.lon - a.lon) * radiansPerDegree;
  const h =
    Math.sin(dLat / 2) ** 2 +
    Math.cos(a.lat * radiansPerDegree) * Math.cos(b.lat * radiansPerDegree) * Math.sin(dLon / 2) ** 2;
  return 2 * earthRadiusM * Math.asin(Math.min(1, Math.sqrt(h)));
}

/** Nearest first; equal distances by id, so both adapters order ties alike. */
export function nearestFirst(a: NearbyEntry, b: NearbyEntry): number {
  return a.distanceM - b.distanceM || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
}

/** Throws RangeError unless the point is finite WGS 84 degrees (the edge validates; this guards the index). */
export function assertGeoPoint(point: GeoPoint): void {
  const { lat, lon } = point;
  if (!(Number.isFinite(lat) && Number.isFinite(lon) && Math.abs(lat) <= 90 && Math.abs(lon) <= 180))
    throw new RangeError(`not a WGS 84 point: ${lat}, ${lon}`);
}

/** Throws RangeError unless the position is indexable: a WGS 84 point, accuracy ≥ 0, a finite end. */
export function assertPosition(position: IndexedPosition): void {
  assertGeoPoint(position.point);
  if (!(Number.isFinite(position.accuracyM) && position.accuracyM >= 0))
    throw new RangeError(`accuracyM must be a finite number ≥ 0, got ${position.accuracyM}`);
  if (!Number.isFinite(position.untilMs))
    throw new RangeError(`untilMs must be finite, got ${position.untilMs}`);
}
