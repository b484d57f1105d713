/**
 * The ledger module: the command handler (consumer group `ledger-handler`), the outbox relay
 * (Kafka mode), the pending-transfer sweeper, the notifier, and the REST routes. Its published
 * interface (`LedgerApi`, see index.ts) is how every other context and edge uses the ledger.
 */
import { join } from "node:path";
import type pg from "pg";
import type pino from "pino";
import type { Clock, IdGenerator, Random } from "../platform/clock.ts";
import type { PreHandler } from "../platform/http/auth.ts";
import type { PostgresLog } from "../platform/log/adapters/postgres.ts";
import type { Log, LogRecord } from "../platform/log/port.ts";
import {
  type PartitionState,
  type StallWatchdog,
  startStallWatchdog,
} from "../platform/log/stall-watchdog.ts";
import { createTopicCodec, type TopicCodec } from "../platform/log/topic-codecs.ts";
import type { PlatformMetrics } from "../platform/metrics.ts";
import { type LedgerflowModule, type ModuleRun, stopper } from "../platform/module.ts";
import { decodeOutboxBatch } from "../platform/outbox.ts";
import { type RelayPublishSample, startOutboxRelay } from "../platform/outbox-relay.ts";
import type { SchemaRegistry } from "../platform/schema-registry/port.ts";
import { startupRetry } from "../platform/startup.ts";
import { createPostgresAccountClaims } from "./account-claims.ts";
import { createPostgresLedgerStore, logOutbox, tableOutbox } from "./adapters/postgres.ts";
import type { BatchResult } from "./apply-batch.ts";
import { AcceptedCommands, type CommandGateway, createCommandGateway } from "./command-gateway.ts";
import { createLedgerCommandService } from "./command-service.ts";
import { type LedgerConfig, ledgerConfig } from "./config.ts";
import { startCommandHandler } from "./handler.ts";
import type { LedgerHttpDeps } from "./http/common.ts";
import { ledgerRoutes } from "./http/routes.ts";
import { LiveStats } from "./live-stats.ts";
import { type CommandResult, LedgerNotifications } from "./notifications.ts";
import { startNotifier } from "./notifier.ts";
import { startPendingSweeper } from "./pending-sweeper.ts";
import type { LedgerApi } from "./published.ts";
import { createLedgerQueries } from "./queries.ts";
import type { CommandScreening } from "./screening.ts";
import type { TransferStepUp } from "./step-up.ts";
import { systemAccounts } from "./system-accounts.ts";
import { ledgerTopics } from "./topics.ts";

export interface LedgerDeps {
  readonly config: LedgerConfig;
  readonly pool: pg.Pool;
  readonly log: Log;
  readonly registry: SchemaRegistry;
  readonly clock: Clock;
  readonly ids: IdGenerator;
  readonly logger: pino.Logger;
  readonly metrics: PlatformMetrics;
  readonly authenticate: PreHandler;
  /** Secrets (account tokens) are drawn from here. */
  readonly random: Random;
  readonly onBatch?: (result: BatchResult, records: readonly LogRecord[], durationMs: number) => void;
  readonly observeRelayPublish?: (sample: RelayPublishSample) => void;
  /** Screens movements before the handler decides them (the risk context's screener); none when absent. */
  readonly screening?: CommandScreening;
  /** Passkey confirmation of large transfers (identity's); none needed when absent. */
  readonly stepUp?: TransferStepUp;
}

interface LedgerCodecs {
  readonly commands: TopicCodec;
  readonly outcomes: TopicCodec;
  readonly balanceChanged: TopicCodec;
}

async function ledgerCodecs(registry: SchemaRegistry): Promise<LedgerCodecs> {
  // A registry that is down at start (e.g. restarting with its database) is waited for, bounded.
  return startupRetry.execute(async () => ({
    commands: await createTopicCodec(registry, ledgerTopics.ledgerCommands),
    outcomes: await createTopicCodec(registry, ledgerTopics.ledgerOutcomes),
    balanceChanged: await createTopicCodec(registry, ledgerTopics.balanceChanged),
  }));
}

/** The consumer group of the command handlers. */
const handlerGroupId = "ledger-handler";

/**
 * Watches the command handlers' group: accepted commands that sit in the log with nobody deciding
 * them are logged (once when the stall starts, once when it ends) and exported on /metrics.
 */
function startHandlerStallWatchdog(deps: LedgerDeps): StallWatchdog {
  const { config, log, clock, logger, metrics } = deps;
  const describe = (p: PartitionState) => ({
    group: p.groupId,
    topic: p.topic,
    partition: p.partition,
    committed: String(p.committed ?? "none"),
    end: String(p.end),
    lag: String(p.lag),
    stuckForMs: p.stuckForMs,
  });
  return startStallWatchdog({
    admin: log.admin(),
    groups: [{ groupId: handlerGroupId, topics: [ledgerTopics.ledgerCommands.spec.name] }],
    stallAfterMs: config.handler.stallAfterMs,
    checkIntervalMs: config.handler.stallCheckIntervalMs,
    nowMs: () => clock.nowMs(),
    registry: metrics.registry,
    onStalled: (p) =>
      logger.warn(describe(p), "partition stalled: committed offset trails the log end without progress"),
    onResumed: (p) => logger.info(describe(p), "stalled partition moves again"),
    onCheckFailed: (error) => logger.debug({ err: error }, "stall watchdog: offsets not readable"),
  });
}

/** The command handler, and (Kafka mode) the relay that publishes its outbox. */
async function startCommandSide(
  deps: LedgerDeps,
  run: ModuleRun,
  codecs: LedgerCodecs,
  stops: ReturnType<typeof stopper>,
): Promise<string[]> {
  const { config, log, pool, logger, metrics, clock } = deps;
  const running: string[] = [];
  // Embedded: the handler writes events into the log in its own transaction, so the log is the
  // outbox and no relay is needed. Kafka: events go through the outbox table and the relay.
  const eventsIntoLog = "appendWithin" in log;
  let wakeRelay = () => {};
  if (run.abilities.projections && !eventsIntoLog) {
    const relay = startOutboxRelay({
      pool,
      producer: log.producer(),
      table: "ledger_outbox",
      decode: decodeOutboxBatch,
      rowsPerPublishMax: config.handler.relayRowsPerPublishMax,
      pollIntervalMs: config.handler.relayPollIntervalMs,
      onError: (error) => logger.warn({ err: error }, "outbox relay"),
      ...(deps.observeRelayPublish ? { onPublished: deps.observeRelayPublish } : {}),
    });
    stops.add(() => relay.stop());
    wakeRelay = () => relay.wake();
    running.push("ledger.outbox-relay");
  }
  if (!run.abilities.commands) return running;
  const handler = await startCommandHandler({
    log,
    commandCodec: codecs.commands,
    groupId: handlerGroupId,
    batchSizeMax: config.handler.batchSizeMax,
    fetchWaitMaxMs: config.handler.fetchWaitMaxMs,
    fetchBytesMin: config.handler.fetchBytesMin,
    retry: {
      attemptsMax: config.handler.retryAttemptsMax,
      backoffBaseMs: config.handler.retryBackoffBaseMs,
      backoffMaxMs: config.handler.retryBackoffMaxMs,
    },
    apply: {
      store: createPostgresLedgerStore(pool, eventsIntoLog ? logOutbox(log as PostgresLog) : tableOutbox),
      outcomeCodec: codecs.outcomes,
      balanceChangedCodec: codecs.balanceChanged,
      ibanFormat: { country: config.ledger.ibanCountry, bankCode: config.ledger.ibanBankCode },
      nowMs: () => clock.nowMs(),
      ...(deps.screening ? { screening: deps.screening } : {}),
    },
    afterBatch: (result, records, durationMs) => {
      metrics.handlerBatchSize.observe(records.length);
      metrics.handlerBatchSeconds.observe(durationMs / 1000);
      wakeRelay();
      deps.onBatch?.(result, records, durationMs);
    },
    onDeadLetter: (record, error) =>
      logger.error({ err: error, topic: record.topic, offset: String(record.offset) }, "dead-lettered"),
  });
  handler.done.catch(run.crash);
  stops.add(() => handler.stop());
  running.push("ledger.command-handler");
  return running;
}

/** Every outcome this process learns of feeds the live statistics and the metrics. */
function observeOutcome(deps: LedgerDeps, liveStats: LiveStats, result: CommandResult): void {
  const nowMs = deps.clock.nowMs();
  liveStats.record(result, nowMs);
  deps.metrics.commandOutcomes.inc({ status: result.status, reason: result.reason ?? "" });
  deps.metrics.commandLatency.observe(Math.max(0, nowMs - result.issuedAtMs) / 1000);
}

/** The pending-transfer sweeper (projections) and the notifier, as the role allows. */
async function startFollowers(
  deps: LedgerDeps,
  run: ModuleRun,
  parts: { codecs: LedgerCodecs; gateway: CommandGateway; notifications: LedgerNotifications },
  stops: ReturnType<typeof stopper>,
): Promise<string[]> {
  const { config, pool, log, clock, logger } = deps;
  const running: string[] = [];
  if (run.abilities.projections) {
    const sweeper = startPendingSweeper({
      pool,
      gateway: parts.gateway,
      nowMs: () => clock.nowMs(),
      intervalMs: config.handler.pendingSweepIntervalMs,
      batchSizeMax: config.handler.pendingSweepBatchSizeMax,
      onError: (error) => logger.warn({ err: error }, "pending sweeper"),
    });
    stops.add(() => sweeper.stop());
    running.push("ledger.pending-sweeper");
  }
  if (run.abilities.notifier) {
    const notifier = await startNotifier({
      log,
      groupId: `notifier-${deps.ids.uuid()}`,
      outcomeCodec: parts.codecs.outcomes,
      balanceChangedCodec: parts.codecs.balanceChanged,
      notifications: parts.notifications,
      batchSizeMax: config.handler.notifierBatchSizeMax,
    });
    stops.add(() => notifier.stop());
    notifier.done.catch(run.crash);
    running.push("ledger.notifier");
  }
  return running;
}

export const ledgerModule: LedgerflowModule<LedgerDeps, LedgerApi> = {
  name: "ledger",
  config: ledgerConfig,
  migrations: [join(import.meta.dirname, "migrations")],
  topics: ledgerTopics,
  async start(deps, run) {
    const { config, pool, log, clock, logger } = deps;
    const stops = stopper((error) => logger.warn({ err: error }, "ledger stop"));
    try {
      const codecs = await ledgerCodecs(deps.registry);
      const notifications = new LedgerNotifications();
      const queries = createLedgerQueries(pool);
      const accepted = new AcceptedCommands(config.ledger.acceptedRememberedMax);
      const liveStats = new LiveStats(config.ledger.liveStatsWindowS);
      notifications.onOutcome((result) => {
        accepted.delete(result.commandId);
        observeOutcome(deps, liveStats, result);
      });
      const gateway = createCommandGateway({
        producer: log.producer(),
        codec: codecs.commands,
        notifications,
        queries,
        accepted,
        nowMs: () => clock.nowMs(),
      });
      const running = await startCommandSide(deps, run, codecs, stops);
      if (run.abilities.commands || run.abilities.http) {
        const watchdog = startHandlerStallWatchdog(deps);
        stops.add(() => watchdog.stop());
        running.push("ledger.stall-watchdog");
      }
      running.push(...(await startFollowers(deps, run, { codecs, gateway, notifications }, stops)));
      const commands = createLedgerCommandService({
        gateway,
        accepted,
        queries,
        notifications,
        clock,
        random: deps.random,
        accountClaims: createPostgresAccountClaims(pool),
        waitMsMax: config.http.waitMsMax,
        holdTimeoutMsMax: config.ledger.holdTimeoutMsMax,
        ...(deps.stepUp === undefined ? {} : { stepUp: deps.stepUp }),
      });
      const http: LedgerHttpDeps = {
        commands,
        queries,
        waitMsMax: config.http.waitMsMax,
        transfersPerBatchMax: config.ledger.transfersPerBatchMax,
        holdTimeoutMsMax: config.ledger.holdTimeoutMsMax,
        authenticate: deps.authenticate,
        liveStats,
      };
      const published: LedgerApi = {
        submit: (command, waitMs) => gateway.submit(command, waitMs),
        submitMany: (commands) => gateway.submitMany(commands),
        waitForOutcome: (commandId, waitMs) => notifications.waitFor(commandId, waitMs),
        onOutcome: (listener) => notifications.onOutcome(listener),
        queries,
        notifications,
        systemAccountIban: systemAccounts({ gateway, queries }),
        codecs,
        commands,
        liveStats,
      };
      return { published, routes: [(app) => ledgerRoutes(app, http)], running, stop: stops.stop };
    } catch (error) {
      await stops.stop();
      throw error;
    }
  },
};
