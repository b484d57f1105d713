/**
 * Comparing account-token hashes in constant time. It needs node:crypto, so it lives outside the
 * pure domain and reaches the decider through `DecideContext.tokenHashMatches`.
 */
import { timingSafeEqual } from "node:crypto";

/**
 * Whether a presented token's hash is the account's, in time independent of where they differ (the
 * hashes have one fixed length, so comparing lengths first leaks nothing). Accounts without a token
 * (system accounts: "") match nothing.
 */
export function tokenHashMatches(stored: string, presented: string): boolean {
  const a = Buffer.from(stored);
  const b = Buffer.from(presented);
  return a.length > 0 && a.length === b.length && timingSafeEqual(a, b);
}
