/** The payments context's topics (assembled into the topology by the composition root). */
import { partitionsDefault, type TopicDeclaration, topic } from "../platform/topology.ts";
import {
  gatewayAlertSchema,
  gatewayChangeSchema,
  paymentCommandSchema,
  paymentEventSchema,
} from "./schemas.ts";

export const paymentsTopics = {
  /** Payment commands (requests, gateway callbacks, reversals), keyed by payment id. */
  paymentCommands: topic("payments.commands", partitionsDefault, "paymentId", paymentCommandSchema),
  /** Every event of every payment, keyed by payment id (state changes, attempts, outcomes). */
  paymentEvents: topic("payments.events", partitionsDefault, "paymentId", paymentEventSchema),
  /** Gateway registry changes; every orchestrator instance reloads the registry on each. */
  gatewayChanges: topic("payments.gateways", 1, "name", gatewayChangeSchema),
  /** Gateway down / recovered alerts (de-duplicated), keyed by gateway. */
  gatewayAlerts: topic("payments.alerts", 1, "gateway", gatewayAlertSchema),
} as const satisfies Record<string, TopicDeclaration>;
