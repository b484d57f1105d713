/** Coordinates and distances on the WGS 84 sphere approximation (pure). */

export interface Point {
  readonly lat: number;
  readonly lon: number;
}

/** A position report: where, how precise (metres, the device's own estimate), when. */
export interface LocationReport {
  readonly point: Point;
  readonly accuracyM: number;
  readonly atMs: number;
}

const earthRadiusM = 6_371_008.8;
const radians = (degrees: number) => (degrees * Math.PI) / 180;

/** Great-circle distance in metres (haversine). */
export function distanceM(a: Point, b: Point): number {
  const dLat = radians(b.lat - a.lat);
  const dLon = radians(b.lon - a.lon);
  const h =
    Math.sin(dLat / 2) ** 2 + Math.cos(radians(a.lat)) * Math.cos(radians(b.lat)) * Math.sin(dLon / 2) ** 2;
  return 2 * earthRadiusM * Math.asin(Math.min(1, Math.sqrt(h)));
}

/** Which field of a report is out of range, if any: NaN, ±Infinity and out-of-range degrees are. */
export function invalidField(report: { lat: number; lon: number; accuracyM: number }): string | undefined {
  if (!Number.isFinite(report.lat) || report.lat < -90 || report.lat > 90) return "lat";
  if (!Number.isFinite(report.lon) || report.lon < -180 || report.lon > 180) return "lon";
  if (!Number.isFinite(report.accuracyM) || report.accuracyM < 0) return "accuracyM";
  return undefined;
}
