/**
 * The nearby index of distributed mode, on Redis GEO: every API instance reads and writes the same
 * index, so each answers "who is near this point" alike. One instance per use, each under its own
 * key prefix: the available officers (`…:geo:`) and the citizens sharing their position
 * (`…:citizens:`); "officer" below stands for either.
 *
 * Keys (prefix `ledgerflow:community:geo:` by default):
 * - `positions`: GEO set, member = officer id (GEOADD; searched with GEOSEARCH BYRADIUS ASC COUNT);
 * - `polar`: set of officers beyond ±85.05112878° latitude, which Redis GEO cannot hold (Web
 *   Mercator's limit); a query whose circle reaches that far measures them one by one;
 * - `until`: sorted set officer id → untilMs, the window's end, so expired entries are found in
 *   O(log n) and purged, at most `purgeBatchMax` per call (bounded work);
 * - `exact`: hash officer id → `[lat, lon, accuracyM, untilMs]` as JSON: the exact position (GEO
 *   stores a 52-bit geohash, ≈0.6 m off) and what the port returns with it.
 * Every call is one Lua script (atomic, one round trip). Distances are recomputed from the exact
 * positions with the memory adapter's haversine (Redis measures on a sphere of another radius), over
 * a slightly wider search, so both adapters give the same officers in the same order.
 * Windows are judged by the caller's `nowMs` (never Redis TIME), as in the memory adapter. All keys
 * go to one server: a single Redis (or a primary with replicas), not Redis Cluster.
 * Exact coordinates stay in Redis only while the window is open: expired entries are purged by every
 * call, and `purgeExpired` lets a timer do it when nobody calls.
 */
import { ErrorReply } from "@redis/client";
import { UnavailableError } from "../../../platform/errors.ts";
import {
  connectRedis,
  type RedisClient,
  type RedisScript,
  redisScript,
  runRedisScript,
} from "../../../platform/redis.ts";
import type { GeoPoint, IndexedPosition, NearbyEntry, NearbyIndex } from "../port.ts";
import {
  assertGeoPoint,
  assertPosition,
  earthRadiusM,
  greatCircleDistanceM,
  nearestFirst,
} from "./great-circle.ts";

export interface RedisGeoIndexOptions {
  /** `redis[s]://[[user][:password]@]host[:port][/db]` */
  readonly url: string;
  readonly keyPrefix?: string;
  /** Expired entries removed by one call at most (default 64). */
  readonly purgeBatchMax?: number;
  /** The first radius a query searches, widened ×4 until it holds `limit` officers (default 500 m). */
  readonly firstSearchM?: number;
  /** Bound on one TCP (and TLS) connect attempt. */
  readonly connectTimeoutMs?: number;
  /** Bound on one command, including time queued while the connection is re-established. */
  readonly commandTimeoutMs?: number;
  /** Connection errors (each failed reconnect attempt, too): log them; the index keeps going. */
  readonly onConnectionError?: (error: Error) => void;
}

export interface RedisGeoIndex extends NearbyIndex {
  /** Removes up to `max` entries expired at `nowMs` (for a timer); returns how many it removed. */
  purgeExpired(nowMs: number, max?: number): Promise<number>;
}

/** Web Mercator's latitude limit: GEOADD refuses points beyond it. */
export const geoLatitudeMax = 85.05112878;
const metresPerDegreeLat = (earthRadiusM * Math.PI) / 180;
/** Redis measures on a sphere 0.03% larger, from 52-bit geohashes: search a little wider, then measure. */
const searchWidening = 1.001;
const searchMarginM = 2;

/** KEYS: positions, polar, until, exact. */
const purgeLua = `
local function purge(now, max)
  local expired = redis.call('ZRANGEBYSCORE', KEYS[3], '-inf', now, 'LIMIT', 0, max)
  if #expired > 0 then
    redis.call('ZREM', KEYS[1], unpack(expired))
    redis.call('SREM', KEYS[2], unpack(expired))
    redis.call('ZREM', KEYS[3], unpack(expired))
    redis.call('HDEL', KEYS[4], unpack(expired))
  end
  return #expired
end
`;

/** ARGV: now, purgeMax, id, lon, lat, polar (1|0), exact JSON, untilMs. */
const putScript = `${purgeLua}
if ARGV[1] ~= '' then purge(ARGV[1], tonumber(ARGV[2])) end
if ARGV[6] == '1' then
  redis.call('ZREM', KEYS[1], ARGV[3])
  redis.call('SADD', KEYS[2], ARGV[3])
else
  redis.call('GEOADD', KEYS[1], ARGV[4], ARGV[5], ARGV[3])
  redis.call('SREM', KEYS[2], ARGV[3])
end
redis.call('ZADD', KEYS[3], ARGV[8], ARGV[3])
redis.call('HSET', KEYS[4], ARGV[3], ARGV[7])
return 0
`;

/** ARGV: id. */
const removeScript = `
redis.call('ZREM', KEYS[1], ARGV[1])
redis.call('SREM', KEYS[2], ARGV[1])
redis.call('ZREM', KEYS[3], ARGV[1])
redis.call('HDEL', KEYS[4], ARGV[1])
return 0
`;

/**
 * ARGV: now, purgeMax, lon, lat, searchRadiusM, count, withPolar (1|0), firstRadiusM. Returns a flat
 * list of id, exact JSON pairs: the GEO search's officers (COUNT raised by the expired ones not yet
 * purged, which it may still hold), then the polar ones when asked. GEOSEARCH gathers every member
 * within the radius before it sorts (COUNT only trims): in a dense city a 10 km search reads tens of
 * thousands. So it searches from `firstRadiusM`, four times wider each time, until it has `count` or
 * the whole radius: the nearest `count` within a smaller circle are the nearest `count` of all.
 */
const nearScript = `${purgeLua}
local now = ARGV[1]
purge(now, tonumber(ARGV[2]))
local count = tonumber(ARGV[6]) + redis.call('ZCOUNT', KEYS[3], '-inf', now)
local full = tonumber(ARGV[5])
local radius = math.min(tonumber(ARGV[8]), full)
local ids
while true do
  ids = redis.call('GEOSEARCH', KEYS[1], 'FROMLONLAT', ARGV[3], ARGV[4], 'BYRADIUS', radius, 'm', 'ASC', 'COUNT', count)
  if #ids >= count or radius >= full then break end
  radius = math.min(radius * 4, full)
end
if ARGV[7] == '1' then
  for _, id in ipairs(redis.call('SMEMBERS', KEYS[2])) do ids[#ids + 1] = id end
end
local out = {}
for i = 1, #ids, 1000 do
  local chunk = {}
  for j = i, math.min(i + 999, #ids) do chunk[#chunk + 1] = ids[j] end
  local exact = redis.call('HMGET', KEYS[4], unpack(chunk))
  for j = 1, #chunk do
    out[#out + 1] = chunk[j]
    out[#out + 1] = exact[j] or ''
  end
end
return out
`;

/** ARGV: now, purgeMax, id. */
const positionScript = `${purgeLua}
purge(ARGV[1], tonumber(ARGV[2]))
return redis.call('HGET', KEYS[4], ARGV[3]) or ''
`;

/** ARGV: now, purgeMax. */
const purgeScript = `${purgeLua}
return purge(ARGV[1], tonumber(ARGV[2]))
`;

const script = redisScript;
const scripts = {
  put: script(putScript),
  remove: script(removeScript),
  near: script(nearScript),
  position: script(positionScript),
  purge: script(purgeScript),
};

type Exact = readonly [lat: number, lon: number, accuracyM: number, untilMs: number];

function parseExact(text: string): Exact | undefined {
  if (text === "") return undefined;
  const exact = JSON.parse(text) as Exact;
  return exact.length === 4 ? exact : undefined;
}

/**
 * Where GEOSEARCH looks for a query circle: from the point itself, or, for a point beyond Redis's
 * latitude limit, from the nearest point it accepts with the radius widened by the distance to it
 * (every officer within the circle is within the widened one: triangle inequality).
 */
function geoSearchOf(
  point: GeoPoint,
  radiusM: number,
): { from: GeoPoint; radiusM: number; withPolar: boolean } {
  const withPolar = Math.abs(point.lat) + radiusM / metresPerDegreeLat > geoLatitudeMax;
  if (Math.abs(point.lat) <= geoLatitudeMax)
    return { from: point, radiusM: radiusM * searchWidening + searchMarginM, withPolar };
  const from = { lat: Math.sign(point.lat) * geoLatitudeMax, lon: point.lon };
  const widenedM = radiusM + greatCircleDistanceM(point, from);
  return { from, radiusM: widenedM * searchWidening + searchMarginM, withPolar };
}

/** Measures the candidates exactly: open at `nowMs`, within `radiusM`, nearest first, at most `limit`. */
function nearestOf(reply: readonly string[], point: GeoPoint, radiusM: number, limit: number, nowMs: number) {
  const found: NearbyEntry[] = [];
  for (let i = 0; i + 1 < reply.length; i += 2) {
    const exact = parseExact(reply[i + 1] as string);
    if (exact === undefined || exact[3] <= nowMs) continue;
    const distanceM = greatCircleDistanceM(point, { lat: exact[0], lon: exact[1] });
    if (distanceM <= radiusM) found.push({ id: reply[i] as string, distanceM, accuracyM: exact[2] });
  }
  return found.sort(nearestFirst).slice(0, limit);
}

/** Connects in the background and returns at once; commands wait for the connection (bounded). */
export const connect = (options: RedisGeoIndexOptions) => connectRedis(options, 1_000);

/** Runs a script by its SHA-1, sending the source when Redis lacks it; connection trouble → UnavailableError. */
function scriptRunner(client: RedisClient, keys: string[]) {
  return async (lua: RedisScript, args: readonly string[]): Promise<unknown> => {
    try {
      return await runRedisScript(client, lua, { keys, arguments: [...args] });
    } catch (error) {
      throw error instanceof ErrorReply
        ? error
        : new UnavailableError("Redis (nearby index)", { cause: error });
    }
  };
}

/** The put script's ARGV after now and purgeMax: id, lon, lat, polar, exact JSON, untilMs. */
function putArguments({ id, point, accuracyM, untilMs }: IndexedPosition): string[] {
  const polar = Math.abs(point.lat) > geoLatitudeMax ? "1" : "0";
  const exact = JSON.stringify([point.lat, point.lon, accuracyM, untilMs]);
  return [id, String(point.lon), String(point.lat), polar, exact, String(untilMs)];
}

/** Connects in the background and returns at once; commands wait for the connection (bounded). */
export function createRedisGeoIndex(options: RedisGeoIndexOptions): RedisGeoIndex {
  const client = connect(options);
  const prefix = options.keyPrefix ?? "ledgerflow:community:geo:";
  const keys = ["positions", "polar", "until", "exact"].map((name) => `${prefix}${name}`);
  const purgeBatchMax = options.purgeBatchMax ?? 64;
  const firstSearchM = options.firstSearchM ?? 500;
  /** The latest `nowMs` a caller told us: `put` has no clock of its own, it purges by this. */
  let latestNowMs: number | undefined;
  const told = (nowMs: number) => {
    latestNowMs = Math.max(latestNowMs ?? nowMs, nowMs);
    return String(nowMs);
  };

  const run = scriptRunner(client, keys);

  return {
    async put(position) {
      assertPosition(position);
      const now = latestNowMs === undefined ? "" : String(latestNowMs);
      await run(scripts.put, [now, String(purgeBatchMax), ...putArguments(position)]);
    },
    async remove(id) {
      await run(scripts.remove, [id]);
    },
    async near(point, radiusM, limit, nowMs) {
      assertGeoPoint(point);
      const count = Math.floor(limit);
      if (!(radiusM >= 0) || !(count >= 1)) {
        await run(scripts.purge, [told(nowMs), String(purgeBatchMax)]);
        return [];
      }
      const search = geoSearchOf(point, radiusM);
      // Officers at nearly the same distance may rank differently by Redis's measure: ask for a few more.
      const asked = count + Math.ceil(count / 8) + 16;
      const args = [told(nowMs), String(purgeBatchMax), String(search.from.lon), String(search.from.lat)];
      args.push(String(search.radiusM), String(asked), search.withPolar ? "1" : "0", String(firstSearchM));
      return nearestOf((await run(scripts.near, args)) as string[], point, radiusM, count, nowMs);
    },
    async positionOf(id, nowMs) {
      const exact = parseExact(
        (await run(scripts.position, [told(nowMs), String(purgeBatchMax), id])) as string,
      );
      if (exact === undefined || exact[3] <= nowMs) return undefined;
      return { id, point: { lat: exact[0], lon: exact[1] }, accuracyM: exact[2], untilMs: exact[3] };
    },
    async purgeExpired(nowMs, max = purgeBatchMax) {
      return Number(await run(scripts.purge, [told(nowMs), String(max)]));
    },
    async close() {
      // destroy, not close: close() waits for replies that never come while Redis is down.
      if (client.isOpen) client.destroy();
    },
  };
}
