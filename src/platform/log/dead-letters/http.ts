/**
 * Dead letters over HTTP (admin only), the REST face of `ledgerflow dlq` (src/tools/dlq.ts):
 * - `GET /v1/admin/dlq` lists the latest dead-lettered records of every `<topic>.dlq` topic, with
 *   where each came from, the error that sent it there and a safe preview of its value;
 * - `POST /v1/admin/dlq/{topic}/{partition}/{offset}/replay` produces the original record back to
 *   its original topic. Handlers are idempotent by command id, so replaying twice is harmless;
 *   each replay is recorded so the list can say "replayed" (the log itself is append-only).
 */
import type { FastifyInstance } from "fastify";
import type { ZodTypeProvider } from "fastify-type-provider-zod";
import type pg from "pg";
import { z } from "zod";
import type { Clock } from "../../clock.ts";
import type { PreHandler } from "../../http/auth.ts";
import { principalOf, requireRole } from "../../http/auth.ts";
import { ProblemError } from "../../http/problems.ts";
import type { SchemaRegistry } from "../../schema-registry/port.ts";
import type { TopicDeclaration } from "../../topology.ts";
import { deadLetterHeaders } from "../consumer.ts";
import type { Log, LogRecord, RecordPosition } from "../port.ts";
import { createTopicCodec, type TopicCodec } from "../topic-codecs.ts";
import { asDeadLetterTopic, deadLetterTopics, replayRecord } from "./cli.ts";

/** Most records listed per dead-letter partition (the latest ones). */
export const listLimitMax = 500;
const listLimitDefault = 100;
/** A preview is for a human glancing at a table row, not a dump. */
const previewCharsMax = 600;
const previewHexBytesMax = 48;
/** Field names whose values never leave the server, even hashed. */
const secretFieldPattern = /secret|password|^token$|tokenHash/i;

export interface DeadLetterView {
  readonly topic: string;
  readonly partition: number;
  readonly offset: string;
  readonly original: { readonly topic: string; readonly partition: number; readonly offset: string } | null;
  readonly errorCode: string;
  readonly error: string;
  readonly attempts: number | null;
  readonly timestampMs: number;
  readonly at: string;
  readonly key: string;
  readonly value: ValuePreview;
  readonly replays: number;
  readonly replayed: boolean;
  readonly lastReplayedAt: string | null;
}

export interface ValuePreview {
  /** True when the value decoded with its topic's schema; `preview` is then JSON text. */
  readonly decoded: boolean;
  readonly preview: string;
  readonly truncated: boolean;
  readonly bytes: number;
  /** Why the value could not be decoded; `preview` is then hex. */
  readonly note?: string;
}

interface ReplaySummary {
  readonly count: number;
  readonly lastAtMs: number;
}

/** A dead-lettered record's identity: where replays of it are recorded. */
const recordKey = (topic: string, partition: number, offset: bigint | string) =>
  `${topic}/${partition}/${offset}`;

async function replaysOf(
  pool: pg.Pool,
  topic: string,
  partition: number,
  fromOffset: bigint,
): Promise<Map<string, ReplaySummary>> {
  const { rows } = await pool.query(
    `SELECT record_offset, count(*)::int AS count, max(replayed_at_ms) AS last_at_ms
       FROM dlq_replays WHERE topic = $1 AND partition = $2 AND record_offset >= $3
      GROUP BY record_offset`,
    [topic, partition, fromOffset.toString()],
  );
  return new Map(
    rows.map((r) => [
      recordKey(topic, partition, String(r.record_offset)),
      { count: r.count as number, lastAtMs: Number(r.last_at_ms) },
    ]),
  );
}

/** JSON text of a decoded value: bigints as strings, bytes as hex, secrets withheld, bounded. */
export function previewJson(value: unknown): { text: string; truncated: boolean } {
  const text = JSON.stringify(value, (key, v) => {
    if (key !== "" && secretFieldPattern.test(key) && v !== "" && v !== null) return "[withheld]";
    if (typeof v === "bigint") return v.toString();
    if (v instanceof Uint8Array) return Buffer.from(v).toString("hex");
    if (v && typeof v === "object" && (v as { type?: unknown }).type === "Buffer")
      return Buffer.from((v as { data: number[] }).data).toString("hex");
    return v;
  });
  return bounded(text ?? "null", previewCharsMax);
}

function bounded(text: string, charsMax: number): { text: string; truncated: boolean } {
  return text.length > charsMax
    ? { text: `${text.slice(0, charsMax)}…`, truncated: true }
    : { text, truncated: false };
}

function hexPreview(value: Uint8Array, note: string): ValuePreview {
  const bytes = Buffer.from(value.buffer, value.byteOffset, value.byteLength);
  return {
    decoded: false,
    preview: bytes.subarray(0, previewHexBytesMax).toString("hex"),
    truncated: bytes.length > previewHexBytesMax,
    bytes: bytes.length,
    note,
  };
}

function originalOf(record: LogRecord): DeadLetterView["original"] {
  const h = record.headers;
  const topic = h[deadLetterHeaders.topic];
  const partition = h[deadLetterHeaders.partition];
  const offset = h[deadLetterHeaders.offset];
  if (!topic || partition === undefined || offset === undefined) return null;
  return { topic, partition: Number(partition), offset };
}

/** What the dead-letter API needs: the log, the database (replay records), the registry, the topology. */
export interface DeadLetterDeps {
  readonly log: Log;
  readonly pool: pg.Pool;
  readonly clock: Clock;
  readonly registry: SchemaRegistry;
  readonly topology: readonly TopicDeclaration[];
  readonly authenticate: PreHandler;
}

/** Decoders of every declared topic, made on first use from the platform's schema registry. */
function topicDecoders(deps: DeadLetterDeps): (topic: string) => Promise<TopicCodec | undefined> {
  const declarations = new Map<string, TopicDeclaration>(
    deps.topology.map((declaration) => [declaration.spec.name, declaration]),
  );
  const codecs = new Map<string, Promise<TopicCodec>>();
  const registry = deps.registry;
  return async (topic) => {
    const declaration = declarations.get(topic);
    if (!declaration) return undefined;
    let codec = codecs.get(topic);
    if (!codec) {
      codec = createTopicCodec(registry, declaration);
      codecs.set(topic, codec);
      // A registry hiccup must not stick: the next listing tries again.
      codec.catch(() => codecs.delete(topic));
    }
    return codec;
  };
}

async function previewOf(
  record: LogRecord,
  decoderOf: (topic: string) => Promise<TopicCodec | undefined>,
): Promise<ValuePreview> {
  const original = originalOf(record);
  if (!original) return hexPreview(record.value, "the record does not name its original topic");
  let codec: TopicCodec | undefined;
  try {
    codec = await decoderOf(original.topic);
  } catch {
    return hexPreview(record.value, "the schema registry is unavailable");
  }
  if (!codec) return hexPreview(record.value, `no schema is declared for ${original.topic}`);
  try {
    const { text, truncated } = previewJson(codec.decode(record.value));
    return { decoded: true, preview: text, truncated, bytes: record.value.byteLength };
  } catch (error) {
    return hexPreview(record.value, error instanceof Error ? error.message : "undecodable");
  }
}

function viewOf(record: LogRecord, value: ValuePreview, replay: ReplaySummary | undefined): DeadLetterView {
  const h = record.headers;
  const attempts = Number(h[deadLetterHeaders.attempts]);
  return {
    topic: record.topic,
    partition: record.partition,
    offset: record.offset.toString(),
    original: originalOf(record),
    errorCode: h[deadLetterHeaders.errorCode] ?? "",
    error: bounded(h[deadLetterHeaders.errorMessage] ?? "", previewCharsMax).text,
    attempts: Number.isInteger(attempts) ? attempts : null,
    timestampMs: record.timestampMs,
    at: new Date(record.timestampMs).toISOString(),
    key: record.key,
    value,
    replays: replay?.count ?? 0,
    replayed: replay !== undefined,
    lastReplayedAt: replay ? new Date(replay.lastAtMs).toISOString() : null,
  };
}

/** The latest `limit` records of each partition of each dead-letter topic, newest first. */
export async function listDeadLetters(
  log: Log,
  pool: pg.Pool,
  decoderOf: (topic: string) => Promise<TopicCodec | undefined>,
  limit: number,
  topology: readonly TopicDeclaration[],
): Promise<DeadLetterView[]> {
  const views: DeadLetterView[] = [];
  for (const topic of deadLetterTopics(topology)) {
    const ends = await log.admin().endOffsets(topic);
    for (const [partition, end] of ends.entries()) {
      if (end === 0n) continue;
      const from = end > BigInt(limit) ? end - BigInt(limit) : 0n;
      const [records, replays] = await Promise.all([
        log.read(topic, partition, from, limit),
        replaysOf(pool, topic, partition, from),
      ]);
      for (const record of records)
        views.push(
          viewOf(
            record,
            await previewOf(record, decoderOf),
            replays.get(recordKey(topic, partition, record.offset)),
          ),
        );
    }
  }
  return views.sort((a, b) => b.timestampMs - a.timestampMs || a.topic.localeCompare(b.topic));
}

const positionParams = z.object({
  topic: z
    .string()
    .min(1)
    .max(249)
    .describe("The dead-letter topic (ledger.commands.dlq) or the topic it belongs to (ledger.commands)"),
  partition: z.coerce.number().int().min(0).max(100_000),
  offset: z.string().regex(/^(0|[1-9][0-9]{0,18})$/, "a decimal-integer offset"),
});

type PositionParams = z.infer<typeof positionParams>;

/** The dead-lettered record at `params`, or the problem saying why there is none to replay there. */
async function replayableRecord(
  log: Log,
  knownTopics: ReadonlySet<string>,
  params: PositionParams,
): Promise<{ topic: string; partition: number; offset: bigint; record: LogRecord }> {
  const topic = asDeadLetterTopic(params.topic);
  if (!knownTopics.has(topic))
    throw new ProblemError("not_found", {
      field: "topic",
      detail: `${topic} is not a dead-letter topic`,
    });
  const { partition } = params;
  const offset = BigInt(params.offset);
  const [record] = await log.read(topic, partition, offset, 1);
  if (!record || record.offset !== offset)
    throw new ProblemError("not_found", {
      detail: `No dead-lettered record at ${recordKey(topic, partition, offset)}`,
    });
  if (!originalOf(record))
    throw new ProblemError("validation_failed", {
      detail: "The record does not name its original topic, so it cannot be replayed",
    });
  return { topic, partition, offset, record };
}

/** Remembers a replay, so the list can say "replayed" (the log itself is append-only). */
async function recordReplay(
  pool: pg.Pool,
  from: { readonly topic: string; readonly partition: number; readonly offset: bigint },
  to: RecordPosition,
  nowMs: number,
  replayedBy: string,
): Promise<void> {
  await pool.query(
    `INSERT INTO dlq_replays (topic, partition, record_offset, replayed_at_ms, replayed_by,
       target_topic, target_partition, target_offset) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
    [
      from.topic,
      from.partition,
      from.offset.toString(),
      nowMs,
      replayedBy,
      to.topic,
      to.partition,
      to.offset.toString(),
    ],
  );
}

export const deadLetterRoutes = (deps: DeadLetterDeps) => async (root: FastifyInstance) => {
  const app = root.withTypeProvider<ZodTypeProvider>();
  const { log, pool, clock } = deps;
  const decoderOf = topicDecoders(deps);
  const admin = { preHandler: [deps.authenticate, requireRole("admin")] };
  // Dead letters hold raw records of every context: admins only (their replay is an operation).
  const adminAccess = { roles: ["admin"] } as const;
  const knownTopics = new Set(deadLetterTopics(deps.topology));

  app.get(
    "/v1/admin/dlq",
    {
      schema: {
        tags: ["admin"],
        summary: "Dead-lettered records of every topic, newest first, with error and value preview",
        querystring: z.object({
          limit: z.coerce
            .number()
            .int()
            .min(1)
            .max(listLimitMax)
            .default(listLimitDefault)
            .describe("Most records per dead-letter partition (the latest)"),
        }),
        security: [{ bearer: [] }],
      },
      config: { access: adminAccess },
      ...admin,
    },
    async (request) => ({
      topics: [...knownTopics],
      items: await listDeadLetters(log, pool, decoderOf, request.query.limit, deps.topology),
    }),
  );

  app.post(
    "/v1/admin/dlq/:topic/:partition/:offset/replay",
    {
      schema: {
        tags: ["admin"],
        summary: "Produce a dead-lettered record back to its original topic (idempotent downstream)",
        params: positionParams,
        security: [{ bearer: [] }],
      },
      config: { access: adminAccess, openapi: { problems: ["not_found"] } },
      ...admin,
    },
    async (request) => {
      const { topic, partition, offset, record } = await replayableRecord(log, knownTopics, request.params);
      const [sent] = await log.producer().send([replayRecord(record)]);
      if (!sent) throw new ProblemError("unavailable", { detail: "The log did not accept the replay" });
      const nowMs = clock.nowMs();
      await recordReplay(pool, { topic, partition, offset }, sent, nowMs, principalOf(request).username);
      const replays = await replaysOf(pool, topic, partition, offset);
      return {
        replayed: { topic, partition, offset: offset.toString() },
        to: { topic: sent.topic, partition: sent.partition, offset: sent.offset.toString() },
        at: new Date(nowMs).toISOString(),
        replays: replays.get(recordKey(topic, partition, offset))?.count ?? 1,
      };
    },
  );
};
