import { PoisonMessageError } from "../errors.ts";
import type { AvroType } from "./avro.ts";

/**
 * Confluent wire format: magic byte 0, 4-byte big-endian schema id, Avro binary body.
 * The same bytes go to the embedded log and to Kafka, so tools that speak Confluent's format work.
 */

export interface SchemaLookup {
  /** The reader type for data written with schema `id` (resolving writer → reader). */
  readerFor(id: number): ((body: Buffer) => unknown) | undefined;
}

const magicByte = 0;
const headerBytes = 5;

export function encodeWire(schemaId: number, type: AvroType, value: unknown): Buffer {
  const body = type.toBuffer(value);
  const out = Buffer.allocUnsafe(headerBytes + body.length);
  out.writeUInt8(magicByte, 0);
  out.writeUInt32BE(schemaId, 1);
  body.copy(out, headerBytes);
  return out;
}

export function decodeWire(bytes: Uint8Array, schemas: SchemaLookup): unknown {
  const buffer = Buffer.isBuffer(bytes)
    ? bytes
    : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (buffer.length < headerBytes || buffer.readUInt8(0) !== magicByte) {
    throw new PoisonMessageError("record is not in Confluent wire format");
  }
  const id = buffer.readUInt32BE(1);
  const read = schemas.readerFor(id);
  if (!read) throw new PoisonMessageError(`unknown schema id ${id}`);
  try {
    return read(buffer.subarray(headerBytes));
  } catch (cause) {
    throw new PoisonMessageError(`record does not match schema ${id}`, { cause });
  }
}
