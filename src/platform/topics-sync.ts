/**
 * The topic synchronizer (`ledgerflow topics sync`): makes the log match topology.ts.
 * - creates missing topics, with replication capped at the broker count;
 * - reports drift of existing topics (partitions, replication, retention, cleanup policy) and
 *   never changes them: shrinking partitions is impossible and growing them moves keys, so that
 *   is an operator's decision;
 * - deletes topics that topology.ts does not declare only with `prune`, and never internal ones
 *   (names starting with `_`, e.g. `__consumer_offsets`);
 * - registers every value schema, refusing a change that is not BACKWARD compatible.
 * With `dryRun` it only reports what it would do.
 */
import { Admin } from "@platformatic/kafka";
import { UnavailableError } from "./errors.ts";
import { avroType, backwardIncompatibility } from "./log/avro.ts";
import type { LogAdmin, TopicDescription, TopicSpec } from "./log/port.ts";
import { IncompatibleSchemaError, type SchemaRegistry } from "./schema-registry/port.ts";
import type { TopicDeclaration } from "./topology.ts";

export interface TopicDrift {
  readonly topic: string;
  readonly setting: "partitions" | "replicationFactor" | "retention.ms" | "cleanup.policy";
  readonly expected: string;
  readonly actual: string;
}

export interface TopicsPlan {
  readonly create: readonly TopicSpec[];
  readonly drift: readonly TopicDrift[];
  /** Undeclared, non-internal topics: deleted with `prune`, otherwise only reported. */
  readonly unknown: readonly string[];
  readonly inSync: readonly string[];
}

export interface SchemaResult {
  readonly subject: string;
  readonly status: "registered" | "unchanged" | "would-register" | "incompatible";
  readonly id?: number;
  readonly reason?: string;
}

export interface TopicsSyncReport {
  readonly dryRun: boolean;
  readonly created: readonly string[];
  readonly drift: readonly TopicDrift[];
  readonly unknown: readonly string[];
  readonly deleted: readonly string[];
  readonly inSync: readonly string[];
  readonly schemas: readonly SchemaResult[];
  /** True when something needs an operator: drift, or a refused schema. */
  readonly needsAttention: boolean;
}

export interface TopicsSyncOptions {
  readonly admin: LogAdmin;
  /** What the log must hold (topicSpecs(brokersCount) from topology.ts). */
  readonly desired: readonly TopicSpec[];
  /** Whose value schemas to register; skipped when no registry is given. */
  readonly declarations: readonly TopicDeclaration[];
  readonly registry?: SchemaRegistry;
  readonly prune: boolean;
  readonly dryRun: boolean;
}

export function isInternalTopic(name: string): boolean {
  return name.startsWith("_");
}

/** Pure: what to do to make `existing` match `desired`. */
export function planTopicsSync(
  desired: readonly TopicSpec[],
  existing: readonly TopicDescription[],
): TopicsPlan {
  const existingByName = new Map(existing.map((topic) => [topic.name, topic]));
  const desiredNames = new Set(desired.map((spec) => spec.name));
  const create: TopicSpec[] = [];
  const drift: TopicDrift[] = [];
  const inSync: string[] = [];
  for (const spec of desired) {
    const actual = existingByName.get(spec.name);
    if (!actual) {
      create.push(spec);
      continue;
    }
    const found = driftOf(spec, actual);
    if (found.length === 0) inSync.push(spec.name);
    drift.push(...found);
  }
  const unknown = existing
    .map((topic) => topic.name)
    .filter((name) => !desiredNames.has(name) && !isInternalTopic(name))
    .sort();
  return { create, drift, unknown, inSync };
}

function driftOf(spec: TopicSpec, actual: TopicDescription): TopicDrift[] {
  const drift: TopicDrift[] = [];
  const compare = (setting: TopicDrift["setting"], expected: string, value: string | undefined) => {
    // A setting the log does not report cannot be judged; it is not drift.
    if (value !== undefined && value !== expected)
      drift.push({ topic: spec.name, setting, expected, actual: value });
  };
  compare("partitions", String(spec.partitions), String(actual.partitions));
  compare("replicationFactor", String(spec.replicationFactor), String(actual.replicationFactor));
  compare("retention.ms", String(spec.retentionMs), actual.config["retention.ms"]);
  compare("cleanup.policy", spec.cleanupPolicy, actual.config["cleanup.policy"]);
  return drift;
}

export async function syncTopics(options: TopicsSyncOptions): Promise<TopicsSyncReport> {
  const { admin, dryRun } = options;
  const plan = planTopicsSync(options.desired, await admin.listTopics());
  if (!dryRun && plan.create.length > 0) await admin.createTopics(plan.create);
  const deleted = options.prune ? plan.unknown : [];
  if (!dryRun && deleted.length > 0) await admin.deleteTopics(deleted);
  const schemas = options.registry ? await syncSchemas(options.registry, options.declarations, dryRun) : [];
  return {
    dryRun,
    created: plan.create.map((spec) => spec.name),
    drift: plan.drift,
    unknown: options.prune ? [] : plan.unknown,
    deleted,
    inSync: plan.inSync,
    schemas,
    needsAttention: plan.drift.length > 0 || schemas.some((s) => s.status === "incompatible"),
  };
}

async function syncSchemas(
  registry: SchemaRegistry,
  declarations: readonly TopicDeclaration[],
  dryRun: boolean,
): Promise<SchemaResult[]> {
  const results: SchemaResult[] = [];
  for (const { subject, valueSchema } of declarations) {
    const schema = valueSchema as object;
    const versions = await registry.versions(subject);
    const same = versions.find((v) => sameSchema(v.schema, schema));
    if (same) {
      results.push({ subject, status: "unchanged", id: same.id });
      continue;
    }
    if (dryRun) {
      const latest = versions.at(-1);
      const reason = latest
        ? backwardIncompatibility(avroType(schema as never), avroType(latest.schema as never))
        : undefined;
      results.push(
        reason ? { subject, status: "incompatible", reason } : { subject, status: "would-register" },
      );
      continue;
    }
    try {
      results.push({ subject, status: "registered", id: await registry.register(subject, schema) });
    } catch (error) {
      if (!(error instanceof IncompatibleSchemaError)) throw error;
      results.push({ subject, status: "incompatible", reason: error.message });
    }
  }
  return results;
}

/** Same Avro schema regardless of how the registry stored it (e.g. jsonb reorders keys). */
function sameSchema(a: object, b: object): boolean {
  const canonical = (schema: object) =>
    JSON.stringify(avroType(schema as never).schema({ exportAttrs: true }));
  return canonical(a) === canonical(b);
}

/** Brokers in a Kafka cluster (replication cannot exceed it). */
export async function kafkaBrokersCount(
  bootstrapBrokers: readonly string[],
  timeoutMs: number,
): Promise<number> {
  const admin = new Admin({
    clientId: "ledgerflow-topics",
    bootstrapBrokers: [...bootstrapBrokers],
    timeout: timeoutMs,
    retries: 3,
  });
  try {
    const metadata = await admin.metadata({ topics: [] });
    return Math.max(1, metadata.brokers.size);
  } catch (cause) {
    throw new UnavailableError("Kafka (metadata)", { cause });
  } finally {
    await admin.close().catch(() => {});
  }
}

/** Human-readable lines of a report, for the CLI. */
export function formatTopicsSyncReport(report: TopicsSyncReport): string[] {
  const verb = (done: string, planned: string) => (report.dryRun ? planned : done);
  const lines: string[] = [];
  for (const name of report.created) lines.push(`${verb("created", "would create")} topic ${name}`);
  for (const d of report.drift)
    lines.push(`DRIFT ${d.topic}: ${d.setting} is ${d.actual}, topology says ${d.expected} (not changed)`);
  for (const name of report.unknown) lines.push(`unknown topic ${name} (kept; --prune deletes it)`);
  for (const name of report.deleted) lines.push(`${verb("deleted", "would delete")} unknown topic ${name}`);
  for (const name of report.inSync) lines.push(`in sync: ${name}`);
  for (const s of report.schemas) {
    const id = s.id === undefined ? "" : ` (id ${s.id})`;
    const reason = s.reason ? `: ${s.reason}` : "";
    lines.push(`schema ${s.subject}: ${s.status}${id}${reason}`);
  }
  return lines;
}
