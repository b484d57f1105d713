/**
 * Names as screening compares them. Lists and payment data spell one person many ways ("Müller,
 * Hans", "HANS MUELLER", "hans  müller-"), so both sides are normalised the same way before any
 * comparison: Unicode NFKD, diacritics dropped, case folded, punctuation to spaces, and the name's
 * parts sorted (lists write "SURNAME, Given", payments "Given Surname"). Similarity is Jaro–Winkler
 * (from @skyra/jaro-winkler) over the normalised forms. Pure: no I/O.
 */
import { jaroWinkler } from "@skyra/jaro-winkler";

const combiningMarks = /\p{M}+/gu;
// Anything that is not a letter or a digit separates name parts (hyphens, commas, dots, quotes…).
const separators = /[^\p{L}\p{N}]+/gu;
/** Letters NFKD does not decompose but people write without the mark. */
const foldedLetters: Readonly<Record<string, string>> = {
  ß: "ss",
  æ: "ae",
  ø: "o",
  œ: "oe",
  đ: "d",
  ł: "l",
  þ: "th",
  ı: "i",
};

/** The name's parts, normalised and sorted; "" when it has no letter or digit. */
export function normaliseName(name: string): string {
  const folded = name
    .normalize("NFKD")
    .replace(combiningMarks, "")
    .toLowerCase()
    .replace(/[ßæøœđłþı]/g, (letter) => foldedLetters[letter] ?? letter);
  return folded
    .split(separators)
    .filter((part) => part !== "")
    .sort()
    .join(" ");
}

/** Similarity in [0, 1] of two normalised names (1 = the same). */
export function nameSimilarity(normalisedA: string, normalisedB: string): number {
  if (normalisedA === normalisedB) return 1;
  if (normalisedA === "" || normalisedB === "") return 0;
  return jaroWinkler(normalisedA, normalisedB);
}
