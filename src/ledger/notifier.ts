/**
 * Feeds this process's LedgerNotifications from the outcome and balance topics. Each API process has
 * its own consumer group starting at the end of the log: it only needs what happens from now on.
 */
import type { RunningConsumer } from "../platform/log/consumer.ts";
import { runConsumer } from "../platform/log/consumer.ts";
import type { Log } from "../platform/log/port.ts";
import type { TopicCodec } from "../platform/log/topic-codecs.ts";
import { type LedgerNotifications, resultFromPublished } from "./notifications.ts";
import { balanceChangedFromAvro, outcomeFromAvro } from "./schemas.ts";

export interface NotifierOptions {
  readonly log: Log;
  readonly groupId: string;
  readonly outcomeCodec: TopicCodec;
  readonly balanceChangedCodec: TopicCodec;
  readonly notifications: LedgerNotifications;
  readonly batchSizeMax: number;
}

export function startNotifier(options: NotifierOptions): Promise<RunningConsumer> {
  const { outcomeCodec, balanceChangedCodec, notifications } = options;
  return runConsumer(options.log, {
    groupId: options.groupId,
    topics: [outcomeCodec.topic, balanceChangedCodec.topic],
    batchSizeMax: options.batchSizeMax,
    fetchWaitMaxMs: 50,
    startFrom: "latest",
    retry: { attemptsMax: 3, backoffBaseMs: 20, backoffMaxMs: 1_000 },
    handle: async (records) => {
      for (const record of records) {
        if (record.topic === outcomeCodec.topic) {
          notifications.deliverOutcome(
            resultFromPublished(outcomeFromAvro(outcomeCodec.decode(record.value))),
          );
        } else if (notifications.hasBalanceListeners) {
          notifications.deliverBalanceChanged(
            balanceChangedFromAvro(balanceChangedCodec.decode(record.value)),
          );
        }
      }
    },
  });
}
