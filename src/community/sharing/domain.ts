/**
 * Sharing a connection (pure; issue 16 "Sharing"): each participant (the officer, the citizen)
 * agrees to share it, or withdraws their agreement while the other has not agreed yet. Once both
 * have agreed the connection is shared for good: the card can be shown and the connection posted
 * to the configured social networks. Nobody else may agree for them.
 */

export type ShareSide = "officer" | "citizen";

export interface ShareState {
  readonly officerAgreedAtMs: number | undefined;
  readonly citizenAgreedAtMs: number | undefined;
  /** Set when the second agreement arrived: the share is final from then on. */
  readonly sharedAtMs: number | undefined;
}

export const notAgreed: ShareState = {
  officerAgreedAtMs: undefined,
  citizenAgreedAtMs: undefined,
  sharedAtMs: undefined,
};

export type ShareCommand =
  | { readonly kind: "agree"; readonly side: ShareSide; readonly nowMs: number }
  | { readonly kind: "withdraw"; readonly side: ShareSide; readonly nowMs: number };

export type ShareDecision =
  /** The state changes; `shared` says it became shared by this command (post it now, once). */
  | { readonly kind: "changed"; readonly state: ShareState; readonly shared: boolean }
  /** Nothing changes (a replayed agreement, a withdrawal of nothing): the answer is the state. */
  | { readonly kind: "unchanged"; readonly state: ShareState }
  | { readonly kind: "refused"; readonly code: "share_final" };

/** The side a user takes in a connection, or undefined when they are not one of its participants. */
export function sideOf(
  connection: { readonly officerId: string; readonly citizenId: string },
  userId: string,
): ShareSide | undefined {
  if (connection.officerId === userId) return "officer";
  if (connection.citizenId === userId) return "citizen";
  return undefined;
}

const agreedAt = (state: ShareState, side: ShareSide) =>
  side === "officer" ? state.officerAgreedAtMs : state.citizenAgreedAtMs;

const withSide = (state: ShareState, side: ShareSide, atMs: number | undefined): ShareState =>
  side === "officer" ? { ...state, officerAgreedAtMs: atMs } : { ...state, citizenAgreedAtMs: atMs };

export function decideShare(state: ShareState, command: ShareCommand): ShareDecision {
  const already = agreedAt(state, command.side);
  if (command.kind === "agree") {
    if (already !== undefined) return { kind: "unchanged", state };
    const next = withSide(state, command.side, command.nowMs);
    const both = next.officerAgreedAtMs !== undefined && next.citizenAgreedAtMs !== undefined;
    return both
      ? { kind: "changed", state: { ...next, sharedAtMs: command.nowMs }, shared: true }
      : { kind: "changed", state: next, shared: false };
  }
  // Once shared, it may already be posted: a withdrawal cannot take it back, so it is refused.
  if (state.sharedAtMs !== undefined) return { kind: "refused", code: "share_final" };
  if (already === undefined) return { kind: "unchanged", state };
  return { kind: "changed", state: withSide(state, command.side, undefined), shared: false };
}

export const isShared = (state: ShareState) => state.sharedAtMs !== undefined;

/** When the posting of a share to one target is tried again after `attempts` failed attempts. */
export function retryDelayMs(attempts: number, backoffBaseMs: number, backoffMaxMs: number): number {
  return Math.min(backoffMaxMs, backoffBaseMs * 2 ** Math.max(0, attempts - 1));
}
