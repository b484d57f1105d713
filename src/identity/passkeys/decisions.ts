import { createHash } from "node:crypto";
/**
 * Pure decisions of the passkey ceremonies (no I/O, clock or randomness): where the relying party
 * is, which challenge a response answers, whether a signature counter may be accepted, and whether
 * a claimed challenge and credential fit together.
 */

export interface RelyingParty {
  /** The RP ID: the host name, without port (WebAuthn refuses IP addresses as RP IDs). */
  readonly id: string;
  /** The exact origin browsers sign over: scheme, host and port. */
  readonly origin: string;
}

const loopbackHosts = new Set(["localhost", "127.0.0.1", "[::1]", "::1"]);

/**
 * The relying party: from the public URL when configured (production), else from the request's
 * host only when that host is loopback (development), else none (passkeys unavailable).
 */
export function relyingPartyOf(
  publicUrl: string | undefined,
  request: { readonly protocol: string; readonly host: string | undefined },
): RelyingParty | undefined {
  if (publicUrl !== undefined) {
    const url = new URL(publicUrl);
    return { id: url.hostname, origin: url.origin };
  }
  if (request.host === undefined || request.host.length > 300) return undefined;
  let url: URL;
  try {
    url = new URL(`${request.protocol}://${request.host}`);
  } catch {
    return undefined;
  }
  if (!loopbackHosts.has(url.hostname) || url.username !== "" || url.pathname !== "/") return undefined;
  return { id: url.hostname, origin: url.origin };
}

/** The challenge a browser's response answers, read from its clientDataJSON (base64url), if any. */
export function challengeIn(clientDataJson: unknown): string | undefined {
  if (typeof clientDataJson !== "string" || clientDataJson.length > 4_096) return undefined;
  try {
    const parsed = JSON.parse(Buffer.from(clientDataJson, "base64url").toString("utf8")) as unknown;
    const challenge = (parsed as { challenge?: unknown } | null)?.challenge;
    return typeof challenge === "string" && /^[A-Za-z0-9_-]{16,128}$/.test(challenge) ? challenge : undefined;
  } catch {
    return undefined;
  }
}

/**
 * A signature counter must rise with every assertion; an authenticator that keeps none reports 0
 * every time (allowed, per WebAuthn §6.1.1). Anything else suggests a cloned authenticator.
 */
export function counterAccepted(storedCounter: number, receivedCounter: number): boolean {
  if (storedCounter === 0 && receivedCounter === 0) return true;
  return receivedCounter > storedCounter;
}

export type AssertionRefusal = "challenge_unknown" | "credential_unknown" | "credential_of_another_user";

/**
 * Whether a claimed sign-in challenge and the credential used may go on to signature checking: the
 * credential must exist, and when the challenge was issued for one user (a named sign-in, a
 * step-up) the credential must be that user's.
 */
export function assertionFits(
  challenge: { readonly userId: string | undefined } | undefined,
  credential: { readonly userId: string } | undefined,
): AssertionRefusal | undefined {
  if (challenge === undefined) return "challenge_unknown";
  if (credential === undefined) return "credential_unknown";
  if (challenge.userId !== undefined && challenge.userId !== credential.userId)
    return "credential_of_another_user";
  return undefined;
}

/** A transfer as a step-up confirms it. */
export interface TransferToConfirm {
  readonly userId: string;
  readonly transferId: string;
  /** The creditor's IBAN, normalized (no spaces, upper case). */
  readonly to: string;
  readonly amount: bigint;
  readonly asset: string;
}

/** Whether a transfer needs a passkey: its asset has a threshold and the amount reaches it. */
export function stepUpNeeded(
  thresholds: Readonly<Record<string, string>> | undefined,
  asset: string,
  amount: bigint,
): boolean {
  const min = thresholds?.[asset];
  return min !== undefined && amount >= BigInt(min);
}

/** What a step-up challenge is bound to: the transfer's id, creditor, amount and asset, hashed. */
export function bindingOf(transfer: Omit<TransferToConfirm, "userId">): string {
  const to = transfer.to.replace(/\s+/g, "").toUpperCase();
  const text = JSON.stringify([
    transfer.transferId.toLowerCase(),
    to,
    transfer.amount.toString(),
    transfer.asset,
  ]);
  return createHash("sha256").update(text).digest("base64url");
}
