/** The profile store port (adapter: `postgres.ts`). Values of `*Enc` fields are ciphertexts. */

export interface ProfileRecord {
  readonly userId: string;
  readonly displayName: string;
  readonly avatarUrl: string | undefined;
  readonly zipCode: string | undefined;
  readonly emailEnc: string | undefined;
  readonly phoneEnc: string | undefined;
  readonly legalNameEnc: string | undefined;
  readonly officerAgency: string | undefined;
  readonly officerBadge: string | undefined;
  readonly officerVerified: boolean;
  readonly createdAtMs: number;
  readonly updatedAtMs: number;
}

/** A change: a key absent leaves the field; `null` clears it. */
export interface ProfileChange {
  readonly displayName?: string;
  readonly avatarUrl?: string | null;
  readonly zipCode?: string | null;
  readonly emailEnc?: string | null;
  readonly legalNameEnc?: string | null;
  readonly officerAgency?: string | null;
  readonly officerBadge?: string | null;
}

export interface UserListing {
  readonly id: string;
  readonly username: string;
  readonly roles: readonly string[];
  readonly displayName: string | undefined;
  readonly officerAgency: string | undefined;
  readonly officerVerified: boolean;
}

export interface ProfileStore {
  /** Creates the profile when missing (display name = username); returns it either way. */
  ensure(userId: string, displayName: string, atMs: number): Promise<ProfileRecord>;
  find(userId: string): Promise<ProfileRecord | undefined>;
  findMany(userIds: readonly string[]): Promise<readonly ProfileRecord[]>;
  /** Changing the officer's agency or badge clears `verified` (an admin verifies again). */
  update(userId: string, change: ProfileChange, atMs: number): Promise<ProfileRecord | undefined>;
  setOfficerVerified(
    userId: string,
    verified: boolean,
    adminId: string,
    atMs: number,
  ): Promise<ProfileRecord | undefined>;
  /**
   * Profiles changed at or after `sinceMs` (created, edited or verified), oldest first, at most
   * `limit`: what a cache of screening names (risk) evicts.
   */
  changedSince(sinceMs: number, limit: number): Promise<readonly { userId: string; atMs: number }[]>;
  /** Users by username or display name prefix (case-insensitive), in username order after `afterKey`. */
  listUsers(query: {
    search?: string | undefined;
    afterKey?: string | undefined;
    limit: number;
  }): Promise<readonly (UserListing & { key: string })[]>;
}
