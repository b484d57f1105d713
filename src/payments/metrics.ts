/** Prometheus metrics of the orchestrator, per gateway (see docs/grafana/gateways.json). */
import { Counter, Gauge, Histogram, Registry } from "prom-client";
import type { AttemptOutcome } from "./domain/types.ts";
import type { Orchestrator, OrchestratorObserver } from "./orchestrator.ts";

export interface PaymentMetrics {
  readonly registry: Registry;
  readonly observer: OrchestratorObserver;
  paymentFinished(direction: string, status: string): void;
  /** Gauges read from the orchestrator at scrape time. */
  watch(orchestrator: Orchestrator): void;
}

const breakerValue = { closed: 0, open: 1, half_open: 2 } as const;

interface HealthGauges {
  readonly breaker: Gauge;
  readonly inFlight: Gauge;
  readonly successRate: Gauge;
  readonly latencyEwma: Gauge;
  readonly demoted: Gauge;
}

/**
 * The gateway count, which also refreshes the per-gateway health gauges from the watched
 * orchestrator. It must be registered first: a scrape collects in registration order, so the
 * health gauges (registered after it, hence passed lazily) are refreshed before they are read.
 */
function registerGatewayCount(
  registry: Registry,
  watched: () => Orchestrator | undefined,
  gauges: () => HealthGauges,
): void {
  new Gauge({
    name: "ledgerflow_gateways_registered",
    help: "Gateways in the registry",
    registers: [registry],
    collect() {
      const orchestrator = watched();
      if (!orchestrator) return;
      const conditions = orchestrator.conditions();
      this.set(conditions.length);
      for (const c of conditions) {
        gauges().breaker.set({ gateway: c.name }, breakerValue[c.breaker as keyof typeof breakerValue] ?? 0);
        gauges().inFlight.set({ gateway: c.name }, c.health.inFlight);
        if (c.health.successRate !== undefined)
          gauges().successRate.set({ gateway: c.name }, c.health.successRate);
        if (c.health.latencyEwmaMs !== undefined)
          gauges().latencyEwma.set({ gateway: c.name }, c.health.latencyEwmaMs / 1000);
        gauges().demoted.set({ gateway: c.name }, c.health.demoted ? 1 : 0);
      }
    },
  });
}

/** Counters and latency of the calls sent to each gateway. */
function registerCallMetrics(registry: Registry) {
  const requests = new Counter({
    name: "ledgerflow_gateway_requests_total",
    help: "Payment calls sent to each gateway",
    labelNames: ["gateway"],
    registers: [registry],
  });
  const outcomes = new Counter({
    name: "ledgerflow_gateway_outcomes_total",
    help: "Gateway call outcomes",
    labelNames: ["gateway", "outcome"],
    registers: [registry],
  });
  const latency = new Histogram({
    name: "ledgerflow_gateway_latency_seconds",
    help: "Gateway call latency, including the status check of a timed-out call",
    labelNames: ["gateway"],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10],
    registers: [registry],
  });
  return { requests, outcomes, latency };
}

/** Per-gateway health: set by the orchestrator's observer (breaker) and at scrape time. */
function registerHealthGauges(registry: Registry): HealthGauges {
  const gauge = (name: string, help: string) =>
    new Gauge({ name, help, labelNames: ["gateway"], registers: [registry] });
  return {
    breaker: gauge(
      "ledgerflow_gateway_breaker_state",
      "Circuit breaker state: 0 closed, 1 open, 2 half-open",
    ),
    inFlight: gauge("ledgerflow_gateway_in_flight", "Calls in flight per gateway"),
    successRate: gauge("ledgerflow_gateway_success_rate", "Rolling success rate of the gateway's last calls"),
    latencyEwma: gauge(
      "ledgerflow_gateway_latency_ewma_seconds",
      "Exponentially weighted moving average of call latency",
    ),
    demoted: gauge(
      "ledgerflow_gateway_demoted",
      "1 when the trend forecast predicts a breach and the gateway is demoted",
    ),
  };
}

export function createPaymentMetrics(registry = new Registry()): PaymentMetrics {
  let watched: Orchestrator | undefined;
  let health: HealthGauges | undefined;
  registerGatewayCount(
    registry,
    () => watched,
    () => health as HealthGauges,
  );
  const { requests, outcomes, latency } = registerCallMetrics(registry);
  health = registerHealthGauges(registry);
  const { breaker } = health;
  const payments = new Counter({
    name: "ledgerflow_payments_finished_total",
    help: "Payments reaching a final status",
    labelNames: ["direction", "status"],
    registers: [registry],
  });
  return {
    registry,
    observer: {
      callStarted(gateway) {
        requests.inc({ gateway });
      },
      callFinished(gateway, outcome: AttemptOutcome, latencyMs) {
        outcomes.inc({ gateway, outcome });
        latency.observe({ gateway }, latencyMs / 1000);
      },
      breakerChanged(gateway, state) {
        breaker.set({ gateway }, breakerValue[state]);
      },
    },
    paymentFinished(direction, status) {
      payments.inc({ direction, status });
    },
    watch(orchestrator) {
      watched = orchestrator;
    },
  };
}
