/**
 * Latency samples in milliseconds with exact percentiles. Load runs are bounded (rate × duration), so
 * keeping every sample is affordable and avoids histogram bucketing error.
 */
export class LatencySamples {
  #samples: number[] = [];
  #sorted = true;

  record(ms: number): void {
    this.#samples.push(Math.max(ms, 0));
    this.#sorted = false;
  }

  get count(): number {
    return this.#samples.length;
  }

  /** Nearest-rank percentile, `p` in [0, 1]; NaN without samples. */
  percentile(p: number): number {
    if (this.#samples.length === 0) return Number.NaN;
    if (!this.#sorted) {
      this.#samples.sort((a, b) => a - b);
      this.#sorted = true;
    }
    const rank = Math.ceil(p * this.#samples.length) - 1;
    return this.#samples[Math.min(this.#samples.length - 1, Math.max(0, rank))] as number;
  }

  max(): number {
    return this.percentile(1);
  }

  /** Moves the samples out, leaving this empty (per-second windows of a live progress line). */
  drain(): LatencySamples {
    const taken = new LatencySamples();
    taken.#samples = this.#samples;
    taken.#sorted = this.#sorted;
    this.#samples = [];
    this.#sorted = true;
    return taken;
  }
}

export function formatMs(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || Number.isNaN(ms)) return "-";
  return ms < 10 ? ms.toFixed(1) : String(Math.round(ms));
}
