/**
 * How a topic is declared: partitions, retention, key, value schema. Each context declares its own
 * topics (`<context>/topics.ts`, offered by its module); the composition root assembles them into
 * the topology (`src/app/topology.ts`) from which the embedded log and Kafka (`ledgerflow topics
 * sync`) are both created. The platform knows no context's topics.
 */
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

/** A topic declaration with the platform's defaults: replication 3 (capped), a week's retention. */
export function topic(
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

export function deadLetterTopic(name: string): string {
  return `${name}.dlq`;
}

/** The specs of `declarations` incl. their dead-letter topics, replication capped to the broker count. */
export function topicSpecsOf(declarations: readonly TopicDeclaration[], brokersCount = 1): TopicSpec[] {
  return declarations.flatMap(({ spec }) => {
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
