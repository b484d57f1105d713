import { createHash } from "node:crypto";

/**
 * A UUID (version 5 layout, SHA-256 based) derived from a name: the same name always gives the same
 * id. Used where every process must arrive at one id without talking to the others (system accounts,
 * commands issued by sweepers or process managers), so the ledger's idempotency applies them once.
 */
export function derivedUuid(name: string): string {
  const h = createHash("sha256").update(name).digest("hex");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-5${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
}
