import { errors, jwtVerify, SignJWT } from "jose";
import type { Clock } from "../platform/clock.ts";
import { assert } from "../platform/errors.ts";
import type { Principal, Role, TokenVerification } from "../platform/http/auth.ts";

export type { Principal, TokenRejection, TokenVerification } from "../platform/http/auth.ts";

import { isRole } from "./store.ts";

/**
 * Stateless access tokens: HS256 JWTs signed with a shared secret (every API node verifies with the
 * same secret; no round trip to the store on each request). Claims: sub (user id), username, roles,
 * iat, exp, plus iss/aud so that a token minted for something else with the same secret is refused.
 */

export interface AccessTokenConfig {
  /** HMAC key; at least 32 bytes (RFC 7518 §3.2: no shorter than the SHA-256 output). */
  readonly secret: Uint8Array;
  /** Lifetime of an access token; default 3600. */
  readonly expiresInS?: number;
  /** Allowed skew between the node that issued a token and the one verifying it; default 5. */
  readonly clockToleranceS?: number;
}

export interface IssuedToken {
  readonly accessToken: string;
  readonly expiresInS: number;
}

export interface AccessTokens {
  issue(user: {
    readonly id: string;
    readonly username: string;
    readonly roles: readonly Role[];
    /** The session the token belongs to: its `sid` claim, checked against revocations. */
    readonly sessionId?: string;
  }): Promise<IssuedToken>;
  /** Never throws for a bad token: returns a rejection. Cheap: one HMAC over the key imported once. */
  verify(token: string): Promise<TokenVerification>;
}

export const accessTokenIssuer = "ledgerflow";
export const accessTokenAudience = "ledgerflow-api";
const algorithm = "HS256";
const secretBytesMin = 32;
// Our tokens are ~300 bytes; refusing far larger input bounds the work an attacker can cause.
const tokenLengthMax = 4096;
/**
 * Verified tokens are remembered until they expire, so a client sending thousands of requests with
 * one token pays for one HMAC. Only successes are cached (a forged token costs a verification every
 * time); bounded, oldest first out.
 */
const verifiedCacheSizeMax = 10_000;

export async function createAccessTokens(config: AccessTokenConfig, clock: Clock): Promise<AccessTokens> {
  assert(
    config.secret.byteLength >= secretBytesMin,
    `access token secret has at least ${secretBytesMin} bytes`,
  );
  const expiresInS = config.expiresInS ?? 3600;
  assert(Number.isInteger(expiresInS) && expiresInS > 0, "expiresInS is a positive integer");
  const clockToleranceS = config.clockToleranceS ?? 5;
  // Imported once: jose would otherwise import a raw secret on every call.
  const key = await crypto.subtle.importKey(
    "raw",
    new Uint8Array(config.secret),
    { name: "HMAC", hash: "SHA-256" },
    false,
    ["sign", "verify"],
  );

  const verified = new Map<string, { principal: Principal; expiresAtMs: number }>();

  return {
    async issue(user) {
      const issuedAtS = Math.floor(clock.nowMs() / 1000);
      const accessToken = await new SignJWT(claimsOf(user))
        .setProtectedHeader({ alg: algorithm, typ: "JWT" })
        .setSubject(user.id)
        .setIssuer(accessTokenIssuer)
        .setAudience(accessTokenAudience)
        .setIssuedAt(issuedAtS)
        .setExpirationTime(issuedAtS + expiresInS)
        .sign(key);
      return { accessToken, expiresInS };
    },

    async verify(token) {
      if (token.length > tokenLengthMax) return { ok: false, code: "token_invalid" };
      const cached = verified.get(token);
      if (cached !== undefined) {
        if (clock.nowMs() < cached.expiresAtMs)
          return { ok: true, principal: cached.principal, expiresAtMs: cached.expiresAtMs };
        verified.delete(token);
      }
      try {
        const { payload } = await jwtVerify(token, key, {
          algorithms: [algorithm],
          issuer: accessTokenIssuer,
          audience: accessTokenAudience,
          typ: "JWT",
          requiredClaims: ["sub", "iat", "exp"],
          currentDate: new Date(clock.nowMs()),
          clockTolerance: clockToleranceS,
          // Also refuses an iat in the future (beyond the tolerance): such a token would outlive
          // the lifetime this server gives its tokens.
          maxTokenAge: expiresInS,
        });
        const principal = principalFrom(payload);
        if (principal === undefined) return { ok: false, code: "token_invalid" };
        if (verified.size >= verifiedCacheSizeMax) verified.delete(verified.keys().next().value as string);
        // exp is required and was just checked; without tolerance here, a cached token dies on time.
        const expiresAtMs = Number(payload.exp) * 1000;
        verified.set(token, { principal, expiresAtMs });
        return { ok: true, principal, expiresAtMs };
      } catch (error) {
        if (error instanceof errors.JWTExpired) return { ok: false, code: "token_expired" };
        if (error instanceof errors.JOSEError) return { ok: false, code: "token_invalid" };
        throw error;
      }
    },
  };
}

function claimsOf(user: Parameters<AccessTokens["issue"]>[0]) {
  const claims = { username: user.username, roles: [...user.roles] };
  return user.sessionId === undefined ? claims : { ...claims, sid: user.sessionId };
}

function principalFrom(payload: Record<string, unknown>): Principal | undefined {
  const { sub, username, roles, sid } = payload;
  if (typeof sub !== "string" || typeof username !== "string" || !Array.isArray(roles)) return undefined;
  if (!roles.every(isRole)) return undefined;
  if (sid !== undefined && typeof sid !== "string") return undefined;
  return sid === undefined
    ? { userId: sub, username, roles }
    : { userId: sub, username, roles, sessionId: sid };
}
