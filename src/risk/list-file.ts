/**
 * Reading a list file: bytes → lines (UTF-8 checked, limits enforced) → entries, in one of three
 * formats. Any malformed line rejects the whole file with its line number (ListFileError); the
 * caller then keeps the version in force.
 * - `lines`: one entry per line (the seed's fraud list): IBAN, user id or name (see entries.ts);
 * - `csv`: a header naming columns `iban`, `user`, `name` (others ignored), an entry per filled cell;
 * - `ofac`: OFAC's SDN CSV (no header; the name is the second column; vessels and aircraft skipped).
 * A quoted CSV field may not span lines (neither format uses that).
 */
import { isUtf8 } from "node:buffer";
import { CsvError, parse as parseCsv } from "csv-parse/sync";
import {
  EntryError,
  entryKey,
  entryOfLine,
  ibanEntry,
  type ListEntry,
  nameEntry,
  userEntry,
} from "./domain/entries.ts";

export const listFormats = ["lines", "csv", "ofac"] as const;
export type ListFormat = (typeof listFormats)[number];

export interface ListFileLimits {
  readonly bytesMax: number;
  readonly entriesMax: number;
  readonly lineBytesMax: number;
}

export class ListFileError extends Error {
  readonly line: number | undefined;
  /** What was wrong, without the source and line (those are in `message`). */
  readonly reason: string;
  constructor(message: string, line?: number) {
    super(line === undefined ? message : `line ${line}: ${message}`);
    this.line = line;
    this.reason = message;
  }

  /** The same error naming the file or object it came from: `source, line 3: …`. */
  from(source: string): ListFileError {
    const named = new ListFileError(this.reason, this.line);
    named.message =
      this.line === undefined ? `${source}: ${this.reason}` : `${source}, line ${this.line}: ${this.reason}`;
    return named;
  }
}

export interface ListFileProgress {
  readonly bytes: number;
  readonly lines: number;
  readonly entries: number;
}

export interface ReadList {
  readonly entries: Map<string, ListEntry>;
  readonly lines: number;
  /** Repeated entries dropped (OFAC lists one name under several entries; other formats reject them). */
  readonly duplicates: number;
}

interface Line {
  readonly number: number;
  readonly text: string;
}

function utf16Marked(raw: Buffer): boolean {
  return (raw[0] === 0xff && raw[1] === 0xfe) || (raw[0] === 0xfe && raw[1] === 0xff);
}

/** Complete lines of a byte stream, a chunk at a time, with the limits and the encoding checked. */
async function* linesOf(
  source: AsyncIterable<Uint8Array>,
  limits: ListFileLimits,
  counts: { bytes: number },
) {
  let carry: Buffer = Buffer.alloc(0);
  let number = 0;
  const lineOf = (raw: Buffer): Line => {
    number += 1;
    if (raw.length > limits.lineBytesMax)
      throw new ListFileError(`longer than ${limits.lineBytesMax} bytes`, number);
    if (number === 1 && utf16Marked(raw))
      throw new ListFileError(
        "UTF-16 (it starts with a UTF-16 byte order mark): convert the file to UTF-8",
        1,
      );
    if (raw.includes(0))
      throw new ListFileError("NUL bytes (UTF-16 or a binary file?): convert the file to UTF-8", number);
    if (!isUtf8(raw))
      throw new ListFileError("not UTF-8 (Latin-1 or another encoding?): convert the file to UTF-8", number);
    const text = raw.toString("utf8");
    return { number, text: text.endsWith("\r") ? text.slice(0, -1) : text };
  };
  for await (const chunk of source) {
    counts.bytes += chunk.length;
    if (counts.bytes > limits.bytesMax)
      throw new ListFileError(`the file is larger than ${limits.bytesMax} bytes`);
    const buffer = carry.length > 0 ? Buffer.concat([carry, chunk]) : Buffer.from(chunk);
    const lines: Line[] = [];
    let start = 0;
    for (let end = buffer.indexOf(10, start); end !== -1; end = buffer.indexOf(10, start)) {
      lines.push(lineOf(buffer.subarray(start, end)));
      start = end + 1;
    }
    carry = buffer.subarray(start);
    if (carry.length > limits.lineBytesMax)
      throw new ListFileError(`longer than ${limits.lineBytesMax} bytes`, number + 1);
    if (lines.length > 0) yield lines;
  }
  if (carry.length > 0) yield [lineOf(carry)];
}

/** Cells of CSV lines, each with its line number. */
function csvRows(lines: readonly Line[]): { number: number; cells: string[] }[] {
  const first = lines[0]?.number ?? 1;
  try {
    const records = parseCsv(lines.map((line) => line.text).join("\n"), {
      info: true,
      relax_column_count: true,
      skip_empty_lines: true,
      bom: first === 1,
    }) as unknown as { record: string[]; info: { lines: number } }[];
    return records.map(({ record, info }) => ({ number: first + info.lines - 1, cells: record }));
  } catch (error) {
    if (error instanceof CsvError) {
      const line = (error as CsvError & { lines?: number }).lines;
      throw new ListFileError(
        error.message.replace(/ at line \d+$/, ""),
        line === undefined ? undefined : first + line - 1,
      );
    }
    throw error;
  }
}

/** `entry` makes the line's entry (an EntryError names what is wrong with it). */
type AddEntry = (entry: () => ListEntry | undefined, line: number) => void;
type RowReader = (lines: readonly Line[], add: AddEntry) => void;

function linesReader(): RowReader {
  return (lines, add) => {
    for (const line of lines) {
      add(() => entryOfLine(line.text), line.number);
    }
  };
}

const csvColumns = { iban: ibanEntry, user: userEntry, name: nameEntry } as const;

function csvReader(): RowReader {
  let columns: [number, (text: string) => ListEntry][] | undefined;
  return (lines, add) => {
    for (const row of csvRows(lines)) {
      if (!columns) {
        const header = row.cells.map((cell) => cell.trim().toLowerCase());
        columns = Object.entries(csvColumns)
          .map(([name, make]) => [header.indexOf(name), make] as [number, (text: string) => ListEntry])
          .filter(([index]) => index >= 0);
        if (columns.length === 0)
          throw new ListFileError(
            "the header names none of the columns iban, user, name (OFAC's SDN file: --format ofac)",
            row.number,
          );
        continue;
      }
      for (const [index, make] of columns) {
        const cell = row.cells[index]?.trim() ?? "";
        if (cell !== "") add(() => make(cell), row.number);
      }
    }
  };
}

/** SDN.CSV: ent_num, SDN_Name, SDN_Type, Program, …; "-0-" is OFAC's empty; a lone Ctrl-Z ends the file. */
function ofacReader(): RowReader {
  return (lines, add) => {
    for (const row of csvRows(lines.filter((line) => line.text !== "\u001a"))) {
      if (row.cells.length < 3)
        throw new ListFileError(`${row.cells.length} columns where the SDN file has 12`, row.number);
      const [, name = "", type = ""] = row.cells.map((cell) => cell.trim());
      if (name === "-0-" || name === "" || /^(vessel|aircraft)$/i.test(type)) continue;
      add(() => nameEntry(name), row.number);
    }
  };
}

const readers: Readonly<Record<ListFormat, () => RowReader>> = {
  lines: linesReader,
  csv: csvReader,
  ofac: ofacReader,
};

/** Reads a whole list file; throws ListFileError naming the first bad line. */
export async function readListFile(
  source: AsyncIterable<Uint8Array>,
  format: ListFormat,
  limits: ListFileLimits,
  onProgress?: (progress: ListFileProgress) => void,
): Promise<ReadList> {
  const entries = new Map<string, ListEntry>();
  const firstLines = new Map<string, number>();
  const counts = { bytes: 0 };
  let duplicates = 0;
  let lines = 0;
  const read = readers[format]();
  const add: AddEntry = (make, line) => {
    const entry = entryAt(make, line);
    if (!entry) return;
    const key = entryKey(entry);
    const first = firstLines.get(key);
    if (first !== undefined) {
      if (format !== "ofac") throw new ListFileError(`duplicate of line ${first}`, line);
      duplicates += 1;
      return;
    }
    if (entries.size >= limits.entriesMax)
      throw new ListFileError(`more than ${limits.entriesMax} entries`, line);
    entries.set(key, entry);
    firstLines.set(key, line);
  };
  for await (const batch of linesOf(source, limits, counts)) {
    read(batch, add);
    lines = batch.at(-1)?.number ?? lines;
    onProgress?.({ bytes: counts.bytes, lines, entries: entries.size });
  }
  if (entries.size === 0)
    throw new ListFileError("the file has no entries (an empty list is refused; the list in force stays)");
  return { entries, lines, duplicates };
}

function entryAt(make: () => ListEntry | undefined, line: number): ListEntry | undefined {
  try {
    return make();
  } catch (error) {
    if (error instanceof EntryError) throw new ListFileError(error.message, line);
    throw error;
  }
}
