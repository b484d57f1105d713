/**
 * Which store holds the screening lists, chosen as identity chooses its login limiter: Redis when
 * the platform has one (distributed mode: every handler process screens against the same version),
 * else PostgreSQL (embedded), each process keeping its in-memory index (screening-index.ts).
 */
import type pg from "pg";
import { createPostgresListStore } from "./adapters/postgres-lists.ts";
import { createRedisListStore } from "./adapters/redis-lists.ts";
import type { ListStore } from "./lists.ts";

export interface ConfiguredListStore {
  readonly store: ListStore;
  /** Where the lists live, for the feeder's report and the logs (no credentials). */
  readonly where: string;
  close(): Promise<void>;
}

export function createConfiguredListStore(
  pool: pg.Pool,
  redisUrl: string | undefined,
  onRedisError: (error: Error) => void,
): ConfiguredListStore {
  if (redisUrl === undefined)
    return { store: createPostgresListStore(pool), where: "PostgreSQL", close: async () => {} };
  const store = createRedisListStore({ url: redisUrl, onConnectionError: onRedisError });
  const url = new URL(redisUrl);
  return { store, where: `Redis ${url.host}`, close: () => store.close() };
}
