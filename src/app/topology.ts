/**
 * The topology: every topic of every module, assembled here (each context declares its own in
 * `<context>/topics.ts`, offered by its module). The embedded log, `ledgerflow topics sync`, the
 * dead-letter tools and the schema snapshot all read this one table. A module's `topics` are these
 * same declarations; a test checks that the two agree.
 */

import { communityTopics } from "../community/index.ts";
import { identityTopics } from "../identity/index.ts";
import { ledgerTopics } from "../ledger/index.ts";
import { paymentsTopics } from "../payments/index.ts";
import type { TopicSpec } from "../platform/log/port.ts";
import { deadLetterTopic, type TopicDeclaration, topicSpecsOf } from "../platform/topology.ts";
import { riskTopics } from "../risk/index.ts";
import { tokensTopics } from "../tokens/index.ts";

export const topics = {
  ...ledgerTopics,
  ...paymentsTopics,
  ...tokensTopics,
  ...riskTopics,
  ...identityTopics,
  ...communityTopics,
} as const satisfies Record<string, TopicDeclaration>;

export type TopicName = keyof typeof topics;

export const topology: readonly TopicDeclaration[] = Object.values(topics);

/** All topic specs incl. dead-letter topics, with replication capped to the broker count. */
export function topicSpecs(brokersCount = 1): TopicSpec[] {
  return topicSpecsOf(topology, brokersCount);
}

export { deadLetterTopic };
