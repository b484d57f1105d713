/**
 * The SchemaRegistry port over a Confluent-compatible HTTP API (Confluent Schema Registry, or
 * Apicurio Registry's `/apis/ccompat/v7`). Ids are the registry's global ids, so the wire format
 * (magic byte + id) written here is readable by any Confluent-aware tool.
 *
 * BACKWARD compatibility is checked twice before a new version is registered: locally (the same
 * check as the built-in registry, which explains *why* it fails) and by the registry's own
 * compatibility endpoint (which honours whatever level the registry is configured with). A
 * registry that still refuses the registration with 409 is reported the same way.
 */
import { UnavailableError } from "../errors.ts";
import { avroType, backwardIncompatibility } from "../log/avro.ts";
import { IncompatibleSchemaError, type SchemaRegistry } from "./port.ts";

export interface ConfluentRegistryOptions {
  /** Base URL, e.g. `http://127.0.0.1:18081/apis/ccompat/v7`. */
  readonly url: string;
  readonly requestTimeoutMs: number;
  /** Injected for tests; defaults to the global fetch. */
  readonly fetch?: typeof fetch;
}

interface RegistryResponse {
  readonly status: number;
  readonly body: Record<string, unknown> | readonly unknown[] | undefined;
}

const contentType = "application/vnd.schemaregistry.v1+json";

/** Thrown for answers the client cannot make sense of (a 5xx, or an unexpected 4xx). */
export class SchemaRegistryError extends Error {
  readonly status: number;
  constructor(what: string, status: number, body: unknown) {
    super(`schema registry: ${what} answered ${status}: ${JSON.stringify(body)}`);
    this.name = "SchemaRegistryError";
    this.status = status;
  }
}

const readAttemptsMax = 4;
const readRetryDelayMs = 250;

export function createConfluentSchemaRegistry(options: ConfluentRegistryOptions): SchemaRegistry {
  const client: RegistryClient = {
    base: options.url.replace(/\/+$/, ""),
    fetch: options.fetch ?? fetch,
    requestTimeoutMs: options.requestTimeoutMs,
  };
  const byId = new Map<number, object>();
  return {
    register: (subject, schema) => register(client, byId, subject, schema),
    schemaById: (id) => schemaById(client, byId, id),
    versions: (subject) => versions(client, byId, subject),
  };
}

interface RegistryClient {
  readonly base: string;
  readonly fetch: typeof fetch;
  readonly requestTimeoutMs: number;
}

/**
 * Reads are retried a few times: a registry whose database just restarted answers 500 once per
 * stale pooled connection (seen with Apicurio after a PostgreSQL restart). Writes are not.
 */
async function call(
  client: RegistryClient,
  method: "GET" | "POST",
  path: string,
  body?: unknown,
): Promise<RegistryResponse> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await callOnce(client, method, path, body);
    } catch (error) {
      if (method !== "GET" || attempt >= readAttemptsMax || !(error instanceof UnavailableError)) throw error;
      await new Promise((resolve) => setTimeout(resolve, readRetryDelayMs * attempt));
    }
  }
}

async function callOnce(
  client: RegistryClient,
  method: "GET" | "POST",
  path: string,
  body?: unknown,
): Promise<RegistryResponse> {
  const { base } = client;
  let response: Response;
  try {
    response = await client.fetch(`${base}${path}`, {
      method,
      headers: { accept: contentType, ...(body === undefined ? {} : { "content-type": contentType }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      signal: AbortSignal.timeout(client.requestTimeoutMs),
    });
  } catch (cause) {
    throw new UnavailableError(`schema registry at ${base}`, { cause });
  }
  const text = await response.text();
  let parsed: RegistryResponse["body"];
  try {
    parsed = text === "" ? undefined : (JSON.parse(text) as RegistryResponse["body"]);
  } catch {
    parsed = { message: text };
  }
  if (response.status >= 500) {
    throw new UnavailableError(`schema registry at ${base}`, {
      cause: new SchemaRegistryError(`${method} ${path}`, response.status, parsed),
    });
  }
  return { status: response.status, body: parsed };
}

const subjectPath = (subject: string) => `/subjects/${encodeURIComponent(subject)}`;

function field(response: RegistryResponse, name: string): unknown {
  return response.body && !Array.isArray(response.body)
    ? (response.body as Record<string, unknown>)[name]
    : undefined;
}

function idOf(response: RegistryResponse, what: string): number {
  const id = field(response, "id");
  if (typeof id !== "number") throw new SchemaRegistryError(what, response.status, response.body);
  return id;
}

function parseSchema(response: RegistryResponse, what: string): object {
  const text = field(response, "schema");
  if (typeof text !== "string") throw new SchemaRegistryError(what, response.status, response.body);
  return JSON.parse(text) as object;
}

async function latest(client: RegistryClient, subject: string): Promise<object | undefined> {
  const response = await call(client, "GET", `${subjectPath(subject)}/versions/latest`);
  if (response.status === 404) return undefined;
  if (response.status !== 200)
    throw new SchemaRegistryError("latest version", response.status, response.body);
  return parseSchema(response, "latest version");
}

async function refuseIncompatible(client: RegistryClient, subject: string, schema: object, text: string) {
  const previous = await latest(client, subject);
  if (previous === undefined) return;
  const reason = backwardIncompatibility(avroType(schema as never), avroType(previous as never));
  if (reason) throw new IncompatibleSchemaError(subject, reason);
  const check = await call(client, "POST", `/compatibility${subjectPath(subject)}/versions/latest`, {
    schema: text,
    schemaType: "AVRO",
  });
  if (check.status === 404) return;
  if (check.status !== 200) throw new SchemaRegistryError("compatibility check", check.status, check.body);
  if (field(check, "is_compatible") === false)
    throw new IncompatibleSchemaError(subject, "the registry's compatibility check refused it");
}

async function register(
  client: RegistryClient,
  byId: Map<number, object>,
  subject: string,
  schema: object,
): Promise<number> {
  const text = JSON.stringify(schema);
  // Already registered under this subject: the same id, nothing written (idempotent).
  const lookup = await call(client, "POST", subjectPath(subject), { schema: text, schemaType: "AVRO" });
  if (lookup.status === 200) return idOf(lookup, "schema lookup");
  if (lookup.status !== 404) throw new SchemaRegistryError("schema lookup", lookup.status, lookup.body);
  await refuseIncompatible(client, subject, schema, text);
  const created = await call(client, "POST", `${subjectPath(subject)}/versions`, {
    schema: text,
    schemaType: "AVRO",
  });
  if (created.status === 409) {
    throw new IncompatibleSchemaError(
      subject,
      String(field(created, "message") ?? "refused by the registry"),
    );
  }
  if (created.status !== 200) throw new SchemaRegistryError("register", created.status, created.body);
  const id = idOf(created, "register");
  byId.set(id, schema);
  return id;
}

async function schemaById(client: RegistryClient, byId: Map<number, object>, id: number) {
  const cached = byId.get(id);
  if (cached) return cached;
  const response = await call(client, "GET", `/schemas/ids/${id}`);
  if (response.status === 404) return undefined;
  if (response.status !== 200) throw new SchemaRegistryError("schema by id", response.status, response.body);
  const schema = parseSchema(response, "schema by id");
  byId.set(id, schema);
  return schema;
}

async function versions(client: RegistryClient, byId: Map<number, object>, subject: string) {
  const list = await call(client, "GET", `${subjectPath(subject)}/versions`);
  if (list.status === 404) return [];
  if (list.status !== 200 || !Array.isArray(list.body))
    throw new SchemaRegistryError("versions", list.status, list.body);
  const numbers = (list.body as unknown[]).filter((v): v is number => typeof v === "number");
  const out: { id: number; schema: object }[] = [];
  for (const version of numbers.sort((a, b) => a - b)) {
    const response = await call(client, "GET", `${subjectPath(subject)}/versions/${version}`);
    if (response.status === 404) continue; // deleted between the two calls
    if (response.status !== 200) throw new SchemaRegistryError("version", response.status, response.body);
    const id = idOf(response, "version");
    const schema = parseSchema(response, "version");
    byId.set(id, schema);
    out.push({ id, schema });
  }
  return out;
}
