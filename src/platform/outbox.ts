/**
 * The generic transactional outbox's row encoding: the outgoing records of one transaction, in
 * order. A context writes a row in the transaction that changes its state; `outbox-relay.ts`
 * publishes it.
 */
import avro from "avsc";

/** One record to publish: its topic, key and encoded value. */
export interface OutboxRecord {
  readonly topic: string;
  readonly key: string;
  readonly value: Uint8Array;
}

const outboxBatchType = avro.Type.forSchema({
  type: "array",
  items: {
    type: "record",
    name: "OutboxRecord",
    fields: [
      { name: "topic", type: "string" },
      { name: "key", type: "string" },
      { name: "value", type: "bytes" },
    ],
  },
});

export function encodeOutboxBatch(records: readonly OutboxRecord[]): Buffer {
  return outboxBatchType.toBuffer(records.map((r) => ({ ...r, value: Buffer.from(r.value) })));
}

export function decodeOutboxBatch(bytes: Buffer): OutboxRecord[] {
  return outboxBatchType.fromBuffer(bytes) as OutboxRecord[];
}
