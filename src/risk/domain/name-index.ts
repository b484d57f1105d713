/**
 * Finding the listed names most similar to a screened name without comparing it with all of them.
 * Pure (no I/O); an index is an immutable value built once per list version.
 *
 * Blocking by character trigrams with a prefix filter (as in PPJoin), sized for the typos the
 * issue names. A name is the multiset of the trigrams of each of its parts padded with spaces
 * (" hans ", " muller ": per part, because normalising sorts the parts and a slip must not move the
 * rest), written as a set of tokens (trigram, its k-th occurrence). One replaced, inserted or
 * deleted letter destroys at most 3 of them, a swap of neighbours at most 4; so a name within
 * `lostMax` destroyed trigrams of another (the default 6: two slips, or one swap)
 * shares all but lostMax of its tokens with it. Ordering all tokens by how few listed names have
 * them, two such names share a token among the first lostMax + 1 of each (the prefix lemma). The
 * index keeps each listed name under those first tokens only; a lookup probes the query's first
 * lostMax + 1 tokens, checks the shared-token count exactly (a merge of sorted tokens), and computes
 * Jaro–Winkler only for the names that pass: tens, not 100,000. Names of at most lostMax tokens
 * need share none: a short query is compared with every short name.
 * Diacritics, case, punctuation and the order of name parts cost nothing here: names.ts normalises
 * them away first. What blocking can miss: a name farther than `lostMax` bigrams that Jaro–Winkler
 * still scores above the threshold (e.g. many letters transposed); the property test in
 * name-index.test.ts compares it with the full scan on generated names and their misspellings.
 */
import { nameSimilarity } from "./names.ts";

export interface NameIndex {
  readonly names: readonly string[];
  /** Every name's tokens, sorted by value, one after another (name i's: offsets[i] to offsets[i + 1]). */
  readonly tokens: Float64Array;
  readonly offsets: Int32Array;
  /**
   * Scratch for lookups (the only mutable part; lookups are synchronous, so never interleaved):
   * the lookup that last saw each name, so a name is checked once per lookup without a set.
   */
  readonly scratch: { lookup: number; readonly seenBy: Uint32Array };
  /** How many names hold each token. */
  readonly frequency: ReadonlyMap<number, number>;
  /** Token → names having it among their first lostMax + 1 (rarest) tokens. */
  readonly postings: ReadonlyMap<number, { readonly ids: Int32Array; readonly ranks: Uint8Array }>;
  /** Tokens per name. */
  readonly lengths: Uint16Array;
  readonly lostMax: number;
  /** Names of at most lostMax tokens: they may share none with a short query and still be close. */
  readonly shortIds: Int32Array;
}

export interface SimilarName {
  readonly name: string;
  readonly score: number;
}

/**
 * Destroyed trigrams tolerated: two one-letter slips (3 each) or one swap of neighbours (4). One
 * more costs speed sharply (7: 6 times the candidates, twice the time on bench/screening.ts's names).
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

function byRarity(frequency: ReadonlyMap<number, number>): (a: number, b: number) => number {
  return (a, b) => (frequency.get(a) ?? 0) - (frequency.get(b) ?? 0) || a - b;
}

export function nameIndexOf(names: Iterable<string>, lostMax = trigramsLostMax): NameIndex {
  const list = [...names];
  const tokens = list.map(tokensOf);
  const frequency = new Map<number, number>();
  for (const nameTokens of tokens)
    for (const token of nameTokens) frequency.set(token, (frequency.get(token) ?? 0) + 1);
  // The global order once (a few thousand distinct tokens), then each name's tokens sorted by their
  // place in it as plain numbers: sorting 1.7M tokens with a comparator reading the map took ~0.5 s.
  const ordered = [...frequency.keys()].sort(byRarity(frequency));
  const place = new Map(ordered.map((token, i) => [token, i]));
  const lists = new Map<number, { ids: number[]; ranks: number[] }>();
  tokens.forEach((nameTokens, id) => {
    const places = Uint32Array.from(nameTokens, (token) => place.get(token) ?? 0).sort();
    for (let rank = 0; rank < Math.min(lostMax + 1, places.length); rank++) {
      const token = ordered[places[rank] ?? 0] ?? 0;
      const posting = lists.get(token);
      if (posting) {
        posting.ids.push(id);
        posting.ranks.push(rank);
      } else lists.set(token, { ids: [id], ranks: [rank] });
    }
  });
  const postings = new Map<number, { ids: Int32Array; ranks: Uint8Array }>();
  for (const [token, { ids, ranks }] of lists)
    postings.set(token, { ids: Int32Array.from(ids), ranks: Uint8Array.from(ranks) });
  const lengths = Uint16Array.from(tokens, (nameTokens) => nameTokens.length);
  const offsets = new Int32Array(list.length + 1);
  tokens.forEach((nameTokens, id) => {
    offsets[id + 1] = (offsets[id] ?? 0) + nameTokens.length;
  });
  const flat = new Float64Array(offsets[list.length] ?? 0);
  tokens.forEach((nameTokens, id) => {
    flat.set(Float64Array.from(nameTokens).sort(), offsets[id] ?? 0);
  });
  const scratch = { lookup: 0, seenBy: new Uint32Array(list.length) };
  const shortIds = Int32Array.from(
    tokens.flatMap((nameTokens, id) => (nameTokens.length <= lostMax ? [id] : [])),
  );
  return { names: list, tokens: flat, offsets, lengths, scratch, frequency, postings, lostMax, shortIds };
}

/** Tokens `query` shares with name `id` (both sorted): a merge. */
function sharedCount(index: NameIndex, id: number, query: Float64Array): number {
  const { tokens } = index;
  const end = index.offsets[id + 1] ?? 0;
  let shared = 0;
  for (let i = 0, j = index.offsets[id] ?? 0; i < query.length && j < end; ) {
    const x = query[i] ?? 0;
    const y = tokens[j] ?? 0;
    if (x === y) {
      shared += 1;
      i += 1;
      j += 1;
    } else if (x < y) i += 1;
    else j += 1;
  }
  return shared;
}

/** The listed names within the index's lostMax destroyed trigrams of `query` (a normalised name). */
export function candidateIds(index: NameIndex, query: string): number[] {
  const queryTokens = tokensOf(query);
  const sorted = Float64Array.from(queryTokens).sort();
  const { scratch } = index;
  scratch.lookup = (scratch.lookup % 0xffff_fffe) + 1;
  if (scratch.lookup === 1) scratch.seenBy.fill(0); // wrapped around: old marks could match
  const lookup = scratch.lookup;
  const candidates: number[] = [];
  if (sorted.length <= index.lostMax)
    for (const id of index.shortIds) {
      scratch.seenBy[id] = lookup;
      candidates.push(id);
    }
  const na = sorted.length;
  const { lostMax, lengths } = index;
  const prefix = queryTokens.sort(byRarity(index.frequency)).slice(0, lostMax + 1);
  prefix.forEach((token, position) => {
    const posting = index.postings.get(token);
    if (!posting) return;
    const { ids, ranks } = posting;
    for (let p = 0; p < ids.length; p++) {
      const id = ids[p] ?? 0;
      const nb = lengths[id] ?? 0;
      // The pair's own prefixes (PPJoin): shared ≥ max − lostMax, so each side's first
      // length − (max − lostMax) + 1 tokens; a pair is found from the probe inside both.
      const longer = Math.max(na, nb);
      if (longer - Math.min(na, nb) > lostMax) continue;
      if (position > na - longer + lostMax || (ranks[p] ?? 0) > nb - longer + lostMax) continue;
      if (scratch.seenBy[id] === lookup) continue;
      scratch.seenBy[id] = lookup;
      if (sharedCount(index, id, sorted) >= longer - lostMax) candidates.push(id);
    }
  });
  return candidates;
}

/** The most similar listed name at or above `threshold` (the first listed among equals), if any. */
export function mostSimilar(index: NameIndex, query: string, threshold: number): SimilarName | undefined {
  const ids = candidateIds(index, query).sort((a, b) => a - b);
  return bestOf(
    ids.map((id) => index.names[id] ?? ""),
    query,
    threshold,
  );
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
