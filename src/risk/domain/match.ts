/**
 * Screening a party against the lists in force. Pure: the snapshots are immutable values; a new
 * list version is a new snapshot, swapped in by replacing one reference (see screening-index.ts).
 *
 * Exact matches (IBAN, user id, normalised name) block. A name that is only similar (Jaro–Winkler
 * at or above `reviewThreshold`) is held for review. Fuzzy candidates come from a trigram index
 * (name-index.ts): a lookup compares tens of names, not 100,000, and finds every listed name within
 * a few one-letter slips of the screened one.
 */
import type { EntryKind, ListEntry } from "./entries.ts";
import { mostSimilar, type NameIndex, nameIndexOf } from "./name-index.ts";
import { normaliseName } from "./names.ts";

export interface ListSnapshot {
  readonly list: string;
  readonly version: number;
  /** value → display, per kind. */
  readonly ibans: ReadonlyMap<string, string>;
  readonly users: ReadonlyMap<string, string>;
  readonly names: ReadonlyMap<string, string>;
  /** The names, indexed for similarity lookups. */
  readonly nameIndex: NameIndex;
}

export interface Party {
  readonly iban: string;
  readonly userId: string;
  /** Where known (a user's profile); screened by name only then. */
  readonly name?: string;
}

export interface ListMatch {
  readonly list: string;
  readonly version: number;
  readonly kind: EntryKind;
  readonly value: string;
  readonly display: string;
  /** 1 for exact matches; the Jaro–Winkler similarity of the normalised names otherwise. */
  readonly score: number;
  /** What was compared, for the screening log. */
  readonly explanation: string;
}

export type PartyVerdict =
  | { readonly decision: "clear" }
  | { readonly decision: "block" | "hold"; readonly match: ListMatch };

/** Builds a snapshot (list version `version`) from its entries. */
export function snapshotOf(list: string, version: number, entries: Iterable<ListEntry>): ListSnapshot {
  const ibans = new Map<string, string>();
  const users = new Map<string, string>();
  const names = new Map<string, string>();
  for (const entry of entries) {
    const target = entry.kind === "iban" ? ibans : entry.kind === "user" ? users : names;
    target.set(entry.value, entry.display);
  }
  return { list, version, ibans, users, names, nameIndex: nameIndexOf(names.keys()) };
}

/** Exact matches first (IBAN, user id, name, over every list); then the most similar name. */
export function screenParty(
  snapshots: readonly ListSnapshot[],
  party: Party,
  reviewThreshold: number,
): PartyVerdict {
  const name = party.name === undefined ? "" : normaliseName(party.name);
  for (const snapshot of snapshots) {
    const exact = exactMatch(snapshot, party, name);
    if (exact) return { decision: "block", match: exact };
  }
  if (name === "") return { decision: "clear" };
  let best: ListMatch | undefined;
  for (const snapshot of snapshots) {
    const similar = mostSimilarName(snapshot, name, reviewThreshold);
    if (similar && (!best || similar.score > best.score)) best = similar;
  }
  return best ? { decision: "hold", match: best } : { decision: "clear" };
}

function exactMatch(snapshot: ListSnapshot, party: Party, name: string): ListMatch | undefined {
  const head = { list: snapshot.list, version: snapshot.version, score: 1 };
  const iban = snapshot.ibans.get(party.iban);
  if (iban !== undefined)
    return { ...head, kind: "iban", value: party.iban, display: iban, explanation: "IBAN listed" };
  const userId = party.userId.toLowerCase();
  const user = snapshot.users.get(userId);
  if (user !== undefined)
    return { ...head, kind: "user", value: userId, display: user, explanation: "user id listed" };
  const listedName = name === "" ? undefined : snapshot.names.get(name);
  if (listedName !== undefined)
    return {
      ...head,
      kind: "name",
      value: name,
      display: listedName,
      explanation: `name "${party.name}" normalises to "${name}", as the listed "${listedName}"`,
    };
  return undefined;
}

function mostSimilarName(snapshot: ListSnapshot, name: string, threshold: number): ListMatch | undefined {
  const similar = mostSimilar(snapshot.nameIndex, name, threshold);
  if (!similar) return undefined;
  const { name: bestName, score: bestScore } = similar;
  const display = snapshot.names.get(bestName) ?? bestName;
  return {
    list: snapshot.list,
    version: snapshot.version,
    kind: "name",
    value: bestName,
    display,
    score: bestScore,
    explanation: `name "${name}" is ${bestScore.toFixed(3)} similar (Jaro–Winkler, normalised) to the listed "${display}" ("${bestName}"), threshold ${threshold}`,
  };
}

/** The snapshot of the next version: `previous` with the difference applied (a new value). */
export function nextSnapshot(
  previous: ListSnapshot,
  version: number,
  added: readonly ListEntry[],
  removed: readonly Pick<ListEntry, "kind" | "value">[],
): ListSnapshot {
  const maps = {
    iban: new Map(previous.ibans),
    user: new Map(previous.users),
    name: new Map(previous.names),
  };
  for (const entry of removed) maps[entry.kind].delete(entry.value);
  for (const entry of added) maps[entry.kind].set(entry.value, entry.display);
  const namesChanged = [...added, ...removed].some((entry) => entry.kind === "name");
  return {
    list: previous.list,
    version,
    ibans: maps.iban,
    users: maps.user,
    names: maps.name,
    nameIndex: namesChanged ? nameIndexOf(maps.name.keys()) : previous.nameIndex,
  };
}
