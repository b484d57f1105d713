import assert from "node:assert/strict";
import { describe, test } from "node:test";
import fc from "fast-check";
import {
  candidateIds,
  mostSimilar,
  mostSimilarByScan,
  nameIndexOf,
  similarRememberedMax,
  trigramsLostMax,
} from "./name-index.ts";
import { nameSimilarity, normaliseName } from "./names.ts";

// Name parts as letters go in names (consonants, then a vowel), so near-misses are common.
const syllables = [..."bcdfghjklmnprstvwz"].flatMap((c) =>
  [..."aeiouy"].flatMap((v) => [c + v, `${c}r${v}`]),
);
const part = fc.array(fc.constantFrom(...syllables), { minLength: 1, maxLength: 4 }).map((s) => s.join(""));
const rawName = fc.array(part, { minLength: 1, maxLength: 4 }).map((parts) => parts.join(" "));
const accents: Readonly<Record<string, string>> = { a: "á", e: "ë", i: "î", o: "ø", u: "ü", s: "ş", z: "ž" };

/**
 * How payment data spells a listed name: diacritics, case, order of the parts, punctuation (free:
 * normalised away), and two one-letter slips or one swap of neighbours (the budget the index is
 * sized for, name-index.ts).
 */
const spelling = (name: string) =>
  fc
    .record({
      accents: fc.boolean(),
      upper: fc.boolean(),
      reverse: fc.boolean(),
      comma: fc.boolean(),
      typos: fc.array(
        fc.tuple(
          fc.nat(),
          fc.constantFrom<"sub" | "del" | "ins" | "swap">("sub", "del", "ins"),
          fc.constantFrom(..."abeiklnorsu"),
        ),
        {
          maxLength: 2,
        },
      ),
      swap: fc.option(fc.nat()),
    })
    .map(({ accents: accented, upper, reverse, comma, typos, swap }) => {
      let text = name;
      const slips = swap === null ? typos : [[swap, "swap", "e"] as const];
      for (const [at, kind, char] of slips) {
        const i = at % Math.max(1, text.length);
        const letter = /[a-z]/.test(char) ? char : "e";
        if (kind === "sub") text = text.slice(0, i) + letter + text.slice(i + 1);
        if (kind === "del") text = text.slice(0, i) + text.slice(i + 1);
        if (kind === "ins") text = text.slice(0, i) + letter + text.slice(i);
        if (kind === "swap")
          text = text.slice(0, i) + text.slice(i + 1, i + 2) + text.slice(i, i + 1) + text.slice(i + 2);
      }
      if (accented) text = text.replace(/[aeiousz]/, (c) => accents[c] ?? c);
      const parts = text.split(" ");
      if (reverse) parts.reverse();
      text = comma ? parts.join(", ") : parts.join(" ");
      return upper ? text.toUpperCase() : text;
    });

const corpusAndQueries = fc
  .array(rawName, { minLength: 1, maxLength: 100 })
  .chain((names) =>
    fc.tuple(
      fc.constant(names),
      fc.array(fc.constantFrom(...names).chain(spelling), { minLength: 1, maxLength: 5 }),
      fc.double({ min: 0.9, max: 0.99, noNaN: true }),
    ),
  );

/**
 * Trigrams shared by two normalised names, counted the plain way (multisets of the padded parts'
 * trigrams), independently of the index's tokens: the definition its candidates must meet.
 */
function sharedTrigrams(a: string, b: string): { shared: number; longer: number } {
  const trigrams = (name: string) => {
    const counts = new Map<string, number>();
    for (const part of name.split(" "))
      for (let i = 0; i + 3 <= part.length + 2; i++) {
        const trigram = ` ${part} `.slice(i, i + 3);
        counts.set(trigram, (counts.get(trigram) ?? 0) + 1);
      }
    return counts;
  };
  const [ta, tb] = [trigrams(a), trigrams(b)];
  const total = (counts: Map<string, number>) => [...counts.values()].reduce((sum, n) => sum + n, 0);
  let shared = 0;
  for (const [trigram, n] of ta) shared += Math.min(n, tb.get(trigram) ?? 0);
  return { shared, longer: Math.max(total(ta), total(tb)) };
}

describe("name index (blocked fuzzy search)", () => {
  test("the candidates are exactly the names within lostMax destroyed trigrams, each once", () => {
    fc.assert(
      fc.property(corpusAndQueries, ([raw, queries]) => {
        const names = [...new Set(raw.map(normaliseName))].filter((name) => name !== "");
        const index = nameIndexOf(names);
        for (const query of [...queries.map(normaliseName), ...names.slice(0, 3)]) {
          if (query === "") continue;
          const found = candidateIds(index, query).sort((a, b) => a - b);
          const expected = names.flatMap((name, id) => {
            const { shared, longer } = sharedTrigrams(query, name);
            return shared >= longer - trigramsLostMax ? [id] : [];
          });
          assert.deepEqual(found, expected, `candidates of "${query}"`);
        }
      }),
      { numRuns: 300 },
    );
  });
  test("it finds every listed name the full scan finds at or above the threshold, for a listed name written another way", () => {
    fc.assert(
      fc.property(corpusAndQueries, ([raw, queries, threshold]) => {
        const names = [...new Set(raw.map(normaliseName))].filter((name) => name !== "");
        const index = nameIndexOf(names);
        for (const query of queries.map(normaliseName)) {
          if (query === "") continue;
          const candidates = new Set(candidateIds(index, query));
          names.forEach((name, id) => {
            if (nameSimilarity(query, name) >= threshold)
              assert.ok(candidates.has(id), `"${name}" ~ "${query}" missed at ${threshold}`);
          });
          assert.deepEqual(mostSimilar(index, query, threshold), mostSimilarByScan(names, query, threshold));
        }
      }),
      { numRuns: 300 },
    );
  });
  test("counts stay right across the scratch's reset (more lookups than its 16-bit lookup number)", () => {
    const index = nameIndexOf(["anna berg", "anna borg", "jan smit"]);
    const expected = [candidateIds(index, "anna burg"), candidateIds(index, "jan smid")];
    for (let i = 0; i < 70_000; i++) {
      const found = candidateIds(index, i % 2 ? "jan smid" : "anna burg");
      if (i % 9_973 === 0 || i > 65_530) assert.deepEqual(found, expected[i % 2 ? 1 : 0], `lookup ${i}`);
    }
    assert.deepEqual(expected, [[0, 1], [2]]);
  });
  test("a listed name written another way is found among many, without comparing with all", () => {
    const names = Array.from({ length: 20_000 }, (_, i) =>
      normaliseName(`person${i.toString(36)} family${(i * 7919).toString(36)}`),
    );
    names.push(normaliseName("Müller, Hans-Jürgen"));
    const index = nameIndexOf(names);
    const query = normaliseName("hans jurgen muler");
    assert.equal(mostSimilar(index, query, 0.92)?.name, "hans jurgen muller");
    const compared = candidateIds(index, query).length;
    assert.ok(compared < 2_000, `${compared} candidates`);
  });
  test("an answer is remembered per query and threshold (the same receivers come back), up to a bound", () => {
    const index = nameIndexOf(["anna berg", "jan smit"]);
    const first = mostSimilar(index, "anna burg", 0.9);
    assert.equal(first?.name, "anna berg");
    // Remembered: the index's lookups are not run again (its scratch's lookup number stays).
    const lookups = index.scratch.lookup;
    assert.deepEqual(mostSimilar(index, "anna burg", 0.9), first);
    assert.equal(index.scratch.lookup, lookups);
    // Another threshold is another question; "nothing similar" is remembered too.
    assert.equal(mostSimilar(index, "anna burg", 0.99), undefined);
    assert.equal(mostSimilar(index, "anna burg", 0.99), undefined);
    assert.equal(index.scratch.lookup, lookups + 1);
    for (let i = 0; i < similarRememberedMax + 10; i++) mostSimilar(index, `query ${i}`, 0.9);
    assert.equal(index.remembered.size, similarRememberedMax);
    assert.equal(index.remembered.has("0.9 anna burg"), false, "the oldest answers are forgotten first");
  });
});
