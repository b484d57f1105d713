/**
 * Starts a fleet of gateway simulators and keeps it running until SIGINT/SIGTERM.
 *
 *   node src/payments/simulators/cli.ts [--config profiles.json] [--port-base 7400] [--seed 42]
 *                                        [--secret S] [--json]
 *
 * --config     JSON array of profiles (profile.ts; omitted fields take defaults); default: the four
 *              gateways of `defaultFleet()`.
 * --port-base  gateway i listens on port-base + i; 0 picks free ports. Default 7400.
 * --seed       seed of the simulators' randomness (default: from the clock, printed).
 * --secret     callback HMAC secret; default $LEDGERFLOW_GATEWAY_SECRET, else a random one (printed).
 * --json       print one JSON line {seed, callbackSecret, gateways: [{name, kind, url}]} instead of a table.
 */

import { readFile } from "node:fs/promises";
import { parseArgs } from "node:util";
import { seededRandom, systemClock } from "../../platform/clock.ts";
import { defaultFleet, type GatewayFleet, startGatewayFleet } from "./fleet.ts";
import type { GatewayProfileInput } from "./profile.ts";

export async function runSimulatorCli(
  argv: readonly string[],
  env: NodeJS.ProcessEnv = process.env,
): Promise<GatewayFleet> {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      config: { type: "string" },
      "port-base": { type: "string", default: "7400" },
      seed: { type: "string" },
      secret: { type: "string" },
      json: { type: "boolean", default: false },
    },
    strict: true,
  });
  const portBase = Number(values["port-base"]);
  if (!Number.isInteger(portBase) || portBase < 0 || portBase > 65_000)
    throw new RangeError("--port-base: 0..65000");
  const seed = values.seed === undefined ? Date.now() >>> 0 : Number(values.seed);
  if (!Number.isInteger(seed)) throw new RangeError("--seed must be an integer");
  const profiles: GatewayProfileInput[] =
    values.config === undefined ? defaultFleet() : JSON.parse(await readFile(values.config, "utf8"));
  const secret = values.secret ?? env.LEDGERFLOW_GATEWAY_SECRET;
  const fleet = await startGatewayFleet(profiles, {
    random: seededRandom(seed),
    clock: systemClock,
    portBase,
    ...(secret === undefined || secret === "" ? {} : { callbackSecret: secret }),
  });
  const gateways = fleet.gateways.map((g) => ({ name: g.name, kind: g.profile().kind, url: g.url }));
  if (values.json) {
    process.stdout.write(`${JSON.stringify({ seed, callbackSecret: fleet.callbackSecret, gateways })}\n`);
  } else {
    for (const g of gateways) process.stdout.write(`${g.name.padEnd(16)} ${g.kind.padEnd(14)} ${g.url}\n`);
    process.stdout.write(`seed ${seed}; callback secret ${fleet.callbackSecret}\n`);
    process.stdout.write(
      "admin: GET/PUT <url>/admin/profile, POST <url>/admin/outage, GET <url>/admin/captures\n",
    );
  }
  return fleet;
}

if (import.meta.main) {
  const fleet = await runSimulatorCli(process.argv.slice(2));
  const shutdown = (): void => {
    fleet.stop().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once("SIGINT", shutdown);
  process.once("SIGTERM", shutdown);
}
