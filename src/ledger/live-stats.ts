/**
 * Per-second series of what this process sees decided: throughput, latency percentiles and outcomes
 * by reason, for the back-office dashboard. A bounded ring: the last `windowSeconds` seconds.
 */
import type { CommandResult } from "./notifications.ts";

export interface StatsPoint {
  readonly t: number;
  readonly transfersPerSec: number;
  readonly commandsPerSec: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly outcomes: { readonly confirmed: number; readonly failed: Readonly<Record<string, number>> };
}

interface Bucket {
  second: number;
  commands: number;
  transfers: number;
  confirmed: number;
  failed: Record<string, number>;
  latenciesMs: number[];
}

const latencySamplesPerSecondMax = 2_000;

export class LiveStats {
  readonly windowSeconds: number;
  readonly #buckets: Bucket[] = [];

  constructor(windowSeconds: number) {
    this.windowSeconds = windowSeconds;
  }

  record(result: CommandResult, seenAtMs: number): void {
    const second = Math.floor(seenAtMs / 1000);
    let bucket = this.#buckets.at(-1);
    if (!bucket || bucket.second !== second) {
      bucket = { second, commands: 0, transfers: 0, confirmed: 0, failed: {}, latenciesMs: [] };
      this.#buckets.push(bucket);
      while (this.#buckets.length > this.windowSeconds) this.#buckets.shift();
    }
    bucket.commands++;
    if (result.result.transferId !== undefined || result.reason !== undefined) bucket.transfers++;
    if (result.status === "CONFIRMED") bucket.confirmed++;
    else bucket.failed[result.reason ?? "rejected"] = (bucket.failed[result.reason ?? "rejected"] ?? 0) + 1;
    // Reservoir-free cap: beyond the cap a second keeps its first samples, enough for p50/p99.
    if (bucket.latenciesMs.length < latencySamplesPerSecondMax)
      bucket.latenciesMs.push(seenAtMs - result.issuedAtMs);
  }

  series(): StatsPoint[] {
    return this.#buckets.map((b) => {
      const sorted = [...b.latenciesMs].sort((x, y) => x - y);
      const pick = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0;
      return {
        t: b.second * 1000,
        transfersPerSec: b.transfers,
        commandsPerSec: b.commands,
        p50Ms: pick(0.5),
        p99Ms: pick(0.99),
        outcomes: { confirmed: b.confirmed, failed: { ...b.failed } },
      };
    });
  }
}
