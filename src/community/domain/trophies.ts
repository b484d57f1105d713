/**
 * Trophies (pure): what a user earns with a new connection, from their connection history and the
 * trophies they already hold. Codes are stable (events.ts): first_connection, streak_<N>_days,
 * connections_<N>, cells_<N>.
 */
import type { CommunityRules } from "./rules.ts";

export type TrophyRules = Pick<
  CommunityRules,
  "trophyConnectionCounts" | "trophyCellCounts" | "trophyStreakDays"
>;

/** A user's connections so far, including the new one. */
export interface ConnectionHistory {
  readonly connectionsCount: number;
  /** Distinct non-empty H3 cells they connected in. */
  readonly cellsCount: number;
  /** UTC days (epoch days) on which they connected, any order, duplicates allowed. */
  readonly days: readonly number[];
  /** The new connection's time. */
  readonly nowMs: number;
}

const dayMs = 86_400_000;

export const epochDay = (atMs: number) => Math.floor(atMs / dayMs);

/** Consecutive days with a connection ending on the day of `nowMs`. */
export function streakDays(days: readonly number[], nowMs: number): number {
  const set = new Set(days);
  let day = epochDay(nowMs);
  let streak = 0;
  while (set.has(day)) {
    streak++;
    day--;
  }
  return streak;
}

/** Every trophy the history qualifies for (the caller keeps only those not held yet). */
export function trophiesEarned(rules: TrophyRules, history: ConnectionHistory): string[] {
  const earned: string[] = [];
  if (history.connectionsCount >= 1) earned.push("first_connection");
  if (streakDays(history.days, history.nowMs) >= rules.trophyStreakDays)
    earned.push(`streak_${rules.trophyStreakDays}_days`);
  for (const count of rules.trophyConnectionCounts)
    if (history.connectionsCount >= count) earned.push(`connections_${count}`);
  for (const count of rules.trophyCellCounts) if (history.cellsCount >= count) earned.push(`cells_${count}`);
  return earned;
}

/** The new trophies: earned now and not held before. */
export function newTrophies(
  rules: TrophyRules,
  history: ConnectionHistory,
  held: ReadonlySet<string>,
): string[] {
  return trophiesEarned(rules, history).filter((trophy) => !held.has(trophy));
}
