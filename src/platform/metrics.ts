/**
 * One Prometheus registry per process, served at /metrics. Contexts register their own metrics on
 * it (`metrics.registry`), so a scrape sees the whole process.
 */
import { Counter, collectDefaultMetrics, Histogram, Registry } from "prom-client";

export interface PlatformMetrics {
  readonly registry: Registry;
  readonly commandOutcomes: Counter<"status" | "reason">;
  /** Accepted (appended to the log) → outcome seen by this process's notifier. */
  readonly commandLatency: Histogram;
  readonly handlerBatchSize: Histogram;
  readonly handlerBatchSeconds: Histogram;
}

export function createPlatformMetrics(): PlatformMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: "ledgerflow_process_" });
  return {
    registry,
    commandOutcomes: new Counter({
      name: "ledgerflow_command_outcomes_total",
      help: "Command outcomes seen by this process",
      labelNames: ["status", "reason"],
      registers: [registry],
    }),
    commandLatency: new Histogram({
      name: "ledgerflow_command_latency_seconds",
      help: "From acceptance to the outcome reaching this process",
      buckets: [0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [registry],
    }),
    handlerBatchSize: new Histogram({
      name: "ledgerflow_handler_batch_commands",
      help: "Commands per handler transaction",
      buckets: [1, 10, 100, 500, 1000, 2000, 4000, 8000, 16000],
      registers: [registry],
    }),
    handlerBatchSeconds: new Histogram({
      name: "ledgerflow_handler_batch_seconds",
      help: "Duration of a handler batch (decode, decide, persist, commit)",
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers: [registry],
    }),
  };
}
