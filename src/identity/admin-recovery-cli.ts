/**
 * `ledgerflow admin reset-password|create-admin`: recovery without the web app, on the database of
 * the configuration (LEDGERFLOW_DATABASE_URL, else the data directory's embedded PostgreSQL, started
 * by the tool when the server is not running). Passwords are generated (printed once) or read from
 * stdin (`--password-stdin`), never taken from the command line, where `ps` and shell history see them.
 * A reset ends every session of the user. Both publish an `identity.events` record (actor "cli").
 * Exit status: 0 done, 1 failed (no such user, name taken), 2 usage (bad option, invalid password).
 */
import { randomBytes } from "node:crypto";
import { parseArgs } from "node:util";
import type pg from "pg";
import type pino from "pino";
import type { Log } from "../platform/log/port.ts";
import { createTopicCodec } from "../platform/log/topic-codecs.ts";
import type { SchemaRegistry } from "../platform/schema-registry/port.ts";
import { topicSpecsOf } from "../platform/topology.ts";
import { createPostgresUserStore } from "./adapters/postgres.ts";
import { createLogAuthEvents } from "./events.ts";
import { createArgon2Hasher } from "./passwords.ts";
import { validateCredentials } from "./service.ts";
import { createPostgresSessionStore } from "./sessions/postgres.ts";
import { identityTopics } from "./topics.ts";

export interface AdminCliContext {
  readonly pool: pg.Pool;
  readonly log: Pick<Log, "producer" | "admin" | "kind">;
  readonly registry: SchemaRegistry;
  readonly database: string;
  close(): Promise<void>;
}

export interface AdminCliIo {
  readonly out: (line: string) => void;
  readonly err: (line: string) => void;
  /** All of stdin as text (for --password-stdin). */
  readonly readStdin: () => Promise<string>;
  readonly logger: pino.Logger;
}

class UsageError extends Error {}

export async function runAdmin(
  args: readonly string[],
  open: () => Promise<AdminCliContext>,
  io: AdminCliIo,
): Promise<number> {
  const [subcommand, ...rest] = args;
  if (subcommand !== "reset-password" && subcommand !== "create-admin") {
    io.err(
      `unknown or missing subcommand${subcommand ? ` "${subcommand}"` : ""}: reset-password or create-admin`,
    );
    io.err("(ledgerflow admin --help shows the options)");
    return 2;
  }
  try {
    const { values } = parseArgs({
      args: [...rest],
      options: { username: { type: "string" }, "password-stdin": { type: "boolean", default: false } },
      allowPositionals: false,
    });
    if (!values.username) throw new UsageError("--username is required");
    const generated = !values["password-stdin"];
    const password = generated ? randomBytes(18).toString("base64url") : firstLine(await io.readStdin());
    const invalid = validateCredentials(values.username, password);
    if (invalid) throw new UsageError(`${invalid.field} ${invalid.detail}`);
    const context = await open();
    try {
      const done = await apply(subcommand, context, values.username, password, io);
      if (done && generated) io.out(`password: ${password}\n(shown once; store it now)`);
      return done ? 0 : 1;
    } finally {
      await context.close();
    }
  } catch (error) {
    const usage =
      error instanceof UsageError || String((error as { code?: unknown }).code).startsWith("ERR_PARSE_ARGS");
    if (!usage) throw error;
    io.err(`${(error as Error).message}\n(ledgerflow admin --help shows the options)`);
    return 2;
  }
}

function firstLine(text: string): string {
  return text.split(/\r?\n/, 1)[0] ?? "";
}

async function apply(
  subcommand: "reset-password" | "create-admin",
  context: AdminCliContext,
  username: string,
  password: string,
  io: AdminCliIo,
): Promise<boolean> {
  const users = createPostgresUserStore(context.pool);
  // A database the server never started on has no topics yet (Kafka's are made by `topics sync`).
  if (context.log.kind !== "kafka")
    await context.log.admin().createTopics(topicSpecsOf([identityTopics.identityEvents]));
  const events = createLogAuthEvents(
    context.log.producer(),
    await createTopicCodec(context.registry, identityTopics.identityEvents),
    io.logger,
  );
  const passwordHash = await createArgon2Hasher().hash(password);
  const atMs = Date.now();
  if (subcommand === "create-admin") {
    const created = await users.createUser({
      id: crypto.randomUUID(),
      username,
      passwordHash,
      roles: ["admin"],
      createdAtMs: atMs,
    });
    if (!created.ok) {
      io.err(`a user named "${username}" exists already (use reset-password)`);
      return false;
    }
    await events.publish({ kind: "admin_created", userId: created.user.id, username, actor: "cli", atMs });
    io.out(`admin "${username}" created in ${context.database}`);
    return true;
  }
  const user = await users.findByUsername(username);
  if (user === undefined) {
    io.err(`no user named "${username}" in ${context.database}`);
    return false;
  }
  await context.pool.query("UPDATE users SET password_hash = $2 WHERE id = $1", [user.id, passwordHash]);
  const ended = await createPostgresSessionStore(context.pool).revokeAllOf(user.id, "password_reset", atMs);
  await events.publish({
    kind: "password_reset",
    userId: user.id,
    username: user.username,
    actor: "cli",
    atMs,
  });
  io.out(`password of "${user.username}" reset in ${context.database}; ${ended.length} session(s) ended`);
  return true;
}
