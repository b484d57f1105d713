/**
 * The one configuration schema's platform part, and how the whole schema is read. The composition
 * root (`src/app/config.ts`) adds every module's section to these and reads the result from the
 * environment once at start: validated, frozen. Every limit carries its unit in its name. Secrets
 * have no defaults: in embedded mode a missing secret is generated on first start and kept in the
 * data directory (0600); distributed mode requires them.
 */
import { isIP } from "node:net";
import { z } from "zod";
import type { ConfigSection } from "./module.ts";

export const port = z.coerce.number().int().min(0).max(65_535);
/**
 * A list from the environment as comma-separated text ("a, b"; parts trimmed, empty ones dropped),
 * or an array from code; pipe it into the array's schema.
 */
export const commaSeparated = z.union([z.string(), z.array(z.unknown())]).transform((value): unknown[] =>
  typeof value === "string"
    ? value
        .split(",")
        .map((part) => part.trim())
        .filter((part) => part !== "")
    : value,
);

export const positiveInt = z.coerce.number().int().positive();
/** A boolean from an environment variable ("true"/"false", "1"/"0", …) or from code. */
export const flag = z.union([z.boolean(), z.stringbool()]);

/** Top-level settings that are not sections. */
export const platformSettings = {
  mode: z.enum(["embedded", "distributed"]).default("embedded"),
  /** Names this process in Kafka client ids and logs; defaults to `<hostname>-<pid>`. */
  instanceId: z
    .string()
    .regex(/^[A-Za-z0-9._-]{1,64}$/)
    .optional(),
  dataDir: z.string().default(".ledgerflow"),
  logLevel: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
};

export const platformConfig = {
  sections: {
    http: z.object({
      host: z.string().default("127.0.0.1"),
      port: port.default(8080),
      bodyBytesMax: positiveInt.default(4 * 1024 * 1024),
      /** Upper bound of `Prefer: wait=N`. */
      waitMsMax: positiveInt.default(30_000),
      /**
       * The GraphQL explorer (GraphiQL) at /graphql for browsers (Accept: text/html). Unset: on in
       * embedded mode, off in distributed mode (see app/config.ts).
       */
      graphqlExplorer: flag.optional(),
      /**
       * Reverse proxies whose X-Forwarded-For is believed (comma-separated addresses or CIDRs).
       * Unset: the header is ignored and the client is the connecting address. Behind a proxy, set
       * it, or every client shares the proxy's address and its per-client login limits.
       */
      trustedProxies: z
        .string()
        .transform((text) =>
          text
            .split(",")
            .map((part) => part.trim())
            .filter((part) => part !== ""),
        )
        .refine((parts) => parts.every(isAddressOrCidr), "expected addresses or CIDRs, comma-separated")
        .optional(),
    }),
    database: z.object({
      /** Unset in embedded mode: embedded PostgreSQL is started on `embeddedPort`. */
      url: z.string().url().optional(),
      embeddedPort: port.default(54_330),
      /**
       * Embedded PostgreSQL also listens on 127.0.0.1:embeddedPort. Off by default: it is reachable
       * only through its socket in the data directory (0700), by this user.
       */
      embeddedListenTcp: flag.default(false),
      connectionsMax: positiveInt.default(20),
      statementTimeoutMs: positiveInt.default(30_000),
    }),
    log: z.object({
      /** Producer coalescing window (Kafka linger.ms), for the embedded log and the Kafka adapter. */
      lingerMs: z.coerce.number().int().min(0).max(100).default(1),
      /** Comma-separated `host:port` list; when set the log is Apache Kafka, else PostgreSQL. */
      kafkaBrokers: z
        .string()
        .regex(/^[^,\s:]+:\d{1,5}(,[^,\s:]+:\d{1,5})*$/, "expected host:port[,host:port…]")
        .optional(),
      /** A handler that stops heartbeating this long loses its partitions to the other members. */
      kafkaSessionTimeoutMs: positiveInt.min(1_000).max(300_000).default(10_000),
    }),
    schemaRegistry: z.object({
      /** Confluent-compatible registry (e.g. Apicurio's `/apis/ccompat/v7`); else the built-in one. */
      url: z.string().url().optional(),
      requestTimeoutMs: positiveInt.default(10_000),
    }),
    metrics: z.object({
      /**
       * `/metrics` on the API listener is for admins only. With a port, it is also served without
       * authentication on a second listener bound to 127.0.0.1 (for a scraper on the same host).
       */
      port: port.optional(),
    }),
    redis: z.object({
      /** Shared cache of distributed mode (`redis://host:port`); in-memory caches when unset. */
      url: z
        .string()
        .regex(/^rediss?:\/\/\S+$/, "expected redis://host:port")
        .optional(),
    }),
  },
  env: {
    LEDGERFLOW_HOST: ["http", "host"],
    LEDGERFLOW_PORT: ["http", "port"],
    LEDGERFLOW_HTTP_BODY_BYTES_MAX: ["http", "bodyBytesMax"],
    LEDGERFLOW_HTTP_WAIT_MS_MAX: ["http", "waitMsMax"],
    LEDGERFLOW_GRAPHQL_EXPLORER: ["http", "graphqlExplorer"],
    LEDGERFLOW_TRUSTED_PROXIES: ["http", "trustedProxies"],
    LEDGERFLOW_DATABASE_URL: ["database", "url"],
    LEDGERFLOW_EMBEDDED_PG_PORT: ["database", "embeddedPort"],
    LEDGERFLOW_EMBEDDED_PG_TCP: ["database", "embeddedListenTcp"],
    LEDGERFLOW_DB_CONNECTIONS_MAX: ["database", "connectionsMax"],
    LEDGERFLOW_DB_STATEMENT_TIMEOUT_MS: ["database", "statementTimeoutMs"],
    LEDGERFLOW_LOG_LINGER_MS: ["log", "lingerMs"],
    LEDGERFLOW_KAFKA_BROKERS: ["log", "kafkaBrokers"],
    LEDGERFLOW_KAFKA_SESSION_TIMEOUT_MS: ["log", "kafkaSessionTimeoutMs"],
    LEDGERFLOW_SCHEMA_REGISTRY_URL: ["schemaRegistry", "url"],
    LEDGERFLOW_SCHEMA_REGISTRY_TIMEOUT_MS: ["schemaRegistry", "requestTimeoutMs"],
    LEDGERFLOW_REDIS_URL: ["redis", "url"],
    LEDGERFLOW_METRICS_PORT: ["metrics", "port"],
  },
} as const satisfies ConfigSection;

const platformSettingsEnv: Readonly<Record<string, string>> = {
  LEDGERFLOW_MODE: "mode",
  LEDGERFLOW_INSTANCE_ID: "instanceId",
  LEDGERFLOW_DATA_DIR: "dataDir",
  LEDGERFLOW_LOG_LEVEL: "logLevel",
};

/** The settings every module may read: the platform's part of the configuration. */
export type PlatformConfig = z.infer<z.ZodObject<typeof platformSettings & typeof platformConfig.sections>>;

export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ConfigError";
  }
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === "object") {
    for (const child of Object.values(value)) deepFreeze(child);
    Object.freeze(value);
  }
  return value;
}

type Env = Readonly<Record<string, string | undefined>>;

/** The one schema: platform settings plus every section (the platform's and the modules'). */
export function configSchemaOf(sections: readonly ConfigSection[]) {
  const shape: Record<string, z.ZodType> = { ...platformSettings };
  for (const part of [platformConfig, ...sections])
    for (const [name, schema] of Object.entries(part.sections)) {
      if (name in shape) throw new Error(`config section ${name} is declared twice`);
      shape[name] = schema;
    }
  return z.object(shape);
}

/** Maps LEDGERFLOW_* variables onto the sections; an unknown LEDGERFLOW_* variable is an error. */
function rawFromEnv(sections: readonly ConfigSection[], env: Env): Record<string, Record<string, unknown>> {
  const envMap: Record<string, readonly [string, string]> = {};
  for (const part of [platformConfig, ...sections]) Object.assign(envMap, part.env);
  const raw: Record<string, Record<string, unknown>> = {};
  for (const part of [platformConfig, ...sections])
    for (const name of Object.keys(part.sections)) raw[name] = {};
  for (const [name, value] of Object.entries(env)) {
    if (!name.startsWith("LEDGERFLOW_") || value === undefined || value === "") continue;
    const setting = platformSettingsEnv[name];
    if (setting !== undefined) {
      (raw as Record<string, unknown>)[setting] = value;
      continue;
    }
    const path = envMap[name];
    if (!path) throw new ConfigError(`unknown setting ${name}`);
    const [section, field] = path;
    raw[section] = { ...raw[section], [field]: value };
  }
  return raw;
}

/** Builds the frozen configuration from `env` plus explicit overrides (tests, CLI flags). */
export function readConfig<T extends PlatformConfig>(
  sections: readonly ConfigSection[],
  env: Env,
  overrides: Record<string, unknown>,
  complete: (parsed: T) => T = (parsed) => parsed,
): Readonly<T> {
  const raw = rawFromEnv(sections, env) as Record<string, unknown>;
  for (const [key, value] of Object.entries(overrides)) {
    const current = raw[key];
    raw[key] =
      current && typeof current === "object" && value && typeof value === "object"
        ? { ...current, ...value }
        : value;
  }
  const parsed = configSchemaOf(sections).safeParse(raw);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ");
    throw new ConfigError(`invalid configuration: ${issues}`);
  }
  const config = complete(parsed.data as T);
  if (config.mode === "distributed" && !config.database.url) {
    throw new ConfigError("LEDGERFLOW_DATABASE_URL is required in distributed mode");
  }
  return deepFreeze(config);
}

/** `192.0.2.1`, `2001:db8::1`, `10.0.0.0/8` or `2001:db8::/32`. */
function isAddressOrCidr(text: string): boolean {
  const [address = "", bits, ...rest] = text.split("/");
  const family = isIP(address);
  if (family === 0 || rest.length > 0) return false;
  if (bits === undefined) return true;
  const prefix = Number(bits);
  return /^\d{1,3}$/.test(bits) && prefix <= (family === 4 ? 32 : 128);
}
