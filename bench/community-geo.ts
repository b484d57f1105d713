/**
 * Nearby-officers benchmark (issue 16, "Measured"): 100,000 available officers indexed, in a
 * city-sized area (30 × 30 km around Amsterdam) and a country-sized one (≈ 950 × 900 km, France):
 * - nearest-officers query latency, p50/p99/max (target p99 ≤ 1 ms): a citizen at a random point,
 *   radius 1 km (proximity threshold plus GPS accuracy; 20 nearest) and 10 km (the map; 50 nearest);
 *   alone, and interleaved with moves (10 moves per query);
 * - put (move) throughput: a random officer moves up to ≈ 30 m (a few seconds of walking or driving);
 * for the memory index (adapters/memory-index.ts, H3 buckets), for KDBush/geokdbush as the static
 * alternative it was chosen over (rebuild time for 100,000 points, query latency), and for Redis
 * GEO (adapters/redis-geo-index.ts) when /usr/bin/redis-server exists (a throwaway redis-server, as
 * the tests start it): queries one at a time (latency is a round trip) and moves 64 in flight.
 * Query latency is wall time; the CPU time the process used meanwhile is given beside it (cpuP50Ms,
 * cpuP99Ms): on a shared machine the gap between the two is time spent waiting for a core.
 * Each phase is bounded in time; the whole run takes about a minute (`--quick`: about 20 s).
 * Run: node bench/community-geo.ts [--quick] [--only memory,kdbush,redis]   (the machine's load average is printed with results)
 */
import { mkdir, writeFile } from "node:fs/promises";
import { cpus, loadavg } from "node:os";
import { around } from "geokdbush";
import KDBush from "kdbush";
import { createMemoryNearbyIndex } from "../src/community/geo/adapters/memory-index.ts";
import { createRedisGeoIndex } from "../src/community/geo/adapters/redis-geo-index.ts";
import type { GeoPoint, IndexedPosition, NearbyIndex } from "../src/community/geo/port.ts";
import { type Random, seededRandom } from "../src/platform/clock.ts";
import { redisSkip, startTestRedis } from "../test/support/redis.ts";

const quick = process.argv.includes("--quick");
const onlyAt = process.argv.indexOf("--only");
/** `--only memory,kdbush,redis` (default: all three). */
const only = new Set((onlyAt > 0 ? (process.argv[onlyAt + 1] ?? "") : "memory,kdbush,redis").split(","));
const officers = 100_000;
const phaseMs = quick ? 1_500 : 5_000;
const nowMs = 1_800_000_000_000;
const untilMs = nowMs + 15 * 60_000;

interface Area {
  readonly name: string;
  readonly south: number;
  readonly north: number;
  readonly west: number;
  readonly east: number;
}
const areas: readonly Area[] = [
  { name: "city 30×30 km", south: 52.235, north: 52.505, west: 4.68, east: 5.12 },
  { name: "country ≈950×900 km", south: 42.5, north: 51, west: -4.5, east: 8 },
];
const queries = [
  { radiusM: 1_000, limit: 20 },
  { radiusM: 10_000, limit: 50 },
];

const pointIn = (area: Area, random: Random): GeoPoint => ({
  lat: area.south + random.next() * (area.north - area.south),
  lon: area.west + random.next() * (area.east - area.west),
});
const metresToDeg = 1 / 111_195;

function percentiles(samples: number[]) {
  const sorted = samples.sort((a, b) => a - b);
  const at = (p: number) => sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] ?? 0;
  const ms = (value: number) => Number(value.toFixed(3));
  return { count: sorted.length, p50Ms: ms(at(0.5)), p99Ms: ms(at(0.99)), maxMs: ms(sorted.at(-1) ?? 0) };
}

function officersIn(area: Area, random: Random): IndexedPosition[] {
  return Array.from({ length: officers }, (_, i) => ({
    id: `officer-${i}`,
    point: pointIn(area, random),
    accuracyM: 5 + Math.floor(random.next() * 30),
    untilMs,
  }));
}

/** A random officer moves up to ≈30 m in each direction; the positions array follows. */
function moveOne(positions: IndexedPosition[], random: Random): IndexedPosition {
  const i = Math.floor(random.next() * positions.length);
  const was = positions[i] as IndexedPosition;
  const step = 30 * metresToDeg;
  const point = {
    lat: Math.max(-90, Math.min(90, was.point.lat + (random.next() * 2 - 1) * step)),
    lon: was.point.lon + ((random.next() * 2 - 1) * step) / Math.cos((was.point.lat * Math.PI) / 180),
  };
  const moved = { ...was, point };
  positions[i] = moved;
  return moved;
}

/** Runs `run` in batches until `phaseMs` has passed; returns operations per second. */
async function throughput(inFlight: number, run: () => Promise<unknown>): Promise<number> {
  const started = performance.now();
  let done = 0;
  while (performance.now() - started < phaseMs) {
    await Promise.all(Array.from({ length: inFlight * 16 }, () => run()));
    done += inFlight * 16;
  }
  return Math.round(done / ((performance.now() - started) / 1_000));
}

async function queryLatency(
  index: NearbyIndex,
  area: Area,
  random: Random,
  query: (typeof queries)[number],
  moves?: () => Promise<unknown>,
) {
  const samples: number[] = [];
  const cpuSamples: number[] = [];
  let found = 0;
  const started = performance.now();
  while (performance.now() - started < phaseMs) {
    if (moves) for (let m = 0; m < 10; m++) await moves();
    const point = pointIn(area, random);
    const cpu = process.cpuUsage();
    const t = performance.now();
    found += (await index.near(point, query.radiusM, query.limit, nowMs)).length;
    samples.push(performance.now() - t);
    const used = process.cpuUsage(cpu);
    cpuSamples.push((used.user + used.system) / 1_000);
  }
  // CPU time of this process during the query (all its threads): unlike wall time, it leaves out the
  // time the query waited for a core on a shared machine.
  const { p50Ms: cpuP50Ms, p99Ms: cpuP99Ms } = percentiles(cpuSamples);
  return {
    ...percentiles(samples),
    cpuP50Ms,
    cpuP99Ms,
    foundMean: Number((found / samples.length).toFixed(1)),
  };
}

async function benchIndex(name: string, index: NearbyIndex, area: Area, inFlight: number) {
  const random = seededRandom(42);
  const positions = officersIn(area, random);
  const started = performance.now();
  for (let i = 0; i < positions.length; i += inFlight)
    await Promise.all(positions.slice(i, i + inFlight).map((p) => index.put(p)));
  const loadS = (performance.now() - started) / 1_000;
  const movesPerS = await throughput(inFlight, () => index.put(moveOne(positions, random)));
  const results: Record<string, unknown> = {
    index: name,
    area: area.name,
    officers,
    loadPerS: Math.round(officers / loadS),
    movesPerS,
  };
  for (const query of queries) {
    results[`near ${query.radiusM} m, limit ${query.limit}`] = await queryLatency(index, area, random, query);
    results[`near ${query.radiusM} m, limit ${query.limit}, 10 moves between queries`] = await queryLatency(
      index,
      area,
      random,
      query,
      () => index.put(moveOne(positions, random)),
    );
  }
  await index.close();
  return results;
}

/** The static alternative: the whole KDBush is rebuilt to take moves in; how long that takes, and queries. */
function benchKdbush(area: Area) {
  const random = seededRandom(42);
  const positions = officersIn(area, random);
  const rebuilds: number[] = [];
  let index = new KDBush(officers);
  for (let r = 0; r < (quick ? 5 : 20); r++) {
    const t = performance.now();
    index = new KDBush(officers);
    for (const p of positions) index.add(p.point.lon, p.point.lat);
    index.finish();
    rebuilds.push(performance.now() - t);
  }
  const results: Record<string, unknown> = {
    index: "kdbush + geokdbush (static)",
    area: area.name,
    officers,
    rebuild: percentiles(rebuilds),
  };
  for (const query of queries) {
    const samples: number[] = [];
    const started = performance.now();
    while (performance.now() - started < phaseMs / 2) {
      const point = pointIn(area, random);
      const t = performance.now();
      around(index as never, point.lon, point.lat, query.limit, query.radiusM / 1_000);
      samples.push(performance.now() - t);
    }
    results[`near ${query.radiusM} m, limit ${query.limit}`] = percentiles(samples);
  }
  return results;
}

async function main() {
  const machine = { cpus: cpus().length, loadavgAtStart: loadavg().map((l) => Number(l.toFixed(2))) };
  console.log(
    `community geo bench${quick ? " (quick)" : ""}: ${officers.toLocaleString()} officers; load average ${machine.loadavgAtStart.join(" ")}`,
  );
  const results: Record<string, unknown>[] = [];
  const report = (result: Record<string, unknown>) => {
    results.push(result);
    console.log(JSON.stringify(result, null, 1).replace(/\n\s*/g, " "));
  };
  for (const area of areas) {
    if (only.has("memory"))
      report(await benchIndex("memory (H3 buckets)", createMemoryNearbyIndex(), area, 1));
    if (only.has("kdbush")) report(benchKdbush(area));
  }
  const skip = redisSkip("the Redis GEO part");
  if (!only.has("redis")) {
  } else if (skip) console.log(skip);
  else {
    const redis = await startTestRedis();
    try {
      for (const area of areas)
        report(
          await benchIndex(
            "Redis GEO (moves 64 in flight, queries 1 at a time)",
            createRedisGeoIndex({ url: redis.url, keyPrefix: `bench:${area.name}:` }),
            area,
            64,
          ),
        );
    } finally {
      await redis.stop();
    }
  }
  const loadavgAtEnd = loadavg().map((l) => Number(l.toFixed(2)));
  console.log(`load average at the end: ${loadavgAtEnd.join(" ")}`);
  await mkdir("bench-results", { recursive: true });
  await writeFile(
    "bench-results/community-geo.json",
    JSON.stringify({ quick, machine: { ...machine, loadavgAtEnd }, results }, null, 2),
  );
}

await main();
