/**
 * System accounts (branch cash, payments clearing, …): deterministic ids,
 * opened lazily through the ledger's command path on first use (idempotent across races, because
 * the id doubles as the command id).
 */
import { derivedUuid } from "../platform/derived-uuid.ts";
import { UnavailableError } from "../platform/errors.ts";
import { type CommandGateway, fingerprintOf } from "./command-gateway.ts";
import type { LedgerQueries } from "./queries.ts";

/** The id of the system account `name` holds in `asset` (e.g. "payments-clearing", "EUR"). */
export function systemAccountId(name: string, asset: string): string {
  return derivedUuid(`system-account:${name}:${asset}`);
}

/** Every system account's owner id starts with this; no user id does (they are UUIDs). */
export const systemOwnerPrefix = "system:";

const openWaitMs = 10_000;

/** IBAN of the system account, opening it on first use; cached once known. */
export function systemAccounts(deps: { gateway: CommandGateway; queries: LedgerQueries }) {
  const ibans = new Map<string, string>();
  return async function ibanOf(name: string, asset: string): Promise<string> {
    const id = systemAccountId(name, asset);
    const cached = ibans.get(id);
    if (cached) return cached;
    const existing = await deps.queries.accountById(id);
    let iban = existing?.iban;
    if (!iban) {
      const submission = await deps.gateway.submit(
        {
          type: "CreateAccount",
          commandId: id,
          fingerprint: fingerprintOf({
            type: "CreateAccount",
            owner: `${systemOwnerPrefix}${name}`,
            asset,
            system: true,
          }),
          accountId: id,
          ownerId: `${systemOwnerPrefix}${name}`,
          asset,
          overdraftLimit: 0n,
          system: true,
          tokenHash: "",
        },
        openWaitMs,
      );
      iban = submission.kind === "decided" ? submission.result.result.iban : undefined;
    }
    if (!iban) throw new UnavailableError(`system account ${name}/${asset}`);
    ibans.set(id, iban);
    return iban;
  };
}
