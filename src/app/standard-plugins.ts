/**
 * The edges a full Ledgerflow process serves besides the modules' own routes, and the dev tools it
 * may start. `npm start`, the test platform and the benchmark all use these, so they run the same
 * platform.
 */
import { graphqlPlugin } from "../api/graphql/plugin.ts";
import { defaultFleet, startGatewayFleet } from "../dev/gateway-simulators/fleet.ts";
import { systemRandom } from "../platform/clock.ts";
import { deadLetterRoutes } from "../platform/log/dead-letters/http.ts";
import type { GatewaySimulatorStarter, PlatformOptions } from "./platform.ts";

export const standardPlugins: NonNullable<PlatformOptions["plugins"]> = [
  graphqlPlugin,
  (platform) =>
    deadLetterRoutes({
      log: platform.log,
      pool: platform.pool,
      clock: platform.clock,
      registry: platform.registry,
      topology: platform.topology,
      authenticate: platform.identity.authenticate,
    }),
];

/** The simulated third-party gateways (src/dev): in-process so payments work out of the box. */
export const simulatedGateways: GatewaySimulatorStarter = (clock) =>
  startGatewayFleet(defaultFleet(), { random: systemRandom, clock });
