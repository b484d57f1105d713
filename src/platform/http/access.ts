/**
 * Who may call a route, declared by the route itself (`config.access`), so each context states its
 * own rules beside its handlers and one test (the authorization matrix) checks every route has one.
 * The declaration is what the route's hooks enforce: `anonymous` routes need no token; `roles`
 * routes run `authenticate` (+ `requireRole` unless "any"); `owner` routes also check in the handler
 * that the resource is the caller's.
 */
import type { Role } from "./auth.ts";

export interface RouteAccess {
  /** Anyone may call, signed in or not. */
  readonly anonymous?: true;
  /** Signed-in callers holding one of these roles; "any" for every signed-in caller. */
  readonly roles?: readonly Role[] | "any";
  /** The handler narrows to the caller's own resources (others' are 404 or 403). */
  readonly owner?: boolean;
}

declare module "fastify" {
  interface FastifyContextConfig {
    access?: RouteAccess;
  }
}
