/**
 * A platform process under benchmark, run as a child of bench/run.ts so that its event loop and CPU
 * time are its own (the load generator would otherwise compete with the server on the same thread).
 * `--role all` (embedded mode, the default) or `--role api|handler` (kafka mode: 1 API + N handlers).
 * It reports over IPC what the parent needs to measure accepted → MoneyTransferConfirmed and where
 * the time goes:
 * - every command outcome as the subscriber hub receives it (the same LedgerNotifications that feeds
 *   `Prefer: wait` and WebSocket subscribers), in processes that run the notifier;
 * - every handler batch (size, transaction time, oldest record's log timestamp);
 * - every produce request of the Kafka log (records, coalesced sends, queueing, round trip);
 * - every outbox relay publish (rows, steps' times) and the command ids whose outcome it published.
 *
 * Settings come from LEDGERFLOW_* variables set by the parent (data dir, ports, services, admin).
 */
import { parseArgs } from "node:util";
import { loadConfig } from "../src/app/config.ts";
import { startPlatform } from "../src/app/platform.ts";
import { standardPlugins } from "../src/app/standard-plugins.ts";
import { topics } from "../src/app/topology.ts";
import type {
  BatchSample,
  ChildMessage,
  ChildRole,
  OutcomeSample,
  ProduceTuple,
  RelayedOutcomes,
  RelayTuple,
} from "./protocol.ts";

const flushIntervalMs = 25;
const outcomeTopic = topics.ledgerOutcomes.spec.name;

function send(message: ChildMessage): void {
  process.send?.(message);
}

function roleOf(argv: readonly string[]): ChildRole {
  const { values } = parseArgs({ args: [...argv], options: { role: { type: "string", default: "all" } } });
  if (values.role !== "all" && values.role !== "api" && values.role !== "handler")
    throw new Error(`--role ${values.role}: expected all, api or handler`);
  return values.role;
}

async function main(): Promise<void> {
  if (!process.send)
    throw new Error("bench/platform-child.ts runs under bench/run.ts (needs an IPC channel)");
  const role = roleOf(process.argv.slice(2));
  const config = loadConfig(process.env);
  let outcomes: OutcomeSample[] = [];
  let batches: BatchSample[] = [];
  let produced: ProduceTuple[] = [];
  let relayed: RelayTuple[] = [];
  let relayedOutcomes: RelayedOutcomes[] = [];
  const platform = await startPlatform({
    config,
    role,
    plugins: standardPlugins,
    onBatch: (result, records, durationMs) => {
      let oldestMs = Number.POSITIVE_INFINITY;
      for (const record of records) oldestMs = Math.min(oldestMs, record.timestampMs);
      batches.push([Date.now(), records.length, result.appliedCount, oldestMs, durationMs]);
    },
    observe: {
      produce: (sample) =>
        produced.push([sample.records, sample.sends, sample.queuedMsMax, sample.roundTripMs]),
      relayPublish: (sample) => {
        relayed.push([sample.rows, sample.records.length, sample.selectMs, sample.produceMs]);
        // Outcome events are keyed by command id (topology.ts).
        const ids = sample.records.filter((r) => r.topic === outcomeTopic).map((r) => r.key);
        if (ids.length > 0) relayedOutcomes.push([sample.publishedAtMs, ids]);
      },
    },
  });
  platform.notifications.onOutcome((result) => {
    const receivedMs = performance.timeOrigin + performance.now();
    outcomes.push([
      result.commandId,
      receivedMs,
      result.issuedAtMs,
      result.decidedAtMs,
      result.status === "CONFIRMED" ? "" : (result.reason ?? "failed"),
    ]);
  });
  const flusher = setInterval(() => {
    if (outcomes.length > 0) {
      send({ type: "outcomes", items: outcomes });
      outcomes = [];
    }
    if (batches.length > 0) {
      send({ type: "batches", items: batches });
      batches = [];
    }
    if (produced.length > 0) {
      send({ type: "produced", role, items: produced });
      produced = [];
    }
    if (relayed.length > 0) {
      send({ type: "relayed", items: relayed, outcomes: relayedOutcomes });
      relayed = [];
      relayedOutcomes = [];
    }
  }, flushIntervalMs);

  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    clearInterval(flusher);
    await platform.stop().catch(() => {});
    process.exit(0);
  };
  process.on("message", (message: { type?: string }) => {
    if (message?.type === "stop") void stop();
  });
  // The parent died: never leave an orphaned platform (and its PostgreSQL) behind.
  process.on("disconnect", () => void stop());
  process.on("SIGTERM", () => void stop());
  process.on("SIGINT", () => {});
  if (role !== "handler" && !platform.url) throw new Error(`the platform serves HTTP in role ${role}`);
  send({ type: "ready", url: platform.url, pid: process.pid });
}

main().catch((error: unknown) => {
  send({ type: "failed", message: error instanceof Error ? (error.stack ?? error.message) : String(error) });
  process.exit(1);
});
