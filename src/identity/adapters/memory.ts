import type { CreateUserResult, UserRecord, UserStore } from "../store.ts";
import { sameRoles, usernameKey } from "../store.ts";

/** In-memory user store for unit tests and simulations; same semantics as the PostgreSQL adapter. */
export function createMemoryUserStore(): UserStore {
  const byId = new Map<string, UserRecord>();
  const idByUsername = new Map<string, string>();
  return {
    async createUser(user): Promise<CreateUserResult> {
      const key = usernameKey(user.username);
      if (idByUsername.has(key)) return { ok: false, code: "username_taken" };
      const stored: UserRecord = { ...user, roles: [...user.roles] };
      byId.set(user.id, stored);
      idByUsername.set(key, user.id);
      return { ok: true, user: stored };
    },
    async findByUsername(username) {
      const id = idByUsername.get(usernameKey(username));
      return id === undefined ? undefined : byId.get(id);
    },
    async findById(id) {
      return byId.get(id);
    },
    async changeRoles(change) {
      const user = byId.get(change.userId);
      if (user === undefined || !sameRoles(user.roles, change.expectedRoles)) return undefined;
      const updated: UserRecord = { ...user, roles: [...change.roles] };
      byId.set(user.id, updated);
      return updated;
    },
  };
}
