/**
 * The command handler: consumes `ledger.commands` in batches and applies each batch in one
 * transaction (see apply-batch.ts). Offsets are committed after the transaction, so a crash
 * redelivers the batch and idempotency records make the redelivery a no-op.
 */
import { PoisonMessageError } from "../platform/errors.ts";
import type { RetryPolicy, RunningConsumer } from "../platform/log/consumer.ts";
import { runConsumer } from "../platform/log/consumer.ts";
import type { Log, LogRecord } from "../platform/log/port.ts";
import type { TopicCodec } from "../platform/log/topic-codecs.ts";
import { type ApplyBatchDeps, applyCommandBatch, type BatchResult } from "./apply-batch.ts";
import { type CommandEnvelope, commandFromAvro } from "./schemas.ts";

export interface CommandHandlerOptions {
  readonly log: Log;
  readonly commandCodec: TopicCodec;
  readonly apply: ApplyBatchDeps;
  readonly groupId: string;
  readonly batchSizeMax: number;
  readonly fetchWaitMaxMs: number;
  /** See ConsumerOptions.fetchBytesMin (Kafka only). */
  readonly fetchBytesMin?: number;
  readonly retry: RetryPolicy;
  /** Called after each committed batch (wake the outbox relay, count metrics). */
  readonly afterBatch: (result: BatchResult, records: readonly LogRecord[], durationMs: number) => void;
  readonly onDeadLetter?: (record: LogRecord, error: unknown) => void;
}

export function decodeCommand(codec: TopicCodec, record: LogRecord): CommandEnvelope {
  const value = codec.decode(record.value);
  try {
    return commandFromAvro(value);
  } catch (cause) {
    throw new PoisonMessageError("record is not a ledger command", { cause });
  }
}

export function startCommandHandler(options: CommandHandlerOptions): Promise<RunningConsumer> {
  return runConsumer(options.log, {
    groupId: options.groupId,
    topics: [options.commandCodec.topic],
    batchSizeMax: options.batchSizeMax,
    fetchWaitMaxMs: options.fetchWaitMaxMs,
    fetchBytesMin: options.fetchBytesMin,
    startFrom: "earliest",
    retry: options.retry,
    ...(options.onDeadLetter ? { onDeadLetter: options.onDeadLetter } : {}),
    handle: async (records) => {
      const startedMs = performance.now();
      const batch = records.map((record) => decodeCommand(options.commandCodec, record));
      const result = await applyCommandBatch(options.apply, batch);
      options.afterBatch(result, records, performance.now() - startedMs);
    },
  });
}
