import type { AvroSchema } from "../platform/log/avro.ts";

/** `tokens.receipts`: a signed receipt as issued (canonical JSON body + Ed25519 signature). */
export const tokenReceiptSchema = {
  type: "record",
  name: "TokenReceipt",
  namespace: "dev.ledgerflow.tokens",
  fields: [
    { name: "tokenId", type: "string" },
    { name: "body", type: "string" },
    { name: "signature", type: "string" },
  ],
} as AvroSchema;
