#!/usr/bin/env node
/**
 * The `ledgerflow` command line (bin/ledgerflow.js checks the Node version, then loads this).
 * Exit status: 0 success, 1 a failed check or a failure, 2 a usage or configuration error.
 * One-shot commands exit explicitly with their status once done; `serve` and `gateways simulate`
 * run until a signal, then stop everything they started (embedded PostgreSQL included).
 */
import { parseArgs } from "node:util";
import { loadConfig } from "./app/config.ts";
import type { Role } from "./app/platform.ts";
import { commandHelp, commandUsage, packageVersion, styled, topHelp } from "./cli/help.ts";
import { ConfigError } from "./platform/config.ts";

/** A finished command's exit status, or a server that runs until it is signalled. */
type Outcome = number | { readonly stop: () => Promise<unknown> };

const helpFlags = new Set(["--help", "-h"]);

async function serve(args: string[]): Promise<Outcome> {
  const { values } = parseArgs({
    args,
    options: { role: { type: "string", default: "all" }, port: { type: "string" } },
    allowPositionals: false,
  });
  const { roles, startPlatform } = await import("./app/platform.ts");
  const { simulatedGateways, standardPlugins } = await import("./app/standard-plugins.ts");
  const role = values.role as Role;
  if (!roles.includes(role)) throw new ConfigError(`--role must be one of ${roles.join(", ")}`);
  const config = loadConfig(process.env, values.port ? { http: { port: values.port } } : {});
  const platform = await startPlatform({
    config,
    role,
    plugins: standardPlugins,
    gatewaySimulators: simulatedGateways,
  });
  const out = (line: string) => process.stdout.write(`${line}\n`);
  if (platform.url) {
    const base = platform.url.replace("127.0.0.1", "localhost");
    out(`\n${styled("bold", "Ledgerflow is running at")} ${styled(["bold", "cyan"], base)}`);
    out(`  API docs: ${base}/docs   OpenAPI: ${base}/openapi.json   GraphQL: ${base}/graphql`);
    if (platform.grpcAddress) out(`  gRPC: ${platform.grpcAddress} (server reflection on)`);
    if (platform.adminPassword && !config.auth.adminPassword) {
      out(
        `  First start: admin user "${config.auth.adminUsername}" created with password ${styled("bold", platform.adminPassword)}`,
      );
      out("  (set LEDGERFLOW_ADMIN_PASSWORD to choose it; it is not shown again)");
    }
  }
  out(`  Database: ${platform.database}`);
  return platform;
}

async function verify(args: string[]): Promise<Outcome> {
  const { runVerify } = await import("./tokens/verify-cli.ts");
  const result = await runVerify(args);
  const line = (text: string) =>
    text.includes("FAILED") ? styled("red", text) : text.includes(": OK") ? styled("green", text) : text;
  process.stdout.write(`${result.lines.map(line).join("\n")}\n`);
  return result.ok ? 0 : 1;
}

async function community(args: string[]): Promise<Outcome> {
  if (args[0] !== "simulate") throw new ConfigError(commandUsage("community", process.stderr));
  const { runCommunitySimulation } = await import("./community/simulation/simulate.ts");
  const report = await runCommunitySimulation(args.slice(1));
  return report && Object.keys(report.unexpectedErrors).length > 0 ? 1 : 0;
}

async function gateways(args: string[]): Promise<Outcome> {
  if (args[0] !== "simulate") throw new ConfigError(commandUsage("gateways", process.stderr));
  const { runSimulatorCli } = await import("./dev/gateway-simulators/cli.ts");
  return runSimulatorCli(args.slice(1));
}

/** Commands that set process.exitCode (1 when something needs an operator) rather than return it. */
function statusOf(): number {
  return Number(process.exitCode ?? 0);
}

const commands: Readonly<Record<string, (args: string[]) => Promise<Outcome>>> = {
  serve,
  verify,
  gateways,
  community,
  generate: async (args) => {
    const { runGenerator } = await import("./tools/generate.ts");
    await runGenerator(args);
    return 0;
  },
  feeder: async (args) => {
    const { runFeeder } = await import("./risk/feeder-cli.ts");
    return runFeeder(args);
  },
  projections: async (args) => {
    const { runProjections } = await import("./insights/projections-cli.ts");
    return runProjections(args);
  },
  topics: async (args) => {
    const { runTopics } = await import("./tools/topics.ts");
    await runTopics(args);
    return statusOf();
  },
  admin: async (args) => {
    if (args[0] === "roles") return (await import("./identity/admin-cli.ts")).runAdmin(args);
    if (args[0] === "export-users") {
      const { runExportUsers } = await import("./identity/export/export-cli.ts");
      const { text } = await import("node:stream/consumers");
      return runExportUsers(args.slice(1), () => text(process.stdin));
    }
    const { runAdmin } = await import("./identity/admin-recovery-cli.ts");
    const { openToolContext } = await import("./tools/context.ts");
    const { default: pino } = await import("pino");
    const config = loadConfig(process.env, { logLevel: "warn" });
    return runAdmin(args, () => openToolContext(config), {
      out: (line) => process.stdout.write(`${line}\n`),
      err: (line) => process.stderr.write(`${line}\n`),
      readStdin: async () => (await import("node:stream/consumers")).text(process.stdin),
      logger: pino({ level: "warn" }),
    });
  },
  dlq: async (args) => {
    const { runDlq } = await import("./platform/log/dead-letters/cli.ts");
    const { openToolContext } = await import("./tools/context.ts");
    const { topology } = await import("./app/topology.ts");
    await runDlq(args, {
      topology,
      open: () => openToolContext(loadConfig(process.env, { logLevel: "warn" })),
    });
    return statusOf();
  },
};

/** Runs the command line; resolves with the exit status, or with a running server. */
export async function main(argv: readonly string[]): Promise<Outcome> {
  const [command, ...rest] = argv;
  if (command === undefined) {
    process.stderr.write(topHelp(process.stderr));
    return 2;
  }
  if (command === "help" || helpFlags.has(command)) {
    const topic = rest[0];
    process.stdout.write(topic && commandHelp[topic] ? commandUsage(topic) : topHelp());
    return 0;
  }
  if (command === "--version" || command === "-V" || command === "version") {
    process.stdout.write(`ledgerflow ${packageVersion()}\n`);
    return 0;
  }
  const run = commands[command];
  if (!run) {
    process.stderr.write(`${styled("red", "error:", process.stderr)} unknown command "${command}"\n\n`);
    process.stderr.write(topHelp(process.stderr));
    return 2;
  }
  const options = rest.slice(0, rest.includes("--") ? rest.indexOf("--") : rest.length);
  if (options.some((arg) => helpFlags.has(arg))) {
    process.stdout.write(commandUsage(command));
    return 0;
  }
  return run(rest);
}

/** 2 for usage and configuration errors, 1 for everything else; never a stack trace. */
export function reportFailure(command: string | undefined, error: unknown): number {
  const code = (error as { code?: unknown }).code;
  const usage =
    error instanceof ConfigError || (typeof code === "string" && code.startsWith("ERR_PARSE_ARGS"));
  const message = error instanceof Error ? error.message : String(error);
  const cause =
    error instanceof Error && error.cause instanceof Error ? `\n  cause: ${error.cause.message}` : "";
  process.stderr.write(`${styled("red", "error:", process.stderr)} ${message.trimEnd()}${cause}\n`);
  if (usage && command && commandHelp[command])
    process.stderr.write(`(ledgerflow ${command} --help shows the options)\n`);
  return usage ? 2 : 1;
}

/** The process's whole life: run the command, then exit with its status or serve until signalled. */
export function runCommandLine(argv: readonly string[]): void {
  main(argv).then(
    async (outcome) => {
      if (typeof outcome === "number") process.exit(outcome);
      const { stopOnSignals } = await import("./cli/lifecycle.ts");
      stopOnSignals(outcome);
    },
    (error: unknown) => process.exit(reportFailure(argv[0], error)),
  );
}

if (import.meta.main) runCommandLine(process.argv.slice(2));
