import type { SchemaRegistry } from "../schema-registry/port.ts";
import type { TopicDeclaration } from "../topology.ts";
import { type AvroType, avroType } from "./avro.ts";
import { decodeWire, encodeWire } from "./codec.ts";

/** Encodes with the current schema of a topic; decodes data written with any registered version. */
export interface TopicCodec {
  readonly topic: string;
  readonly schemaId: number;
  encode(value: unknown): Buffer;
  decode(bytes: Uint8Array): unknown;
}

export async function createTopicCodec(
  registry: SchemaRegistry,
  declaration: TopicDeclaration,
): Promise<TopicCodec> {
  const reader: AvroType = avroType(declaration.valueSchema);
  const schemaId = await registry.register(declaration.subject, declaration.valueSchema as object);
  const readers = new Map<number, (body: Buffer) => unknown>();
  readers.set(schemaId, (body) => reader.fromBuffer(body));
  for (const { id, schema } of await registry.versions(declaration.subject)) {
    if (id === schemaId) continue;
    const resolver = reader.createResolver(avroType(schema as never));
    readers.set(id, (body) => reader.fromBuffer(body, resolver));
  }
  const lookup = { readerFor: (id: number) => readers.get(id) };
  return {
    topic: declaration.spec.name,
    schemaId,
    encode: (value) => encodeWire(schemaId, reader, value),
    decode: (bytes) => decodeWire(bytes, lookup),
  };
}
