/**
 * Who may act as an account holder (open accounts, move money, hold and complete holds), decided
 * once for every API (REST, GraphQL, gRPC all go through the command service): everyone but the staff
 * who change nothing. Auditors read; compliance decides reviews. A bank employee who banks with us
 * holds the customer role as well.
 */
import { type Principal, type Role, roles } from "../platform/http/auth.ts";
import { ProblemError } from "../platform/http/problems.ts";

export const accountHolderRoles: readonly Role[] = roles.filter(
  (role) => role !== "auditor" && role !== "compliance",
);

/** 403 unless `principal` holds a role that may act as an account holder. */
export function assertAccountHolder(principal: Principal): void {
  if (!principal.roles.some((role) => accountHolderRoles.includes(role)))
    throw new ProblemError("forbidden", { detail: `Requires role ${accountHolderRoles.join(" or ")}` });
}
