/**
 * The lists' storage port. Embedded mode keeps lists in PostgreSQL (adapters/postgres-lists.ts)
 * with an in-memory index per screening process; a distributed adapter (Redis: a set per list and
 * kind plus a version key, changed in one MULTI) fits the same port, since it asks only for the keys
 * in force, an atomic save of a difference guarded by the expected version, and the changes between
 * two versions.
 */
import type { ListDiff } from "./domain/diff.ts";
import type { EntryKind, ListEntry } from "./domain/entries.ts";

export interface ListVersionInfo {
  readonly list: string;
  readonly version: number;
  readonly loadedAtMs: number;
  readonly source: string;
  readonly format: string;
  readonly entries: number;
  readonly added: number;
  readonly removed: number;
  readonly unchanged: number;
}

export interface VersionMeta {
  readonly source: string;
  readonly format: string;
  readonly atMs: number;
}

export interface ListChanges {
  readonly added: readonly ListEntry[];
  readonly removed: readonly { readonly kind: EntryKind; readonly value: string }[];
  /**
   * `added` is the whole list at the target version, to replace what the reader holds (a store that
   * keeps only recent differences answers so for a reader further behind).
   */
  readonly whole?: true;
}

/** Another load saved a version since this one read the list: nothing was written. */
export class ConcurrentLoadError extends Error {
  constructor(list: string, expected: number, found: number) {
    super(`list ${list} changed during the load (version ${found}, expected ${expected}); load again`);
  }
}

export interface ListStore {
  /** The version in force of every list (0 for a list never loaded is not listed). */
  currentVersions(): Promise<ReadonlyMap<string, number>>;
  /** The latest version's details of every list. */
  versions(): Promise<readonly ListVersionInfo[]>;
  /** Keys (`kind:value`) in force in `list`, and its version. */
  currentKeys(list: string): Promise<{ readonly version: number; readonly keys: Set<string> }>;
  /** Saves `diff` as version expectedVersion + 1, atomically; ConcurrentLoadError if another load won. */
  saveVersion(list: string, expectedVersion: number, diff: ListDiff, meta: VersionMeta): Promise<number>;
  /** What changed in `list` after `fromVersion` up to and including `toVersion` (0 = from nothing). */
  changesBetween(list: string, fromVersion: number, toVersion: number): Promise<ListChanges>;
}
