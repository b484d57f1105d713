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

export function createPaymentMetrics(registry = new Registry()): PaymentMetrics {
  let watched: Orchestrator | undefined;
  // Registered first: a scrape collects in registration order, so the per-gateway gauges below are
  // refreshed from the orchestrator before they are read.
  new Gauge({
    name: "ledgerflow_gateways_registered",
    help: "Gateways in the registry",
    registers: [registry],
    collect() {
      if (!watched) return;
      const conditions = watched.conditions();
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
  const breaker = new Gauge({
    name: "ledgerflow_gateway_breaker_state",
    help: "Circuit breaker state: 0 closed, 1 open, 2 half-open",
    labelNames: ["gateway"],
    registers: [registry],
  });
  const inFlight = new Gauge({
    name: "ledgerflow_gateway_in_flight",
    help: "Calls in flight per gateway",
    labelNames: ["gateway"],
    registers: [registry],
  });
  const successRate = new Gauge({
    name: "ledgerflow_gateway_success_rate",
    help: "Rolling success rate of the gateway's last calls",
    labelNames: ["gateway"],
    registers: [registry],
  });
  const latencyEwma = new Gauge({
    name: "ledgerflow_gateway_latency_ewma_seconds",
    help: "Exponentially weighted moving average of call latency",
    labelNames: ["gateway"],
    registers: [registry],
  });
  const demoted = new Gauge({
    name: "ledgerflow_gateway_demoted",
    help: "1 when the trend forecast predicts a breach and the gateway is demoted",
    labelNames: ["gateway"],
    registers: [registry],
  });
  const gauges = () => ({ breaker, inFlight, successRate, latencyEwma, demoted });
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
