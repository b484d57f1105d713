/**
 * Users' last location reports in Redis (distributed mode), so impossible jumps are caught whichever
 * API process a user reconnects to. One string key per user (`…:last:<userId>`) holding
 * `[lat, lon, accuracyM, atMs, untilMs]` as JSON, written with PX: Redis drops it by itself when it
 * ends. Reads judge `untilMs` by the caller's clock (as the index does), so an injected clock holds.
 */
import { ErrorReply } from "@redis/client";
import { UnavailableError } from "../../../platform/errors.ts";
import type { LocationReport } from "../../domain/geo.ts";
import type { LastReports } from "../last-reports.ts";
import { connect, type RedisGeoIndexOptions } from "./redis-geo-index.ts";

export type RedisLastReportsOptions = Pick<
  RedisGeoIndexOptions,
  "url" | "keyPrefix" | "connectTimeoutMs" | "commandTimeoutMs" | "onConnectionError"
>;

type Kept = readonly [lat: number, lon: number, accuracyM: number, atMs: number, untilMs: number];

function parsed(text: string | null): Kept | undefined {
  if (text === null) return undefined;
  const kept = JSON.parse(text) as Kept;
  return kept.length === 5 ? kept : undefined;
}

export function createRedisLastReports(options: RedisLastReportsOptions): LastReports {
  const client = connect(options);
  const prefix = `${options.keyPrefix ?? "ledgerflow:community:"}last:`;
  const guarded = async <T>(work: () => Promise<T>): Promise<T> => {
    try {
      return await work();
    } catch (error) {
      throw error instanceof ErrorReply
        ? error
        : new UnavailableError("Redis (last reports)", { cause: error });
    }
  };
  return {
    async get(userId, nowMs): Promise<LocationReport | undefined> {
      const kept = parsed(await guarded(() => client.get(prefix + userId)));
      if (kept === undefined || kept[4] <= nowMs) return undefined;
      return { point: { lat: kept[0], lon: kept[1] }, accuracyM: kept[2], atMs: kept[3] };
    },
    async set(userId, report, untilMs) {
      const { point, accuracyM, atMs } = report;
      const value = JSON.stringify([point.lat, point.lon, accuracyM, atMs, untilMs]);
      const ttlMs = Math.max(1, Math.ceil(untilMs - atMs));
      await guarded(() => client.set(prefix + userId, value, { expiration: { type: "PX", value: ttlMs } }));
    },
    async purgeExpired() {
      return 0;
    },
    async close() {
      if (client.isOpen) client.destroy();
    },
  };
}
