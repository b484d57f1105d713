/** The tokens context's topics (assembled into the topology by the composition root). */
import { partitionsDefault, type TopicDeclaration, topic } from "../platform/topology.ts";
import { tokenReceiptSchema } from "./schemas.ts";

export const tokensTopics = {
  /** Signed receipts (tokens) as they are issued, keyed by token id. */
  tokenReceipts: topic("tokens.receipts", partitionsDefault, "tokenId", tokenReceiptSchema),
} as const satisfies Record<string, TopicDeclaration>;
