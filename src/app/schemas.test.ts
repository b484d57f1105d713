import assert from "node:assert/strict";
import { test } from "node:test";
import type { AvroSchema } from "../platform/log/avro.ts";
import { avroType, backwardIncompatibility } from "../platform/log/avro.ts";
import { currentSchemas, readSnapshot } from "./schema-snapshot.ts";

test("every topic schema can read data written with its committed snapshot (BACKWARD)", async () => {
  const snapshot = await readSnapshot();
  for (const [subject, schema] of Object.entries(currentSchemas())) {
    const previous = snapshot[subject];
    if (!previous) continue; // a new topic has nothing to be compatible with
    const reason = backwardIncompatibility(avroType(schema as AvroSchema), avroType(previous as AvroSchema));
    assert.equal(reason, undefined, `${subject}: ${reason}`);
  }
});

test("the snapshot is up to date (run scripts/update-schema-snapshot.ts after a compatible change)", async () => {
  assert.deepEqual(currentSchemas(), await readSnapshot());
});

test("the compatibility check rejects a breaking change: a new field without a default", () => {
  const v1: AvroSchema = { type: "record", name: "T", fields: [{ name: "a", type: "long" }] } as AvroSchema;
  const breaking = {
    type: "record",
    name: "T",
    fields: [
      { name: "a", type: "long" },
      { name: "b", type: "string" },
    ],
  } as AvroSchema;
  const compatible = {
    type: "record",
    name: "T",
    fields: [
      { name: "a", type: "long" },
      { name: "b", type: "string", default: "" },
    ],
  } as AvroSchema;
  assert.match(backwardIncompatibility(avroType(breaking), avroType(v1)) ?? "", /b/);
  assert.equal(backwardIncompatibility(avroType(compatible), avroType(v1)), undefined);
  const retyped = { type: "record", name: "T", fields: [{ name: "a", type: "string" }] } as AvroSchema;
  assert.notEqual(backwardIncompatibility(avroType(retyped), avroType(v1)), undefined);
});
