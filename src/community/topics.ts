/** The community context's topics (assembled into the topology by the composition root). */
import type { AvroSchema } from "../platform/log/avro.ts";
import { partitionsDefault, type TopicDeclaration, topic } from "../platform/topology.ts";

const ns = "ledgerflow.community";

/**
 * One record for every community event (`events.ts`): `type` names it; fields another type does not
 * use are empty strings, `rewarded` false. Flat, like payments.events, so adding a type adds no union.
 */
export const communityEventSchema = {
  type: "record",
  name: "CommunityEvent",
  namespace: ns,
  fields: [
    { name: "type", type: "string" },
    { name: "connectionId", type: "string" },
    { name: "officerId", type: "string", default: "" },
    { name: "citizenId", type: "string", default: "" },
    { name: "kind", type: "string", default: "" },
    { name: "rewarded", type: "boolean", default: false },
    { name: "pointsEach", type: "string", default: "0" },
    { name: "cell", type: "string", default: "" },
    { name: "userId", type: "string", default: "" },
    { name: "trophy", type: "string", default: "" },
    { name: "atMs", type: "long" },
  ],
} as AvroSchema;

export const communityTopics = {
  /** Established connections and trophies (the seed's "Established connections"), by connection id. */
  communityEvents: topic("community.events", partitionsDefault, "connectionId", communityEventSchema),
} as const satisfies Record<string, TopicDeclaration>;
