/**
 * Committed snapshot of every topic's value schema (`schemas.snapshot.json` at the repository root).
 * `schemas.test.ts` fails when a schema changed in a way old data could not be read (BACKWARD),
 * or changed at all without the snapshot being updated (`node scripts/update-schema-snapshot.ts`).
 */
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { topics } from "./topology.ts";

export const snapshotPath = join(import.meta.dirname, "..", "..", "schemas.snapshot.json");

export type SchemaSnapshot = Record<string, object>;

export function currentSchemas(): SchemaSnapshot {
  return Object.fromEntries(Object.values(topics).map((t) => [t.subject, t.valueSchema as object]));
}

export async function readSnapshot(): Promise<SchemaSnapshot> {
  return JSON.parse(await readFile(snapshotPath, "utf8")) as SchemaSnapshot;
}

export async function writeSnapshot(): Promise<void> {
  await writeFile(snapshotPath, `${JSON.stringify(currentSchemas(), null, 2)}\n`);
}
