/** Encoding of one outbox row: the outgoing records of one handler batch, in order. */
import avro from "avsc";
import type { OutgoingEvent } from "../ledger/store.ts";

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

export function encodeOutboxBatch(records: readonly OutgoingEvent[]): Buffer {
  return outboxBatchType.toBuffer(records.map((r) => ({ ...r, value: Buffer.from(r.value) })));
}

export function decodeOutboxBatch(bytes: Buffer): OutgoingEvent[] {
  return outboxBatchType.fromBuffer(bytes) as OutgoingEvent[];
}
