/** The role-change decision and its compare-and-set application (memory store). */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { manualClock } from "../platform/clock.ts";
import { createMemoryUserStore } from "./adapters/memory.ts";
import { changeRole, decideRoleChange } from "./roles.ts";
import type { Role, UserRecord } from "./store.ts";

const user = (roles: Role[]): UserRecord => ({
  id: "u1",
  username: "ann",
  passwordHash: "$argon2id$x",
  roles,
  createdAtMs: 0,
});

describe("decideRoleChange", () => {
  test("grants a missing role, revokes a held one, and is idempotent both ways", () => {
    const asked = { userId: "u1", actorId: "admin" } as const;
    assert.deepEqual(decideRoleChange(user(["customer"]), { ...asked, role: "teller", action: "grant" }), {
      kind: "change",
      roles: ["customer", "teller"],
    });
    assert.deepEqual(
      decideRoleChange(user(["customer", "teller"]), { ...asked, role: "teller", action: "grant" }),
      {
        kind: "unchanged",
      },
    );
    assert.deepEqual(
      decideRoleChange(user(["customer", "teller"]), { ...asked, role: "teller", action: "revoke" }),
      {
        kind: "change",
        roles: ["customer"],
      },
    );
    assert.deepEqual(decideRoleChange(user(["customer"]), { ...asked, role: "teller", action: "revoke" }), {
      kind: "unchanged",
    });
  });

  test("refuses an unknown user, a last role, and an admin revoking their own admin role", () => {
    assert.deepEqual(
      decideRoleChange(undefined, { userId: "u1", actorId: "a", role: "teller", action: "grant" }),
      {
        kind: "rejected",
        code: "user_not_found",
      },
    );
    assert.deepEqual(
      decideRoleChange(user(["customer"]), {
        userId: "u1",
        actorId: "a",
        role: "customer",
        action: "revoke",
      }),
      {
        kind: "rejected",
        code: "last_role",
      },
    );
    const self = { userId: "u1", actorId: "u1", role: "admin", action: "revoke" } as const;
    assert.deepEqual(decideRoleChange(user(["admin", "auditor"]), self), {
      kind: "rejected",
      code: "own_admin_role",
    });
    // From the command line (no actor) an operator may remove anyone's admin role.
    assert.deepEqual(decideRoleChange(user(["admin", "auditor"]), { ...self, actorId: undefined }), {
      kind: "change",
      roles: ["auditor"],
    });
  });
});

describe("changeRole", () => {
  test("two admins changing one user at once: both changes land (compare-and-set, decided again)", async () => {
    const store = createMemoryUserStore();
    await store.createUser(user(["customer"]));
    const deps = { store, clock: manualClock(0) };
    const [a, b] = await Promise.all([
      changeRole(deps, { userId: "u1", role: "teller", action: "grant", actorId: "x" }),
      changeRole(deps, { userId: "u1", role: "auditor", action: "grant", actorId: "y" }),
    ]);
    assert.ok(a.ok && b.ok && a.changed && b.changed);
    assert.deepEqual([...((await store.findById("u1"))?.roles ?? [])].sort(), [
      "auditor",
      "customer",
      "teller",
    ]);
  });
});
