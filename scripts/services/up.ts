/**
 * `npm run services:up [-- --only kafka,postgres]`: starts the engines of distributed mode on
 * 127.0.0.1 with data under `.services/`, installing what is missing (pinned). Idempotent.
 * Writes `.services/env` with the connection settings (`set -a; . .services/env; set +a`).
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { connectionEnv, loadServicesConfig, selectedServices } from "./config.ts";
import { log } from "./proc.ts";
import { services } from "./services.ts";

async function main(): Promise<void> {
  const config = loadServicesConfig();
  const names = selectedServices(process.argv.slice(2));
  mkdirSync(config.servicesDir, { recursive: true });
  const startedAt = Date.now();
  for (const name of names) await services[name].start(config);
  const env = connectionEnv(config);
  const envFile = join(config.servicesDir, "env");
  writeFileSync(
    envFile,
    `${Object.entries(env)
      .map(([key, value]) => `${key}=${value}`)
      .join("\n")}\n`,
  );
  log(
    `up: ${names.join(", ")} running (${((Date.now() - startedAt) / 1000).toFixed(1)} s); settings in ${envFile}:`,
  );
  for (const [key, value] of Object.entries(env)) process.stdout.write(`  ${key}=${value}\n`);
}

main().catch((error: unknown) => {
  log(`up failed: ${error instanceof Error ? error.message : String(error)}`);
  log("run `npm run services:down` to stop what did start");
  process.exitCode = 1;
});
