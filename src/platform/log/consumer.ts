import { type Random, systemRandom } from "../clock.ts";
import { asInfrastructureError } from "../db/errors.ts";
import { InfrastructureError, InvariantViolation, PoisonMessageError, UnavailableError } from "../errors.ts";
import type { BatchErrorDecision, ConsumerOptions, Log, LogRecord, OutgoingRecord } from "./port.ts";

export interface RetryPolicy {
  /** Failed attempts of a batch before it is retried record by record to find the poison record. */
  readonly attemptsMax: number;
  readonly backoffBaseMs: number;
  readonly backoffMaxMs: number;
}

export interface RunConsumerOptions {
  readonly groupId: string;
  readonly topics: readonly string[];
  /** Handles a batch; throws PoisonMessageError for a record that can never succeed. */
  readonly handle: (records: readonly LogRecord[]) => Promise<void>;
  readonly retry: RetryPolicy;
  /** Where a poison record of `topic` goes; the topic must exist. Default `<topic>.dlq`. */
  readonly deadLetterTopic?: (topic: string) => string;
  readonly batchSizeMax?: number;
  readonly fetchWaitMaxMs?: number;
  /** See ConsumerOptions.fetchBytesMin; default 1. */
  readonly fetchBytesMin?: number;
  readonly startFrom?: ConsumerOptions["startFrom"];
  /** Jitter for backoffs. */
  readonly random?: Random;
  /** Told about every dead-lettered record, for logs and metrics. */
  readonly onDeadLetter?: (record: LogRecord, error: unknown) => void;
}

export interface RunningConsumer {
  /** Leaves the group after the batch in flight. */
  stop(): Promise<void>;
  /**
   * Settles when the consumer stops: resolves after `stop()`, rejects with the InvariantViolation
   * that stopped it. Left unhandled, that rejection crashes the process, which is the point.
   */
  readonly done: Promise<void>;
  assignment(): readonly { topic: string; partition: number }[];
}

/** Header names of a dead-lettered record (its own headers are kept too). */
export const deadLetterHeaders = {
  errorCode: "dlq.error.code",
  errorMessage: "dlq.error.message",
  topic: "dlq.original.topic",
  partition: "dlq.original.partition",
  offset: "dlq.original.offset",
  attempts: "dlq.attempts",
} as const;

/** Exponential backoff with jitter: uniform in [cap/2, cap], cap = min(max, base * 2^(attempt-1)). */
export function backoffMs(retry: RetryPolicy, attempt: number, random: Random): number {
  const cap = Math.min(retry.backoffMaxMs, retry.backoffBaseMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(cap / 2 + (random.next() * cap) / 2);
}

/**
 * Runs a group consumer with the platform's failure policy, identical for every log adapter:
 * - a failing batch is redelivered with exponential backoff and jitter;
 * - a PoisonMessageError, or a batch still failing after `attemptsMax` attempts, makes the batch
 *   run record by record; a record that fails on its own (other than with UnavailableError, which
 *   says a dependency is down, not that the record is bad) goes to the dead-letter topic with its
 *   error in headers, and is skipped;
 * - an InvariantViolation stops the consumer without committing and rejects `done`.
 */
export async function runConsumer(log: Log, options: RunConsumerOptions): Promise<RunningConsumer> {
  const random = options.random ?? systemRandom;
  const deadLetterTopic = options.deadLetterTopic ?? ((topic: string) => `${topic}.dlq`);
  const consumer = log.consumer({
    groupId: options.groupId,
    topics: options.topics,
    batchSizeMax: options.batchSizeMax ?? 500,
    fetchWaitMaxMs: options.fetchWaitMaxMs ?? 500,
    fetchBytesMin: options.fetchBytesMin ?? 1,
    startFrom: options.startFrom ?? "earliest",
  });
  const done = Promise.withResolvers<void>();
  let isolateNextDelivery = false;
  let attemptsSoFar = 0;

  const deadLetter = async (record: LogRecord, error: unknown, attempts: number): Promise<void> => {
    // Durable before the batch is committed, so a poison record is never just dropped.
    await log.producer().send([deadLetterRecord(deadLetterTopic(record.topic), record, error, attempts)]);
    options.onDeadLetter?.(record, error);
  };
  const handleOneByOne = (records: readonly LogRecord[], attempts: number) =>
    handleEachAlone(records, attempts, options.handle, deadLetter);

  const eachBatch = async (records: readonly LogRecord[]): Promise<void> => {
    const attempt = attemptsSoFar + 1;
    if (isolateNextDelivery) {
      await handleOneByOne(records, attempt);
    } else {
      try {
        await options.handle(records);
      } catch (error) {
        if (!(error instanceof PoisonMessageError)) throw error;
        // Retrying cannot help; find the bad record(s) now.
        if (records.length === 1) await deadLetter(records[0] as LogRecord, error, attempt);
        else await handleOneByOne(records, attempt);
      }
    }
    isolateNextDelivery = false;
    attemptsSoFar = 0;
  };

  const onError = (error: unknown, attempt: number): BatchErrorDecision => {
    if (error instanceof InvariantViolation) {
      // Stop without committing; `done` rejects once the consumer has left its group.
      void consumer.stop().then(() => done.reject(error), done.reject);
      return { stop: true };
    }
    attemptsSoFar = attempt;
    if (attempt >= options.retry.attemptsMax) isolateNextDelivery = true;
    return { retryAfterMs: backoffMs(options.retry, attempt, random) };
  };

  await consumer.start(eachBatch, onError);
  return {
    async stop() {
      await consumer.stop();
      done.resolve();
    },
    done: done.promise,
    assignment: () => consumer.assignment(),
  };
}

/** The dead-letter copy of `record`: same key, value and headers, plus its error and origin. */
function deadLetterRecord(
  topic: string,
  record: LogRecord,
  error: unknown,
  attempts: number,
): OutgoingRecord {
  return {
    topic,
    key: record.key,
    value: record.value,
    headers: {
      ...record.headers,
      [deadLetterHeaders.errorCode]: errorCode(error),
      [deadLetterHeaders.errorMessage]: error instanceof Error ? error.message : String(error),
      [deadLetterHeaders.topic]: record.topic,
      [deadLetterHeaders.partition]: String(record.partition),
      [deadLetterHeaders.offset]: record.offset.toString(),
      [deadLetterHeaders.attempts]: String(attempts),
    },
  };
}

/**
 * Handles each record as a batch of its own; a record that fails for its own sake is dead-lettered,
 * a passing condition is rethrown so the whole batch is retried.
 */
async function handleEachAlone(
  records: readonly LogRecord[],
  attempts: number,
  handle: RunConsumerOptions["handle"],
  deadLetter: (record: LogRecord, error: unknown, attempts: number) => Promise<void>,
): Promise<void> {
  for (const record of records) {
    try {
      await handle([record]);
    } catch (thrown) {
      // Handlers may surface raw driver errors (a refused connection while PostgreSQL restarts):
      // classify them the same way everywhere before deciding whose fault it is.
      const error = asInfrastructureError(thrown);
      // Passing conditions (a dependency down, a deadlock or a lost race) are retried as a batch,
      // never blamed on the record.
      if (error instanceof InvariantViolation || error instanceof UnavailableError || isConflict(error))
        throw error;
      await deadLetter(record, error, attempts);
    }
  }
}

function errorCode(error: unknown): string {
  if (error instanceof InfrastructureError) return error.code;
  if (error instanceof Error) return error.name;
  return "unknown";
}

function isConflict(error: unknown): boolean {
  return error instanceof InfrastructureError && error.code === "conflict";
}
