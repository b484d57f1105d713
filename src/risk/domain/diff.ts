/**
 * A new list version against the one in force: which entries are added, removed, unchanged. Pure.
 * Loads store and swap only the difference, so a daily list with a few changes costs a few rows.
 */
import { entryKey, type ListEntry } from "./entries.ts";

export interface ListDiff {
  readonly added: readonly ListEntry[];
  /** Keys (`kind:value`) of entries no longer listed. */
  readonly removed: readonly string[];
  readonly unchangedCount: number;
}

export function diffList(currentKeys: ReadonlySet<string>, next: ReadonlyMap<string, ListEntry>): ListDiff {
  const added: ListEntry[] = [];
  for (const [key, entry] of next) if (!currentKeys.has(key)) added.push(entry);
  const removed: string[] = [];
  for (const key of currentKeys) if (!next.has(key)) removed.push(key);
  return { added, removed, unchangedCount: next.size - added.length };
}

export function isEmptyDiff(diff: ListDiff): boolean {
  return diff.added.length === 0 && diff.removed.length === 0;
}

/** The keys of a list of entries (for building `next`). */
export function keyed(entries: Iterable<ListEntry>): Map<string, ListEntry> {
  const map = new Map<string, ListEntry>();
  for (const entry of entries) map.set(entryKey(entry), entry);
  return map;
}
