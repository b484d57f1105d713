/**
 * `ledgerflow topics sync [--prune] [--dry-run] [--json]`: makes the log match topology.ts and
 * registers the value schemas (see src/platform/topics-sync.ts for the rules).
 * Exit status: 0 in sync, 1 when something needs an operator (drift, refused schema).
 */
import { parseArgs } from "node:util";
import { ConfigError, loadConfig } from "../app/config.ts";
import { kafkaBrokersOf } from "../app/platform.ts";
import { topicSpecs, topics } from "../app/topology.ts";
import { formatTopicsSyncReport, kafkaBrokersCount, syncTopics } from "../platform/topics-sync.ts";
import { openToolContext } from "./context.ts";

const usage = `ledgerflow topics sync [--prune] [--dry-run] [--json]
  creates missing topics (replication capped at the broker count), reports drift without
  changing anything, deletes undeclared topics only with --prune (never internal "_" ones),
  registers value schemas, refusing changes that are not BACKWARD compatible.
`;

export async function runTopics(args: readonly string[]): Promise<void> {
  const { values, positionals } = parseArgs({
    args: [...args],
    options: {
      prune: { type: "boolean", default: false },
      "dry-run": { type: "boolean", default: false },
      json: { type: "boolean", default: false },
    },
    allowPositionals: true,
  });
  if (positionals[0] !== "sync" || positionals.length !== 1) throw new ConfigError(usage);
  const config = loadConfig(process.env, { logLevel: "warn" });
  const context = await openToolContext(config);
  try {
    const brokers = kafkaBrokersOf(config);
    const brokersCount = brokers.length > 0 ? await kafkaBrokersCount(brokers, 10_000) : 1;
    const report = await syncTopics({
      admin: context.log.admin(),
      desired: topicSpecs(brokersCount),
      declarations: Object.values(topics),
      registry: context.registry,
      prune: values.prune,
      dryRun: values["dry-run"],
    });
    if (values.json) {
      process.stdout.write(
        `${JSON.stringify({ log: context.log.kind, database: context.database, brokersCount, ...report }, null, 2)}\n`,
      );
    } else {
      process.stdout.write(`database: ${context.database}\n`);
      process.stdout.write(
        `topics sync on ${context.log.kind} (${brokersCount} broker${brokersCount === 1 ? "" : "s"})${report.dryRun ? ", dry run" : ""}\n`,
      );
      for (const line of formatTopicsSyncReport(report)) process.stdout.write(`  ${line}\n`);
    }
    if (report.needsAttention) process.exitCode = 1;
  } finally {
    await context.close();
  }
}
