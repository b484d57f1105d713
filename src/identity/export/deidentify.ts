/**
 * De-identified users for analysis (`ledgerflow admin export-users`). What leaves: a pseudonym
 * (HMAC-SHA256 of the user id under a key made for this export, so two exports cannot be joined
 * unless the operator passes the same key), the roles, the month of sign-up, the first three digits
 * of the ZIP code (HIPAA Safe Harbor's geographic rule), officer agency and verification, and
 * whether contact data exists. What never leaves: usernames, display and legal names, email,
 * phone, avatar, badge numbers, exact times.
 */
import { createHmac } from "node:crypto";

export interface UserForExport {
  readonly userId: string;
  readonly roles: readonly string[];
  readonly createdAtMs: number;
  readonly zipCode: string | null;
  readonly officerAgency: string | null;
  readonly officerVerified: boolean;
  readonly hasEmail: boolean;
  readonly hasPhone: boolean;
  readonly hasLegalName: boolean;
}

export interface DeidentifiedUser {
  readonly subject: string;
  readonly roles: readonly string[];
  readonly signedUpMonth: string;
  readonly zip3: string | null;
  readonly officer: { readonly agency: string; readonly verified: boolean } | null;
  readonly hasEmail: boolean;
  readonly hasPhone: boolean;
  readonly hasLegalName: boolean;
}

/**
 * Safe Harbor: three-digit ZIP prefixes covering 20,000 people or fewer are reported as 000. These
 * are the prefixes the US Census 2000 lists so (as HHS's guidance names them).
 */
const sparseZip3 = new Set([
  "036",
  "059",
  "063",
  "102",
  "203",
  "556",
  "692",
  "790",
  "821",
  "823",
  "830",
  "831",
  "878",
  "879",
  "884",
  "890",
  "893",
]);

export function deidentify(user: UserForExport, key: Uint8Array): DeidentifiedUser {
  const zip3 = user.zipCode === null ? null : user.zipCode.slice(0, 3);
  return {
    subject: createHmac("sha256", key).update(user.userId).digest("hex").slice(0, 32),
    roles: [...user.roles].sort(),
    signedUpMonth: new Date(user.createdAtMs).toISOString().slice(0, 7),
    zip3: zip3 === null ? null : sparseZip3.has(zip3) ? "000" : zip3,
    officer:
      user.officerAgency === null ? null : { agency: user.officerAgency, verified: user.officerVerified },
    hasEmail: user.hasEmail,
    hasPhone: user.hasPhone,
    hasLegalName: user.hasLegalName,
  };
}
