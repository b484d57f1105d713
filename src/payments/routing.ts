/**
 * Gateway selection, pure: rules filter the candidates, a score ranks them, and the first pick is
 * drawn at random in proportion to the score (load spreads across good gateways instead of piling
 * onto the best one), except for a small exploration share drawn uniformly, so a gateway that
 * recovered earns traffic (and fresh health data) back. The remaining candidates follow in score
 * order as the failover sequence. Every decision carries a human-readable reason.
 */
import type { Random } from "../platform/clock.ts";
import type { SkippedGateway } from "./domain/types.ts";
import type { HealthSnapshot } from "./health.ts";

export interface GatewayConfig {
  readonly name: string;
  readonly url: string;
  readonly regions: readonly string[];
  readonly currencies: readonly string[];
  readonly methods: readonly string[];
  readonly amountMin: bigint;
  /** Null: no upper limit. */
  readonly amountMax: bigint | null;
  /** Relative share of traffic among equally healthy gateways. */
  readonly weight: number;
  /** What a payment costs us, basis points: cheaper gateways score higher. */
  readonly costBps: number;
  readonly enabled: boolean;
  readonly timeoutMs: number;
  /** Our own burst limit towards this gateway; null: none. */
  readonly rateLimit: { readonly perSecond: number; readonly burst: number } | null;
  /** HMAC secret of its callbacks. */
  readonly callbackSecret: string;
}

export interface RouteRequest {
  readonly amount: bigint;
  readonly currency: string;
  readonly region?: string;
  readonly method?: string;
}

export interface GatewayCondition {
  readonly health: HealthSnapshot;
  readonly breakerOpen: boolean;
}

export interface RoutingOptions {
  /** Share of first picks drawn uniformly among candidates, in [0, 1]. */
  readonly explorationShare: number;
  /** Latency at which the latency factor halves the score. */
  readonly latencyReferenceMs: number;
  /** In-flight calls at which the load factor halves the score. */
  readonly inFlightReference: number;
  /** Multiplier applied to a demoted (predicted to breach) gateway's score. */
  readonly demotionFactor: number;
}

export const defaultRoutingOptions: RoutingOptions = {
  explorationShare: 0.05,
  latencyReferenceMs: 200,
  inFlightReference: 50,
  demotionFactor: 0.02,
};

export interface RankedGateway {
  readonly gateway: GatewayConfig;
  readonly score: number;
  readonly why: string;
}

export interface RoutingPlan {
  /** First pick first, then the failover order. */
  readonly ordered: readonly RankedGateway[];
  readonly skipped: readonly SkippedGateway[];
}

/** Why `gateway` may not take `request` at all, or undefined. */
export function ruleRejection(gateway: GatewayConfig, request: RouteRequest): string | undefined {
  if (!gateway.enabled) return "disabled";
  if (!gateway.currencies.includes(request.currency)) return `currency ${request.currency} not supported`;
  if (request.region !== undefined && !gateway.regions.includes(request.region))
    return `region ${request.region} not served`;
  if (request.method !== undefined && !gateway.methods.includes(request.method))
    return `method ${request.method} not supported`;
  if (request.amount < gateway.amountMin) return `amount below minimum ${gateway.amountMin}`;
  if (gateway.amountMax !== null && request.amount > gateway.amountMax)
    return `amount above limit ${gateway.amountMax}`;
  return undefined;
}

export function scoreOf(
  gateway: GatewayConfig,
  health: HealthSnapshot,
  options: RoutingOptions,
): { score: number; factors: string } {
  // No data yet counts as healthy: a new gateway must get traffic to be measured at all.
  const success = health.successRate ?? 1;
  const latency = health.latencyEwmaMs ?? 0;
  const score =
    gateway.weight *
    success ** 2 *
    (1 / (1 + latency / options.latencyReferenceMs)) *
    (1 / (1 + health.inFlight / options.inFlightReference)) *
    (1 / (1 + gateway.costBps / 100)) *
    (health.demoted ? options.demotionFactor : 1);
  const factors = [
    `weight ${gateway.weight}`,
    `success ${health.successRate === undefined ? "n/a" : `${Math.round(success * 100)}%`}`,
    `latency ${health.latencyEwmaMs === undefined ? "n/a" : `${Math.round(latency)}ms`}`,
    `in flight ${health.inFlight}`,
    `cost ${gateway.costBps}bps`,
    ...(health.demoted ? [`demoted: ${health.demotedBecause}`] : []),
  ].join(", ");
  return { score, factors };
}

export function planRoute(
  request: RouteRequest,
  gateways: readonly GatewayConfig[],
  conditionOf: (name: string) => GatewayCondition,
  excluded: ReadonlySet<string>,
  random: Random,
  options: RoutingOptions = defaultRoutingOptions,
): RoutingPlan {
  const skipped: SkippedGateway[] = [];
  const scored: { gateway: GatewayConfig; score: number; factors: string }[] = [];
  for (const gateway of gateways) {
    if (excluded.has(gateway.name)) {
      skipped.push({ gateway: gateway.name, reason: "already failed for this payment" });
      continue;
    }
    const rejection = ruleRejection(gateway, request);
    if (rejection !== undefined) {
      skipped.push({ gateway: gateway.name, reason: rejection });
      continue;
    }
    const condition = conditionOf(gateway.name);
    if (condition.breakerOpen) {
      skipped.push({ gateway: gateway.name, reason: "circuit breaker open" });
      continue;
    }
    scored.push({ gateway, ...scoreOf(gateway, condition.health, options) });
  }
  if (scored.length === 0) return { ordered: [], skipped };
  scored.sort((a, b) => b.score - a.score || a.gateway.name.localeCompare(b.gateway.name));
  const total = scored.reduce((sum, s) => sum + s.score, 0);
  let firstIndex: number;
  let firstWhy: string;
  if (random.next() < options.explorationShare || total <= 0) {
    firstIndex = Math.floor(random.next() * scored.length);
    firstWhy = `exploration pick (${Math.round(options.explorationShare * 100)}% share)`;
  } else {
    let ticket = random.next() * total;
    firstIndex = scored.length - 1;
    for (const [i, s] of scored.entries()) {
      ticket -= s.score;
      if (ticket < 0) {
        firstIndex = i;
        break;
      }
    }
    const share = ((scored[firstIndex]?.score ?? 0) / total) * 100;
    firstWhy = `weighted pick, ${share.toFixed(0)}% of the score among ${scored.length} candidates`;
  }
  const ordered: RankedGateway[] = [];
  const first = scored[firstIndex];
  if (first)
    ordered.push({ gateway: first.gateway, score: first.score, why: `${firstWhy} (${first.factors})` });
  for (const [i, s] of scored.entries()) {
    if (i === firstIndex) continue;
    ordered.push({
      gateway: s.gateway,
      score: s.score,
      why: `failover by score ${s.score.toFixed(3)} (${s.factors})`,
    });
  }
  return { ordered, skipped };
}
