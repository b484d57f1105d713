/**
 * Profiles (the seed's Profile Manager): created at first sign-in, edited by their owner, officer
 * details verified by an admin. Personal data goes through the PII cipher on its way in and out;
 * the store only ever sees ciphertexts of it.
 */
import type { Clock } from "../../platform/clock.ts";
import type { AuthEvents } from "../events.ts";
import type { CommunityStats, CommunityStatsStore } from "./community-store.ts";
import type { PiiCipher } from "./pii-cipher.ts";
import type { ProfileChange, ProfileRecord, ProfileStore, UserListing } from "./store.ts";

/** Most user ids per `nameOf` call (one query). */
export const nameLookupIdsMax = 1_000;

export interface ProfileView {
  readonly userId: string;
  readonly displayName: string;
  readonly avatarUrl: string | null;
  readonly zipCode: string | null;
  readonly email: string | null;
  readonly legalName: string | null;
  readonly officer: {
    readonly agency: string;
    readonly badgeNumber: string;
    readonly verified: boolean;
  } | null;
  readonly updatedAtMs: number;
  /** Projected from the community context's events (`community-feed.ts`); zeros until the first. */
  readonly community: CommunityStats;
}

/** A profile as other users see it (e.g. the officer a citizen may connect with): no personal data. */
export interface PublicProfile {
  readonly userId: string;
  readonly displayName: string;
  readonly avatarUrl: string | null;
  readonly officer: { readonly agency: string; readonly verified: boolean } | null;
}

/** What an owner may change; `null` clears. */
export interface ProfileEdit {
  readonly displayName?: string | undefined;
  readonly avatarUrl?: string | null | undefined;
  readonly zipCode?: string | null | undefined;
  readonly email?: string | null | undefined;
  readonly legalName?: string | null | undefined;
  readonly officer?: { readonly agency: string; readonly badgeNumber: string } | null | undefined;
}

export interface Profiles {
  ensure(user: { readonly id: string; readonly username: string }): Promise<ProfileView>;
  edit(userId: string, edit: ProfileEdit): Promise<ProfileView | undefined>;
  verifyOfficer(adminId: string, userId: string, verified: boolean): Promise<ProfileView | undefined>;
  /** The name to screen each user by: legal name if set, else display name; unknown ids are absent. */
  nameOf(userIds: readonly string[]): Promise<ReadonlyMap<string, string>>;
  /** Users whose screening name may have changed at or after `sinceMs`, oldest first, at most `limit`. */
  namesChangedSince(sinceMs: number, limit: number): Promise<readonly { userId: string; atMs: number }[]>;
  /** What anyone may see of each user (no personal data): unknown ids and users without a profile are absent. */
  publicProfiles(userIds: readonly string[]): Promise<ReadonlyMap<string, PublicProfile>>;
  listUsers(query: {
    search?: string | undefined;
    afterKey?: string | undefined;
    limit: number;
  }): Promise<readonly (UserListing & { key: string })[]>;
}

export function createProfiles(deps: {
  readonly store: ProfileStore;
  readonly cipher: PiiCipher;
  readonly clock: Clock;
  readonly events: AuthEvents;
  readonly community: Pick<CommunityStatsStore, "of">;
}): Profiles {
  const { store, cipher, clock } = deps;
  const open = (field: string, value: string | undefined) =>
    value === undefined ? null : cipher.decrypt(field, value);
  const seal = (field: string, value: string | null | undefined) =>
    value === undefined || value === null ? value : cipher.encrypt(field, value);

  const view = async (record: ProfileRecord): Promise<ProfileView> => ({
    ...ownedView(record, open),
    community: await deps.community.of(record.userId),
  });

  return {
    ensure: async (user) => view(await store.ensure(user.id, user.username, clock.nowMs())),

    async edit(userId, edit) {
      const change = changeOf(edit, seal);
      const updated = await store.update(userId, change, clock.nowMs());
      return updated === undefined ? undefined : view(updated);
    },

    async verifyOfficer(adminId, userId, verified) {
      const current = await store.find(userId);
      if (current?.officerAgency === undefined) return undefined;
      const updated = await store.setOfficerVerified(userId, verified, adminId, clock.nowMs());
      if (updated === undefined) return undefined;
      await deps.events.publish({
        kind: "officer_verification",
        userId,
        actor: adminId,
        detail: verified ? "verified" : "unverified",
        atMs: clock.nowMs(),
      });
      return view(updated);
    },

    async nameOf(userIds) {
      const uuids = [...new Set(userIds.filter((id) => uuidPattern.test(id)))];
      const names = new Map<string, string>();
      // One query per `nameLookupIdsMax` ids: a ledger batch screens thousands of parties at once.
      for (let start = 0; start < uuids.length; start += nameLookupIdsMax)
        for (const record of await store.findMany(uuids.slice(start, start + nameLookupIdsMax)))
          names.set(record.userId, open("legalName", record.legalNameEnc) ?? record.displayName);
      return names;
    },

    namesChangedSince: (sinceMs, limit) => store.changedSince(sinceMs, limit),

    publicProfiles: (userIds) => publicProfilesOf(store, userIds),

    listUsers: (query) => store.listUsers(query),
  };
}

/** What the owner's own edits and an admin's verification made of the profile (no community numbers). */
function ownedView(
  record: ProfileRecord,
  open: (field: string, value: string | undefined) => string | null,
): Omit<ProfileView, "community"> {
  const officer =
    record.officerAgency === undefined || record.officerBadge === undefined
      ? null
      : { agency: record.officerAgency, badgeNumber: record.officerBadge, verified: record.officerVerified };
  return {
    userId: record.userId,
    displayName: record.displayName,
    avatarUrl: record.avatarUrl ?? null,
    zipCode: record.zipCode ?? null,
    email: open("email", record.emailEnc),
    legalName: open("legalName", record.legalNameEnc),
    officer,
    updatedAtMs: record.updatedAtMs,
  };
}

function changeOf(
  edit: ProfileEdit,
  seal: (field: string, value: string | null | undefined) => string | null | undefined,
): ProfileChange {
  const change: Record<string, unknown> = {};
  if (edit.displayName !== undefined) change.displayName = edit.displayName;
  if (edit.avatarUrl !== undefined) change.avatarUrl = edit.avatarUrl;
  if (edit.zipCode !== undefined) change.zipCode = edit.zipCode;
  if (edit.email !== undefined) change.emailEnc = seal("email", edit.email);
  if (edit.legalName !== undefined) change.legalNameEnc = seal("legalName", edit.legalName);
  if (edit.officer !== undefined) {
    change.officerAgency = edit.officer?.agency ?? null;
    change.officerBadge = edit.officer?.badgeNumber ?? null;
  }
  return change as ProfileChange;
}

const uuidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** What anyone may see of each user: no personal data, so nothing to decrypt. */
async function publicProfilesOf(
  store: ProfileStore,
  userIds: readonly string[],
): Promise<ReadonlyMap<string, PublicProfile>> {
  const uuids = [...new Set(userIds.filter((id) => uuidPattern.test(id)))].slice(0, nameLookupIdsMax);
  const found = new Map<string, PublicProfile>();
  for (const record of await store.findMany(uuids))
    found.set(record.userId, {
      userId: record.userId,
      displayName: record.displayName,
      avatarUrl: record.avatarUrl ?? null,
      officer:
        record.officerAgency === undefined
          ? null
          : { agency: record.officerAgency, verified: record.officerVerified },
    });
  return found;
}
