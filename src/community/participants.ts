/** Participants' public views from identity's door: the public profile, else the username. */
import type { IdentityApi } from "../identity/index.ts";
import type { ParticipantView, ParticipantViews } from "./service.ts";

export function participantsFrom(identity: Pick<IdentityApi, "publicProfiles" | "users">): ParticipantViews {
  return async (userIds) => {
    const profiles = await identity.publicProfiles(userIds);
    const views = new Map<string, ParticipantView>();
    for (const userId of new Set(userIds)) {
      const profile = profiles.get(userId);
      const displayName = profile?.displayName ?? (await identity.users.byId(userId))?.username;
      if (displayName === undefined) continue;
      views.set(userId, {
        userId,
        displayName,
        avatarUrl: profile?.avatarUrl ?? null,
        agency: profile?.officer?.agency ?? null,
        verified: profile?.officer?.verified ?? false,
      });
    }
    return views;
  };
}

export interface ParticipantCacheOptions {
  readonly ttlMs: number;
  readonly entriesMax: number;
  readonly nowMs: () => number;
}

/**
 * Public views kept for `ttlMs`: a citizen's every location update names the officers near them,
 * and asking identity each time was most of an update's cost (one PostgreSQL query). A changed
 * display name or verification shows within `ttlMs`. No officer near: no lookup at all.
 */
export function cachedParticipants(
  views: ParticipantViews,
  options: ParticipantCacheOptions,
): ParticipantViews {
  const cache = new Map<string, { view: ParticipantView | undefined; untilMs: number }>();
  return async (userIds) => {
    const nowMs = options.nowMs();
    const found = new Map<string, ParticipantView>();
    const missing: string[] = [];
    for (const userId of new Set(userIds)) {
      const cached = cache.get(userId);
      if (cached === undefined || cached.untilMs <= nowMs) missing.push(userId);
      else if (cached.view !== undefined) found.set(userId, cached.view);
    }
    if (missing.length === 0) return found;
    const fetched = await views(missing);
    for (const userId of missing) {
      const view = fetched.get(userId);
      if (view !== undefined) found.set(userId, view);
      // Oldest first out: a Map iterates in insertion order.
      if (cache.size >= options.entriesMax) cache.delete(cache.keys().next().value as string);
      cache.delete(userId);
      cache.set(userId, { view, untilMs: nowMs + options.ttlMs });
    }
    return found;
  };
}
