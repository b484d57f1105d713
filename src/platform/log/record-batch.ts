import avro from "avsc";
import type { Headers } from "./port.ts";

/**
 * The envelope of one stored record batch (one `log_batches` row), like Kafka's RecordBatch: many
 * records in one blob, so a large produce is a handful of rows. Offsets are not stored per record:
 * they are the batch's base offset plus the record's index, since offsets within a batch are dense.
 */
export interface BatchRecord {
  readonly key: string;
  readonly value: Uint8Array;
  readonly headers: Headers;
  readonly timestampMs: number;
}

const recordBatchType = avro.Type.forSchema({
  type: "record",
  name: "RecordBatch",
  namespace: "ledgerflow.log",
  fields: [
    {
      name: "records",
      type: {
        type: "array",
        items: {
          type: "record",
          name: "BatchRecord",
          fields: [
            { name: "key", type: "string" },
            { name: "value", type: "bytes" },
            { name: "headers", type: { type: "map", values: "string" } },
            { name: "timestampMs", type: "long" },
          ],
        },
      },
    },
  ],
});

const asBuffer = (bytes: Uint8Array): Buffer =>
  Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);

export function encodeRecordBatch(records: readonly BatchRecord[]): Buffer {
  return recordBatchType.toBuffer({
    records: records.map((r) => ({
      key: r.key,
      value: asBuffer(r.value),
      headers: r.headers,
      timestampMs: r.timestampMs,
    })),
  });
}

export function decodeRecordBatch(bytes: Buffer): readonly BatchRecord[] {
  return (recordBatchType.fromBuffer(bytes) as { records: BatchRecord[] }).records;
}

/** Bytes a record adds to a batch, roughly; used only to size batches, so it need not be exact. */
export function approximateRecordBytes(key: string, value: Uint8Array, headers: Headers | undefined): number {
  let size = 16 + key.length * 3 + value.byteLength;
  if (headers) for (const name in headers) size += name.length + (headers[name]?.length ?? 0) + 4;
  return size;
}
