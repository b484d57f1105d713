/**
 * Where the local engines of distributed mode live and which ports they use.
 * Everything binds 127.0.0.1; data sits under `<project>/.services/` (git-ignored).
 * Every port can be moved with an env var so two checkouts can run side by side.
 */
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

export const serviceNames = ["postgres", "redis", "kafka", "schema-registry"] as const;
export type ServiceName = (typeof serviceNames)[number];

export interface ServicesConfig {
  readonly projectDir: string;
  readonly servicesDir: string;
  readonly host: "127.0.0.1";
  readonly kafka: {
    readonly version: string;
    readonly port: number;
    readonly controllerPort: number;
    readonly heapMaxMb: number;
    readonly dir: string;
  };
  readonly redis: { readonly port: number; readonly dir: string };
  readonly postgres: {
    readonly port: number;
    readonly dir: string;
    readonly user: string;
    readonly password: string;
  };
  readonly schemaRegistry: { readonly version: string; readonly port: number; readonly dir: string };
}

/** Pinned versions: the scripts install exactly these. */
export const kafkaVersion = "3.9.1";
export const apicurioVersion = "3.0.9";
/** Debian bookworm's redis-server; when Debian ships a point release, up.ts falls back to the candidate. */
export const redisDebianVersion = "5:7.0.15-1~deb12u10";

const projectDir = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");

function portFromEnv(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === "") return fallback;
  const port = Number(raw);
  if (!Number.isInteger(port) || port < 1 || port > 65_535)
    throw new Error(`${name} must be a TCP port, got "${raw}"`);
  return port;
}

export function loadServicesConfig(env: NodeJS.ProcessEnv = process.env): ServicesConfig {
  const servicesDir = resolve(env.LEDGERFLOW_SERVICES_DIR ?? join(projectDir, ".services"));
  return {
    projectDir,
    servicesDir,
    host: "127.0.0.1",
    kafka: {
      version: kafkaVersion,
      port: portFromEnv(env, "LEDGERFLOW_KAFKA_PORT", 19_092),
      controllerPort: portFromEnv(env, "LEDGERFLOW_KAFKA_CONTROLLER_PORT", 19_093),
      heapMaxMb: 512,
      dir: join(servicesDir, "kafka"),
    },
    redis: { port: portFromEnv(env, "LEDGERFLOW_REDIS_PORT", 16_379), dir: join(servicesDir, "redis") },
    postgres: {
      port: portFromEnv(env, "LEDGERFLOW_POSTGRES_PORT", 15_432),
      dir: join(servicesDir, "postgres"),
      // Fixed by scripts/services/postgres/daemon.ts: local-only superuser of the development engines.
      user: "postgres",
      password: "ledgerflow-local",
    },
    schemaRegistry: {
      version: apicurioVersion,
      port: portFromEnv(env, "LEDGERFLOW_SCHEMA_REGISTRY_PORT", 18_081),
      dir: join(servicesDir, "schema-registry"),
    },
  };
}

/** Connection settings for the platform, also written to `.services/env` for `source`. */
export function connectionEnv(config: ServicesConfig): Record<string, string> {
  const { host, postgres } = config;
  return {
    LEDGERFLOW_KAFKA_BROKERS: `${host}:${config.kafka.port}`,
    LEDGERFLOW_DATABASE_URL: `postgres://${postgres.user}:${postgres.password}@${host}:${postgres.port}/ledgerflow`,
    LEDGERFLOW_REDIS_URL: `redis://${host}:${config.redis.port}`,
    LEDGERFLOW_SCHEMA_REGISTRY_URL: `http://${host}:${config.schemaRegistry.port}/apis/ccompat/v7`,
  };
}

/**
 * `--only kafka,redis` (or env LEDGERFLOW_SERVICES) selects services; the default is all of them.
 * Returns them in start order (PostgreSQL first: the schema registry stores its schemas there).
 */
export function selectedServices(
  argv: readonly string[],
  env: NodeJS.ProcessEnv = process.env,
): ServiceName[] {
  const flagIndex = argv.indexOf("--only");
  const raw = flagIndex >= 0 ? argv[flagIndex + 1] : env.LEDGERFLOW_SERVICES;
  if (raw === undefined || raw === "" || raw === "all") return [...serviceNames];
  const wanted = raw.split(",").map((name) => name.trim());
  for (const name of wanted) {
    if (!(serviceNames as readonly string[]).includes(name)) {
      throw new Error(`unknown service "${name}"; known: ${serviceNames.join(", ")}`);
    }
  }
  return serviceNames.filter((name) => wanted.includes(name));
}
