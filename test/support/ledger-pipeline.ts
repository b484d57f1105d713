/**
 * The ledger pipeline's real pieces wired for tests (PostgreSQL log, command handler, outbox relay),
 * plus fault injection: a store whose transactions fail or "crash" on a schedule, and a producer
 * whose sends fail after they were made durable.
 */
import type pg from "pg";
import { topicSpecs } from "../../src/app/topology.ts";
import { partitionKey } from "../../src/ledger/command-gateway.ts";
import type { LedgerCommand } from "../../src/ledger/domain/types.ts";
import { commandToAvro } from "../../src/ledger/schemas.ts";
import type { LedgerStore } from "../../src/ledger/store.ts";
import { InvariantViolation, UnavailableError } from "../../src/platform/errors.ts";
import { createPostgresLog } from "../../src/platform/log/adapters/postgres.ts";
import type { Log, LogRecord, Producer } from "../../src/platform/log/port.ts";
import { decodeOutboxBatch } from "../../src/platform/outbox.ts";
import { type OutboxRelay, startOutboxRelay } from "../../src/platform/outbox-relay.ts";
import type { LedgerCodecs } from "./ledger-fixtures.ts";

/** Empties the log and the ledger (not the schema registry or identity), then recreates the topics. */
export async function resetPipelineTables(pool: pg.Pool): Promise<void> {
  await pool.query(
    `TRUNCATE log_topics, log_partitions, log_batches, log_group_offsets,
              ledger_accounts, ledger_transfers, ledger_entries, ledger_commands, ledger_outbox CASCADE`,
  );
}

export async function openLog(pool: pg.Pool): Promise<Log> {
  const log = createPostgresLog({ pool, pollIntervalMs: 20, lingerMs: 0 });
  await log.admin().createTopics(topicSpecs(1));
  return log;
}

export async function produceCommands(
  producer: Producer,
  codecs: LedgerCodecs,
  commands: readonly LedgerCommand[],
  issuedAtMs: number,
): Promise<void> {
  if (commands.length === 0) return;
  await producer.send(
    commands.map((command) => ({
      topic: codecs.commands.topic,
      key: partitionKey(command),
      value: codecs.commands.encode(commandToAvro({ command, issuedAtMs })),
    })),
  );
}

/** Every record of a topic, all partitions, in partition then offset order. */
export async function readTopic(log: Log, topic: string): Promise<LogRecord[]> {
  const ends = await log.admin().endOffsets(topic);
  const records: LogRecord[] = [];
  for (const [partition, end] of ends.entries()) {
    let offset = 0n;
    while (offset < end) {
      const page = await log.read(topic, partition, offset, 10_000);
      if (page.length === 0) break;
      records.push(...page);
      offset = (page.at(-1)?.offset ?? offset) + 1n;
    }
  }
  return records;
}

export async function waitUntil(
  what: string,
  condition: () => Promise<boolean>,
  timeoutMs: number,
  intervalMs = 20,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting until ${what}`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

// --- Fault injection ------------------------------------------------------------------------------

/** What happens to one handler transaction. */
export type Fault =
  | "none"
  /** A dependency error before anything is written: the same consumer retries the batch. */
  | "failBeforePersist"
  /** The process dies after writing, before COMMIT: rolled back, the consumer is gone. */
  | "killBeforeCommit"
  /** The process dies after COMMIT, before the offset commit: the next consumer redelivers. */
  | "killAfterCommit"
  /** An error after COMMIT (e.g. the offset commit connection broke): the same consumer redelivers. */
  | "failAfterCommit";

/** The injected "kill": an InvariantViolation makes runConsumer stop without committing offsets. */
export class InjectedKill extends InvariantViolation {
  constructor(where: string) {
    super(`injected kill ${where}`);
  }
}

/** Hands out faults in order, one per transaction, then "none" forever. */
export class FaultPlan {
  readonly #faults: Fault[];
  readonly seen: Fault[] = [];
  constructor(faults: readonly Fault[]) {
    this.#faults = [...faults];
  }
  next(): Fault {
    const fault = this.#faults.shift() ?? "none";
    this.seen.push(fault);
    return fault;
  }
  get remaining(): number {
    return this.#faults.length;
  }
}

/**
 * A store applying `plan` to each transaction. Returns the store and a hook for the handler's
 * `afterBatch`, where the after-commit faults fire (after the transaction committed).
 */
export function faultyStore(
  real: LedgerStore,
  plan: FaultPlan,
): { store: LedgerStore; afterCommit: () => void } {
  let afterCommitFault: Fault = "none";
  const store: LedgerStore = {
    transaction: (work) =>
      real.transaction((tx) => {
        const fault = plan.next();
        afterCommitFault = fault;
        return work({
          ...tx,
          async persist(changes) {
            if (fault === "failBeforePersist") throw new UnavailableError("injected dependency failure");
            await tx.persist(changes);
            if (fault === "killBeforeCommit") throw new InjectedKill("before COMMIT");
          },
        });
      }),
  };
  const afterCommit = () => {
    const fault = afterCommitFault;
    afterCommitFault = "none";
    if (fault === "killAfterCommit") throw new InjectedKill("after COMMIT, before the offset commit");
    if (fault === "failAfterCommit") throw new UnavailableError("injected failure after COMMIT");
  };
  return { store, afterCommit };
}

/** A producer whose sends fail (after being durable) on the given call numbers: the relay republishes. */
export function flakyProducer(real: Producer, failingCalls: ReadonlySet<number>): Producer {
  let calls = 0;
  return {
    async send(records) {
      calls += 1;
      const positions = await real.send(records);
      if (failingCalls.has(calls)) throw new UnavailableError("injected: published, then lost the ack");
      return positions;
    },
  };
}

export function startLedgerRelay(pool: pg.Pool, producer: Producer): OutboxRelay {
  return startOutboxRelay({
    pool,
    producer,
    table: "ledger_outbox",
    decode: decodeOutboxBatch,
    rowsPerPublishMax: 8,
    pollIntervalMs: 10,
    onError: () => {},
  });
}
