/**
 * Which citizens to tell that an available officer is near (pure). A citizen is told once when they
 * come within the officer's range, not again on every update while they stay in it; one who left
 * the range (or whose shared position ran out) and comes back is told again. What was told is kept
 * per officer window, for the citizens in range now only, at most `toldMax` of them (the nearest:
 * `inRange` comes nearest first), so the state is bounded however crowded the street.
 */
export interface NearbyNotices {
  /** Citizens to tell now (entered the range since the last update). */
  readonly notify: readonly string[];
  /** Citizens in range who have been told: the state for the officer's next update. */
  readonly told: ReadonlySet<string>;
}

export function decideNearbyNotices(
  told: ReadonlySet<string>,
  inRange: readonly string[],
  toldMax: number,
): NearbyNotices {
  const next = new Set<string>();
  const notify: string[] = [];
  for (const citizenId of inRange) {
    if (next.size >= toldMax) break;
    if (next.has(citizenId)) continue;
    if (!told.has(citizenId)) notify.push(citizenId);
    next.add(citizenId);
  }
  return { notify, told: next };
}
