import type pg from "pg";
import type { ProfileChange, ProfileRecord, ProfileStore, UserListing } from "./store.ts";

interface ProfileRow {
  readonly user_id: string;
  readonly display_name: string;
  readonly avatar_url: string | null;
  readonly zip_code: string | null;
  readonly email_enc: string | null;
  readonly phone_enc: string | null;
  readonly legal_name_enc: string | null;
  readonly officer_agency: string | null;
  readonly officer_badge: string | null;
  readonly officer_verified: boolean;
  readonly created_at: Date;
  readonly updated_at: Date;
}

const columns = `user_id, display_name, avatar_url, zip_code, email_enc, phone_enc, legal_name_enc,
  officer_agency, officer_badge, officer_verified, created_at, updated_at`;

/** Column of each changeable field (the only names that reach the SQL text). */
const changeColumns: Record<keyof ProfileChange, string> = {
  displayName: "display_name",
  avatarUrl: "avatar_url",
  zipCode: "zip_code",
  emailEnc: "email_enc",
  legalNameEnc: "legal_name_enc",
  officerAgency: "officer_agency",
  officerBadge: "officer_badge",
};

/** The `identity_profiles` table (migration 0023). */
export function createPostgresProfileStore(pool: pg.Pool): ProfileStore {
  const one = async (text: string, values: unknown[]) => {
    const row = (await pool.query<ProfileRow>(text, values)).rows[0];
    return row === undefined ? undefined : toProfile(row);
  };
  return {
    async ensure(userId, displayName, atMs) {
      await pool.query(
        `INSERT INTO identity_profiles (user_id, display_name, created_at, updated_at) VALUES ($1, $2, $3, $3)
         ON CONFLICT (user_id) DO NOTHING`,
        [userId, displayName, new Date(atMs)],
      );
      const found = await one(`SELECT ${columns} FROM identity_profiles WHERE user_id = $1`, [userId]);
      if (found === undefined) throw new Error("a profile just ensured exists");
      return found;
    },
    find: (userId) => one(`SELECT ${columns} FROM identity_profiles WHERE user_id = $1`, [userId]),
    async findMany(userIds) {
      const result = await pool.query<ProfileRow>(
        `SELECT ${columns} FROM identity_profiles WHERE user_id = ANY($1::uuid[])`,
        [userIds],
      );
      return result.rows.map(toProfile);
    },
    update(userId, change, atMs) {
      const sets: string[] = [];
      const values: unknown[] = [userId, new Date(atMs)];
      for (const [field, column] of Object.entries(changeColumns) as [keyof ProfileChange, string][]) {
        if (!(field in change)) continue;
        values.push(change[field]);
        sets.push(`${column} = $${values.length}`);
      }
      const officerChanged = "officerAgency" in change || "officerBadge" in change;
      if (officerChanged)
        sets.push("officer_verified = false, officer_verified_by = NULL, officer_verified_at = NULL");
      return one(
        `UPDATE identity_profiles SET ${[...sets, "updated_at = $2"].join(", ")} WHERE user_id = $1 RETURNING ${columns}`,
        values,
      );
    },
    async changedSince(sinceMs, limit) {
      const { rows } = await pool.query<{ user_id: string; updated_at: Date }>(
        `SELECT user_id, updated_at FROM identity_profiles WHERE updated_at >= $1
           ORDER BY updated_at, user_id LIMIT $2`,
        [new Date(sinceMs), limit],
      );
      return rows.map((row) => ({ userId: row.user_id, atMs: row.updated_at.getTime() }));
    },
    setOfficerVerified(userId, verified, adminId, atMs) {
      return one(
        `UPDATE identity_profiles SET officer_verified = $2, officer_verified_by = $3, officer_verified_at = $4,
           updated_at = $4 WHERE user_id = $1 RETURNING ${columns}`,
        [userId, verified, adminId, new Date(atMs)],
      );
    },
    listUsers: (query) => listUsers(pool, query),
  };
}

async function listUsers(
  pool: pg.Pool,
  { search, afterKey, limit }: { search?: string | undefined; afterKey?: string | undefined; limit: number },
): Promise<(UserListing & { key: string })[]> {
  const result = await pool.query<{
    id: string;
    username: string;
    roles: string[];
    display_name: string | null;
    officer_agency: string | null;
    officer_verified: boolean | null;
  }>(
    `SELECT u.id, u.username, u.roles, p.display_name, p.officer_agency, p.officer_verified
         FROM users u LEFT JOIN identity_profiles p ON p.user_id = u.id
         WHERE ($1::text IS NULL OR lower(u.username) LIKE $1 OR lower(p.display_name) LIKE $1)
           AND ($2::text IS NULL OR lower(u.username) > $2)
         ORDER BY lower(u.username) LIMIT $3`,
    [search === undefined ? null : `${escapeLike(search.toLowerCase())}%`, afterKey ?? null, limit],
  );
  return result.rows.map((row): UserListing & { key: string } => ({
    id: row.id,
    username: row.username,
    roles: row.roles,
    displayName: row.display_name ?? undefined,
    officerAgency: row.officer_agency ?? undefined,
    officerVerified: row.officer_verified ?? false,
    key: row.username.toLowerCase(),
  }));
}

function escapeLike(text: string): string {
  return text.replace(/[\\%_]/g, (c) => `\\${c}`);
}

function toProfile(row: ProfileRow): ProfileRecord {
  return {
    userId: row.user_id,
    displayName: row.display_name,
    avatarUrl: row.avatar_url ?? undefined,
    zipCode: row.zip_code ?? undefined,
    emailEnc: row.email_enc ?? undefined,
    phoneEnc: row.phone_enc ?? undefined,
    legalNameEnc: row.legal_name_enc ?? undefined,
    officerAgency: row.officer_agency ?? undefined,
    officerBadge: row.officer_badge ?? undefined,
    officerVerified: row.officer_verified,
    createdAtMs: row.created_at.getTime(),
    updatedAtMs: row.updated_at.getTime(),
  };
}
