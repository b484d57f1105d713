/** The risk context's topics: none yet (lists live in PostgreSQL; screening is in the ledger's path). */
import type { TopicDeclaration } from "../platform/topology.ts";

export const riskTopics = {} as const satisfies Record<string, TopicDeclaration>;
