#!/usr/bin/env node
/** The `ledgerflow` command line. */
import { parseArgs } from "node:util";
import { ConfigError, loadConfig } from "./app/config.ts";
import { type Role, roles, startPlatform } from "./app/platform.ts";
import { simulatedGateways, standardPlugins } from "./app/standard-plugins.ts";

const usage = `ledgerflow <command> [options]

Commands:
  serve [--role api|handler|projector|notifier|worker|all] [--port N]
                                              run the platform (default: every role, embedded)
  topics sync [--prune] [--dry-run]           create topics, report drift, register schemas
  dlq list | show <topic> <partition> <offset> | replay <topic> <partition> <offset>
                                              inspect and replay dead-lettered records
  generate [--rate N] [--accounts N] [--duration S] [--url URL]
                                              load generator (creates, funds, transfers)
  topics sync [--prune] [--dry-run]           create/check topics, register schemas
  dlq list | show | replay                    dead-letter topics
  verify [options]                            verify the token chain and receipts offline
  gateways simulate [options]                 run the simulated payment gateways
  help                                        this text
`;

async function serve(args: string[]): Promise<void> {
  const { values } = parseArgs({
    args,
    options: { role: { type: "string", default: "all" }, port: { type: "string" } },
    allowPositionals: false,
  });
  const role = values.role as Role;
  if (!roles.includes(role)) throw new ConfigError(`--role must be one of ${roles.join(", ")}`);
  const config = loadConfig(process.env, values.port ? { http: { port: values.port } } : {});
  const platform = await startPlatform({
    config,
    role,
    plugins: standardPlugins,
    gatewaySimulators: simulatedGateways,
  });
  if (platform.url) {
    const base = platform.url.replace("127.0.0.1", "localhost");
    process.stdout.write(`\nLedgerflow is running at ${base}\n`);
    process.stdout.write(
      `  API docs: ${base}/docs   OpenAPI: ${base}/openapi.json   GraphQL: ${base}/graphql\n`,
    );
    if (platform.adminPassword && !config.auth.adminPassword) {
      process.stdout.write(
        `  First start: admin user "${config.auth.adminUsername}" created with password ${platform.adminPassword}\n` +
          "  (set LEDGERFLOW_ADMIN_PASSWORD to choose it; it is not shown again)\n",
      );
    }
  }
  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    process.stdout.write(`\n${signal}: stopping…\n`);
    platform.stop().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.on("SIGINT", () => shutdown("SIGINT"));
  process.on("SIGTERM", () => shutdown("SIGTERM"));
}

async function main(argv: string[]): Promise<void> {
  const [command = "help", ...rest] = argv;
  switch (command) {
    case "serve":
      return serve(rest);
    case "generate": {
      const { runGenerator } = await import("./tools/generate.ts");
      await runGenerator(rest);
      return;
    }
    case "topics": {
      const { runTopics } = await import("./tools/topics.ts");
      return runTopics(rest);
    }
    case "dlq": {
      const { runDlq } = await import("./platform/log/dead-letters/cli.ts");
      const { openToolContext } = await import("./tools/context.ts");
      const { topology } = await import("./app/topology.ts");
      return runDlq(rest, {
        topology,
        open: () => openToolContext(loadConfig(process.env, { logLevel: "warn" })),
      });
    }
    case "verify": {
      const { runVerify } = await import("./tokens/verify-cli.ts");
      const result = await runVerify(rest);
      process.stdout.write(`${result.lines.join("\n")}\n`);
      process.exitCode = result.ok ? 0 : 1;
      return;
    }
    case "gateways": {
      const { runSimulatorCli } = await import("./dev/gateway-simulators/cli.ts");
      if (rest[0] !== "simulate") throw new ConfigError("usage: ledgerflow gateways simulate [options]");
      const fleet = await runSimulatorCli(rest.slice(1));
      const shutdown = () => void fleet.stop().finally(() => process.exit(0));
      process.once("SIGINT", shutdown);
      process.once("SIGTERM", shutdown);
      return;
    }
    case "help":
    case "--help":
      process.stdout.write(usage);
      return;
    default:
      process.stderr.write(`unknown command ${command}\n\n${usage}`);
      process.exitCode = 2;
  }
}

main(process.argv.slice(2)).catch((error: unknown) => {
  if (error instanceof ConfigError) {
    process.stderr.write(`${error.message}\n`);
    process.exit(2);
  }
  process.stderr.write(
    `ledgerflow failed to start: ${error instanceof Error ? error.stack : String(error)}\n`,
  );
  process.exit(1);
});
