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

export interface UserStore {
  /** Rejects with `username_taken` when the username exists in any letter case. Throws UnavailableError. */
  createUser(user: UserRecord): Promise<CreateUserResult>;
  findByUsername(username: string): Promise<UserRecord | undefined>;
  findById(id: string): Promise<UserRecord | undefined>;
}

/** The key both adapters use for case-insensitive uniqueness (usernames are ASCII, see service.ts). */
export function usernameKey(username: string): string {
  return username.toLowerCase();
}
