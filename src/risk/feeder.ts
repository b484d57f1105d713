/**
 * The feeder: reads a list file from a source, checks it whole, and saves the difference from the
 * version in force as the next version (atomically; see lists.ts). A malformed file, a source that
 * cannot be read, or a file over the limits changes nothing: the version in force stays.
 * Used by `ledgerflow feeder` and by the platform's scheduled job (module.ts).
 */
import { createReadStream } from "node:fs";
import { stat } from "node:fs/promises";
import { Readable } from "node:stream";
import type { ReadableStream as WebReadableStream } from "node:stream/web";
import { diffList, isEmptyDiff } from "./domain/diff.ts";
import {
  ListFileError,
  type ListFileLimits,
  type ListFileProgress,
  type ListFormat,
  readListFile,
} from "./list-file.ts";
import type { ListStore } from "./lists.ts";
import { describeS3, openS3Object, type S3Location, type S3Settings, s3LocationOf } from "./s3-source.ts";

export type ListSource =
  | { readonly kind: "file"; readonly path: string }
  | { readonly kind: "url"; readonly url: string }
  | ({ readonly kind: "s3" } & S3Location);

/** Where a list comes from, from an operator's text: `s3://bucket/key`, an http(s) URL, else a file path. */
export function sourceOf(text: string): ListSource {
  if (/^s3:\/\//i.test(text)) {
    const location = s3LocationOf(text);
    if (!location) throw new ListFileError(`${text} is not an S3 location (s3://bucket/key)`);
    return { kind: "s3", ...location };
  }
  return /^https?:\/\//i.test(text) ? { kind: "url", url: text } : { kind: "file", path: text };
}

export function describeSource(source: ListSource): string {
  // A URL's credentials and query (signed URLs) are not for logs.
  if (source.kind === "file") return source.path;
  if (source.kind === "s3") return describeS3(source);
  const url = new URL(source.url);
  return `${url.origin}${url.pathname}`;
}

/** The format a file's name suggests when none is given: `.csv` is CSV with a header, else lines. */
export function formatOf(source: ListSource): ListFormat {
  const path =
    source.kind === "file" ? source.path : source.kind === "s3" ? source.key : new URL(source.url).pathname;
  if (/sdn[^/]*\.csv$/i.test(path)) return "ofac";
  return path.toLowerCase().endsWith(".csv") ? "csv" : "lines";
}

export interface FeedOptions {
  readonly list: string;
  readonly source: ListSource;
  readonly format: ListFormat;
  readonly limits: ListFileLimits;
  readonly fetchTimeoutMs: number;
  /** How S3 sources are reached (region, endpoint; the SDK's defaults when unset); credentials come from the SDK's standard chain. */
  readonly s3?: S3Settings;
  readonly nowMs: () => number;
  readonly onProgress?: (progress: ListFileProgress) => void;
}

export interface LoadReport {
  readonly list: string;
  /** The version in force after the load (the previous one when nothing changed). */
  readonly version: number;
  readonly previousVersion: number;
  readonly changed: boolean;
  readonly entries: number;
  readonly added: number;
  readonly removed: number;
  readonly unchanged: number;
  readonly duplicates: number;
  readonly lines: number;
}

async function openSource(source: ListSource, options: FeedOptions): Promise<AsyncIterable<Uint8Array>> {
  const { bytesMax } = options.limits;
  if (source.kind === "file") {
    const size = await stat(source.path).then(
      (s) => s.size,
      (error: NodeJS.ErrnoException) => {
        throw new ListFileError(`cannot read ${source.path}: ${error.code ?? error.message}`);
      },
    );
    if (size > bytesMax)
      throw new ListFileError(`${source.path}: the file is larger than ${bytesMax} bytes (${size})`);
    return createReadStream(source.path, { highWaterMark: 1 << 20 });
  }
  if (source.kind === "s3")
    return openS3Object(source, options.s3 ?? { forcePathStyle: false, attemptsMax: 3 }, {
      bytesMax,
      timeoutMs: options.fetchTimeoutMs,
    });
  const response = await fetch(source.url, { signal: AbortSignal.timeout(options.fetchTimeoutMs) }).catch(
    (error: Error) => {
      throw new ListFileError(
        `cannot fetch ${describeSource(source)}: ${error.cause instanceof Error ? error.cause.message : error.message}`,
      );
    },
  );
  if (!response.ok || !response.body)
    throw new ListFileError(`cannot fetch ${describeSource(source)}: HTTP ${response.status}`);
  const length = Number(response.headers.get("content-length") ?? 0);
  if (length > bytesMax)
    throw new ListFileError(
      `${describeSource(source)}: the file is larger than ${bytesMax} bytes (${length})`,
    );
  return Readable.fromWeb(response.body as WebReadableStream<Uint8Array>);
}

/** Loads a list file as the next version of `options.list`; an unchanged list keeps its version. */
export async function feedList(store: ListStore, options: FeedOptions): Promise<LoadReport> {
  const stream = await openSource(options.source, options);
  const read = await readListFile(stream, options.format, options.limits, options.onProgress).catch(
    (error: unknown) => {
      const named = error instanceof ListFileError && !error.message.includes(describeSource(options.source));
      throw named ? error.from(describeSource(options.source)) : error;
    },
  );
  const current = await store.currentKeys(options.list);
  const diff = diffList(current.keys, read.entries);
  const report = {
    list: options.list,
    previousVersion: current.version,
    entries: read.entries.size,
    added: diff.added.length,
    removed: diff.removed.length,
    unchanged: diff.unchangedCount,
    duplicates: read.duplicates,
    lines: read.lines,
  };
  if (isEmptyDiff(diff)) return { ...report, version: current.version, changed: false };
  const version = await store.saveVersion(options.list, current.version, diff, {
    source: describeSource(options.source),
    format: options.format,
    atMs: options.nowMs(),
  });
  return { ...report, version, changed: true };
}
