/** "40 m away", "1.2 km away": how far an officer is, for the list and the map. */
export const distanceText = (metres: number) =>
  metres < 1_000 ? `${metres} m away` : `${(metres / 1_000).toFixed(1)} km away`;
