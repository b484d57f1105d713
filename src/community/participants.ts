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
