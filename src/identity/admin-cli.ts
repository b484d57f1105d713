/**
 * `ledgerflow admin`: operator commands on the identity store of the database the platform uses
 * (opened as the other operator tools open it). `roles grant|revoke` changes a user's roles and
 * audits the change with no actor (an operator at the machine). Exit status: 0 done (or already
 * so), 1 refused (no such user, a user's last role), 2 usage.
 */
import { parseArgs } from "node:util";
import { loadConfig } from "../app/config.ts";
import { systemClock } from "../platform/clock.ts";
import { ConfigError } from "../platform/config.ts";
import { openToolContext } from "../tools/context.ts";
import { createPostgresUserStore } from "./adapters/postgres.ts";
import { changeRole, type RoleAction } from "./roles.ts";
import { isRole, roles } from "./store.ts";

export async function runAdmin(args: string[]): Promise<number> {
  const [group, action, ...rest] = args;
  if (group !== "roles" || (action !== "grant" && action !== "revoke"))
    throw new ConfigError("usage: ledgerflow admin roles grant|revoke --username NAME --role ROLE");
  const { values } = parseArgs({
    args: rest,
    options: { username: { type: "string" }, role: { type: "string" } },
    allowPositionals: false,
  });
  if (values.username === undefined) throw new ConfigError("--username is required");
  if (!isRole(values.role)) throw new ConfigError(`--role must be one of ${roles.join(", ")}`);
  return changeRoleOf(values.username, values.role, action);
}

async function changeRoleOf(username: string, role: (typeof roles)[number], action: RoleAction) {
  const tool = await openToolContext(loadConfig(process.env, { logLevel: "warn" }));
  try {
    const store = createPostgresUserStore(tool.pool);
    const user = await store.findByUsername(username);
    if (user === undefined) {
      process.stderr.write(`error: no user named ${username}\n`);
      return 1;
    }
    const result = await changeRole(
      { store, clock: systemClock },
      { userId: user.id, role, action, actorId: undefined },
    );
    if (!result.ok) {
      process.stderr.write(`error: ${username} keeps at least one role; grant another first\n`);
      return 1;
    }
    const verb = action === "grant" ? "granted" : "revoked";
    const state = result.changed
      ? `${role} ${verb}`
      : `unchanged (${action === "grant" ? "already had" : "did not have"} ${role})`;
    process.stdout.write(
      `${result.user.username}: ${state}; roles now ${result.user.roles.join(", ")}\ndatabase: ${tool.database}\n`,
    );
    return 0;
  } finally {
    await tool.close();
  }
}
