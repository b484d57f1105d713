/**
 * The one configuration schema. Read from the environment once at start, validated, frozen.
 * Every limit carries its unit in its name. Secrets have no defaults: in embedded mode a missing
 * secret is generated on first start and kept in the data directory (0600); distributed mode
 * requires them.
 */
import { z } from "zod";

const port = z.coerce.number().int().min(0).max(65_535);
const positiveInt = z.coerce.number().int().positive();

export const configSchema = z.object({
  mode: z.enum(["embedded", "distributed"]).default("embedded"),
  /** Names this process in Kafka client ids and logs; defaults to `<hostname>-<pid>`. */
  instanceId: z
    .string()
    .regex(/^[A-Za-z0-9._-]{1,64}$/)
    .optional(),
  http: z.object({
    host: z.string().default("127.0.0.1"),
    port: port.default(8080),
    bodyBytesMax: positiveInt.default(4 * 1024 * 1024),
    /** Upper bound of `Prefer: wait=N`. */
    waitMsMax: positiveInt.default(30_000),
  }),
  dataDir: z.string().default(".ledgerflow"),
  database: z.object({
    /** Unset in embedded mode: embedded PostgreSQL is started on `embeddedPort`. */
    url: z.string().url().optional(),
    embeddedPort: port.default(54_330),
    /**
     * Embedded PostgreSQL also listens on 127.0.0.1:embeddedPort. Off by default: it is reachable
     * only through its socket in the data directory (0700), by this user.
     */
    embeddedListenTcp: z.union([z.boolean(), z.stringbool()]).default(false),
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
  redis: z.object({
    /** Shared cache of distributed mode (`redis://host:port`); in-memory caches when unset. */
    url: z
      .string()
      .regex(/^rediss?:\/\/\S+$/, "expected redis://host:port")
      .optional(),
  }),
  handler: z.object({
    batchSizeMax: positiveInt.max(20_000).default(8_000),
    fetchWaitMaxMs: positiveInt.default(50),
    /**
     * Kafka only: bytes a handler's fetch waits for (up to fetchWaitMaxMs), so batches fill up.
     * 16 KiB (≈60 commands) cut PostgreSQL's CPU per transfer by ≈25% and raised the peak with
     * 3 handlers (README → Performance); 1 answers every fetch at once.
     */
    fetchBytesMin: positiveInt.max(1_048_576).default(16_384),
    retryAttemptsMax: positiveInt.default(8),
    retryBackoffBaseMs: positiveInt.default(50),
    retryBackoffMaxMs: positiveInt.default(5_000),
    pendingSweepIntervalMs: positiveInt.default(1_000),
  }),
  ledger: z.object({
    ibanCountry: z
      .string()
      .regex(/^[A-Z]{2}$/)
      .default("NL"),
    ibanBankCode: z
      .string()
      .regex(/^[A-Z]{4}$/)
      .default("OPEN"),
    transfersPerBatchMax: positiveInt.max(8_000).default(8_000),
  }),
  metrics: z.object({
    /**
     * `/metrics` on the API listener is for admins only. With a port, it is also served without
     * authentication on a second listener bound to 127.0.0.1 (for a scraper on the same host).
     */
    port: port.optional(),
  }),
  auth: z.object({
    /** HMAC secret for access tokens; generated into the data dir in embedded mode when unset. */
    jwtSecret: z.string().min(32).optional(),
    accessTokenTtlSeconds: positiveInt.default(3_600),
    adminUsername: z.string().min(3).default("admin"),
    adminPassword: z.string().min(10).optional(),
    /** Accepted clock skew between the node that issued an access token and the one checking it. */
    clockToleranceSeconds: z.coerce.number().int().min(0).max(300).default(5),
  }),
  logLevel: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
});

export type Config = z.infer<typeof configSchema>;

type Env = Readonly<Record<string, string | undefined>>;

/** Maps LEDGERFLOW_* variables onto the schema. Unknown LEDGERFLOW_* variables are an error. */
const envMap: Record<string, readonly string[]> = {
  LEDGERFLOW_MODE: ["mode"],
  LEDGERFLOW_INSTANCE_ID: ["instanceId"],
  LEDGERFLOW_HOST: ["http", "host"],
  LEDGERFLOW_PORT: ["http", "port"],
  LEDGERFLOW_HTTP_BODY_BYTES_MAX: ["http", "bodyBytesMax"],
  LEDGERFLOW_HTTP_WAIT_MS_MAX: ["http", "waitMsMax"],
  LEDGERFLOW_DATA_DIR: ["dataDir"],
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
  LEDGERFLOW_HANDLER_BATCH_SIZE_MAX: ["handler", "batchSizeMax"],
  LEDGERFLOW_HANDLER_FETCH_WAIT_MAX_MS: ["handler", "fetchWaitMaxMs"],
  LEDGERFLOW_HANDLER_FETCH_BYTES_MIN: ["handler", "fetchBytesMin"],
  LEDGERFLOW_HANDLER_RETRY_ATTEMPTS_MAX: ["handler", "retryAttemptsMax"],
  LEDGERFLOW_IBAN_COUNTRY: ["ledger", "ibanCountry"],
  LEDGERFLOW_IBAN_BANK_CODE: ["ledger", "ibanBankCode"],
  LEDGERFLOW_JWT_SECRET: ["auth", "jwtSecret"],
  LEDGERFLOW_ACCESS_TOKEN_TTL_SECONDS: ["auth", "accessTokenTtlSeconds"],
  LEDGERFLOW_ADMIN_USERNAME: ["auth", "adminUsername"],
  LEDGERFLOW_ADMIN_PASSWORD: ["auth", "adminPassword"],
  LEDGERFLOW_AUTH_CLOCK_TOLERANCE_SECONDS: ["auth", "clockToleranceSeconds"],
  LEDGERFLOW_METRICS_PORT: ["metrics", "port"],
  LEDGERFLOW_LOG_LEVEL: ["logLevel"],
};

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

/** Builds the frozen config from `env` plus explicit overrides (tests, CLI flags). */
export function loadConfig(
  env: Env = process.env,
  overrides: Record<string, unknown> = {},
): Readonly<Config> {
  const raw: Record<string, Record<string, unknown>> = {
    http: {},
    database: {},
    log: {},
    schemaRegistry: {},
    redis: {},
    handler: {},
    ledger: {},
    metrics: {},
    auth: {},
  };
  for (const [name, value] of Object.entries(env)) {
    if (!name.startsWith("LEDGERFLOW_") || value === undefined || value === "") continue;
    const path = envMap[name];
    if (!path) throw new ConfigError(`unknown setting ${name}`);
    const [head, leaf] = path as [string, string | undefined];
    if (leaf === undefined) (raw as Record<string, unknown>)[head] = value;
    else {
      raw[head] ??= {};
      raw[head][leaf] = value;
    }
  }
  for (const [key, value] of Object.entries(overrides)) {
    const current = (raw as Record<string, unknown>)[key];
    (raw as Record<string, unknown>)[key] =
      current && typeof current === "object" && value && typeof value === "object"
        ? { ...current, ...value }
        : value;
  }
  const parsed = configSchema.safeParse(raw);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ");
    throw new ConfigError(`invalid configuration: ${issues}`);
  }
  if (parsed.data.mode === "distributed" && !parsed.data.auth.jwtSecret) {
    throw new ConfigError("LEDGERFLOW_JWT_SECRET is required in distributed mode");
  }
  if (parsed.data.mode === "distributed" && !parsed.data.database.url) {
    throw new ConfigError("LEDGERFLOW_DATABASE_URL is required in distributed mode");
  }
  return deepFreeze(parsed.data);
}
