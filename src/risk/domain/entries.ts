/**
 * What a screening list holds: entries, each one matchable key (an IBAN, a user id, or a name),
 * and how a line of a list file becomes one. Pure: parsing of whole files (streams, encodings,
 * limits) is the feeder's; this decides what one line or field means.
 */
import { normaliseName } from "./names.ts";

export const entryKinds = ["iban", "user", "name"] as const;
export type EntryKind = (typeof entryKinds)[number];

export interface ListEntry {
  readonly kind: EntryKind;
  /** The normalised value screening compares (upper-case IBAN, lower-case UUID, normalised name). */
  readonly value: string;
  /** As the list wrote it (names keep their spelling for the screening log). */
  readonly display: string;
}

/** One key per entry: a list is a set of these. */
export function entryKey(entry: Pick<ListEntry, "kind" | "value">): string {
  return `${entry.kind}:${entry.value}`;
}

export class EntryError extends Error {}

const ibanShape = /^[A-Z]{2}[0-9]{2}[A-Z0-9]{11,30}$/;
// Something that starts like an IBAN (country, two digits, then letters/digits only) is meant as one.
const ibanLike = /^[A-Z]{2}[0-9]{2}[A-Z0-9]{4,}$/;
const uuidShape = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what it rejects
const controlCharacters = /[\u0000-\u0008\u000b-\u001f\u007f]/;
export const displayLengthMax = 512;

/**
 * ISO 7064 mod 97-10 over the rearranged IBAN, letters as numbers (A=10 … Z=35). Arithmetic on char
 * codes only: the feeder checks a million of these per load (a string per letter cost ~1 s).
 */
function ibanChecksumHolds(iban: string): boolean {
  let remainder = 0;
  for (let i = 0; i < iban.length; i++) {
    const code = iban.charCodeAt((i + 4) % iban.length);
    remainder = code >= 65 ? (remainder * 100 + code - 55) % 97 : (remainder * 10 + code - 48) % 97;
  }
  return remainder === 1;
}

export function ibanEntry(text: string): ListEntry {
  const iban = text.replaceAll(" ", "").toUpperCase();
  if (!ibanShape.test(iban)) throw new EntryError(`"${clip(text)}" is not an IBAN`);
  if (!ibanChecksumHolds(iban)) throw new EntryError(`IBAN "${clip(text)}" has wrong check digits`);
  return { kind: "iban", value: iban, display: iban };
}

export function userEntry(text: string): ListEntry {
  const id = text.trim().toLowerCase();
  if (!uuidShape.test(id)) throw new EntryError(`"${clip(text)}" is not a user id (a UUID)`);
  return { kind: "user", value: id, display: id };
}

export function nameEntry(text: string): ListEntry {
  const display = text.trim().replace(/\s+/g, " ");
  if (display.length > displayLengthMax)
    throw new EntryError(`name longer than ${displayLengthMax} characters`);
  if (controlCharacters.test(display)) throw new EntryError("name contains control characters");
  const value = normaliseName(display);
  if (value === "") throw new EntryError(`"${clip(text)}" has no letters or digits`);
  return { kind: "name", value, display };
}

/**
 * A line of the one-entry-per-line format (the seed's fraud list): an IBAN, a user id (UUID) or a
 * name, told apart by shape; `iban:`, `user:` or `name:` in front says it explicitly. Blank lines
 * and lines starting with `#` are not entries (undefined).
 */
export function entryOfLine(line: string): ListEntry | undefined {
  const text = line.trim();
  if (text === "" || text.startsWith("#")) return undefined;
  const prefixed = /^(iban|user|name):\s*(.*)$/i.exec(text);
  if (prefixed) {
    const kind = (prefixed[1] ?? "").toLowerCase();
    const rest = prefixed[2] ?? "";
    return kind === "iban" ? ibanEntry(rest) : kind === "user" ? userEntry(rest) : nameEntry(rest);
  }
  if (uuidShape.test(text.toLowerCase())) return userEntry(text);
  if (ibanLike.test(text.replaceAll(" ", "").toUpperCase())) return ibanEntry(text);
  return nameEntry(text);
}

function clip(text: string): string {
  return text.length > 40 ? `${text.slice(0, 40)}…` : text;
}
