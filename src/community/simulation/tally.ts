/** What a simulation run counts, its live progress line (≤ 80 columns) and its final report. */

export interface Tally {
  locations: number;
  requests: number;
  virtualRequests: number;
  accepted: number;
  declined: number;
  connections: number;
  pointsMinted: bigint;
  officerNearby: number;
  trophies: number;
  readonly errors: Map<string, number>;
  /** PTS this run earned each participant, by user id. */
  readonly earned: Map<string, bigint>;
}

export function newTally(): Tally {
  return {
    locations: 0,
    requests: 0,
    virtualRequests: 0,
    accepted: 0,
    declined: 0,
    connections: 0,
    pointsMinted: 0n,
    officerNearby: 0,
    trophies: 0,
    errors: new Map(),
    earned: new Map(),
  };
}

/**
 * Refusals a simulation meets in a normal run: people walk apart before a request, an officer's
 * window closes, a pair already rewarded in an earlier run, a request answered as it expires.
 */
export const expectedErrorCodes: ReadonlySet<string> = new Set([
  "not_near",
  "officer_unavailable",
  "pair_rewarded_recently",
  "request_pending",
  "too_many_requests",
  "request_expired",
  "request_not_pending",
]);

export function countError(tally: Tally, code: string): void {
  tally.errors.set(code, (tally.errors.get(code) ?? 0) + 1);
}

/** A count in at most 5 characters: 9999, 123k, 12.3M. */
export function compactCount(n: number | bigint): string {
  const value = Number(n);
  if (value < 10_000) return String(value);
  if (value < 999_500) return `${Math.round(value / 1_000)}k`;
  return `${(value / 1_000_000).toFixed(1)}M`;
}

export const liveLineColumnsMax = 80;

/** `12s loc 523/s req 40 conn 31 pts 620 err 3 not_near 2 request_pending 1`, cut at 80 columns. */
export function liveLine(tally: Tally, elapsedS: number, locationsPerSec: number): string {
  const errors = [...tally.errors].sort(([, a], [, b]) => b - a);
  const errorCount = errors.reduce((sum, [, n]) => sum + n, 0);
  let line = [
    `${Math.round(elapsedS)}s`,
    `loc ${compactCount(locationsPerSec)}/s`,
    `req ${compactCount(tally.requests)}`,
    `conn ${compactCount(tally.connections)}`,
    `pts ${compactCount(tally.pointsMinted)}`,
    `err ${compactCount(errorCount)}`,
  ].join(" ");
  for (const [code, n] of errors) {
    const part = ` ${code} ${compactCount(n)}`;
    if (line.length + part.length > liveLineColumnsMax) break;
    line += part;
  }
  return line;
}

export interface SimulationReport {
  readonly url: string;
  readonly seed: number;
  readonly officers: number;
  readonly citizens: number;
  readonly registered: number;
  readonly durationS: number;
  readonly elapsedS: number;
  readonly locations: number;
  readonly locationsPerSec: number;
  readonly requests: number;
  readonly virtualRequests: number;
  readonly accepted: number;
  readonly declined: number;
  readonly connections: number;
  readonly pointsMinted: string;
  readonly officerNearby: number;
  readonly trophies: number;
  readonly errors: Readonly<Record<string, number>>;
  readonly unexpectedErrors: Readonly<Record<string, number>>;
  /** Participants whose PTS balance was read back over HTTP, and how many held what they earned. */
  readonly ledger: { readonly checked: number; readonly paid: number; readonly waitedMs: number };
}

export function reportText(report: SimulationReport): string {
  const errors = Object.entries(report.errors)
    .map(([code, n]) => `${code} ${n}${expectedErrorCodes.has(code) ? "" : " (unexpected)"}`)
    .join(", ");
  return [
    `simulated ${report.officers} officers and ${report.citizens} citizens at ${report.url} for ${report.elapsedS.toFixed(1)} s (seed ${report.seed}; ${report.registered} users registered)`,
    `locations: ${report.locations} (${report.locationsPerSec}/s); officer_nearby pushes: ${report.officerNearby}`,
    `requests: ${report.requests} (${report.virtualRequests} virtual); accepted ${report.accepted}, declined ${report.declined}`,
    `connections: ${report.connections}; points minted: ${report.pointsMinted} PTS; trophies: ${report.trophies}`,
    `errors: ${errors || "none"}`,
    `ledger: ${report.ledger.paid} of ${report.ledger.checked} sampled participants hold the PTS they earned (read over HTTP after ${report.ledger.waitedMs} ms)`,
    "",
  ].join("\n");
}
