/**
 * `ledgerflow dlq list | show <topic> <partition> <offset> | replay <topic> <partition> <offset>`:
 * the dead-letter topics (`<topic>.dlq`), read outside any consumer group with Log.read, in either
 * mode. `replay` produces the original record (key, value, its own headers) back to its topic;
 * handlers are idempotent by command id, so replaying a record that did get applied is harmless.
 * The dead-lettered record stays where it is (a log is append-only).
 */
import { parseArgs } from "node:util";
import { ConfigError } from "../../config.ts";
import type { SchemaRegistry } from "../../schema-registry/port.ts";
import { deadLetterTopic, type TopicDeclaration } from "../../topology.ts";
import { avroType } from "../avro.ts";
import { deadLetterHeaders } from "../consumer.ts";
import type { Log, LogRecord, OutgoingRecord } from "../port.ts";

const usage = `ledgerflow dlq <command>
  list [--limit N] [--json]                        dead-lettered records of every topic
  show <topic> <partition> <offset> [--json]      one record: headers, error, decoded value
  replay <topic> <partition> <offset>             produce it back to its original topic
<topic> is the dead-letter topic (ledger.commands.dlq) or the topic it belongs to (ledger.commands).
`;

const replayedFromHeader = "dlq.replayed.from";

export function deadLetterTopics(topology: readonly TopicDeclaration[]): string[] {
  return topology.map(({ spec }) => deadLetterTopic(spec.name));
}

export function asDeadLetterTopic(topic: string): string {
  return topic.endsWith(".dlq") ? topic : deadLetterTopic(topic);
}

/** What `replay` sends: the record as it was before dead-lettering, marked with where it came from. */
export function replayRecord(dead: LogRecord): OutgoingRecord {
  const original = dead.headers[deadLetterHeaders.topic];
  if (!original)
    throw new ConfigError(`${dead.topic}/${dead.partition}/${dead.offset} has no original topic header`);
  const dlqHeaderNames = new Set<string>(Object.values(deadLetterHeaders));
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(dead.headers))
    if (!dlqHeaderNames.has(name)) headers[name] = value;
  headers[replayedFromHeader] = `${dead.topic}/${dead.partition}/${dead.offset}`;
  return { topic: original, key: dead.key, value: dead.value, headers };
}

function summary(record: LogRecord) {
  const h = record.headers;
  return {
    topic: record.topic,
    partition: record.partition,
    offset: record.offset.toString(),
    at: new Date(record.timestampMs).toISOString(),
    key: record.key,
    original: `${h[deadLetterHeaders.topic] ?? "?"}/${h[deadLetterHeaders.partition] ?? "?"}/${h[deadLetterHeaders.offset] ?? "?"}`,
    errorCode: h[deadLetterHeaders.errorCode] ?? "",
    error: h[deadLetterHeaders.errorMessage] ?? "",
    attempts: h[deadLetterHeaders.attempts] ?? "",
  };
}

/** Decodes a Confluent wire-format value with the writer's schema from the registry, if it can. */
async function decodeValue(registry: SchemaRegistry, value: Uint8Array): Promise<unknown> {
  const bytes = Buffer.from(value.buffer, value.byteOffset, value.byteLength);
  if (bytes.length < 5 || bytes[0] !== 0)
    return { undecodable: "not in Confluent wire format", hex: bytes.toString("hex") };
  const id = bytes.readUInt32BE(1);
  const schema = await registry.schemaById(id);
  if (!schema) return { undecodable: `unknown schema id ${id}`, hex: bytes.toString("hex") };
  try {
    return { schemaId: id, value: avroType(schema as never).fromBuffer(bytes.subarray(5)) };
  } catch (error) {
    return { undecodable: String(error), schemaId: id, hex: bytes.toString("hex") };
  }
}

const jsonText = (value: unknown) =>
  JSON.stringify(
    value,
    (_key, v) => (typeof v === "bigint" ? v.toString() : Buffer.isBuffer(v) ? v.toString("hex") : v),
    2,
  );

async function readOne(log: Log, topic: string, partition: number, offset: bigint): Promise<LogRecord> {
  const [record] = await log.read(topic, partition, offset, 1);
  if (!record || record.offset !== offset)
    throw new ConfigError(`no record at ${topic}/${partition}/${offset}`);
  return record;
}

function position(positionals: readonly string[]): { topic: string; partition: number; offset: bigint } {
  const [, topic, partition, offset] = positionals;
  if (!topic || !partition || !offset || !/^\d+$/.test(partition) || !/^\d+$/.test(offset))
    throw new ConfigError(usage);
  return { topic: asDeadLetterTopic(topic), partition: Number(partition), offset: BigInt(offset) };
}

/** What the CLI runs against: the log and registry of the configuration, and the topology. */
export interface DeadLetterTools {
  readonly topology: readonly TopicDeclaration[];
  open(): Promise<{ log: Log; registry: SchemaRegistry; database: string; close(): Promise<void> }>;
}

export async function runDlq(args: readonly string[], tools: DeadLetterTools): Promise<void> {
  const { values, positionals } = parseArgs({
    args: [...args],
    options: { limit: { type: "string", default: "100" }, json: { type: "boolean", default: false } },
    allowPositionals: true,
  });
  const command = positionals[0];
  if (command !== "list" && command !== "show" && command !== "replay") throw new ConfigError(usage);
  const limit = Number(values.limit);
  if (!Number.isInteger(limit) || limit < 1) throw new ConfigError("--limit must be a positive integer");
  const { log, registry, database, close } = await tools.open();
  process.stderr.write(`database: ${database}\n`);
  const out = (text: string) => process.stdout.write(`${text}\n`);
  try {
    if (command === "list") {
      const rows: ReturnType<typeof summary>[] = [];
      for (const topic of deadLetterTopics(tools.topology)) {
        const ends = await log.admin().endOffsets(topic);
        for (const [partition, end] of ends.entries()) {
          const from = end > BigInt(limit) ? end - BigInt(limit) : 0n;
          for (const record of await log.read(topic, partition, from, limit)) rows.push(summary(record));
        }
      }
      if (values.json) out(jsonText(rows));
      else if (rows.length === 0) out("no dead-lettered records");
      else
        for (const r of rows)
          out(
            `${r.topic} ${r.partition} ${r.offset}  ${r.at}  from ${r.original}  ${r.errorCode}: ${r.error} (attempts ${r.attempts})`,
          );
      return;
    }
    const at = position(positionals);
    const record = await readOne(log, at.topic, at.partition, at.offset);
    if (command === "show") {
      out(
        jsonText({
          ...summary(record),
          headers: record.headers,
          value: await decodeValue(registry, record.value),
        }),
      );
      return;
    }
    const [replayed] = await log.producer().send([replayRecord(record)]);
    out(
      `replayed ${at.topic}/${at.partition}/${at.offset} to ${replayed?.topic}/${replayed?.partition}/${replayed?.offset}`,
    );
  } finally {
    await close();
  }
}
