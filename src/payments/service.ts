/**
 * The payments context, started on the running platform: the payment store and driver, the
 * orchestrator with its registry, the `payments.commands` consumer, the registry-change consumer,
 * the outbox relay of `payments_outbox`, alerts and metrics; optionally the simulated gateway fleet
 * (registered in the registry on first start, so `npm start` can move money out of the box).
 */
import type { FastifyInstance } from "fastify";
import type { PlatformServices } from "../app/platform.ts";
import { decodeOutboxBatch } from "../platform/outbox.ts";
import { type Random, systemRandom } from "../platform/clock.ts";
import { type RunningConsumer, runConsumer } from "../platform/log/consumer.ts";
import type { LogRecord } from "../platform/log/port.ts";
import { createTopicCodec, type TopicCodec } from "../platform/log/topic-codecs.ts";
import { startOutboxRelay } from "../platform/outbox-relay.ts";
import { createPostgresSchemaRegistry } from "../platform/schema-registry/postgres.ts";
import { topics } from "../platform/topology.ts";
import {
  type AlertChannel,
  createAlerter,
  emailChannel,
  type SmtpOptions,
  webhookChannel,
} from "./alerts.ts";
import type { PaymentCommand, PaymentState } from "./domain/types.ts";
import { createPaymentDriver, type DriverOptions, type PaymentDriver } from "./driver.ts";
import { paymentRoutes } from "./http.ts";
import { createPaymentsLedger } from "./ledger-port.ts";
import { createPaymentMetrics, type PaymentMetrics } from "./metrics.ts";
import { createOrchestrator, type Orchestrator, type OrchestratorOptions } from "./orchestrator.ts";
import { createGatewayRegistry, type GatewayInput, type GatewayRegistry } from "./registry.ts";
import { commandFromAvro, commandToAvro } from "./schemas.ts";
import { defaultFleet, type GatewayFleet, startGatewayFleet } from "../dev/gateway-simulators/fleet.ts";
import { createPaymentStore, type PaymentStore } from "./store.ts";

export interface PaymentsOptions {
  /** Gateways to register on first start (by name; existing registrations are kept). */
  readonly fleet?: GatewayFleet;
  /** Registry fields to use for some fleet gateways when they are first registered, by name. */
  readonly fleetOverrides?: Readonly<Record<string, Partial<GatewayInput>>>;
  /** Start the default simulator fleet (card acquirer, SEPA instant, e-wallet, custody bank) and register it. */
  readonly simulateGateways?: boolean;
  readonly alerts?: {
    readonly email?: SmtpOptions;
    readonly webhookUrl?: string;
    readonly channels?: readonly AlertChannel[];
    readonly quietMs?: number;
  };
  /** Base URL gateways call back on; default: this server's address. */
  readonly publicUrl?: string;
  readonly orchestrator?: Partial<OrchestratorOptions>;
  readonly driver?: Partial<DriverOptions>;
  readonly random?: Random;
  /** How long the API waits for the ledger when a payment step needs it. */
  readonly ledgerWaitMs?: number;
}

export interface RunningPayments {
  readonly store: PaymentStore;
  readonly registry: GatewayRegistry;
  readonly orchestrator: Orchestrator;
  readonly driver: PaymentDriver;
  readonly metrics: PaymentMetrics;
  readonly commandCodec: TopicCodec;
  readonly fleet: GatewayFleet | undefined;
  /** Appends a payment command to `payments.commands` (durable once resolved). */
  submit(command: PaymentCommand): Promise<void>;
  /** Waits until the payment is final or `waitMs` passed; the latest state. */
  waitForFinal(paymentId: string, waitMs: number): Promise<PaymentState | undefined>;
  /** Where gateways call back: a URL, or a function read at each payment (the server's address). */
  setCallbackBase(url: string | (() => string | undefined)): void;
  flushAlerts(): Promise<void>;
  stop(): Promise<void>;
}

/** Registry entry of a running simulator, as the orchestrator should see it. */
export function fleetGatewayInputs(fleet: GatewayFleet): GatewayInput[] {
  return fleet.gateways.map((g, i) => {
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

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export async function startPayments(
  services: PlatformServices,
  options: PaymentsOptions = {},
): Promise<RunningPayments> {
  const { pool, log, clock, logger } = services;
  const instanceId = services.ids.uuid();
  const stops: (() => Promise<unknown> | unknown)[] = [];
  const stop = async () => {
    for (const step of stops.reverse())
      await Promise.resolve(step()).catch((e) => logger.warn({ err: e }, "payments stop"));
  };
  try {
    const schemaRegistry = createPostgresSchemaRegistry(pool);
    const commandCodec = await createTopicCodec(schemaRegistry, topics.paymentCommands);
    const eventCodec = await createTopicCodec(schemaRegistry, topics.paymentEvents);
    const changeCodec = await createTopicCodec(schemaRegistry, topics.gatewayChanges);
    const alertCodec = await createTopicCodec(schemaRegistry, topics.gatewayAlerts);
    await log.admin().createTopics(
      [topics.paymentCommands, topics.paymentEvents, topics.gatewayChanges, topics.gatewayAlerts].flatMap(
        ({ spec }) => [
          { ...spec, replicationFactor: 1 },
          { ...spec, name: `${spec.name}.dlq`, partitions: 1, replicationFactor: 1 },
        ],
      ),
    );
    const producer = log.producer();

    let fleet = options.fleet;
    if (!fleet && options.simulateGateways) {
      fleet = await startGatewayFleet(defaultFleet(), { random: options.random ?? systemRandom, clock });
      const started = fleet;
      stops.push(() => started.stop());
    }

    const store = createPaymentStore(pool, eventCodec);
    const registry = createGatewayRegistry(pool, changeCodec);
    if (fleet)
      for (const input of fleetGatewayInputs(fleet)) {
        await registry.seed({ ...input, ...options.fleetOverrides?.[input.name] }, clock.nowMs());
        // Simulators we start listen on fresh ports with a fresh callback secret each run: re-point a
        // registration kept from an earlier run (its other settings, e.g. weights, stay as set).
        await registry.reload();
        const stored = registry.stored().find((g) => g.name === input.name);
        const moved =
          stored &&
          (stored.config.url !== input.url || stored.config.callbackSecret !== input.callbackSecret);
        if (options.simulateGateways && moved) {
          await registry.update(
            input.name,
            { url: input.url, callbackSecret: input.callbackSecret },
            clock.nowMs(),
          );
        }
      }
    await registry.reload();

    const channels: AlertChannel[] = [
      ...(options.alerts?.email ? [emailChannel(options.alerts.email)] : []),
      ...(options.alerts?.webhookUrl ? [webhookChannel(options.alerts.webhookUrl)] : []),
      ...(options.alerts?.channels ?? []),
      {
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
      },
    ];
    const alerter = createAlerter({
      channels,
      clock,
      quietMs: options.alerts?.quietMs ?? 60_000,
      onError: (channel, error) => logger.warn({ err: error, channel }, "alert not delivered"),
    });
    // On the platform's registry, so one scrape of /metrics sees payments with everything else.
    const metrics = createPaymentMetrics(services.metrics.registry);
    const orchestrator = createOrchestrator({
      gateways: () => registry.list(),
      clock,
      random: options.random ?? systemRandom,
      ...(options.orchestrator ? { options: options.orchestrator } : {}),
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
    stops.push(() => orchestrator.stop());
    registry.onChange(() => orchestrator.sync());

    let callbackBase: string | (() => string | undefined) | undefined = options.publicUrl;
    const callbackBaseNow = () => (typeof callbackBase === "function" ? callbackBase() : callbackBase);
    const ledger = createPaymentsLedger({
      gateway: services.gateway,
      queries: services.queries,
      waitMs: options.ledgerWaitMs ?? 10_000,
    });
    const driver = createPaymentDriver({
      store,
      orchestrator,
      ledger,
      clock,
      instanceId,
      callbackUrl: () => {
        const base = callbackBaseNow();
        return base === undefined ? undefined : `${base}/v1/payments/callbacks`;
      },
      onFinished: (payment) => metrics.paymentFinished(payment.direction, payment.status),
      onError: (error, paymentId) => logger.warn({ err: error, paymentId }, "payment step failed"),
      ...(options.driver ? { options: options.driver } : {}),
    });
    stops.push(() => driver.stop());

    const relay = startOutboxRelay({
      pool,
      producer,
      table: "payments_outbox",
      decode: decodeOutboxBatch,
      rowsPerPublishMax: 256,
      pollIntervalMs: 50,
      onError: (error) => logger.warn({ err: error }, "payments outbox relay"),
    });
    stops.push(() => relay.stop());

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
    const processor: RunningConsumer = await runConsumer(log, {
      groupId: "payments-processor",
      topics: [commandCodec.topic],
      batchSizeMax: 500,
      fetchWaitMaxMs: 20,
      retry: { attemptsMax: 5, backoffBaseMs: 50, backoffMaxMs: 5_000 },
      handle: async (records) => {
        // One payment's commands in order; different payments in parallel.
        const byPayment = new Map<string, LogRecord[]>();
        for (const record of records)
          byPayment.set(record.key, [...(byPayment.get(record.key) ?? []), record]);
        await Promise.all(
          [...byPayment.values()].map(async (list) => {
            for (const record of list) await handleCommand(record);
          }),
        );
      },
      onDeadLetter: (record, error) =>
        logger.error({ err: error, offset: String(record.offset) }, "payment command dead-lettered"),
    });
    stops.push(() => processor.stop());

    const registryListener = await runConsumer(log, {
      groupId: `payments-registry-${instanceId}`,
      topics: [changeCodec.topic],
      startFrom: "latest",
      fetchWaitMaxMs: 50,
      retry: { attemptsMax: 3, backoffBaseMs: 50, backoffMaxMs: 1_000 },
      handle: async () => registry.reload(),
    });
    stops.push(() => registryListener.stop());
    driver.startSweeper();

    const submit = async (command: PaymentCommand) => {
      await producer.send([
        {
          topic: commandCodec.topic,
          key: command.paymentId,
          value: commandCodec.encode(commandToAvro(command, clock.nowMs())),
        },
      ]);
    };

    return {
      store,
      registry,
      orchestrator,
      driver,
      metrics,
      commandCodec,
      fleet,
      submit,
      async waitForFinal(paymentId, waitMs) {
        const until = clock.nowMs() + waitMs;
        for (;;) {
          const state = await store.get(paymentId);
          if ((state && state.stage === "done") || clock.nowMs() >= until) return state;
          await sleep(20);
        }
      },
      setCallbackBase(url) {
        if (options.publicUrl === undefined) callbackBase = url;
      },
      flushAlerts: () => alerter.flush(),
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}

/** The platform plugin: starts payments on the platform's services and serves their routes. */
export function paymentsPlugin(
  options: PaymentsOptions = {},
  onStarted?: (payments: RunningPayments) => void,
) {
  return (services: PlatformServices) => async (app: FastifyInstance) => {
    const payments = await startPayments(services, options);
    app.addHook("onClose", async () => payments.stop());
    // The port is known only once the server listens (tests use port 0): read it when needed.
    payments.setCallbackBase(() => {
      const address = app.server.address();
      if (!address || typeof address !== "object") return undefined;
      const host = address.address === "0.0.0.0" || address.address === "::" ? "127.0.0.1" : address.address;
      return `http://${host.includes(":") ? `[${host}]` : host}:${address.port}`;
    });
    await paymentRoutes(app, { services, payments });
    onStarted?.(payments);
  };
}
