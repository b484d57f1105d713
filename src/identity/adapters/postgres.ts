import type pg from "pg";
import { assert, UnavailableError } from "../../platform/errors.ts";
import type { CreateUserResult, Role, UserRecord, UserStore } from "../store.ts";
import { isRole } from "../store.ts";

const uniqueViolation = "23505";
const usernameIndex = "users_username_lower_key";

interface UserRow {
  readonly id: string;
  readonly username: string;
  readonly password_hash: string;
  readonly roles: readonly string[];
  readonly created_at: Date;
}

const columns = "id, username, password_hash, roles, created_at";

/** The `users` table (migration 0003_identity.sql). */
export function createPostgresUserStore(pool: pg.Pool): UserStore {
  return {
    async createUser(user): Promise<CreateUserResult> {
      try {
        const result = await query<UserRow>(
          pool,
          `INSERT INTO users (id, username, password_hash, roles, created_at)
           VALUES ($1, $2, $3, $4, $5) RETURNING ${columns}`,
          [user.id, user.username, user.passwordHash, user.roles, new Date(user.createdAtMs)],
        );
        const row = result.rows[0];
        assert(row !== undefined, "INSERT … RETURNING yields the row");
        return { ok: true, user: toUser(row) };
      } catch (error) {
        if (isUniqueViolationOf(error, usernameIndex)) return { ok: false, code: "username_taken" };
        throw error;
      }
    },
    async findByUsername(username) {
      const result = await query<UserRow>(
        pool,
        `SELECT ${columns} FROM users WHERE lower(username) = lower($1)`,
        [username],
      );
      const row = result.rows[0];
      return row === undefined ? undefined : toUser(row);
    },
    async findById(id) {
      // A malformed id cannot name a user; checking here keeps PostgreSQL from raising 22P02.
      if (!uuidPattern.test(id)) return undefined;
      const result = await query<UserRow>(pool, `SELECT ${columns} FROM users WHERE id = $1`, [id]);
      const row = result.rows[0];
      return row === undefined ? undefined : toUser(row);
    },
    async changeRoles(change) {
      // One statement: the update happens only on the roles the decision saw, and the audit row
      // is written exactly when it does.
      const result = await query<UserRow>(
        pool,
        `WITH updated AS (
           UPDATE users SET roles = $3::text[]
            WHERE id = $1 AND roles @> $2::text[] AND roles <@ $2::text[]
           RETURNING ${columns}
         ), audit AS (
           INSERT INTO identity_role_changes (user_id, role, action, actor_id, at)
           SELECT id, $4, $5, $6, $7 FROM updated
         )
         SELECT * FROM updated`,
        [
          change.userId,
          change.expectedRoles,
          change.roles,
          change.role,
          change.action,
          change.actorId ?? null,
          new Date(change.atMs),
        ],
      );
      const row = result.rows[0];
      return row === undefined ? undefined : toUser(row);
    },
  };
}

const uuidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function toUser(row: UserRow): UserRecord {
  const userRoles: Role[] = [];
  for (const role of row.roles) {
    assert(isRole(role), `users.roles holds only known roles (got ${role})`);
    userRoles.push(role);
  }
  return {
    id: row.id,
    username: row.username,
    passwordHash: row.password_hash,
    roles: userRoles,
    createdAtMs: row.created_at.getTime(),
  };
}

async function query<R extends pg.QueryResultRow>(
  pool: pg.Pool,
  text: string,
  values: readonly unknown[],
): Promise<pg.QueryResult<R>> {
  try {
    return await pool.query<R>(text, values as unknown[]);
  } catch (error) {
    if (isUnavailable(error)) throw new UnavailableError("PostgreSQL", { cause: error });
    throw error;
  }
}

function isUniqueViolationOf(error: unknown, constraint: string): boolean {
  return (
    error instanceof Error &&
    (error as { code?: unknown }).code === uniqueViolation &&
    (error as { constraint?: unknown }).constraint === constraint
  );
}

/**
 * Connection-level failures (refused, reset, pool timeout, server shutting down, too many
 * connections, statement timeout) are worth retrying; anything else is a bug and propagates as is.
 */
function isUnavailable(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const code = (error as { code?: unknown }).code;
  if (typeof code !== "string") return /timeout|terminated|Connection/i.test(error.message);
  if (code.length === 5) return code.startsWith("08") || code.startsWith("53") || code.startsWith("57");
  return true; // Node errno codes: ECONNREFUSED, ECONNRESET, ETIMEDOUT …
}
