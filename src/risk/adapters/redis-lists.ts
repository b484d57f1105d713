/**
 * Screening lists in Redis, for distributed mode: every handler process's index refreshes from the
 * one Redis, so all of them screen against the same version (see lists.ts for the port).
 *
 * Keys (prefix `ledgerflow:risk:lists:`), per list L and version n:
 * - `L:version`: the version in force (the pointer every reader starts from);
 * - `L:v<n>:entries`: hash `kind:value` → display, the whole list at version n (kept for the
 *   version in force; the one before is dropped when a newer version is swapped in);
 * - `L:v<n>:added` (hash) and `L:v<n>:removed` (set): what version n changed, kept for the last
 *   `diffVersionsKept` versions so a process behind by a few versions catches up by differences
 *   (one further behind reloads the whole list: memory stays bounded however many loads there are);
 * - `L:v<n>:meta`: when, from where, counts; and the set `index` of list names.
 * A load writes its keys under a staging name first (a copy of the version in force with the
 * difference applied, and the difference), then one Lua script checks the expected version,
 * RENAMEs the staging keys to version n and moves the pointer: atomic, so readers see version
 * n - 1 or n whole. A loser of a race (pointer moved) deletes its staging keys: ConcurrentLoadError.
 * All keys go to one server: a single Redis (or a primary with replicas), not Redis Cluster.
 */
import { randomUUID } from "node:crypto";
import { connectRedis, type RedisClient } from "../../platform/redis.ts";
import type { ListDiff } from "../domain/diff.ts";
import type { EntryKind, ListEntry } from "../domain/entries.ts";
import {
  ConcurrentLoadError,
  type ListChanges,
  type ListStore,
  type ListVersionInfo,
  type VersionMeta,
} from "../lists.ts";

export interface RedisListStore extends ListStore {
  close(): Promise<void>;
}

export interface RedisListStoreOptions {
  /** `redis[s]://[[user][:password]@]host[:port][/db]` */
  readonly url: string;
  readonly keyPrefix?: string;
  readonly connectTimeoutMs?: number;
  /** Bound on one command (a load's batches are many commands, each bounded). */
  readonly commandTimeoutMs?: number;
  readonly onConnectionError?: (error: Error) => void;
}

const batchEntries = 5_000;
const batchesInFlightMax = 8;
const scanCount = 10_000;
/** Versions whose differences are kept; older ones are dropped when a newer version is swapped in. */
export const diffVersionsKept = 32;
/** A crashed load's staging keys expire by themselves. */
const stagingTtlMs = 3_600_000;

const swapScript = `
local current = tonumber(redis.call('GET', KEYS[1]) or '0')
if current ~= tonumber(ARGV[1]) then
  redis.call('DEL', KEYS[3], KEYS[4], KEYS[5])
  return current
end
for i = 3, 5 do
  if redis.call('EXISTS', KEYS[i]) == 1 then
    redis.call('RENAME', KEYS[i], KEYS[i + 3])
    redis.call('PERSIST', KEYS[i + 3])
  end
end
redis.call('HSET', KEYS[9], 'loadedAtMs', ARGV[3], 'source', ARGV[4], 'format', ARGV[5],
  'entries', ARGV[6], 'added', ARGV[7], 'removed', ARGV[8], 'unchanged', ARGV[9])
redis.call('SET', KEYS[1], ARGV[2])
redis.call('SADD', KEYS[2], ARGV[10])
redis.call('UNLINK', KEYS[10], KEYS[11], KEYS[12])
return -1
`;

function entryOfKey(key: string, display: string): ListEntry {
  const colon = key.indexOf(":");
  return { kind: key.slice(0, colon) as EntryKind, value: key.slice(colon + 1), display };
}

function chunks<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/** Connects in the background; commands wait for the connection (each bounded by its timeout). */
const connect = (options: RedisListStoreOptions) => connectRedis(options, 10_000);

/** The connection and the key names of one store. */
interface Redis {
  readonly client: RedisClient;
  readonly prefix: string;
}

type VersionPart = "entries" | "added" | "removed" | "meta";

function keysOf(redis: Redis, list: string) {
  return {
    pointer: `${redis.prefix}${list}:version`,
    version: (n: number, part: VersionPart) => `${redis.prefix}${list}:v${n}:${part}`,
    staging: (token: string, part: VersionPart) => `${redis.prefix}${list}:staging:${token}:${part}`,
  };
}

const indexKeyOf = (redis: Redis) => `${redis.prefix}index`;

async function hashEntries(redis: Redis, key: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for await (const batch of redis.client.hScanIterator(key, { COUNT: scanCount }))
    for (const { field, value } of batch) out.set(field, value);
  return out;
}

async function setMembers(redis: Redis, key: string): Promise<string[]> {
  const out: string[] = [];
  for await (const batch of redis.client.sScanIterator(key, { COUNT: scanCount })) out.push(...batch);
  return out;
}

async function pointerOf(redis: Redis, list: string): Promise<number> {
  return Number((await redis.client.get(keysOf(redis, list).pointer)) ?? 0);
}

/** Writes version expected + 1's keys under staging names; false if the version in force moved on. */
async function stage(
  redis: Redis,
  list: string,
  expectedVersion: number,
  diff: ListDiff,
  staging: Staging,
): Promise<boolean> {
  const { client } = redis;
  const k = keysOf(redis, list);
  if (expectedVersion > 0 && (await client.exists(k.version(expectedVersion, "entries"))) === 1)
    await client.copy(k.version(expectedVersion, "entries"), staging.entries);
  else if (expectedVersion > 0 && (await pointerOf(redis, list)) !== expectedVersion) return false;
  // Batches go out pipelined, a window at a time: the round trips overlap, the memory stays bounded.
  const writes = [
    ...chunks(diff.added, batchEntries).map((batch) => () => {
      const fields = Object.fromEntries(
        batch.map((entry) => [`${entry.kind}:${entry.value}`, entry.display]),
      );
      return Promise.all([client.hSet(staging.entries, fields), client.hSet(staging.added, fields)]);
    }),
    ...chunks(diff.removed, batchEntries).map(
      (batch) => () =>
        Promise.all([client.hDel(staging.entries, batch), client.sAdd(staging.removed, batch)]),
    ),
  ];
  for (let i = 0; i < writes.length; i += batchesInFlightMax)
    await Promise.all(writes.slice(i, i + batchesInFlightMax).map((write) => write()));
  await Promise.all(
    [staging.entries, staging.added, staging.removed].map((key) => client.pExpire(key, stagingTtlMs)),
  );
  return true;
}

async function saveVersion(
  redis: Redis,
  list: string,
  expectedVersion: number,
  diff: ListDiff,
  meta: VersionMeta,
): Promise<number> {
  const k = keysOf(redis, list);
  const token = randomUUID();
  const staging = {
    entries: k.staging(token, "entries"),
    added: k.staging(token, "added"),
    removed: k.staging(token, "removed"),
  };
  const version = expectedVersion + 1;
  if (!(await stage(redis, list, expectedVersion, diff, staging))) {
    await redis.client.del([staging.entries, staging.added, staging.removed]);
    throw new ConcurrentLoadError(list, expectedVersion, await pointerOf(redis, list));
  }
  const counts = [diff.added.length + diff.unchangedCount, diff.added.length, diff.removed.length];
  const found = await redis.client.eval(swapScript, {
    keys: [
      ...[k.pointer, indexKeyOf(redis), staging.entries, staging.added, staging.removed],
      ...[k.version(version, "entries"), k.version(version, "added"), k.version(version, "removed")],
      ...[k.version(version, "meta"), k.version(expectedVersion, "entries")],
      ...[k.version(version - diffVersionsKept, "added"), k.version(version - diffVersionsKept, "removed")],
    ],
    arguments: [
      ...[String(expectedVersion), String(version), String(meta.atMs), meta.source, meta.format],
      ...[...counts, diff.unchangedCount].map(String),
      list,
    ],
  });
  if (found !== -1) throw new ConcurrentLoadError(list, expectedVersion, Number(found));
  return version;
}

/** Added and removed between two versions, folded from each version's difference in order. */
async function foldChanges(redis: Redis, list: string, from: number, to: number): Promise<ListChanges> {
  const k = keysOf(redis, list);
  const added = new Map<string, string>();
  const removed = new Set<string>();
  for (let version = from + 1; version <= to; version += 1) {
    for (const key of await setMembers(redis, k.version(version, "removed")))
      if (!added.delete(key)) removed.add(key);
    for (const [key, display] of await hashEntries(redis, k.version(version, "added")))
      added.set(key, display);
  }
  return {
    added: [...added].map(([key, display]) => entryOfKey(key, display)),
    removed: [...removed].map((key) => entryOfKey(key, "")),
  };
}

async function changesBetween(redis: Redis, list: string, from: number, to: number): Promise<ListChanges> {
  if (from > 0 && to - from >= diffVersionsKept) {
    // The differences this reader needs may be gone: it reloads the whole list instead.
    return { ...(await changesBetween(redis, list, 0, to)), whole: true };
  }
  if (from === 0) {
    // Version `to`'s entries are whole if they still exist after the scan (they are never changed,
    // only dropped once a newer version is in force); else the differences are folded.
    const key = keysOf(redis, list).version(to, "entries");
    const entries = await hashEntries(redis, key);
    const whole = (await redis.client.exists(key)) === 1 || (await pointerOf(redis, list)) === to;
    if (whole) return { added: [...entries].map(([k, display]) => entryOfKey(k, display)), removed: [] };
    // A newer version was swapped in during the scan. When version `to`'s differences may be gone,
    // the newer version's whole list is answered under `to`: the reader's next refresh applies the
    // differences from `to` on, which only re-add or re-remove what it already has (sets converge).
    const current = await pointerOf(redis, list);
    if (to > diffVersionsKept && current !== to) return changesBetween(redis, list, 0, current);
  }
  return foldChanges(redis, list, from, to);
}

async function currentVersions(redis: Redis): Promise<Map<string, number>> {
  const lists = await redis.client.sMembers(indexKeyOf(redis));
  if (lists.length === 0) return new Map();
  const versions = await redis.client.mGet(lists.map((list) => keysOf(redis, list).pointer));
  return new Map(
    lists.map((list, i) => [list, Number(versions[i] ?? 0)] as const).filter(([, version]) => version > 0),
  );
}

async function versions(redis: Redis): Promise<ListVersionInfo[]> {
  const out: ListVersionInfo[] = [];
  for (const [list, version] of await currentVersions(redis)) {
    const meta = await redis.client.hGetAll(keysOf(redis, list).version(version, "meta"));
    out.push({
      list,
      version,
      loadedAtMs: Number(meta.loadedAtMs),
      source: meta.source ?? "",
      format: meta.format ?? "",
      ...{ entries: Number(meta.entries), added: Number(meta.added) },
      ...{ removed: Number(meta.removed), unchanged: Number(meta.unchanged) },
    });
  }
  return out.sort((a, b) => a.list.localeCompare(b.list));
}

export function createRedisListStore(options: RedisListStoreOptions): RedisListStore {
  const client = connect(options);
  const redis: Redis = { client, prefix: options.keyPrefix ?? "ledgerflow:risk:lists:" };
  return {
    currentVersions: () => currentVersions(redis),
    versions: () => versions(redis),
    async currentKeys(list) {
      const version = await pointerOf(redis, list);
      // Version n's entries are never changed, only dropped after a newer swap: a load that read them
      // while they went away expects n and is refused by the swap (the pointer moved on).
      const entries =
        version > 0 ? await hashEntries(redis, keysOf(redis, list).version(version, "entries")) : new Map();
      return { version, keys: new Set(entries.keys()) };
    },
    saveVersion: (list, expectedVersion, diff, meta) => saveVersion(redis, list, expectedVersion, diff, meta),
    changesBetween: (list, from, to) => changesBetween(redis, list, from, to),
    async close() {
      if (client.isOpen) client.destroy();
    },
  };
}

interface Staging {
  readonly entries: string;
  readonly added: string;
  readonly removed: string;
}
