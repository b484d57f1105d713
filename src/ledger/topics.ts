/** The ledger's topics (assembled into the topology by the composition root). */
import { partitionsDefault, type TopicDeclaration, topic } from "../platform/topology.ts";
import { balanceChangedSchema, commandSchema, outcomeSchema } from "./schemas.ts";

export const ledgerTopics = {
  /** Ledger commands, keyed by the debited account (IBAN) or the new account's id. */
  ledgerCommands: topic("ledger.commands", partitionsDefault, "debitIban|accountId", commandSchema),
  /** Exactly one outcome per command, keyed by command id. */
  ledgerOutcomes: topic("ledger.outcomes", partitionsDefault, "commandId", outcomeSchema),
  /** One event per posted balance change, keyed by IBAN so an account's changes stay in order. */
  balanceChanged: topic("ledger.balance-changed", partitionsDefault, "iban", balanceChangedSchema),
} as const satisfies Record<string, TopicDeclaration>;
