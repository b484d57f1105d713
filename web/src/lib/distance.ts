/** "40 m away", "1.2 km away": how far an officer is, for the list and the map. */
/**
 * The compass bearing from one point to another, radians clockwise from north (a flat-earth
 * approximation: exact enough within the few hundred metres a radar shows).
 */
export function bearingBetween(from: { lat: number; lon: number }, to: { lat: number; lon: number }): number {
  const north = to.lat - from.lat;
  const east = (to.lon - from.lon) * Math.cos((from.lat * Math.PI) / 180);
  return Math.atan2(east, north);
}

export const distanceText = (metres: number) =>
  metres < 1_000 ? `${metres} m away` : `${(metres / 1_000).toFixed(1)} km away`;
