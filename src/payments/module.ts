/**
 * The payments module: the payment store and driver, the orchestrator with its gateway registry,
 * the `payments.commands` processor, the registry-change listener, the `payments_outbox` relay,
 * alerts and metrics, and the payments routes. It uses the ledger only through its published
 * interface. Gateways given in `seedGateways` (e.g. the simulators the composition root starts in
 * embedded mode) are registered on first start.
 */
import { join } from "node:path";
import type pg from "pg";
import type pino from "pino";
import type { Registry } from "prom-client";
import type { LedgerApi } from "../ledger/index.ts";
import { type Clock, type IdGenerator, type Random, systemRandom } from "../platform/clock.ts";
import type { PreHandler } from "../platform/http/auth.ts";
import { type RunningConsumer, runConsumer } from "../platform/log/consumer.ts";
import type { Log, LogRecord, Producer } from "../platform/log/port.ts";
import { createTopicCodec, type TopicCodec } from "../platform/log/topic-codecs.ts";
import { type LedgerflowModule, stopper } from "../platform/module.ts";
import { decodeOutboxBatch } from "../platform/outbox.ts";
import { startOutboxRelay } from "../platform/outbox-relay.ts";
import type { SchemaRegistry } from "../platform/schema-registry/port.ts";
import { type AlertChannel, type Alerter, configuredAlertChannels, createAlerter } from "./alerts.ts";
import { type AlertsConfig, type PaymentsConfig, paymentsConfig } from "./config.ts";
import type { PaymentCommand, PaymentState } from "./domain/types.ts";
import { createPaymentDriver, type DriverOptions, type PaymentDriver } from "./driver.ts";
import { paymentRoutes } from "./http.ts";
import { createPaymentsLedger } from "./ledger-port.ts";
import { createPaymentMetrics, type PaymentMetrics } from "./metrics.ts";
import { createOrchestrator, type Orchestrator, type OrchestratorOptions } from "./orchestrator.ts";
import { createGatewayRegistry, type GatewayInput, type GatewayRegistry } from "./registry.ts";
import type { RunningPayments, StartedGateways } from "./running.ts";
import { commandFromAvro, commandToAvro } from "./schemas.ts";
import { createPaymentStore, type PaymentStore } from "./store.ts";
import { paymentsTopics } from "./topics.ts";

/** Test and tool hooks; everything an operator sets is in the configuration. */
export interface PaymentsOptions {
  /** Gateways to register on first start (by name; existing registrations are kept). */
  readonly seedGateways?: StartedGateways;
  /** Registry fields to use for some seeded gateways when they are first registered, by name. */
  readonly seedOverrides?: Readonly<Record<string, Partial<GatewayInput>>>;
  /** Re-point kept registrations of seeded gateways to their current URL and secret (simulators). */
  readonly repointSeeded?: boolean;
  /** Extra alert channels (tests). */
  readonly alertChannels?: readonly AlertChannel[];
  readonly orchestrator?: Partial<OrchestratorOptions>;
  readonly driver?: Partial<DriverOptions>;
  readonly random?: Random;
}

export interface PaymentsDeps {
  readonly config: {
    readonly payments: PaymentsConfig;
    readonly alerts: AlertsConfig;
    readonly waitMsMax: number;
  };
  readonly pool: pg.Pool;
  readonly log: Log;
  readonly registry: SchemaRegistry;
  readonly clock: Clock;
  readonly ids: IdGenerator;
  readonly logger: pino.Logger;
  /** The platform's metrics registry, so one scrape of /metrics sees payments with everything else. */
  readonly metricsRegistry: Registry;
  readonly ledger: LedgerApi;
  readonly authenticate: PreHandler;
  readonly options?: PaymentsOptions;
}

/** Registry entry of a running gateway, as the orchestrator should see it. */
export function seedGatewayInputs(started: StartedGateways): GatewayInput[] {
  return started.gateways.map((g, i) => {
    const p = g.profile();
    return {
      name: g.name,
      url: g.url,
      regions: [...p.regions],
      currencies: [...p.currencies],
      methods: [...p.methods],
      amountMin: "1",
      amountMax: p.amountMax,
      weight: 100,
      costBps: 10 + 5 * i,
      enabled: true,
      timeoutMs: 2_000,
      // Stay under the gateway's own limit: excess goes elsewhere instead of collecting 429s.
      rateLimit:
        p.rateLimit === null
          ? null
          : {
              perSecond: p.rateLimit.requestsPerSecond * 0.9,
              burst: Math.max(1, Math.floor(p.rateLimit.burst * 0.9)),
            },
      callbackSecret: g.callbackSecret,
    };
  });
}

async function seedRegistry(
  registry: GatewayRegistry,
  clock: Clock,
  options: PaymentsOptions,
): Promise<void> {
  if (options.seedGateways)
    for (const input of seedGatewayInputs(options.seedGateways)) {
      await registry.seed({ ...input, ...options.seedOverrides?.[input.name] }, clock.nowMs());
      // Simulators listen on fresh ports with a fresh callback secret each run: re-point a
      // registration kept from an earlier run (its other settings, e.g. weights, stay as set).
      await registry.reload();
      const stored = registry.stored().find((g) => g.name === input.name);
      const moved =
        stored && (stored.config.url !== input.url || stored.config.callbackSecret !== input.callbackSecret);
      if (options.repointSeeded && moved)
        await registry.update(
          input.name,
          { url: input.url, callbackSecret: input.callbackSecret },
          clock.nowMs(),
        );
    }
  await registry.reload();
}

function startAlerter(deps: PaymentsDeps, producer: Producer, alertCodec: TopicCodec): Alerter {
  const { logger, clock } = deps;
  const topicChannel: AlertChannel = {
    name: "log",
    async send(alert) {
      logger.warn({ alert }, `gateway ${alert.gateway} ${alert.kind}`);
      await producer.send([
        {
          topic: alertCodec.topic,
          key: alert.gateway,
          value: alertCodec.encode({ ...alert, atMs: BigInt(alert.atMs) }),
        },
      ]);
    },
  };
  return createAlerter({
    channels: [
      ...configuredAlertChannels(deps.config.alerts, deps.clock),
      ...(deps.options?.alertChannels ?? []),
      topicChannel,
    ],
    clock,
    quietMs: deps.config.alerts.quietMs,
    onError: (channel, error) => logger.warn({ err: error, channel }, "alert not delivered"),
  });
}

function startOrchestrator(
  deps: PaymentsDeps,
  registry: GatewayRegistry,
  alerter: Alerter,
  metrics: PaymentMetrics,
) {
  const orchestrator = createOrchestrator({
    gateways: () => registry.list(),
    clock: deps.clock,
    random: deps.options?.random ?? systemRandom,
    ...(deps.options?.orchestrator ? { options: deps.options.orchestrator } : {}),
    observer: {
      ...metrics.observer,
      breakerChanged(gateway, state, reason) {
        metrics.observer.breakerChanged?.(gateway, state, reason);
        alerter.breakerChanged(gateway, state, reason);
      },
    },
  });
  metrics.watch(orchestrator);
  orchestrator.startHealthChecks();
  registry.onChange(() => orchestrator.sync());
  return orchestrator;
}

/** Payments waiting for their final state: woken when this process finishes one (pushed). */
function completionWaiters(store: PaymentStore, clock: Clock, checkIntervalMs: number) {
  const waiters = new Map<string, Set<() => void>>();
  const wake = (paymentId: string) => {
    for (const resolve of waiters.get(paymentId) ?? []) resolve();
  };
  const waitForFinal = async (paymentId: string, waitMs: number): Promise<PaymentState | undefined> => {
    const until = clock.nowMs() + waitMs;
    for (;;) {
      const state = await store.get(paymentId);
      const leftMs = until - clock.nowMs();
      if ((state && state.stage === "done") || leftMs <= 0) return state;
      // Woken by this process's driver; a payment driven elsewhere is looked up now and then.
      await new Promise<void>((resolve) => {
        const set = waiters.get(paymentId) ?? new Set();
        waiters.set(paymentId, set);
        const done = () => {
          clearTimeout(timer);
          set.delete(done);
          if (set.size === 0) waiters.delete(paymentId);
          resolve();
        };
        const timer = setTimeout(done, Math.min(leftMs, checkIntervalMs));
        set.add(done);
      });
    }
  };
  return { wake, waitForFinal };
}

async function startProcessor(
  deps: PaymentsDeps,
  store: PaymentStore,
  driver: PaymentDriver,
  commandCodec: TopicCodec,
): Promise<RunningConsumer> {
  const { logger, clock, config } = deps;
  const handleCommand = async (record: LogRecord) => {
    const command = commandFromAvro(commandCodec.decode(record.value));
    const applied = await store.apply(command, clock.nowMs());
    if (!applied.decision.ok) {
      logger.warn(
        { paymentId: command.paymentId, code: applied.decision.code },
        `payment command ${command.type} rejected`,
      );
      return;
    }
    void driver.drive(command.paymentId);
  };
  return runConsumer(deps.log, {
    groupId: "payments-processor",
    topics: [commandCodec.topic],
    batchSizeMax: config.payments.processorBatchSizeMax,
    fetchWaitMaxMs: config.payments.processorFetchWaitMaxMs,
    retry: { attemptsMax: 5, backoffBaseMs: 50, backoffMaxMs: 5_000 },
    handle: async (records) => {
      // One payment's commands in order; different payments in parallel.
      const byPayment = new Map<string, LogRecord[]>();
      for (const record of records) byPayment.set(record.key, [...(byPayment.get(record.key) ?? []), record]);
      await Promise.all(
        [...byPayment.values()].map(async (list) => {
          for (const record of list) await handleCommand(record);
        }),
      );
    },
    onDeadLetter: (record, error) =>
      logger.error({ err: error, offset: String(record.offset) }, "payment command dead-lettered"),
  });
}

interface PaymentsCore {
  readonly producer: Producer;
  readonly codecs: { readonly commands: TopicCodec; readonly changes: TopicCodec };
  readonly store: PaymentStore;
  readonly registry: GatewayRegistry;
  readonly orchestrator: Orchestrator;
  readonly metrics: PaymentMetrics;
  readonly alerter: Alerter;
}

async function startCore(deps: PaymentsDeps, stops: ReturnType<typeof stopper>): Promise<PaymentsCore> {
  const codec = (topic: (typeof paymentsTopics)[keyof typeof paymentsTopics]) =>
    createTopicCodec(deps.registry, topic);
  const [commands, events, changes, alerts] = await Promise.all([
    codec(paymentsTopics.paymentCommands),
    codec(paymentsTopics.paymentEvents),
    codec(paymentsTopics.gatewayChanges),
    codec(paymentsTopics.gatewayAlerts),
  ]);
  const producer = deps.log.producer();
  const store = createPaymentStore(deps.pool, events);
  const registry = createGatewayRegistry(deps.pool, changes);
  await seedRegistry(registry, deps.clock, deps.options ?? {});
  const alerter = startAlerter(deps, producer, alerts);
  const metrics = createPaymentMetrics(deps.metricsRegistry);
  const orchestrator = startOrchestrator(deps, registry, alerter, metrics);
  stops.add(() => orchestrator.stop());
  return { producer, codecs: { commands, changes }, store, registry, orchestrator, metrics, alerter };
}

async function startPayments(deps: PaymentsDeps, processors: boolean, stops: ReturnType<typeof stopper>) {
  const { clock, logger, config } = deps;
  const core = await startCore(deps, stops);
  const { store, orchestrator, metrics } = core;
  const completion = completionWaiters(store, clock, config.payments.completionCheckIntervalMs);
  let callbackBase: string | (() => string | undefined) | undefined = config.payments.publicUrl;
  const driver = createPaymentDriver({
    store,
    orchestrator,
    ledger: createPaymentsLedger({ ledger: deps.ledger, waitMs: config.payments.ledgerWaitMs }),
    clock,
    instanceId: deps.ids.uuid(),
    callbackUrl: () => {
      const base = typeof callbackBase === "function" ? callbackBase() : callbackBase;
      return base === undefined ? undefined : `${base}/v1/payments/callbacks`;
    },
    onFinished: (payment) => {
      metrics.paymentFinished(payment.direction, payment.status);
      completion.wake(payment.id);
    },
    onError: (error, paymentId) => logger.warn({ err: error, paymentId }, "payment step failed"),
    ...(deps.options?.driver ? { options: deps.options.driver } : {}),
  });
  stops.add(() => driver.stop());
  const running = await startBackground(deps, core, driver, processors, stops);
  const payments: RunningPayments = {
    ...core,
    driver,
    commandCodec: core.codecs.commands,
    submit: async (command: PaymentCommand) => {
      const codec = core.codecs.commands;
      const value = codec.encode(commandToAvro(command, clock.nowMs()));
      await core.producer.send([{ topic: codec.topic, key: command.paymentId, value }]);
    },
    waitForFinal: completion.waitForFinal,
    setCallbackBase(url) {
      if (config.payments.publicUrl === undefined) callbackBase = url;
    },
    flushAlerts: () => core.alerter.flush(),
    stop: stops.stop,
  };
  return { payments, running };
}

/** The outbox relay, the processor and the sweeper (processor roles); the registry listener (all). */
async function startBackground(
  deps: PaymentsDeps,
  core: PaymentsCore,
  driver: PaymentDriver,
  processors: boolean,
  stops: ReturnType<typeof stopper>,
): Promise<string[]> {
  const { config, logger } = deps;
  const running = ["payments.orchestrator"];
  const registryListener = await runConsumer(deps.log, {
    groupId: `payments-registry-${deps.ids.uuid()}`,
    topics: [core.codecs.changes.topic],
    startFrom: "latest",
    fetchWaitMaxMs: 50,
    retry: { attemptsMax: 3, backoffBaseMs: 50, backoffMaxMs: 1_000 },
    handle: async () => core.registry.reload(),
  });
  stops.add(() => registryListener.stop());
  if (!processors) return running;
  const relay = startOutboxRelay({
    pool: deps.pool,
    producer: core.producer,
    table: "payments_outbox",
    decode: decodeOutboxBatch,
    rowsPerPublishMax: config.payments.relayRowsPerPublishMax,
    pollIntervalMs: config.payments.relayPollIntervalMs,
    onError: (error) => logger.warn({ err: error }, "payments outbox relay"),
  });
  stops.add(() => relay.stop());
  const processor = await startProcessor(deps, core.store, driver, core.codecs.commands);
  stops.add(() => processor.stop());
  driver.startSweeper();
  return [...running, "payments.outbox-relay", "payments.processor", "payments.sweeper"];
}

function serverBase(address: ReturnType<import("node:net").Server["address"]>): string | undefined {
  if (!address || typeof address !== "object") return undefined;
  const host = address.address === "0.0.0.0" || address.address === "::" ? "127.0.0.1" : address.address;
  return `http://${host.includes(":") ? `[${host}]` : host}:${address.port}`;
}

export const paymentsModule: LedgerflowModule<PaymentsDeps, RunningPayments | undefined> = {
  name: "payments",
  config: paymentsConfig,
  migrations: [join(import.meta.dirname, "migrations")],
  topics: paymentsTopics,
  async start(deps, run) {
    const stops = stopper((error) => deps.logger.warn({ err: error }, "payments stop"));
    // Payments serve routes and process payments; a handler or notifier process runs neither.
    if (!run.abilities.http && !run.abilities.processors)
      return { published: undefined, routes: [], running: [], stop: stops.stop };
    try {
      const { payments, running } = await startPayments(deps, run.abilities.processors, stops);
      const edge = {
        clock: deps.clock,
        pool: deps.pool,
        ledgerHttp: {
          authenticate: deps.authenticate,
          queries: deps.ledger.queries,
          waitMsMax: deps.config.waitMsMax,
        },
      };
      return {
        published: payments,
        routes: [
          async (app) => {
            // The port is known only once the server listens (tests use port 0): read it when needed.
            payments.setCallbackBase(() => serverBase(app.server.address()));
            await paymentRoutes(app, { services: edge, payments });
          },
        ],
        running,
        stop: stops.stop,
      };
    } catch (error) {
      await stops.stop();
      throw error;
    }
  },
};
