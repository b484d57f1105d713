/**
 * The `ledgerflow` command as a user runs it, each command a child process: help and version, exit
 * codes (0 success, 1 failed check, 2 usage error), which database a command checked, and a stop
 * that is quiet and complete whichever process gets the signal (the command, or `npm start`'s npm).
 */
import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { chmod, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import pg from "pg";
import { appRole, embeddedLayout, embeddedUrl } from "../../src/platform/db/embedded.ts";
import { freePort } from "../support/ports.ts";

const root = join(import.meta.dirname, "..", "..");
const bin = join(root, "bin", "ledgerflow.js");

interface Finished {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

function finished(child: ChildProcess): Promise<Finished> {
  let stdout = "";
  let stderr = "";
  child.stdout?.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk));
  child.stderr?.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
  return new Promise((resolve) => child.on("close", (code) => resolve({ code, stdout, stderr })));
}

/** The environment of a command: this test's data directory and ports, nothing inherited. */
function envFor(dataDir?: string, pgPort?: number): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: process.env.HOME };
  if (dataDir) env.LEDGERFLOW_DATA_DIR = dataDir;
  if (pgPort) env.LEDGERFLOW_EMBEDDED_PG_PORT = String(pgPort);
  return env;
}

function ledgerflow(args: string[], env: NodeJS.ProcessEnv = envFor()): Promise<Finished> {
  return finished(spawn(process.execPath, [bin, ...args], { cwd: root, env }));
}

/** The ANSI escape that starts a colour sequence. */
const ansiEscape = String.fromCharCode(27);

const noStackTrace = (output: string) => assert.doesNotMatch(output, /\n\s+at .+:\d+:\d+|ERR_PARSE_ARGS/);

describe("help, version and usage errors", () => {
  test("--help lists every command once and exits 0; --version prints the version", async () => {
    const help = await ledgerflow(["--help"]);
    assert.equal(help.code, 0, help.stderr);
    for (const command of [
      "serve",
      "generate",
      "verify",
      "topics sync",
      "dlq",
      "feeder",
      "projections",
      "admin roles",
      "gateways simulate",
      "community simulate",
    ])
      assert.match(help.stdout, new RegExp(`^  ${command}`, "m"), command);
    const lines = help.stdout.split("\n").filter((line) => line.trim() !== "");
    assert.deepEqual(lines, [...new Set(lines)], "no line twice");
    for (const line of lines) assert.ok(line.length <= 80, `wider than 80 columns: ${line}`);
    const version = JSON.parse(readFileSync(join(root, "package.json"), "utf8")).version;
    const shown = await ledgerflow(["--version"]);
    assert.equal(shown.code, 0);
    assert.equal(shown.stdout, `ledgerflow ${version}\n`);
  });

  test("--help works on every command and subcommand", async () => {
    const cases = [
      ["serve", "--help"],
      ["verify", "--help"],
      ["dlq", "--help"],
      ["dlq", "list", "--help"],
      ["topics", "--help"],
      ["topics", "sync", "-h"],
      ["generate", "--help"],
      ["gateways", "simulate", "--help"],
      ["community", "--help"],
      ["community", "simulate", "--help"],
      ["feeder", "--help"],
      ["projections", "--help"],
      ["admin", "--help"],
      ["admin", "roles", "grant", "--help"],
      ["help", "verify"],
    ];
    for (const args of cases) {
      const result = await ledgerflow(args);
      assert.equal(result.code, 0, `${args.join(" ")}: ${result.stderr}`);
      assert.match(result.stdout, /^Usage: ledgerflow /, args.join(" "));
      noStackTrace(result.stdout + result.stderr);
    }
  });

  test("usage errors exit 2 with a message and no stack trace", async () => {
    const cases = [
      [],
      ["bogus"],
      ["serve", "--bogus"],
      ["verify", "--nope"],
      ["topics"],
      ["dlq"],
      ["gateways"],
      ["community"],
      ["community", "simulate", "--officers", "0"],
    ];
    for (const args of cases) {
      const result = await ledgerflow(args);
      assert.equal(result.code, 2, `ledgerflow ${args.join(" ")}: ${result.stdout}${result.stderr}`);
      assert.notEqual(result.stderr, "", args.join(" "));
      noStackTrace(result.stderr);
    }
  });

  test("colour on a terminal only, and none with NO_COLOR", async () => {
    const inTerminal = (env: NodeJS.ProcessEnv) =>
      finished(
        spawn("script", ["-qec", `${process.execPath} ${bin} --help`, "/dev/null"], { cwd: root, env }),
      );
    assert.match(
      (await inTerminal({ ...envFor(), TERM: "xterm-256color" })).stdout,
      new RegExp(`${ansiEscape}\\[1m`),
    );
    assert.doesNotMatch(
      (await inTerminal({ ...envFor(), TERM: "xterm-256color", NO_COLOR: "1" })).stdout,
      new RegExp(`${ansiEscape}\\[`),
    );
    assert.doesNotMatch(
      (await ledgerflow(["--help"], { ...envFor(), TERM: "xterm-256color" })).stdout,
      new RegExp(`${ansiEscape}\\[`),
    );
  });
});

/** Every process (PostgreSQL included) started for `dataDir`: they carry it in their environment. */
function processesOf(dataDir: string): number[] {
  const marker = `LEDGERFLOW_DATA_DIR=${dataDir}\0`;
  const pids: number[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      if (readFileSync(`/proc/${entry}/environ`, "latin1").includes(marker)) pids.push(Number(entry));
    } catch {}
  }
  return pids;
}

async function noneLeft(dataDir: string, withinMs: number): Promise<number[]> {
  const deadline = Date.now() + withinMs;
  let left = processesOf(dataDir);
  while (left.length > 0 && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 200));
    left = processesOf(dataDir);
  }
  return left;
}

interface Started {
  readonly child: ChildProcess;
  readonly done: Promise<Finished>;
  readonly output: () => string;
}

/** Starts the platform (`ledgerflow serve`, or `npm start`) in its own process group, like a shell. */
async function startServe(how: "bin" | "npm", env: NodeJS.ProcessEnv): Promise<Started> {
  const [command, args] = how === "npm" ? ["npm", ["start", "--silent"]] : [process.execPath, [bin, "serve"]];
  const child = spawn(command, args, { cwd: root, env, detached: true });
  const done = finished(child);
  let seen = "";
  child.stdout?.on("data", (chunk: string) => (seen += chunk));
  child.stderr?.on("data", (chunk: string) => (seen += chunk));
  const deadline = Date.now() + 120_000;
  while (!seen.includes("Ledgerflow is running at")) {
    if (child.exitCode !== null || Date.now() > deadline) throw new Error(`did not start:\n${seen}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return { child, done, output: () => seen };
}

describe("commands on a platform's data directory", () => {
  let dataDir: string;
  let pgPort: number;
  let env: NodeJS.ProcessEnv;

  before(async () => {
    dataDir = await mkdtemp(join(tmpdir(), "ledgerflow-cli-"));
    await chmod(dataDir, 0o755); // as root PostgreSQL runs as its own user and must enter it
    pgPort = await freePort();
    env = {
      ...envFor(dataDir, pgPort),
      LEDGERFLOW_PORT: "0",
      LEDGERFLOW_LOG_LEVEL: "warn",
      LEDGERFLOW_ADMIN_PASSWORD: "admin-password-for-cli-tests",
    };
  });
  after(async () => {
    for (const pid of processesOf(dataDir)) process.kill(pid, "SIGKILL");
    await rm(dataDir, { recursive: true, force: true });
  });

  test("Ctrl-C stops `ledgerflow serve` quietly, with its PostgreSQL", { timeout: 180_000 }, async () => {
    const server = await startServe("bin", env);
    assert.match(server.output(), new RegExp(`Database: embedded PostgreSQL, data in ${dataDir}/pg`));
    process.kill(-(server.child.pid as number), "SIGINT"); // the terminal signals the whole group
    const result = await server.done;
    assert.equal(result.code, 0, server.output());
    assert.doesNotMatch(server.output(), /EPIPE|\n\s+at |"level":(40|50|60)/);
    assert.deepEqual(await noneLeft(dataDir, 10_000), []);
  });

  test("verify and topics sync say which database they checked and exit 0, 1 on a failed check", {
    timeout: 180_000,
  }, async () => {
    const server = await startServe("bin", env);
    try {
      const clean = await ledgerflow(["verify"], env);
      assert.equal(clean.code, 0, clean.stdout + clean.stderr);
      assert.match(
        clean.stdout,
        new RegExp(`database: embedded PostgreSQL, data in ${dataDir}/pg .*running platform`),
      );
      const sync = await ledgerflow(["topics", "sync"], env);
      assert.equal(sync.code, 0, sync.stdout + sync.stderr);
      assert.match(
        sync.stderr + sync.stdout,
        new RegExp(`database: embedded PostgreSQL, data in ${dataDir}/pg`),
      );

      const secrets = JSON.parse(readFileSync(join(dataDir, "secrets.json"), "utf8"));
      const url = embeddedUrl(
        appRole,
        secrets.postgresAppPassword,
        embeddedLayout(dataDir, pgPort).socketDir,
        pgPort,
      );
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      try {
        await client.query(
          "INSERT INTO token_blocks (height, header, header_hash, signature, sealed_at_ms, first_seq, last_seq) VALUES (1, '{}', 'forged', 'forged', 0, 1, 1)",
        );
        const tampered = await ledgerflow(["verify"], env);
        assert.equal(tampered.code, 1, tampered.stdout + tampered.stderr);
        assert.match(tampered.stdout + tampered.stderr, /FAILED|error/);
        await client.query(
          "UPDATE log_topics SET retention_ms = retention_ms + 1 WHERE name = 'ledger.commands'",
        );
        const drift = await ledgerflow(["topics", "sync"], env);
        assert.equal(drift.code, 1, drift.stdout + drift.stderr);
      } finally {
        await client.end();
      }
    } finally {
      process.kill(-(server.child.pid as number), "SIGINT");
      await server.done;
    }
    assert.deepEqual(await noneLeft(dataDir, 10_000), []);
  });

  test("a command refuses a data directory without a database (usage error)", async () => {
    const empty = await mkdtemp(join(tmpdir(), "ledgerflow-cli-empty-"));
    try {
      const result = await ledgerflow(["verify"], { ...envFor(empty, pgPort) });
      assert.equal(result.code, 2, result.stdout + result.stderr);
      assert.match(result.stderr, new RegExp(`no Ledgerflow database in ${empty}`));
    } finally {
      await rm(empty, { recursive: true, force: true });
    }
  });

  test("SIGTERM to npm (`npm start`) stops node and PostgreSQL", { timeout: 180_000 }, async () => {
    const server = await startServe("npm", env);
    process.kill(server.child.pid as number, "SIGTERM"); // npm only, not its group
    await server.done;
    assert.deepEqual(await noneLeft(dataDir, 30_000), [], server.output());
    assert.doesNotMatch(server.output(), /EPIPE|\n\s+at /);
  });

  test("SIGKILL to npm still stops node and PostgreSQL", { timeout: 180_000 }, async () => {
    const server = await startServe("npm", env);
    process.kill(server.child.pid as number, "SIGKILL");
    assert.deepEqual(await noneLeft(dataDir, 30_000), [], server.output());
  });

  test("PostgreSQL does not outlive a killed `ledgerflow serve`", { timeout: 180_000 }, async () => {
    const server = await startServe("bin", env);
    process.kill(server.child.pid as number, "SIGKILL");
    assert.deepEqual(await noneLeft(dataDir, 30_000), [], server.output());
  });
});
