/**
 * Which user a federated identity (issuer + subject) signs in as: a pure decision, no I/O.
 *
 * - An identity seen before signs in as the user it was linked to.
 * - A new identity links to an existing user only through an email address the provider marks
 *   verified (`email_verified: true`) and that user holds as verified.
 * - A new identity whose unverified email names an existing user is refused: linking would hand
 *   that user's account to whoever typed the address at some provider; creating a second account
 *   with the same address would invite confusion. The user signs in the usual way and links later.
 * - Anything else creates a new user; only a verified email is recorded for it.
 */

export interface FederatedClaims {
  readonly issuer: string;
  readonly subject: string;
  /** Lower-cased. */
  readonly email: string | undefined;
  readonly emailVerified: boolean;
}

export interface LinkingFacts {
  /** The user this identity was linked to before, if any. */
  readonly linkedUserId: string | undefined;
  /** The user holding `claims.email` as a verified address, if any. */
  readonly emailOwnerId: string | undefined;
}

export type LinkingDecision =
  | { readonly kind: "sign_in"; readonly userId: string }
  | { readonly kind: "link"; readonly userId: string; readonly email: string }
  | { readonly kind: "create"; readonly verifiedEmail: string | undefined }
  | { readonly kind: "refuse"; readonly reason: "email_not_verified" };

export function decideLinking(claims: FederatedClaims, facts: LinkingFacts): LinkingDecision {
  if (facts.linkedUserId !== undefined) return { kind: "sign_in", userId: facts.linkedUserId };
  if (claims.email !== undefined && facts.emailOwnerId !== undefined) {
    if (!claims.emailVerified) return { kind: "refuse", reason: "email_not_verified" };
    return { kind: "link", userId: facts.emailOwnerId, email: claims.email };
  }
  return { kind: "create", verifiedEmail: claims.emailVerified ? claims.email : undefined };
}

/**
 * `email_verified` as providers send it: a JSON boolean, or (Apple, some older providers) the
 * string "true". Anything else is unverified.
 */
export function isEmailVerified(value: unknown): boolean {
  return value === true || value === "true";
}

/** A username for a new federated user: the email's local part (or the name) in the username alphabet. */
export function usernameHintOf(claims: {
  readonly email?: string | undefined;
  readonly preferredUsername?: string | undefined;
}): string {
  const source = claims.preferredUsername ?? claims.email?.split("@")[0] ?? "user";
  const cleaned = source.replace(/[^A-Za-z0-9._-]/g, "").slice(0, 48);
  return cleaned.length >= 3 ? cleaned : `user${cleaned}`;
}
