/**
 * The gateway registry: configurations in PostgreSQL (the source of truth), changed through the
 * back-office API. Each change is written with a `payments.gateways` record in the same transaction
 * (outbox); every orchestrator instance consumes that topic and reloads, so a change reaches all of
 * them without a restart. Reads are served from an in-memory snapshot.
 */
import type pg from "pg";
import { z } from "zod";
import { inTransaction } from "../platform/db/pool.ts";
import type { TopicCodec } from "../platform/log/topic-codecs.ts";
import { encodeOutboxBatch } from "../platform/outbox.ts";
import type { GatewayConfig } from "./routing.ts";

const minor = z.string().regex(/^(0|[1-9][0-9]{0,18})$/, "a decimal-integer string of minor units");

const ipv4Octet = "(?:25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])";
const dnsLabel = "[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?";
// The last label starts with a letter: an all-digit one would be read as a (possibly invalid) IPv4.
const hostName = `(?:${dnsLabel}\\.)*[A-Za-z](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?`;
const tcpPort = "(?:[0-9]{1,4}|[1-5][0-9]{4}|6[0-4][0-9]{3}|65[0-4][0-9]{2}|655[0-2][0-9]|6553[0-5])";
/**
 * A gateway's base URL: http(s), a host name or IPv4 address, an optional port and path; no
 * credentials, query or fragment. A regular expression rather than only `z.url` so the OpenAPI
 * document states exactly what is accepted.
 */
const gatewayUrlPattern = new RegExp(
  `^https?://(?:${ipv4Octet}(?:\\.${ipv4Octet}){3}|${hostName})(?::${tcpPort})?(?:/[A-Za-z0-9._~/-]*)?$`,
);

const gatewayName = z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/, "lowercase letters, digits and dashes");

export const gatewayFields = {
  name: gatewayName,
  url: z
    .url({ protocol: /^https?$/ })
    .regex(gatewayUrlPattern, "an http(s) URL: scheme, host, port and path only"),
  regions: z.array(z.string().regex(/^[A-Z]{2,8}$/)).min(1),
  currencies: z.array(z.string().regex(/^[A-Z]{3}$/)).min(1),
  methods: z.array(z.string().regex(/^[a-z0-9_]{1,32}$/)).min(1),
  amountMin: minor.default("1"),
  amountMax: minor.nullable().default(null),
  weight: z.number().min(0).max(1_000_000).default(100),
  costBps: z.number().min(0).max(10_000).default(0),
  enabled: z.boolean().default(true),
  timeoutMs: z.number().int().min(10).max(120_000).default(2_000),
  rateLimit: z
    .object({ perSecond: z.number().positive(), burst: z.number().int().min(1) })
    .strict()
    .nullable()
    .default(null),
  // PostgreSQL's jsonb cannot hold NUL (it answered 500 before this rule).
  callbackSecret: z
    .string()
    .min(16)
    .max(256)
    // biome-ignore lint/suspicious/noControlCharactersInRegex: NUL is exactly what is refused
    .regex(/^[^\u0000]*$/, "must not contain NUL characters"),
};

export const gatewayInput = z.strictObject(gatewayFields);
/** The body of a change: any of the fields but the name (defaults apply only when adding). */
export const gatewayPatchInput = z.strictObject(
  Object.fromEntries(
    Object.entries(gatewayFields)
      .filter(([field]) => field !== "name")
      .map(([field, schema]) => [
        field,
        ("removeDefault" in schema ? schema.removeDefault() : schema).optional(),
      ]),
  ),
);
/** A patch is any subset of the fields but the name; it is validated merged with the current config. */
const gatewayPatch = z.record(z.string(), z.unknown()).refine((p) => !("name" in p), {
  message: "the name of a gateway cannot change",
  path: ["name"],
});
export type GatewayInput = z.input<typeof gatewayInput>;

export interface StoredGateway {
  readonly name: string;
  readonly config: z.output<typeof gatewayInput>;
  readonly version: number;
}

export function toGatewayConfig(stored: StoredGateway): GatewayConfig {
  const c = stored.config;
  return {
    ...c,
    amountMin: BigInt(c.amountMin),
    amountMax: c.amountMax === null ? null : BigInt(c.amountMax),
  };
}

/** What the API shows: everything but the callback secret. */
export function gatewayView(stored: StoredGateway) {
  const { callbackSecret: _, ...config } = stored.config;
  return { ...config, version: stored.version };
}

export type RegistryChange = "added" | "updated" | "removed";

export interface GatewayRegistry {
  /** The current snapshot, for routing. */
  list(): readonly GatewayConfig[];
  stored(): readonly StoredGateway[];
  reload(): Promise<void>;
  add(
    input: unknown,
    nowMs: number,
  ): Promise<{ ok: true; gateway: StoredGateway } | { ok: false; code: "exists" }>;
  update(name: string, patch: unknown, nowMs: number): Promise<StoredGateway | undefined>;
  remove(name: string, nowMs: number): Promise<boolean>;
  /** Adds the gateway unless one with that name exists (first start seeding). */
  seed(input: GatewayInput, nowMs: number): Promise<void>;
  onChange(listener: () => void): void;
}

type GatewayConfigInput = z.output<typeof gatewayInput>;

/** The `payments.gateways` record of a change, written in the change's own transaction (outbox). */
async function writeChangeRecord(
  client: pg.PoolClient,
  changeCodec: TopicCodec,
  change: { name: string; change: RegistryChange; version: number; nowMs: number },
): Promise<void> {
  const { name, version, nowMs } = change;
  const value = changeCodec.encode({
    name,
    change: change.change,
    version: BigInt(version),
    atMs: BigInt(nowMs),
  });
  await client.query("INSERT INTO payments_outbox (records) VALUES ($1)", [
    encodeOutboxBatch([{ topic: changeCodec.topic, key: name, value }]),
  ]);
}

/** Adds a gateway; false when the name is taken, unless `ifAbsent` (seeding), which is then true. */
async function insertGateway(
  pool: pg.Pool,
  changeCodec: TopicCodec,
  config: GatewayConfigInput,
  nowMs: number,
  ifAbsent: boolean,
): Promise<boolean> {
  return inTransaction(pool, async (client) => {
    const { rowCount } = await client.query(
      "INSERT INTO payment_gateways (name, config, version, updated_at_ms) VALUES ($1, $2, 1, $3) ON CONFLICT (name) DO NOTHING",
      [config.name, JSON.stringify(config), nowMs],
    );
    if (rowCount === 1)
      await writeChangeRecord(client, changeCodec, { name: config.name, change: "added", version: 1, nowMs });
    else if (!ifAbsent) return false;
    return rowCount === 1;
  });
}

/** Applies a patch, validated merged with the current config; undefined when there is no such gateway. */
async function updateGateway(
  pool: pg.Pool,
  changeCodec: TopicCodec,
  name: string,
  changes: Record<string, unknown>,
  nowMs: number,
): Promise<StoredGateway | undefined> {
  return inTransaction(pool, async (client) => {
    const { rows } = await client.query(
      "SELECT config, version FROM payment_gateways WHERE name = $1 FOR UPDATE",
      [name],
    );
    if (!rows[0]) return undefined;
    const config = gatewayInput.parse({ ...rows[0].config, ...changes });
    const version = (rows[0].version as number) + 1;
    await client.query(
      "UPDATE payment_gateways SET config = $2, version = $3, updated_at_ms = $4 WHERE name = $1",
      [name, JSON.stringify(config), version, nowMs],
    );
    await writeChangeRecord(client, changeCodec, { name, change: "updated", version, nowMs });
    return { name, config, version };
  });
}

/** Deletes a gateway; false when there is none of that name. */
async function deleteGateway(
  pool: pg.Pool,
  changeCodec: TopicCodec,
  name: string,
  nowMs: number,
): Promise<boolean> {
  return inTransaction(pool, async (client) => {
    const { rows } = await client.query("DELETE FROM payment_gateways WHERE name = $1 RETURNING version", [
      name,
    ]);
    if (!rows[0]) return false;
    const version = (rows[0].version as number) + 1;
    await writeChangeRecord(client, changeCodec, { name, change: "removed", version, nowMs });
    return true;
  });
}

export function createGatewayRegistry(pool: pg.Pool, changeCodec: TopicCodec): GatewayRegistry {
  let snapshot: StoredGateway[] = [];
  let configs: GatewayConfig[] = [];
  const listeners: (() => void)[] = [];

  const reload = async () => {
    const { rows } = await pool.query("SELECT name, config, version FROM payment_gateways ORDER BY name");
    snapshot = rows.map((r) => ({ name: r.name, config: gatewayInput.parse(r.config), version: r.version }));
    configs = snapshot.map(toGatewayConfig);
    for (const listener of listeners) listener();
  };

  return {
    list: () => configs,
    stored: () => snapshot,
    reload,
    async add(input, nowMs) {
      const config = gatewayInput.parse(input);
      if (!(await insertGateway(pool, changeCodec, config, nowMs, false)))
        return { ok: false, code: "exists" };
      await reload();
      return { ok: true, gateway: { name: config.name, config, version: 1 } };
    },
    async update(name, patch, nowMs) {
      const changes = gatewayPatch.parse(patch);
      const updated = await updateGateway(pool, changeCodec, name, changes, nowMs);
      if (updated) await reload();
      return updated;
    },
    async remove(name, nowMs) {
      const removed = await deleteGateway(pool, changeCodec, name, nowMs);
      if (removed) await reload();
      return removed;
    },
    async seed(input, nowMs) {
      await insertGateway(pool, changeCodec, gatewayInput.parse(input), nowMs, true);
    },
    onChange(listener) {
      listeners.push(listener);
    },
  };
}
