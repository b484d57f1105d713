/**
 * What `ledgerflow --help` and `ledgerflow <command> --help` print. Colour only on a terminal:
 * node:util styleText checks the stream (a pipe or file gets none) and NO_COLOR / FORCE_COLOR.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { styleText } from "node:util";

type Style = Parameters<typeof styleText>[0];

export function styled(style: Style, text: string, stream: NodeJS.WriteStream = process.stdout): string {
  return styleText(style, text, { stream });
}

export function packageVersion(): string {
  const file = join(import.meta.dirname, "..", "..", "package.json");
  return (JSON.parse(readFileSync(file, "utf8")) as { version: string }).version;
}

export interface CommandHelp {
  /** The command (and subcommands) as the top help lists it. */
  readonly name: string;
  /** As in the top help's list: the command with its main options. */
  readonly synopsis: string;
  readonly summary: string;
  /** The command's own help: subcommands and every option. */
  readonly details: string;
}

export const commandHelp: Readonly<Record<string, CommandHelp>> = {
  serve: {
    name: "serve",
    synopsis: "serve [--role ROLE] [--port N]",
    summary: "run the platform (default: every role, embedded)",
    details: `Options:
  --role api|handler|projector|notifier|worker|all
                                               what this process runs (default all)
  --port N                                    HTTP port (default LEDGERFLOW_PORT, 8080)
Stops cleanly on SIGINT, SIGTERM or SIGHUP, with its embedded PostgreSQL.`,
  },
  generate: {
    name: "generate",
    synopsis: "generate [--rate N] [--accounts N] [--duration S] [--url URL]",
    summary: "load generator: creates, funds, transfers",
    details: `Options:
  --rate N            transfers per second offered (default 500, at most 20000)
  --accounts N        accounts to open and fund (default 1000, at most 100000)
  --duration S        seconds of transfers (default 60, at most 3600)
  --url URL           the running server (default http://localhost:8080); loopback only
  --allow-remote      allow a non-loopback --url
  --users N           users owning the accounts (default 4)
  --fail-share F      share of transfers meant to fail, 0..1 (default 0.05)
  --concurrency N     requests in flight at most (default 256)
  --wait S            Prefer: wait=S on each transfer (default 5; 0 = fire and forget)
  --admin-user NAME   staff user funding the accounts (or LEDGERFLOW_ADMIN_USERNAME, default admin)
  --admin-password P  its password (or LEDGERFLOW_ADMIN_PASSWORD): the one printed at first start
  --json              print the final report as JSON`,
  },
  community: {
    name: "community simulate",
    synopsis: "community simulate [--officers N --citizens N --duration S]",
    summary: "simulated officers and citizens meet (Hey Blue!)",
    details: `Subcommands:
  simulate [options]  officers and citizens walk a city over the community
                      WebSocket: officers go available and answer requests,
                      citizens report positions and ask nearby officers
Options:
  --officers N        simulated officers (default 20, at most 2000)
  --citizens N        simulated citizens (default 100, at most 8000)
  --duration S        seconds to run (default 60, at most 3600)
  --url URL           the running server (default http://localhost:8080)
  --allow-remote      allow a non-loopback --url
  --seed N            seed of the walk and choices (default: clock, printed)
  --bbox A,B,C,D      the city: minLat,minLon,maxLat,maxLon (default Amsterdam)
  --interval S        seconds between location reports of one app (default 2)
  --accept-share F    share of requests officers accept (default 0.85)
  --request-share F   chance an idle citizen near an officer asks (default 0.3)
  --virtual-share F   chance an idle citizen far from all asks (default 0.02)
  --prefix P          usernames P-officer-1, P-citizen-1… (default sim)
  --admin-user NAME   grants the roles (or LEDGERFLOW_ADMIN_USERNAME, admin)
  --admin-password P  its password (or LEDGERFLOW_ADMIN_PASSWORD)
  --json              print the final report as JSON
Users register over HTTP, so the platform must allow as many registrations
per client (LEDGERFLOW_REGISTRATIONS_PER_CLIENT_MAX); later runs reuse them.
Stops after --duration or on Ctrl-C. Exit status 1 on unexpected errors.`,
  },
  verify: {
    name: "verify",
    synopsis: "verify [--receipt PROOF.json] [--key FILE]",
    summary: "verify the token chain and receipts offline",
    details: `Options:
  --database-url URL       PostgreSQL holding the chain (default: LEDGERFLOW_DATABASE_URL, else the
                           embedded database of the data directory, LEDGERFLOW_DATA_DIR)
  --key FILE               public key, PEM or JWK (GET /v1/chain/key); default: the data directory's
  --receipt PROOF.json     one proof document (GET /v1/tokens/{id}/proof), checked offline
  --signatures all|blocks  check every receipt's signature or the signed block headers (default)
Exit status 0 when everything verifies, 1 when something does not, 2 on usage errors.`,
  },
  topics: {
    name: "topics sync",
    synopsis: "topics sync [--prune] [--dry-run] [--json]",
    summary: "create topics, report drift, register schemas",
    details: `Subcommands:
  sync [--prune] [--dry-run] [--json]
      creates missing topics (replication capped at the broker count), reports drift without
      changing anything, deletes undeclared topics only with --prune (never internal "_" ones),
      registers value schemas, refusing changes that are not BACKWARD compatible.
Exit status 0 in sync, 1 when something needs an operator (drift, refused schema).`,
  },
  dlq: {
    name: "dlq list|show|replay",
    synopsis: "dlq list | show | replay",
    summary: "inspect and replay dead-lettered records",
    details: `Subcommands:
  list [--limit N] [--json]                   dead-lettered records of every topic
  show <topic> <partition> <offset> [--json]  one record: headers, error, decoded value
  replay <topic> <partition> <offset>         produce it back to its original topic
<topic> is the dead-letter topic (ledger.commands.dlq) or the topic it belongs to (ledger.commands).`,
  },
  feeder: {
    name: "feeder",
    synopsis: "feeder --file PATH | --url URL [--list NAME] [--format lines|csv|ofac]",
    summary: "load a screening list as a new version (atomic swap)",
    details: `Options:
  --file PATH         the list file
  --url URL           or an http(s) URL to fetch it from
  --list NAME         which list (default fraud; lowercase letters, digits, dashes)
  --format F          lines: one entry per line (IBAN, user id or name); csv: header with iban,user,name
                      columns; ofac: OFAC's SDN CSV (default: sdn*.csv is ofac, *.csv csv, else lines)
  --json              print the report as JSON
Prints added/removed/unchanged counts. A malformed file is rejected whole with the line number and
exit status 1; the version in force stays. Limits: LEDGERFLOW_RISK_FILE_BYTES_MAX, LEDGERFLOW_RISK_ENTRIES_MAX.
Running platforms screen against the new version within LEDGERFLOW_RISK_REFRESH_INTERVAL_MS.`,
  },
  projections: {
    name: "projections rebuild|lag",
    synopsis: "projections rebuild [--projection interactions|branches] | lag [--json]",
    summary: "rebuild client insights from the log; their lag",
    details: `Subcommands:
  rebuild [--projection interactions|branches]   replay ledger.outcomes from offset 0 into fresh tables,
                                                 then swap them in (default: both, one after the other)
  lag [--json]                                   records of ledger.outcomes each projection has still to apply
A running platform keeps projecting meanwhile; the swap pauses it for one transaction. Prints a live
progress line (records applied / log end). Branch addresses and zip codes are kept. Limits:
LEDGERFLOW_INSIGHTS_REBUILD_READ_BATCH_MAX, LEDGERFLOW_INSIGHTS_REBUILD_SWAP_ATTEMPTS_MAX.`,
  },
  admin: {
    name: "admin roles",
    synopsis: "admin roles|reset-password|create-admin|export-users",
    summary: "grant/revoke roles; reset-password, create-admin",
    details: `Subcommands:
  reset-password --username NAME [--password-stdin]
      sets a new password (generated and printed once, or the first line of stdin)
      and signs the user out everywhere
  create-admin --username NAME [--password-stdin]
      creates a user with the admin role (password as above)
  roles grant --username NAME --role ROLE     give NAME the role
  roles revoke --username NAME --role ROLE    take it away (a user keeps at least one role)
  export-users [--out FILE] [--key-stdin]
      every user de-identified, as JSON lines: a keyed pseudonym (a random
      key per export, or one in hex on stdin), roles, sign-up month, 3-digit
      ZIP; no names, usernames, email, phone or exact times
Roles: customer, teller, compliance, auditor, admin, officer, citizen, retailer, charity.
Works on the database the platform uses (embedded: the data directory). Audited without an actor.
Takes effect with the user's next access token. Admins can do the same over HTTP:
PUT and DELETE /v1/admin/users/{id}/roles/{role}.
Database: LEDGERFLOW_DATABASE_URL, else the data directory's (LEDGERFLOW_DATA_DIR).
Exit status 0 done, 1 failed (no such user, name taken, last role), 2 usage or invalid password.`,
  },
  gateways: {
    name: "gateways simulate",
    synopsis: "gateways simulate [options]",
    summary: "run the simulated payment gateways",
    details: `Subcommands:
  simulate [--config profiles.json] [--port-base 7400] [--seed N] [--secret S] [--json]
      --config     JSON array of gateway profiles (default: the four built-in gateways)
      --port-base  gateway i listens on port-base + i; 0 picks free ports (default 7400)
      --seed       seed of the simulators' randomness (default: from the clock, printed)
      --secret     callback HMAC secret (default LEDGERFLOW_GATEWAY_SECRET, else random, printed)
      --json       one JSON line instead of a table`,
  },
};

export function topHelp(stream: NodeJS.WriteStream = process.stdout): string {
  const width = Math.max(...Object.values(commandHelp).map((c) => c.name.length)) + 3;
  const commands = Object.values(commandHelp).map(
    (c) => `  ${styled("bold", c.name, stream)}${" ".repeat(width - c.name.length)}${c.summary}`,
  );
  return [
    `${styled("bold", "ledgerflow", stream)} ${packageVersion()} — an event-driven platform for moving money`,
    "",
    `${styled("underline", "Usage:", stream)} ledgerflow <command> [options]`,
    "",
    styled("underline", "Commands:", stream),
    ...commands,
    "",
    "  ledgerflow <command> --help   options and subcommands of a command",
    "  ledgerflow --version          the version",
    "",
    "Configuration: LEDGERFLOW_* environment variables (README → Configuration).",
    "Exit status: 0 success, 1 a failed check or a failure, 2 a usage error.",
    "",
  ].join("\n");
}

export function commandUsage(name: string, stream: NodeJS.WriteStream = process.stdout): string {
  const help = commandHelp[name];
  if (!help) return topHelp(stream);
  return `${styled("underline", "Usage:", stream)} ledgerflow ${styled("bold", help.synopsis, stream)}\n${help.summary}\n\n${help.details}\n`;
}
