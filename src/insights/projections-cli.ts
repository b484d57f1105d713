/**
 * `ledgerflow projections rebuild [--projection interactions|branches]` and `projections lag`: the
 * insights projections, on the database and log the platform uses (as the other operator tools
 * open them). A rebuild replays the ledger's outcomes from offset 0 into fresh tables with a live
 * progress line, then swaps them in; a running platform's live projection keeps going meanwhile.
 * Exit status: 0 done, 1 failed, 2 usage.
 */
import { parseArgs } from "node:util";
import { loadConfig } from "../app/config.ts";
import { createLedgerQueries, ledgerTopics } from "../ledger/index.ts";
import { ConfigError } from "../platform/config.ts";
import { createTopicCodec } from "../platform/log/topic-codecs.ts";
import { openToolContext } from "../tools/context.ts";
import { createProgressLine } from "../tools/load/progress.ts";
import { type ProjectionName, projectionNames } from "./projection-store.ts";
import { projectionLag, type RebuildProgress, rebuildProjection } from "./projections.ts";

function optionsOf(args: string[]) {
  const [command, ...rest] = args;
  if (command !== "rebuild" && command !== "lag")
    throw new ConfigError(`unknown subcommand ${JSON.stringify(command ?? "")}: rebuild or lag`);
  const { values } = parseArgs({
    args: rest,
    options: { projection: { type: "string" }, json: { type: "boolean", default: false } },
    allowPositionals: false,
  });
  const projection = values.projection;
  if (projection !== undefined && !(projectionNames as readonly string[]).includes(projection))
    throw new ConfigError(`--projection must be one of ${projectionNames.join(", ")}`);
  const projections = projection === undefined ? [...projectionNames] : [projection as ProjectionName];
  return { command, projections, json: values.json };
}

/** `interactions: 12,345 / 50,000 records (24.7%)`. */
export function progressText(progress: RebuildProgress): string {
  const share = progress.total === 0n ? 100 : Number((progress.applied * 1000n) / progress.total) / 10;
  return `${progress.projection}: ${progress.applied.toLocaleString("en")} / ${progress.total.toLocaleString("en")} records (${share.toFixed(1)}%)`;
}

export async function runProjections(args: string[]): Promise<number> {
  const options = optionsOf(args);
  const config = loadConfig(process.env, { logLevel: "warn" });
  const tool = await openToolContext(config);
  try {
    const outcomes = await createTopicCodec(tool.registry, ledgerTopics.ledgerOutcomes);
    if (options.command === "lag") {
      const lag = await projectionLag({ pool: tool.pool, log: tool.log, topic: outcomes.topic });
      const entries = Object.entries(lag).map(([name, records]) => [name, records.toString()]);
      process.stdout.write(
        options.json
          ? `${JSON.stringify(Object.fromEntries(entries))}\n`
          : entries.map(([name, records]) => `${name}: ${records} records behind\n`).join(""),
      );
      return 0;
    }
    const ledger = { codecs: { outcomes }, queries: createLedgerQueries(tool.pool) };
    const progress = createProgressLine(process.stderr);
    let shownAtMs = 0;
    for (const projection of options.projections) {
      const startedAtMs = Date.now();
      const { records } = await rebuildProjection(projection, {
        ...{ pool: tool.pool, log: tool.log, ledger },
        readBatchMax: config.insights.rebuildReadBatchMax,
        swapAttemptsMax: config.insights.rebuildSwapAttemptsMax,
        onProgress: (step) => {
          if (Date.now() - shownAtMs < 200 && !step.done) return;
          shownAtMs = Date.now();
          progress.update(progressText(step));
        },
      });
      progress.done();
      const seconds = ((Date.now() - startedAtMs) / 1000).toFixed(1);
      process.stdout.write(`${projection}: rebuilt from ${records} records in ${seconds} s and swapped in\n`);
    }
    process.stdout.write(`database: ${tool.database}\n`);
    return 0;
  } finally {
    await tool.close();
  }
}
