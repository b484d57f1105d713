import type { Random } from "../../platform/clock.ts";
import type { LatencyDistribution } from "./profile.ts";

/** z-score of the 99th percentile of the standard normal distribution. */
const z99 = 2.326_347_874;

/**
 * Draws one latency in whole milliseconds.
 *
 * A lognormal is fitted to the two numbers people actually quote for a gateway, p50 and p99:
 * ln(X) ~ N(mu, sigma) with mu = ln(p50) and sigma = (ln(p99) - ln(p50)) / z99. It has the long
 * right tail real payment APIs show. Exactly two uniforms are consumed per call whatever the
 * distribution, so a seeded run stays reproducible when a profile changes from one kind to another.
 */
export function sampleLatencyMs(distribution: LatencyDistribution, random: Random): number {
  const normal = standardNormal(random);
  if (distribution.distribution === "constant") return Math.round(distribution.ms);
  const { p50Ms, p99Ms } = distribution;
  if (p50Ms <= 0) return 0;
  const sigma = (Math.log(Math.max(p99Ms, p50Ms)) - Math.log(p50Ms)) / z99;
  const sample = Math.exp(Math.log(p50Ms) + sigma * normal);
  const capMs = distribution.capMs ?? p99Ms * 10;
  return Math.round(Math.min(sample, capMs));
}

/** Box–Muller transform; 1 - next() keeps the logarithm's argument in (0, 1]. */
function standardNormal(random: Random): number {
  const u1 = 1 - random.next();
  const u2 = random.next();
  return Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
}
