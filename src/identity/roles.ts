/**
 * Granting and revoking roles. The decision is pure (`decideRoleChange`); `changeRole` applies it
 * with a compare-and-set on the user's roles, so two admins changing one user at once both count.
 * A role change is audited (identity_role_changes) and takes effect with the user's next access token.
 */
import type { Clock } from "../platform/clock.ts";
import { assert, BusyError } from "../platform/errors.ts";
import type { AuthEvents } from "./events.ts";
import type { Role, UserRecord, UserStore } from "./store.ts";

export type RoleAction = "grant" | "revoke";

export interface RoleChangeRequest {
  readonly userId: string;
  readonly role: Role;
  readonly action: RoleAction;
  /** The admin asking; undefined for an operator on the command line (who may do anything). */
  readonly actorId: string | undefined;
}

/** Why a change is refused: a user keeps a role, and no admin can remove their own admin rights
 * (so the platform always keeps at least one admin who can repair the others). */
export type RoleChangeRejection = "user_not_found" | "last_role" | "own_admin_role";

export type RoleDecision =
  | { readonly kind: "unchanged" }
  | { readonly kind: "change"; readonly roles: readonly Role[] }
  | { readonly kind: "rejected"; readonly code: RoleChangeRejection };

export function decideRoleChange(user: UserRecord | undefined, request: RoleChangeRequest): RoleDecision {
  if (user === undefined) return { kind: "rejected", code: "user_not_found" };
  const holds = user.roles.includes(request.role);
  if (request.action === "grant") {
    return holds ? { kind: "unchanged" } : { kind: "change", roles: [...user.roles, request.role] };
  }
  if (!holds) return { kind: "unchanged" };
  if (user.roles.length === 1) return { kind: "rejected", code: "last_role" };
  if (request.role === "admin" && request.actorId === user.id)
    return { kind: "rejected", code: "own_admin_role" };
  return { kind: "change", roles: user.roles.filter((role) => role !== request.role) };
}

export type RoleChangeResult =
  | { readonly ok: true; readonly changed: boolean; readonly user: UserRecord }
  | { readonly ok: false; readonly code: RoleChangeRejection };

// A compare-and-set loses only to another change of the same user's roles; a few tries suffice.
const roleChangeAttemptsMax = 5;

export async function changeRole(
  deps: { readonly store: UserStore; readonly clock: Clock; readonly events?: AuthEvents | undefined },
  request: RoleChangeRequest,
): Promise<RoleChangeResult> {
  for (let attempt = 1; attempt <= roleChangeAttemptsMax; attempt++) {
    const user = await deps.store.findById(request.userId);
    const decision = decideRoleChange(user, request);
    if (decision.kind === "rejected") return { ok: false, code: decision.code };
    assert(user !== undefined, "a decided change has a user");
    if (decision.kind === "unchanged") return { ok: true, changed: false, user };
    const updated = await deps.store.changeRoles({
      userId: user.id,
      expectedRoles: user.roles,
      roles: decision.roles,
      role: request.role,
      action: request.action,
      actorId: request.actorId,
      atMs: deps.clock.nowMs(),
    });
    if (updated === undefined) continue;
    await deps.events?.publish({
      kind: "role_changed",
      ...{ userId: user.id, username: user.username, actor: request.actorId ?? "cli" },
      detail: `${request.action} ${request.role}`,
      atMs: deps.clock.nowMs(),
    });
    return { ok: true, changed: true, user: updated };
  }
  throw new BusyError(`roles of user ${request.userId} (changing concurrently)`);
}
