/**
 * The platform under benchmark, run as a child of bench/run.ts so that its event loop and CPU time
 * are its own (the load generator would otherwise compete with the server on the same thread).
 * It reports, over IPC, every command outcome as the platform's subscriber hub receives it (the
 * same LedgerNotifications that feeds `Prefer: wait` and WebSocket subscribers) and every handler
 * batch, so the parent can measure accepted → MoneyTransferConfirmed and where the time goes.
 *
 * Settings come from LEDGERFLOW_* variables set by the parent (data dir, ports, admin).
 */
import { startPlatform } from "../src/app/platform.ts";
import { standardPlugins } from "../src/app/standard-plugins.ts";
import { loadConfig } from "../src/platform/config.ts";
import type { ChildMessage, OutcomeSample } from "./protocol.ts";

const flushIntervalMs = 25;

function send(message: ChildMessage): void {
  process.send?.(message);
}

async function main(): Promise<void> {
  if (!process.send)
    throw new Error("bench/platform-child.ts runs under bench/run.ts (needs an IPC channel)");
  const config = loadConfig(process.env);
  let outcomes: OutcomeSample[] = [];
  let batches: [number, number, number, number][] = [];
  const platform = await startPlatform({
    config,
    role: "all",
    plugins: standardPlugins,
    onBatch: (result, records) => {
      let oldestMs = Number.POSITIVE_INFINITY;
      for (const record of records) oldestMs = Math.min(oldestMs, record.timestampMs);
      batches.push([Date.now(), records.length, result.appliedCount, oldestMs]);
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
  if (!platform.url) throw new Error("the platform serves HTTP in role all");
  send({ type: "ready", url: platform.url, pid: process.pid });
}

main().catch((error: unknown) => {
  send({ type: "failed", message: error instanceof Error ? (error.stack ?? error.message) : String(error) });
  process.exit(1);
});
