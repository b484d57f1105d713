/** `PUT` and `DELETE /v1/admin/users/{id}/roles/{role}`: admins grant and revoke roles. */
import type { FastifyInstance } from "fastify";
import type { ZodTypeProvider } from "fastify-type-provider-zod";
import { serializerCompiler, validatorCompiler } from "fastify-type-provider-zod";
import { z } from "zod";
import type { Clock } from "../platform/clock.ts";
import { type PreHandler, principalOf, requireRole } from "../platform/http/auth.ts";
import { ProblemError } from "../platform/http/problems.ts";
import type { AuthEvents } from "./events.ts";
import { changeRole, type RoleAction, type RoleChangeResult } from "./roles.ts";
import { roles, type UserStore } from "./store.ts";

export interface RoleRoutesOptions {
  readonly store: UserStore;
  readonly clock: Clock;
  readonly authenticate: PreHandler;
  /** identity.events: each change is published for the audit trail (role_changed). */
  readonly events?: AuthEvents;
}

const params = z.strictObject({
  id: z.uuid().describe("The user's id"),
  role: z.enum(roles),
});

// `userId`, not `id`: this answer is about a user's roles, and schemathesis' link inference took an
// `id` here for the `{role}` of the next call.
const userRoles = z.object({
  userId: z.uuid(),
  username: z.string(),
  roles: z.array(z.enum(roles)),
  changed: z.boolean().describe("false when the user already had (grant) or lacked (revoke) the role"),
});

export async function roleRoutes(app: FastifyInstance, options: RoleRoutesOptions): Promise<void> {
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  const routes = app.withTypeProvider<ZodTypeProvider>();
  const actions: readonly [RoleAction, "put" | "delete", string][] = [
    ["grant", "put", "Grant a role to a user (admins)"],
    ["revoke", "delete", "Revoke a role from a user (admins)"],
  ];
  for (const [action, method, summary] of actions) {
    routes[method](
      "/v1/admin/users/:id/roles/:role",
      {
        preHandler: [options.authenticate, requireRole("admin")],
        schema: {
          tags: ["identity"],
          summary,
          description:
            "Idempotent. Audited. Takes effect with the user's next access token. A user keeps at least one role, and no admin can revoke their own admin role.",
          params,
          response: { 200: userRoles },
        },
        config: {
          access: { roles: ["admin"] },
          openapi: { problems: ["not_found", "last_role", "own_admin_role"] },
        },
      },
      async (request) => {
        const { id, role } = request.params;
        const actorId = principalOf(request).userId;
        return answer(await changeRole(options, { userId: id, role, action, actorId }));
      },
    );
  }
}

function answer(result: RoleChangeResult) {
  if (!result.ok) {
    if (result.code === "user_not_found")
      throw new ProblemError("not_found", { field: "id", detail: "No such user" });
    throw new ProblemError(result.code, { field: "role" });
  }
  const { id, username } = result.user;
  return { userId: id, username, roles: [...result.user.roles], changed: result.changed };
}
