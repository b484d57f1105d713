/**
 * An officer's availability (pure): open for a window (the default, or what they ask for up to the
 * maximum), closed when they stop, and closed by itself when the window ends.
 */
import type { CommunityRules } from "./rules.ts";

export interface Availability {
  readonly officerId: string;
  readonly sinceMs: number;
  readonly untilMs: number;
}

export type AvailabilityRules = Pick<
  CommunityRules,
  "availabilityWindowMsDefault" | "availabilityWindowMsMax"
>;

export type AvailabilityDecision =
  | { readonly kind: "available"; readonly availability: Availability }
  | { readonly kind: "rejected"; readonly code: "invalid_window"; readonly field: "windowMs" };

/** Going available (again): a fresh window from now; asking again while open extends it. */
export function decideGoAvailable(
  rules: AvailabilityRules,
  officerId: string,
  nowMs: number,
  windowMs: number | undefined,
): AvailabilityDecision {
  const window = windowMs ?? rules.availabilityWindowMsDefault;
  if (!Number.isInteger(window) || window <= 0 || window > rules.availabilityWindowMsMax)
    return { kind: "rejected", code: "invalid_window", field: "windowMs" };
  return { kind: "available", availability: { officerId, sinceMs: nowMs, untilMs: nowMs + window } };
}

/** Whether `availability` is open at `nowMs` (an ended window is as good as stopped). */
export function isAvailable(availability: Availability | undefined, nowMs: number): boolean {
  return availability !== undefined && nowMs < availability.untilMs;
}

/** Stopping: closed from now on; stopping when not available changes nothing. */
export function decideStop(availability: Availability | undefined, nowMs: number): Availability | undefined {
  if (!isAvailable(availability, nowMs) || availability === undefined) return undefined;
  return { ...availability, untilMs: nowMs };
}
