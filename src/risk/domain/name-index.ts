/**
 * Finding the listed names most similar to a screened name without comparing it with all of them.
 * Pure (no I/O); an index is an immutable value built once per list version.
 *
 * Blocking by character trigrams, sized for the typos the issue names. A name is the multiset of
 * the trigrams of each of its parts padded with spaces (" hans ", " muller ": per part, because
 * normalising sorts the parts and a slip must not move the rest), written as a set of tokens
 * (trigram, its k-th occurrence). One replaced, inserted or deleted letter destroys at most 3 of
 * them, a swap of neighbours at most 4; so a name within `lostMax` destroyed trigrams of another
 * (the default 6: two slips, or one swap) shares at least max(length) − lostMax tokens with it.
 * The candidates are exactly those names. They are counted, not verified one by one (ScanCount):
 * an inverted index keeps, per token, the names having it; a lookup walks the lists of the query's
 * tokens once, adding 1 to each name's count (one 32-bit word per name: a lookup runs with its data
 * out of the CPU's caches, so each place touched is a miss), and then checks the names that reached
 * the least bound against their own. A name's tokens are distinct, so a lookup touches each indexed
 * token at most once: its work is bounded by the index's size whatever the query (typically 15–25
 * thousand increments among 100,000 names, against the ~1,200–2,300 pairwise verifications of the
 * earlier prefix filter, which took 2–3 times as long). Jaro–Winkler then runs on the candidates
 * only: tens, not 100,000.
 * Names of at most lostMax tokens need share none: a short query is compared with every short name.
 * Diacritics, case, punctuation and the order of name parts cost nothing here: names.ts normalises
 * them away first. What blocking can miss: a name farther than `lostMax` trigrams that Jaro–Winkler
 * still scores above the threshold (e.g. many letters transposed); the property test in
 * name-index.test.ts compares it with the full scan on generated names and their misspellings.
 */
import { nameSimilarity } from "./names.ts";

export interface NameIndex {
  readonly names: readonly string[];
  /** Token → the names having it, by id (ascending). */
  readonly postings: ReadonlyMap<number, Int32Array>;
  /** Tokens per name. */
  readonly lengths: Uint16Array;
  readonly lostMax: number;
  /** Names of at most lostMax tokens: they may share none with a short query and still be close. */
  readonly shortIds: Int32Array;
  /**
   * Scratch for lookups (the only mutable part; lookups are synchronous, so never interleaved): per
   * name, lookup × 65,536 + its count in that lookup, so no per-lookup reset. One array, so that
   * counting a name touches one place in memory: a lookup runs with its data out of the CPU's
   * caches (the ledger's work runs between two), and each place is a miss.
   */
  readonly scratch: { lookup: number; readonly counted: Uint32Array };
  /**
   * Answers already given (threshold and query → the most similar name, or null for none): the
   * same receivers are screened again and again, and an index never changes (a list's new version
   * is a new index). At most `similarRememberedMax`, the oldest forgotten first.
   */
  readonly remembered: Map<string, SimilarName | null>;
}

/** Answers an index remembers (about 100 bytes each). */
export const similarRememberedMax = 50_000;

/** Lookups between two resets of the scratch (the lookup number is its upper 16 bits). */
const lookupsMax = 65_535;

export interface SimilarName {
  readonly name: string;
  readonly score: number;
}

/**
 * Destroyed trigrams tolerated: two one-letter slips (3 each) or one swap of neighbours (4). One
 * more widens the candidates sharply (7 gave 6 times the candidates on bench/screening.ts's names).
 */
export const trigramsLostMax = 6;

/**
 * A trigram (three UTF-16 units, 48 bits) and its occurrence in the name (names are ≤ 512
 * characters), as one number: a hash of the trigram (53 bits are exact in a double; a collision
 * only adds candidates, it never loses one).
 */
function tokenId(trigram: string, occurrence: number): number {
  const bits = trigram.charCodeAt(0) * 2 ** 32 + trigram.charCodeAt(1) * 65_536 + trigram.charCodeAt(2);
  return (bits % 8_796_093_022_207) * 1024 + occurrence;
}

function tokensOf(name: string): number[] {
  const seen = new Map<string, number>();
  const tokens: number[] = [];
  // Per part: normalising sorts the parts, so a slip that reorders them must not change the rest.
  for (const part of name.split(" ")) {
    const padded = ` ${part} `;
    for (let i = 0; i + 2 < padded.length; i++) {
      const trigram = padded.slice(i, i + 3);
      const occurrence = (seen.get(trigram) ?? 0) + 1;
      seen.set(trigram, occurrence);
      tokens.push(tokenId(trigram, occurrence));
    }
  }
  return tokens;
}

export function nameIndexOf(names: Iterable<string>, lostMax = trigramsLostMax): NameIndex {
  const list = [...names];
  const lists = new Map<number, number[]>();
  const lengths = new Uint16Array(list.length);
  list.forEach((name, id) => {
    const tokens = tokensOf(name);
    lengths[id] = tokens.length;
    for (const token of tokens) {
      const ids = lists.get(token);
      if (ids) ids.push(id);
      else lists.set(token, [id]);
    }
  });
  const postings = new Map<number, Int32Array>();
  for (const [token, ids] of lists) postings.set(token, Int32Array.from(ids));
  const shortIds = Int32Array.from(list.flatMap((_, id) => ((lengths[id] ?? 0) <= lostMax ? [id] : [])));
  const scratch = { lookup: 0, counted: new Uint32Array(list.length) };
  return { names: list, postings, lengths, lostMax, shortIds, scratch, remembered: new Map() };
}

/** A fresh lookup's base: counts of earlier lookups are then below it. */
function nextLookupBase(scratch: NameIndex["scratch"]): number {
  scratch.lookup = (scratch.lookup % lookupsMax) + 1;
  if (scratch.lookup === 1) scratch.counted.fill(0); // wrapped around: old counts could look current
  return scratch.lookup * 65_536;
}

/**
 * The listed names within the index's lostMax destroyed trigrams of `query` (a normalised name):
 * those sharing at least max(both lengths) − lostMax of its tokens, each once.
 */
export function candidateIds(index: NameIndex, query: string): number[] {
  const queryTokens = tokensOf(query);
  const na = queryTokens.length;
  const { scratch, lengths, lostMax } = index;
  // A count is 16 bits: a query this long (no name is) is compared with every name instead.
  if (na > 65_535) return index.names.map((_, id) => id);
  const { counted } = scratch;
  const base = nextLookupBase(scratch);
  // The least any name must share (a longer one, more): counting reads no length, and only the
  // names reaching it are checked against their own bound afterwards.
  const least = Math.max(1, na - lostMax);
  const reached: number[] = [];
  for (const token of queryTokens) {
    const ids = index.postings.get(token);
    if (ids === undefined) continue;
    for (let p = 0; p < ids.length; p++) {
      const id = ids[p] ?? 0;
      const before = counted[id] ?? 0;
      const count = before >= base ? before - base + 1 : 1;
      counted[id] = base + count;
      if (count === least) reached.push(id);
    }
  }
  // Short names with a short query may share nothing (their bound is ≤ 0): all of them, once.
  const candidates: number[] = na <= lostMax ? Array.from(index.shortIds) : [];
  for (const id of reached) {
    const bound = Math.max(na, lengths[id] ?? 0) - lostMax;
    if (bound > 0 && (counted[id] ?? 0) - base >= bound) candidates.push(id);
  }
  return candidates;
}

/** The most similar listed name at or above `threshold` (the first listed among equals), if any. */
export function mostSimilar(index: NameIndex, query: string, threshold: number): SimilarName | undefined {
  const key = `${threshold} ${query}`;
  const known = index.remembered.get(key);
  if (known !== undefined) return known ?? undefined;
  const ids = candidateIds(index, query).sort((a, b) => a - b);
  const found = bestOf(
    ids.map((id) => index.names[id] ?? ""),
    query,
    threshold,
  );
  if (index.remembered.size >= similarRememberedMax) {
    const oldest = index.remembered.keys().next().value;
    if (oldest !== undefined) index.remembered.delete(oldest);
  }
  index.remembered.set(key, found ?? null);
  return found;
}

/** The same question answered by comparing with every name: what the index is tested against. */
export function mostSimilarByScan(
  names: readonly string[],
  query: string,
  threshold: number,
): SimilarName | undefined {
  return bestOf(names, query, threshold);
}

function bestOf(names: readonly string[], query: string, threshold: number): SimilarName | undefined {
  let best: SimilarName | undefined;
  for (const name of names) {
    const score = nameSimilarity(query, name);
    if (score >= threshold && (!best || score > best.score)) best = { name, score };
  }
  return best;
}
