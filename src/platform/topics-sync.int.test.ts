/**
 * The synchronizer against real Kafka and a real Confluent-compatible registry (Apicurio):
 *   npm run services:up && set -a && . .services/env && set +a && \
 *   node --test src/platform/topics-sync.int.test.ts
 * Skipped without LEDGERFLOW_KAFKA_BROKERS and LEDGERFLOW_SCHEMA_REGISTRY_URL. Uses its own topic
 * and subject names, and never prunes (other topics on a shared broker are not its to delete).
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { createKafkaLog } from "./log/adapters/kafka.ts";
import type { AvroSchema } from "./log/avro.ts";
import type { TopicSpec } from "./log/port.ts";
import { createConfluentSchemaRegistry } from "./schema-registry/confluent.ts";
import { kafkaBrokersCount, syncTopics } from "./topics-sync.ts";
import type { TopicDeclaration } from "./topology.ts";

const brokers = process.env.LEDGERFLOW_KAFKA_BROKERS;
const registryUrl = process.env.LEDGERFLOW_SCHEMA_REGISTRY_URL;
const skip =
  brokers && registryUrl ? false : "LEDGERFLOW_KAFKA_BROKERS / LEDGERFLOW_SCHEMA_REGISTRY_URL not set";

const v1 = {
  type: "record",
  name: "SyncTest",
  fields: [{ name: "id", type: "string" }],
} as AvroSchema;
const incompatible = {
  type: "record",
  name: "SyncTest",
  fields: [
    { name: "id", type: "string" },
    { name: "required", type: "long" },
  ],
} as AvroSchema;

test("topics sync on Kafka: creates, detects drift, registers and refuses an incompatible schema", {
  skip,
}, async () => {
  const log = createKafkaLog({ brokers: (brokers ?? "").split(","), clientId: `sync-int-${process.pid}` });
  const registry = createConfluentSchemaRegistry({ url: registryUrl ?? "", requestTimeoutMs: 10_000 });
  try {
    const suffix = `${Date.now()}-${Math.random().toString(36).slice(2, 6)}`;
    const brokersCount = await kafkaBrokersCount((brokers ?? "").split(","), 10_000);
    assert.ok(brokersCount >= 1);
    const spec: TopicSpec = {
      name: `sync-int-${suffix}`,
      partitions: 3,
      replicationFactor: Math.min(3, brokersCount),
      retentionMs: 3_600_000,
      cleanupPolicy: "delete",
    };
    const declaration = (schema: AvroSchema): TopicDeclaration => ({
      spec,
      keyField: "id",
      valueSchema: schema,
      subject: `${spec.name}-value`,
    });
    const admin = log.admin();

    const first = await syncTopics({
      admin,
      desired: [spec],
      declarations: [declaration(v1)],
      registry,
      prune: false,
      dryRun: false,
    });
    assert.deepEqual(first.created, [spec.name]);
    assert.equal(first.schemas[0]?.status, "registered");
    const created = (await admin.listTopics()).find((t) => t.name === spec.name);
    assert.equal(created?.partitions, 3);
    assert.equal(created?.config["retention.ms"], "3600000");

    const drifted = { ...spec, partitions: 6, retentionMs: 7_200_000 };
    const second = await syncTopics({
      admin,
      desired: [drifted],
      declarations: [declaration(v1)],
      registry,
      prune: false,
      dryRun: false,
    });
    assert.deepEqual(second.created, []);
    assert.deepEqual(
      second.drift.map((d) => [d.setting, d.expected, d.actual]),
      [
        ["partitions", "6", "3"],
        ["retention.ms", "7200000", "3600000"],
      ],
    );
    assert.equal(second.schemas[0]?.status, "unchanged");
    assert.equal(second.needsAttention, true);
    assert.equal(
      (await admin.listTopics()).find((t) => t.name === spec.name)?.partitions,
      3,
      "drift is not fixed",
    );

    const refused = await syncTopics({
      admin,
      desired: [spec],
      declarations: [declaration(incompatible)],
      registry,
      prune: false,
      dryRun: false,
    });
    assert.equal(refused.schemas[0]?.status, "incompatible");
    assert.equal(refused.needsAttention, true);
    assert.equal(
      (await registry.versions(`${spec.name}-value`)).length,
      1,
      "the incompatible schema was not registered",
    );

    await admin.deleteTopics([spec.name]);
  } finally {
    await log.close();
  }
});
