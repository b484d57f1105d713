/**
 * `ledgerflow admin export-users [--out FILE] [--key-stdin]`: every user, de-identified
 * (deidentify.ts), as JSON lines, read a page at a time from the database of the configuration.
 * The pseudonym key is random per export unless one is given on stdin (hex, 32 bytes or more) to
 * make exports joinable; it is never printed. Exit status: 0 written, 2 usage.
 */
import { randomBytes } from "node:crypto";
import { once } from "node:events";
import { createWriteStream } from "node:fs";
import { parseArgs } from "node:util";
import type pg from "pg";
import { loadConfig } from "../../app/config.ts";
import { ConfigError } from "../../platform/config.ts";
import { openToolContext } from "../../tools/context.ts";
import { deidentify, type UserForExport } from "./deidentify.ts";

const pageSize = 1_000;

export async function runExportUsers(args: string[], readStdin: () => Promise<string>): Promise<number> {
  const { values } = parseArgs({
    args,
    options: { out: { type: "string" }, "key-stdin": { type: "boolean", default: false } },
    allowPositionals: false,
  });
  const key = values["key-stdin"] ? keyFrom(await readStdin()) : randomBytes(32);
  const tool = await openToolContext(loadConfig(process.env, { logLevel: "warn" }));
  const out = values.out === undefined ? process.stdout : createWriteStream(values.out, { mode: 0o600 });
  try {
    let written = 0;
    for await (const page of usersInPages(tool.pool)) {
      const text = page.map((user) => `${JSON.stringify(deidentify(user, key))}\n`).join("");
      if (!out.write(text)) await once(out, "drain");
      written += page.length;
    }
    process.stderr.write(`${written} users exported, de-identified; database: ${tool.database}\n`);
    return 0;
  } finally {
    if (out !== process.stdout) {
      out.end();
      await once(out, "finish");
    }
    await tool.close();
  }
}

function keyFrom(text: string): Buffer {
  const hex = text.trim();
  if (!/^([0-9a-f]{2}){32,}$/i.test(hex)) throw new ConfigError("--key-stdin: at least 64 hex digits");
  return Buffer.from(hex, "hex");
}

/** Keyset pages by user id: memory stays one page however many users there are. */
async function* usersInPages(pool: pg.Pool): AsyncGenerator<UserForExport[]> {
  let after = "00000000-0000-0000-0000-000000000000";
  for (;;) {
    const { rows } = await pool.query(
      `SELECT u.id, u.roles, u.created_at, p.zip_code, p.officer_agency,
              coalesce(p.officer_verified, false) AS officer_verified,
              p.email_enc IS NOT NULL AS has_email, p.phone_enc IS NOT NULL AS has_phone,
              p.legal_name_enc IS NOT NULL AS has_legal_name
         FROM users u LEFT JOIN identity_profiles p ON p.user_id = u.id
        WHERE u.id > $1 ORDER BY u.id LIMIT $2`,
      [after, pageSize],
    );
    if (rows.length === 0) return;
    yield rows.map((row) => ({
      userId: row.id,
      roles: row.roles,
      createdAtMs: (row.created_at as Date).getTime(),
      zipCode: row.zip_code,
      officerAgency: row.officer_agency,
      officerVerified: row.officer_verified,
      hasEmail: row.has_email,
      hasPhone: row.has_phone,
      hasLegalName: row.has_legal_name,
    }));
    after = rows.at(-1).id;
  }
}
