/** The identity context's topics (assembled into the topology by the composition root). */
import type { AvroSchema } from "../platform/log/avro.ts";
import { type TopicDeclaration, topic } from "../platform/topology.ts";

const ns = "ledgerflow.identity";

/** Every authentication event, for the audit trail (`events.ts` lists the kinds). */
export const authEventSchema = {
  type: "record",
  name: "AuthEvent",
  namespace: ns,
  fields: [
    { name: "kind", type: "string" },
    /** Empty when no user is known (a failed login for a name that does not exist). */
    { name: "userId", type: "string" },
    /** As typed by the client; for failed logins, the name that was tried. */
    { name: "username", type: "string" },
    { name: "sessionId", type: "string" },
    /** Coarse client address (IPv4 /24, IPv6 /48); empty for command-line actions. */
    { name: "clientIp", type: "string" },
    /** Who acted when not the user (an admin id, "cli"); empty otherwise. */
    { name: "actor", type: "string" },
    { name: "detail", type: "string" },
    { name: "atMs", type: "long" },
  ],
} as AvroSchema;

export const identityTopics = {
  /** Authentication events keyed by username (lower case), so one user's events stay in order. */
  identityEvents: topic("identity.events", 6, "username", authEventSchema),
} as const satisfies Record<string, TopicDeclaration>;
