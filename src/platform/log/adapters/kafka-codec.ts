/** Conversions and small helpers shared by the Kafka adapter's producer, admin and consumer. */
import type { Message } from "@platformatic/kafka";
import { UnavailableError } from "../../errors.ts";
import type { Headers, LogRecord, OutgoingRecord } from "../port.ts";

export type BufferMessage = Message<Buffer, Buffer, Buffer, Buffer>;

const textEncoder = new TextEncoder();
export const controlBatchAttribute = 0x20;

export function partitionKey(topic: string, partition: number): string {
  return `${topic}\u0000${partition}`;
}

export function parsePartitionKey(key: string): { topic: string; partition: number } {
  const at = key.lastIndexOf("\u0000");
  return { topic: key.slice(0, at), partition: Number(key.slice(at + 1)) };
}

/** The key of a partition in the client's MessagesStream#offsetsToFetch. */
export function streamPartitionKey(topic: string, partition: number): string {
  return `${topic}:${partition}`;
}

export function toHeaders(entries: Iterable<[Buffer | null, Buffer | null]>): Headers {
  const headers: Record<string, string> = {};
  for (const [key, value] of entries) {
    if (key !== null) headers[key.toString("utf8")] = value?.toString("utf8") ?? "";
  }
  return headers;
}

function toBuffer(bytes: Uint8Array): Buffer {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

export function unavailable(what: string, cause: unknown): UnavailableError {
  return new UnavailableError(`Kafka (${what})`, { cause });
}

export async function guard<T>(what: string, operation: () => Promise<T>): Promise<T> {
  try {
    return await operation();
  } catch (cause) {
    throw unavailable(what, cause);
  }
}

/** Per-record overhead in a record batch (length, attributes, deltas, header counts), roughly. */
const recordOverheadBytes = 24;

export function recordBytes(record: OutgoingRecord): number {
  let bytes = recordOverheadBytes + record.key.length * 3 + record.value.byteLength;
  for (const [key, value] of Object.entries(record.headers ?? {})) bytes += (key.length + value.length) * 3;
  return bytes;
}

export function toMessage(record: OutgoingRecord, partition: number) {
  return {
    topic: record.topic,
    key: Buffer.from(textEncoder.encode(record.key)),
    value: toBuffer(record.value),
    partition,
    headers: new Map(
      Object.entries(record.headers ?? {}).map(([key, value]) => [Buffer.from(key), Buffer.from(value)]),
    ),
  };
}

export function messageToRecord(message: BufferMessage): LogRecord {
  return {
    topic: message.topic,
    partition: message.partition,
    offset: message.offset,
    key: message.key?.toString("utf8") ?? "",
    value: new Uint8Array(message.value ?? Buffer.alloc(0)),
    headers: toHeaders(message.headerEntries),
    timestampMs: Number(message.timestamp),
  };
}
