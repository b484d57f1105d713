/**
 * The edges and contexts a full Ledgerflow process serves besides the core REST API. `npm start`,
 * the test platform and the benchmark all use this one list, so they run the same platform.
 */
import { adminDlqPlugin } from "../platform/log/dead-letters/http.ts";
import { graphqlPlugin } from "../api/graphql/plugin.ts";
import { paymentsPlugin } from "../payments/service.ts";
import { tokensPlugin } from "../tokens/service.ts";
import type { PlatformOptions } from "./platform.ts";

export const standardPlugins: NonNullable<PlatformOptions["plugins"]> = [
  graphqlPlugin,
  // Simulated third-party gateways run in-process so payments work out of the box.
  paymentsPlugin({ simulateGateways: true }),
  tokensPlugin(),
  adminDlqPlugin,
];
