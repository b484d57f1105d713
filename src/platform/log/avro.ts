import avro from "avsc";

/** Avro `long` as JavaScript bigint: money and offsets must never pass through a float. */
const bigintLong = avro.types.LongType.__with({
  fromBuffer: (buffer: Buffer) => buffer.readBigInt64LE(),
  toBuffer: (value: bigint) => {
    const buffer = Buffer.alloc(8);
    buffer.writeBigInt64LE(value);
    return buffer;
  },
  fromJSON: (value: unknown) => BigInt(value as string),
  toJSON: (value: bigint) => value.toString(),
  isValid: (value: unknown) => typeof value === "bigint",
  compare: (a: bigint, b: bigint) => (a === b ? 0 : a < b ? -1 : 1),
});

export type AvroType = avro.Type;
export type AvroSchema = avro.Schema;

/** Compiles a schema with bigint longs and wrapped unions ({"ns.Name": value}). */
export function avroType(schema: AvroSchema): AvroType {
  return avro.Type.forSchema(schema, { registry: { long: bigintLong }, wrapUnions: true });
}

/**
 * BACKWARD compatibility (Confluent's default): a consumer using `reader` can read data written
 * with `writer`. Returns the reason when it cannot.
 */
export function backwardIncompatibility(reader: AvroType, writer: AvroType): string | undefined {
  try {
    reader.createResolver(writer);
    return undefined;
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  }
}
