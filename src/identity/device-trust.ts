import { createHmac, hkdfSync, timingSafeEqual } from "node:crypto";
import type { Clock, IdGenerator } from "../platform/clock.ts";
import { assert } from "../platform/errors.ts";

/**
 * Device tokens (OWASP "Slow brute-force attacks and device cookies"): after a successful login the
 * client gets a token naming the user, a random device id and an expiry, signed with HMAC-SHA256.
 * Browsers keep it as an httpOnly cookie; API clients keep the `deviceToken` of the login response
 * and send it back in the login body. A login that presents a valid token for the username it tries
 * is "trusted": limited on that device id alone, so guesses from elsewhere cannot lock it out.
 *
 * The token is only a claim "this client signed in as this user before"; it authorises nothing by
 * itself (a password is still checked), so it is not stored server-side and cannot be revoked
 * except by rotating the secret or by its own lockout.
 */
export interface DeviceTrust {
  /** How long an issued token stays valid. */
  readonly ttlMs: number;
  /** A fresh token for a client that just proved it knows `username`'s password. */
  issue(username: string): string;
  /** The device id of `token` if it is genuine, unexpired and issued for `username`. */
  deviceIdOf(token: string | undefined, username: string): string | undefined;
}

export interface DeviceTrustOptions {
  /** At least 32 bytes. */
  readonly key: Uint8Array;
  readonly ttlMs: number;
}

/** Tokens are ~150 characters; anything much longer is junk and not worth an HMAC. */
export const deviceTokenLengthMax = 512;
const keyBytesMin = 32;

interface Claims {
  /** Case-folded username. */
  readonly u: string;
  /** Device id (random). */
  readonly d: string;
  /** Expiry, ms since the epoch. */
  readonly e: number;
}

export function createDeviceTrust(options: DeviceTrustOptions, clock: Clock, ids: IdGenerator): DeviceTrust {
  assert(options.key.byteLength >= keyBytesMin, "the device key has at least 32 bytes");
  assert(Number.isSafeInteger(options.ttlMs) && options.ttlMs > 0, "ttlMs is a positive integer");
  const key = Buffer.from(options.key);
  const mac = (payload: string): Buffer => createHmac("sha256", key).update(payload).digest();

  return {
    ttlMs: options.ttlMs,

    issue(username) {
      const claims: Claims = { u: username, d: ids.uuid(), e: clock.nowMs() + options.ttlMs };
      const payload = Buffer.from(JSON.stringify(claims)).toString("base64url");
      return `${payload}.${mac(payload).toString("base64url")}`;
    },

    deviceIdOf(token, username) {
      if (token === undefined || token.length > deviceTokenLengthMax) return undefined;
      const [payload, signature, ...rest] = token.split(".");
      if (payload === undefined || signature === undefined || rest.length > 0) return undefined;
      const given = Buffer.from(signature, "base64url");
      const expected = mac(payload);
      if (given.length !== expected.length || !timingSafeEqual(given, expected)) return undefined;
      const claims = parseClaims(payload);
      if (claims === undefined || claims.u !== username || claims.e <= clock.nowMs()) return undefined;
      return claims.d;
    },
  };
}

/** The device key: the configured secret, else one derived from the access-token secret (HKDF). */
export function deviceKeyOf(deviceSecret: string | undefined, accessTokenSecret: Uint8Array): Uint8Array {
  if (deviceSecret !== undefined) return new TextEncoder().encode(deviceSecret);
  // A label of its own, so a device token can never be mistaken for (or help forge) anything else
  // signed with the access-token secret.
  return new Uint8Array(hkdfSync("sha256", accessTokenSecret, "", "ledgerflow device token v1", 32));
}

function parseClaims(payload: string): Claims | undefined {
  try {
    const value: unknown = JSON.parse(Buffer.from(payload, "base64url").toString("utf8"));
    if (typeof value !== "object" || value === null) return undefined;
    const { u, d, e } = value as Record<string, unknown>;
    if (typeof u !== "string" || typeof d !== "string" || typeof e !== "number") return undefined;
    return { u, d, e };
  } catch {
    // Signed by us, so only a bug could make it unparsable; treat it as no token.
    return undefined;
  }
}
