/** `npm run services:status`: one line per service; exit code 1 when a selected service is not running. */
import { loadServicesConfig, selectedServices } from "./config.ts";
import { services } from "./services.ts";

async function main(): Promise<void> {
  const config = loadServicesConfig();
  let allRunning = true;
  for (const name of selectedServices(process.argv.slice(2))) {
    const line = await services[name].status(config);
    if (!line.includes("running (")) allRunning = false;
    process.stdout.write(`${line}\n`);
  }
  if (!allRunning) process.exitCode = 1;
}

void main();
