import { createHash } from "node:crypto";
import type pg from "pg";
import { inTransaction } from "../db/pool.ts";
import { avroType, backwardIncompatibility } from "../log/avro.ts";
import { IncompatibleSchemaError, type SchemaRegistry } from "./port.ts";

/**
 * The built-in registry of embedded mode, in PostgreSQL: the same model as Confluent's
 * (global ids, subjects with versions, BACKWARD compatibility against the latest version).
 */
export function createPostgresSchemaRegistry(pool: pg.Pool): SchemaRegistry {
  const byId = new Map<number, object>();
  return {
    async register(subject, schema) {
      const text = JSON.stringify(schema);
      const fingerprint = createHash("sha256").update(text).digest("hex");
      return inTransaction(pool, async (client) => {
        await client.query("SELECT pg_advisory_xact_lock(hashtext($1))", [subject]);
        const existing = await client.query(
          "SELECT id FROM schema_registry WHERE subject = $1 AND fingerprint = $2",
          [subject, fingerprint],
        );
        if (existing.rows[0]) return existing.rows[0].id as number;
        const latest = await client.query(
          "SELECT schema, version FROM schema_registry WHERE subject = $1 ORDER BY version DESC LIMIT 1",
          [subject],
        );
        const previous = latest.rows[0];
        if (previous) {
          const reason = backwardIncompatibility(avroType(schema as never), avroType(previous.schema));
          if (reason) throw new IncompatibleSchemaError(subject, reason);
        }
        const inserted = await client.query(
          "INSERT INTO schema_registry (subject, version, schema, fingerprint) VALUES ($1, $2, $3, $4) RETURNING id",
          [subject, (previous?.version ?? 0) + 1, text, fingerprint],
        );
        return inserted.rows[0].id as number;
      });
    },
    async schemaById(id) {
      const cached = byId.get(id);
      if (cached) return cached;
      const result = await pool.query("SELECT schema FROM schema_registry WHERE id = $1", [id]);
      const schema = result.rows[0]?.schema as object | undefined;
      if (schema) byId.set(id, schema);
      return schema;
    },
    async versions(subject) {
      const result = await pool.query(
        "SELECT id, schema FROM schema_registry WHERE subject = $1 ORDER BY version",
        [subject],
      );
      return result.rows.map((row) => ({ id: row.id as number, schema: row.schema as object }));
    },
  };
}
