/**
 * The one configuration schema: the platform's settings plus every module's section, read from
 * `LEDGERFLOW_*` environment variables once at start, validated and frozen.
 */
import type { z } from "zod";
import { grpcConfig } from "../api/grpc/config.ts";
import { communityConfig } from "../community/index.ts";
import { identityConfig } from "../identity/index.ts";
import { insightsConfig } from "../insights/index.ts";
import { ledgerConfig } from "../ledger/index.ts";
import { notificationsConfig } from "../notifications/index.ts";
import { paymentsConfig } from "../payments/index.ts";
import { ConfigError, configSchemaOf, type PlatformConfig, readConfig } from "../platform/config.ts";
import type { ConfigSection } from "../platform/module.ts";
import { riskConfig } from "../risk/index.ts";
import { tokensConfig } from "../tokens/index.ts";

const sections: readonly ConfigSection[] = [
  identityConfig,
  riskConfig,
  ledgerConfig,
  paymentsConfig,
  tokensConfig,
  notificationsConfig,
  insightsConfig,
  communityConfig,
  grpcConfig,
];

export const configSchema = configSchemaOf(sections);

type Infer<S extends Readonly<Record<string, z.ZodType>>> = { readonly [K in keyof S]: z.infer<S[K]> };

export type Config = PlatformConfig &
  Infer<typeof identityConfig.sections> &
  Infer<typeof riskConfig.sections> &
  Infer<typeof ledgerConfig.sections> &
  Infer<typeof paymentsConfig.sections> &
  Infer<typeof tokensConfig.sections> &
  Infer<typeof notificationsConfig.sections> &
  Infer<typeof insightsConfig.sections> &
  Infer<typeof communityConfig.sections> &
  Infer<typeof grpcConfig.sections>;

/** Builds the frozen configuration from `env` plus explicit overrides (tests, CLI flags). */
export function loadConfig(
  env: Readonly<Record<string, string | undefined>> = process.env,
  overrides: Record<string, unknown> = {},
): Readonly<Config> {
  return readConfig<Config>(sections, env, overrides, (config) => {
    if (config.mode === "distributed" && !config.auth.jwtSecret)
      throw new ConfigError("LEDGERFLOW_JWT_SECRET is required in distributed mode");
    if (config.mode === "distributed" && !config.auth.piiKey)
      throw new ConfigError("LEDGERFLOW_PII_KEY is required in distributed mode");
    if (config.auth.loginUsernameDelayMaxMs < config.auth.loginUsernameDelayBaseMs)
      throw new ConfigError("auth.loginUsernameDelayMaxMs must be at least auth.loginUsernameDelayBaseMs");
    // The simulated gateways are a dev tool: on for the embedded quick start, off in distributed
    // mode unless asked for.
    const simulateGateways = config.payments.simulateGateways ?? config.mode === "embedded";
    // The GraphQL explorer likewise: a developer's tool, on for the quick start.
    const graphqlExplorer = config.http.graphqlExplorer ?? config.mode === "embedded";
    return {
      ...config,
      http: { ...config.http, graphqlExplorer },
      payments: { ...config.payments, simulateGateways },
    };
  });
}

export { ConfigError };
