/**
 * The user store port. Adapters: `adapters/postgres.ts` (durable), `adapters/memory.ts` (unit tests and
 * simulation). Usernames are unique case-insensitively; lookups by username ignore case too.
 */

import type { Role } from "../platform/http/auth.ts";

export { isRole, type Role, roles } from "../platform/http/auth.ts";

export interface UserRecord {
  readonly id: string;
  /** As the user typed it at registration (case preserved). */
  readonly username: string;
  /** argon2id PHC string. */
  readonly passwordHash: string;
  readonly roles: readonly Role[];
  readonly createdAtMs: number;
}

export type CreateUserResult =
  | { readonly ok: true; readonly user: UserRecord }
  | { readonly ok: false; readonly code: "username_taken" };

export interface RoleChange {
  readonly userId: string;
  /** The roles the decision was made on: the change applies only if they are still the user's. */
  readonly expectedRoles: readonly Role[];
  readonly roles: readonly Role[];
  readonly role: Role;
  readonly action: "grant" | "revoke";
  /** The admin who asked; undefined when an operator used the command line. */
  readonly actorId: string | undefined;
  readonly atMs: number;
}

export interface UserStore {
  /** Rejects with `username_taken` when the username exists in any letter case. Throws UnavailableError. */
  createUser(user: UserRecord): Promise<CreateUserResult>;
  findByUsername(username: string): Promise<UserRecord | undefined>;
  findById(id: string): Promise<UserRecord | undefined>;
  /**
   * Sets the user's roles and records the change, if the roles are still `expectedRoles`
   * (compare-and-set: two admins changing one user at once cannot lose a change). Returns the
   * updated user, or undefined when the roles changed meanwhile (the caller decides again).
   */
  changeRoles(change: RoleChange): Promise<UserRecord | undefined>;
}

/** The key both adapters use for case-insensitive uniqueness (usernames are ASCII, see service.ts). */
export function usernameKey(username: string): string {
  return username.toLowerCase();
}

/** Whether two role lists hold the same roles, in any order. */
export function sameRoles(a: readonly Role[], b: readonly Role[]): boolean {
  return a.length === b.length && a.every((role) => b.includes(role));
}
