/**
 * The HTTP edge's authentication kernel: who is calling (`request.principal`), the Bearer hook, role
 * checks. The identity module supplies the token verifier; every context's routes use these hooks.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { ProblemError } from "./problems.ts";

/**
 * Every role a user can hold. Staff: teller (branch cash operations), compliance (screening
 * reviews), auditor (reads everything, changes nothing), admin. The community programme (Hey Blue!):
 * officer, citizen, retailer, charity.
 */
export const roles = [
  "customer",
  "teller",
  "compliance",
  "auditor",
  "admin",
  "officer",
  "citizen",
  "retailer",
  "charity",
] as const;
export type Role = (typeof roles)[number];

export function isRole(value: unknown): value is Role {
  return typeof value === "string" && (roles as readonly string[]).includes(value);
}

/** The caller of a request, as an access token names it. */
export interface Principal {
  readonly userId: string;
  readonly username: string;
  readonly roles: readonly Role[];
  /** The sign-in session the access token belongs to (its `sid`); revoking it ends the token. */
  readonly sessionId?: string;
}

export type TokenRejection = "token_expired" | "token_invalid";

export type TokenVerification =
  | {
      readonly ok: true;
      readonly principal: Principal;
      /** When the token expires (its exp): long-lived connections end there (WebSocket). */
      readonly expiresAtMs: number;
    }
  | { readonly ok: false; readonly code: TokenRejection };

/** Verifies an access token; never throws for a bad token. */
export type VerifyToken = (token: string) => Promise<TokenVerification>;

/** A Fastify preHandler. */
export type PreHandler = (request: FastifyRequest, reply: FastifyReply) => Promise<void>;

declare module "fastify" {
  interface FastifyRequest {
    /** Set by `authenticate`; undefined on routes that do not use it. */
    principal?: Principal;
  }
}

/** Declares `request.principal` on the root instance so every request has the same shape. */
export function decoratePrincipal(app: FastifyInstance): void {
  if (!app.hasRequestDecorator("principal")) app.decorateRequest("principal", undefined);
}

const bearerPattern = /^Bearer +([A-Za-z0-9._~+/-]+=*) *$/i;

/** The token of an `Authorization: Bearer <token>` header (RFC 6750), if that is what it holds. */
export function bearerToken(header: string | undefined): string | undefined {
  return header === undefined ? undefined : bearerPattern.exec(header)?.[1];
}

/** preHandler: a valid Bearer access token, else 401 with `WWW-Authenticate`. */
export function authenticateWith(verify: VerifyToken): PreHandler {
  return async (request, reply) => {
    const token = bearerToken(request.headers.authorization);
    if (token === undefined) {
      reply.header("www-authenticate", 'Bearer realm="ledgerflow"');
      throw new ProblemError("unauthenticated", { detail: "Send Authorization: Bearer <access token>" });
    }
    const verified = await verify(token);
    if (!verified.ok) {
      reply.header("www-authenticate", 'Bearer realm="ledgerflow", error="invalid_token"');
      const detail =
        verified.code === "token_expired" ? "The access token has expired" : "The access token is invalid";
      throw new ProblemError("unauthenticated", { detail });
    }
    request.principal = verified.principal;
  };
}

/** Marks a preHandler as a role check, so the OpenAPI document lists 403 for its routes. */
export const roleCheckMarker = Symbol("ledgerflow.roleCheck");

/** preHandler after `authenticate`: the principal must hold at least one of `allowed`, else 403. */
export function requireRole(...allowed: readonly Role[]) {
  const check = async (request: FastifyRequest): Promise<void> => {
    const principal = request.principal;
    if (principal === undefined) throw new ProblemError("unauthenticated");
    if (!principal.roles.some((role) => allowed.includes(role))) {
      throw new ProblemError("forbidden", { detail: `Requires role ${allowed.join(" or ")}` });
    }
  };
  return Object.assign(check, { [roleCheckMarker]: allowed });
}

export function principalOf(request: FastifyRequest): Principal {
  const principal = request.principal;
  if (!principal) throw new ProblemError("unauthenticated");
  return principal;
}

/**
 * Who may read any client's accounts, holds, commands, payments and receipts: branch staff (teller,
 * admin) and the auditors, who read what staff read and change nothing. The one place this is decided.
 */
export function mayReadAnyAccount(principal: Principal): boolean {
  return isStaff(principal) || principal.roles.includes("auditor");
}

export function isStaff(principal: Principal): boolean {
  return principal.roles.includes("admin") || principal.roles.includes("teller");
}

/** `Prefer: wait=N` (RFC 7240) in milliseconds, capped; 0 when absent. */
export function preferredWaitMs(request: FastifyRequest, waitMsMax: number): number {
  const header = request.headers.prefer;
  const text = Array.isArray(header) ? header.join(",") : (header ?? "");
  const match = /(?:^|[,;\s])wait\s*=\s*"?(\d{1,6})"?/i.exec(text);
  if (!match?.[1]) return 0;
  return Math.min(Number(match[1]) * 1000, waitMsMax);
}
