import { createHmac, timingSafeEqual } from "node:crypto";
import type { Clock } from "../platform/clock.ts";

/**
 * Callback signatures, Stripe-style: `X-Signature: t=<unix ms>,v1=<hex HMAC-SHA256>` where the
 * HMAC covers `"<t>.<raw body>"` under the secret shared by the gateway and the receiver.
 * Signing the timestamp lets the receiver reject stale replays (tolerance window); the body's
 * unique `eventId` lets it drop a replay inside the window (see `createEventDeduplicator`).
 * Several `v1=` entries are accepted so a secret can be rotated without downtime.
 */

export const signatureHeader = "x-signature";

export function signCallback(secret: string, rawBody: string | Uint8Array, timestampMs: number): string {
  return `t=${timestampMs},v1=${hmacHex(secret, timestampMs, rawBody)}`;
}

export type SignatureVerification =
  | { readonly ok: true; readonly timestampMs: number }
  | {
      readonly ok: false;
      readonly code:
        | "signature_missing"
        | "signature_malformed"
        | "timestamp_out_of_tolerance"
        | "signature_mismatch";
    };

/**
 * Checks a callback on the receiving side. `rawBody` must be the exact bytes received (re-serialising
 * parsed JSON would change them). Failures are returned with a stable code, never thrown.
 */
export function verifyCallbackSignature(
  secret: string,
  header: string | undefined,
  rawBody: string | Uint8Array,
  nowMs: number,
  toleranceMs: number,
): SignatureVerification {
  if (header === undefined || header === "") return { ok: false, code: "signature_missing" };
  const parsed = parseSignatureHeader(header);
  if (parsed === undefined) return { ok: false, code: "signature_malformed" };
  if (Math.abs(nowMs - parsed.timestampMs) > toleranceMs)
    return { ok: false, code: "timestamp_out_of_tolerance" };
  const expected = Buffer.from(hmacHex(secret, parsed.timestampMs, rawBody), "hex");
  const matches = parsed.signatures.some((hex) => {
    const candidate = Buffer.from(hex, "hex");
    return candidate.length === expected.length && timingSafeEqual(candidate, expected);
  });
  return matches ? { ok: true, timestampMs: parsed.timestampMs } : { ok: false, code: "signature_mismatch" };
}

function parseSignatureHeader(header: string): { timestampMs: number; signatures: string[] } | undefined {
  let timestampMs: number | undefined;
  const signatures: string[] = [];
  for (const part of header.split(",")) {
    const separator = part.indexOf("=");
    if (separator < 0) return undefined;
    const key = part.slice(0, separator).trim();
    const value = part.slice(separator + 1).trim();
    if (key === "t") {
      if (!/^[0-9]{1,16}$/.test(value)) return undefined;
      timestampMs = Number(value);
    } else if (key === "v1") {
      if (!/^[0-9a-f]{64}$/.test(value)) return undefined;
      signatures.push(value);
    }
    // Unknown schemes are ignored, as Stripe does, so a future v2 does not break old receivers.
  }
  if (timestampMs === undefined || signatures.length === 0) return undefined;
  return { timestampMs, signatures };
}

function hmacHex(secret: string, timestampMs: number, rawBody: string | Uint8Array): string {
  return createHmac("sha256", secret).update(`${timestampMs}.`).update(rawBody).digest("hex");
}

/**
 * Remembers event ids for `retentionMs` (use at least the signature tolerance): a replay of a
 * validly signed callback inside the tolerance window is recognised by its id.
 */
export function createEventDeduplicator(options: { clock: Clock; retentionMs: number }): {
  /** True the first time an id is seen within the retention window. */
  firstSeen(eventId: string): boolean;
} {
  const seenAtMs = new Map<string, number>();
  const forgetExpired = (nowMs: number): void => {
    // Map iteration follows insertion order, which is time order here, so stop at the first young id.
    for (const [id, atMs] of seenAtMs) {
      if (nowMs - atMs < options.retentionMs) break;
      seenAtMs.delete(id);
    }
  };
  return {
    firstSeen(eventId) {
      const nowMs = options.clock.nowMs();
      forgetExpired(nowMs);
      if (seenAtMs.has(eventId)) return false;
      seenAtMs.set(eventId, nowMs);
      return true;
    },
  };
}
