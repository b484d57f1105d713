/**
 * The device's position for the community screens (navigator.geolocation), as the community
 * socket's `{lat, lon, accuracyM}`, and the browser's refusals in words.
 */
export interface Position {
  readonly lat: number;
  readonly lon: number;
  readonly accuracyM: number;
}

const options: PositionOptions = { enableHighAccuracy: true, maximumAge: 10_000, timeout: 20_000 };

function toPosition(found: GeolocationPosition): Position {
  return {
    lat: found.coords.latitude,
    lon: found.coords.longitude,
    accuracyM: Math.max(0, Math.round(found.coords.accuracy)),
  };
}

export function positionError(error: GeolocationPositionError | Error): string {
  if (!("code" in error)) return error.message;
  if (error.code === error.PERMISSION_DENIED)
    return "Location is blocked for this site. Allow it in your browser's settings to take part.";
  if (error.code === error.TIMEOUT) return "Your position took too long to find. Try again.";
  return "Your position could not be found right now.";
}

export function geolocationSupported(): boolean {
  return typeof navigator !== "undefined" && "geolocation" in navigator;
}

/** One position now. */
export function currentPosition(): Promise<Position> {
  return new Promise((resolve, reject) => {
    if (!geolocationSupported()) return reject(new Error("This browser cannot share its location."));
    navigator.geolocation.getCurrentPosition((found) => resolve(toPosition(found)), reject, options);
  });
}

/** Every position while watched; returns the function that stops watching. */
export function watchPosition(
  onPosition: (position: Position) => void,
  onError: (message: string) => void,
): () => void {
  if (!geolocationSupported()) {
    onError("This browser cannot share its location.");
    return () => {};
  }
  const id = navigator.geolocation.watchPosition(
    (found) => onPosition(toPosition(found)),
    (error) => onError(positionError(error)),
    options,
  );
  return () => navigator.geolocation.clearWatch(id);
}
