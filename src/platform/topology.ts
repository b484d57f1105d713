/**
 * Every topic Ledgerflow uses, declared once: partitions, retention, key, value schema.
 * The embedded log and Kafka (`ledgerflow topics sync`) are both created from this table.
 */
import { balanceChangedSchema, commandSchema, outcomeSchema } from "../ledger/schemas.ts";
import {
  gatewayAlertSchema,
  gatewayChangeSchema,
  paymentCommandSchema,
  paymentEventSchema,
} from "../payments/schemas.ts";
import { tokenReceiptSchema } from "../tokens/schemas.ts";
import type { AvroSchema } from "./log/avro.ts";
import type { TopicSpec } from "./log/port.ts";

export interface TopicDeclaration {
  readonly spec: TopicSpec;
  /** Which field of the message is the record key (what keeps per-key order). */
  readonly keyField: string;
  readonly valueSchema: AvroSchema;
  /** Subject name in the schema registry (Confluent TopicNameStrategy). */
  readonly subject: string;
}

const weekMs = 7 * 24 * 3_600_000;

function topic(
  name: string,
  partitions: number,
  keyField: string,
  valueSchema: AvroSchema,
): TopicDeclaration {
  return {
    spec: { name, partitions, replicationFactor: 3, retentionMs: weekMs, cleanupPolicy: "delete" },
    keyField,
    valueSchema,
    subject: `${name}-value`,
  };
}

export const partitionsDefault = 12;

export const topics = {
  /** Ledger commands, keyed by the debited account (IBAN) or the new account's id. */
  ledgerCommands: topic("ledger.commands", partitionsDefault, "debitIban|accountId", commandSchema),
  /** Exactly one outcome per command, keyed by command id. */
  ledgerOutcomes: topic("ledger.outcomes", partitionsDefault, "commandId", outcomeSchema),
  /** One event per posted balance change, keyed by IBAN so an account's changes stay in order. */
  balanceChanged: topic("ledger.balance-changed", partitionsDefault, "iban", balanceChangedSchema),
  /** Payment commands (requests, gateway callbacks, reversals), keyed by payment id. */
  paymentCommands: topic("payments.commands", partitionsDefault, "paymentId", paymentCommandSchema),
  /** Every event of every payment, keyed by payment id (state changes, attempts, outcomes). */
  paymentEvents: topic("payments.events", partitionsDefault, "paymentId", paymentEventSchema),
  /** Gateway registry changes; every orchestrator instance reloads the registry on each. */
  gatewayChanges: topic("payments.gateways", 1, "name", gatewayChangeSchema),
  /** Gateway down / recovered alerts (de-duplicated), keyed by gateway. */
  gatewayAlerts: topic("payments.alerts", 1, "gateway", gatewayAlertSchema),
  /** Signed receipts (tokens) as they are issued, keyed by token id. */
  tokenReceipts: topic("tokens.receipts", partitionsDefault, "tokenId", tokenReceiptSchema),
} as const satisfies Record<string, TopicDeclaration>;

export type TopicName = keyof typeof topics;

export function deadLetterTopic(name: string): string {
  return `${name}.dlq`;
}

/** All topic specs incl. dead-letter topics, with replication capped to the broker count. */
export function topicSpecs(brokersCount = 1): TopicSpec[] {
  return Object.values(topics).flatMap(({ spec }) => {
    const replicationFactor = Math.min(spec.replicationFactor, brokersCount);
    return [
      { ...spec, replicationFactor },
      {
        ...spec,
        name: deadLetterTopic(spec.name),
        partitions: 1,
        replicationFactor,
        retentionMs: 4 * weekMs,
      },
    ];
  });
}
