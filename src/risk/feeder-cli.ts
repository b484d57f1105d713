/**
 * `ledgerflow feeder`: loads a screening list from a file, an http(s) URL or S3 into where the
 * platform keeps lists (Redis when LEDGERFLOW_REDIS_URL is set, as distributed mode does; else the
 * database, opened as the other operator tools open it), with a live progress line on a terminal.
 * Exit status: 0 loaded (or unchanged), 1 the file was rejected or could not be read (the version in
 * force stays), 2 usage.
 */
import { parseArgs } from "node:util";
import { loadConfig } from "../app/config.ts";
import { ConfigError } from "../platform/config.ts";
import { openToolContext } from "../tools/context.ts";
import { createProgressLine } from "../tools/load/progress.ts";
import { listName, s3SettingsOf } from "./config.ts";
import { describeSource, feedList, formatOf, type ListSource, sourceOf } from "./feeder.ts";
import { ListFileError, type ListFormat, listFormats } from "./list-file.ts";
import { createConfiguredListStore } from "./list-store.ts";
import { s3LocationOf } from "./s3-source.ts";

function optionsOf(args: string[]) {
  const { values } = parseArgs({
    args,
    options: {
      file: { type: "string" },
      url: { type: "string" },
      s3: { type: "string" },
      list: { type: "string", default: "fraud" },
      format: { type: "string" },
      json: { type: "boolean", default: false },
    },
    allowPositionals: false,
  });
  const given = [values.file, values.url, values.s3].filter((value) => value !== undefined);
  if (given.length !== 1) throw new ConfigError("give one of --file PATH, --url URL or --s3 s3://BUCKET/KEY");
  if (values.url !== undefined && !/^https?:\/\//i.test(values.url))
    throw new ConfigError("--url must be an http(s) URL");
  if (values.s3 !== undefined && !s3LocationOf(values.s3))
    throw new ConfigError("--s3 must be s3://BUCKET/KEY");
  if (!listName.safeParse(values.list).success)
    throw new ConfigError("--list: lowercase letters, digits and dashes, at most 64");
  if (values.format !== undefined && !(listFormats as readonly string[]).includes(values.format))
    throw new ConfigError(`--format must be one of ${listFormats.join(", ")}`);
  const source: ListSource =
    values.file !== undefined ? { kind: "file", path: values.file } : sourceOf(values.url ?? values.s3 ?? "");
  return {
    source,
    list: values.list,
    format: (values.format as ListFormat | undefined) ?? formatOf(source),
    json: values.json,
  };
}

export async function runFeeder(args: string[]): Promise<number> {
  const options = optionsOf(args);
  const config = loadConfig(process.env, { logLevel: "warn" });
  const tool = await openToolContext(config);
  const lists = createConfiguredListStore(tool.pool, config.redis.url, () => {});
  const progress = createProgressLine(process.stderr);
  const live = process.stderr.isTTY === true;
  let shownAtMs = 0;
  try {
    const report = await feedList(lists.store, {
      list: options.list,
      source: options.source,
      format: options.format,
      limits: {
        bytesMax: config.risk.fileBytesMax,
        entriesMax: config.risk.entriesMax,
        lineBytesMax: config.risk.lineBytesMax,
      },
      fetchTimeoutMs: config.risk.fetchTimeoutMs,
      s3: s3SettingsOf(config.risk),
      nowMs: () => Date.now(),
      onProgress: ({ bytes, lines, entries }) => {
        if (!live || Date.now() - shownAtMs < 100) return;
        shownAtMs = Date.now();
        progress.update(
          `reading ${describeSource(options.source)}: ${lines.toLocaleString("en")} lines, ${entries.toLocaleString("en")} entries, ${(bytes / 1e6).toFixed(1)} MB`,
        );
      },
    });
    progress.done();
    const out = options.json
      ? JSON.stringify(report)
      : `list ${report.list}: ${report.changed ? `version ${report.version} in force (was ${report.previousVersion})` : `unchanged, version ${report.version} stays`}; ${report.entries} entries: ${report.added} added, ${report.removed} removed, ${report.unchanged} unchanged${report.duplicates ? `, ${report.duplicates} duplicates dropped` : ""}\nlists in: ${lists.where === "PostgreSQL" ? `database ${tool.database}` : lists.where}`;
    process.stdout.write(`${out}\n`);
    return 0;
  } catch (error) {
    progress.done();
    if (!(error instanceof ListFileError)) throw error;
    process.stderr.write(
      `error: list ${options.list} not loaded: ${error.message}; the version in force stays\n`,
    );
    return 1;
  } finally {
    await lists.close();
    await tool.close();
  }
}
