/** `npm run services:down [-- --only kafka]`: stops what services:up started, in reverse order. Data is kept. */
import { loadServicesConfig, selectedServices } from "./config.ts";
import { log } from "./proc.ts";
import { services } from "./services.ts";

async function main(): Promise<void> {
  const config = loadServicesConfig();
  const names = selectedServices(process.argv.slice(2)).reverse();
  const failures: string[] = [];
  // Keep going after a failure: every other service must still be stopped.
  for (const name of names) {
    try {
      await services[name].stop(config);
    } catch (error) {
      failures.push(`${name}: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
  if (failures.length > 0) {
    log(`down: could not stop ${failures.join("; ")}`);
    process.exitCode = 1;
  } else {
    log(`down: stopped ${names.join(", ")} (data kept in ${config.servicesDir})`);
  }
}

void main();
