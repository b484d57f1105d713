/**
 * The Confluent-compatible client against a real registry: `npm run services:up` (Apicurio), then
 *   LEDGERFLOW_SCHEMA_REGISTRY_URL=http://127.0.0.1:18081/apis/ccompat/v7 \
 *     node --test src/platform/schema-registry/confluent.int.test.ts
 * Tests that need the registry are skipped when LEDGERFLOW_SCHEMA_REGISTRY_URL is not set.
 */
import assert from "node:assert/strict";
import { createServer as createHttpServer } from "node:http";
import { createServer } from "node:net";
import { test } from "node:test";
import { UnavailableError } from "../errors.ts";
import { avroType } from "../log/avro.ts";
import { decodeWire, encodeWire } from "../log/codec.ts";
import { createConfluentSchemaRegistry } from "./confluent.ts";
import { IncompatibleSchemaError } from "./port.ts";

const url = process.env.LEDGERFLOW_SCHEMA_REGISTRY_URL;
const skip = url ? false : "LEDGERFLOW_SCHEMA_REGISTRY_URL is not set (run `npm run services:up` first)";

const uniqueSubject = () => `int-${Date.now()}-${Math.random().toString(36).slice(2, 8)}-value`;

const v1 = {
  type: "record",
  name: "Payment",
  namespace: "ledgerflow.test",
  fields: [
    { name: "id", type: "string" },
    { name: "amount", type: "long" },
  ],
};
// BACKWARD compatible: a new field with a default (v2 readers can read v1 data).
const v2 = { ...v1, fields: [...v1.fields, { name: "memo", type: "string", default: "" }] };
// Not BACKWARD compatible: a new field without a default.
const v3 = { ...v1, fields: [...v2.fields, { name: "branch", type: "string" }] };

test("confluent registry: register is idempotent, ids resolve, versions are listed oldest first", {
  skip,
}, async () => {
  const registry = createConfluentSchemaRegistry({ url: url ?? "", requestTimeoutMs: 10_000 });
  const subject = uniqueSubject();
  assert.deepEqual(await registry.versions(subject), []);

  const id1 = await registry.register(subject, v1);
  assert.equal(await registry.register(subject, v1), id1, "registering the same schema again returns its id");
  const id2 = await registry.register(subject, v2);
  assert.notEqual(id2, id1);

  const fresh = createConfluentSchemaRegistry({ url: url ?? "", requestTimeoutMs: 10_000 });
  assert.deepEqual(await fresh.schemaById(id1), v1);
  assert.deepEqual(await fresh.schemaById(id2), v2);
  assert.deepEqual(
    (await fresh.versions(subject)).map((v) => v.id),
    [id1, id2],
  );
  assert.equal(await fresh.schemaById(2_000_000_000), undefined);
});

test("confluent registry: an incompatible change is refused and not registered", { skip }, async () => {
  const registry = createConfluentSchemaRegistry({ url: url ?? "", requestTimeoutMs: 10_000 });
  const subject = uniqueSubject();
  await registry.register(subject, v1);
  await registry.register(subject, v2);
  await assert.rejects(registry.register(subject, v3), (error: unknown) => {
    assert.ok(error instanceof IncompatibleSchemaError);
    assert.equal(error.subject, subject);
    assert.match(error.message, /branch/);
    return true;
  });
  assert.equal((await registry.versions(subject)).length, 2);
});

test("confluent registry: wire-format bytes written with v1 are read with v2 through the registry ids", {
  skip,
}, async () => {
  const registry = createConfluentSchemaRegistry({ url: url ?? "", requestTimeoutMs: 10_000 });
  const subject = uniqueSubject();
  const id1 = await registry.register(subject, v1);
  const bytes = encodeWire(id1, avroType(v1 as never), { id: "p-1", amount: 250n });
  const id2 = await registry.register(subject, v2);
  const reader = avroType(v2 as never);
  const writer = await registry.schemaById(id1);
  assert.ok(writer);
  const resolver = reader.createResolver(avroType(writer as never));
  const value = decodeWire(bytes, {
    readerFor: (id) =>
      id === id1
        ? (body) => reader.fromBuffer(body, resolver)
        : id === id2
          ? (body) => reader.fromBuffer(body)
          : undefined,
  });
  assert.deepEqual({ ...(value as object) }, { id: "p-1", amount: 250n, memo: "" });
});

test("confluent registry: a registry that does not answer is UnavailableError", async () => {
  // A port that was free a moment ago: connection refused.
  const port = await new Promise<number>((resolve) => {
    const server = createServer().listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => resolve(typeof address === "object" && address ? address.port : 1));
    });
  });
  const registry = createConfluentSchemaRegistry({
    url: `http://127.0.0.1:${port}`,
    requestTimeoutMs: 2_000,
  });
  await assert.rejects(registry.register("x-value", v1), UnavailableError);
  await assert.rejects(registry.schemaById(1), UnavailableError);
});

test("confluent registry: a read answered 500 once (stale pooled connection) is retried; a write is not", async () => {
  let failuresLeft = 1;
  const requests: string[] = [];
  const server = createHttpServer((request, response) => {
    requests.push(`${request.method} ${request.url}`);
    response.setHeader("content-type", "application/vnd.schemaregistry.v1+json");
    if (failuresLeft > 0) {
      failuresLeft--;
      response.statusCode = 500;
      response.end(JSON.stringify({ message: "FATAL: terminating connection due to administrator command" }));
      return;
    }
    response.end(JSON.stringify({ schema: JSON.stringify(v1) }));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : 0;
  try {
    const registry = createConfluentSchemaRegistry({
      url: `http://127.0.0.1:${port}`,
      requestTimeoutMs: 2_000,
    });
    assert.deepEqual(await registry.schemaById(7), v1);
    assert.deepEqual(requests, ["GET /schemas/ids/7", "GET /schemas/ids/7"]);
    failuresLeft = 1;
    requests.length = 0;
    await assert.rejects(registry.register("x-value", v1), UnavailableError);
    assert.deepEqual(requests, ["POST /subjects/x-value"]);
  } finally {
    await new Promise((resolve) => server.close(resolve));
  }
});
