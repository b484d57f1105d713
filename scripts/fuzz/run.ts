/**
 * API fuzzing with schemathesis (`node scripts/fuzz/run.ts`, run by `.ci/run` after `npm test`).
 *
 * 1. A Python virtualenv with schemathesis pinned, cached in .services/schemathesis-venv (gitignored);
 * 2. the platform as `npm start` runs it (embedded, every standard plugin) on free ports with its own
 *    temporary data directory and a known admin password;
 * 3. `st run /openapi.json --checks all` as a customer and then as the admin (Authorization header),
 *    every phase including the stateful one (OpenAPI links), each bounded by `--max-time`;
 * 4. stops the platform, removes the data directory; the exit code is 1 if either run found anything.
 *
 * Options: --max-time SECONDS per run (default 90), --max-examples N (default 40), --seed N,
 * --report-dir DIR (JUnit + NDJSON reports kept there; default: a temp dir, removed).
 */
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { chmod, mkdir, mkdtemp, rm } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";

const projectDir = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const hooksFile = join(dirname(fileURLToPath(import.meta.url)), "hooks.py");
const schemathesisVersion = "4.32.5";
const venvDir = join(projectDir, ".services", "schemathesis-venv");
const stBin = join(venvDir, "bin", "st");
const startTimeoutMs = 120_000;
const installTimeoutMs = 10 * 60_000;
const customer = { username: "fuzz-customer", password: "fuzz customer password 1" } as const;
const admin = { username: "fuzz-admin", password: "fuzz admin password 12345" } as const;

const say = (text: string) => process.stdout.write(`[fuzz] ${text}\n`);

function run(
  command: string,
  args: readonly string[],
  options: { timeoutMs: number; quiet?: boolean; env?: NodeJS.ProcessEnv },
): Promise<number> {
  return new Promise((resolvePromise) => {
    const child = spawn(command, args, {
      cwd: projectDir,
      stdio: options.quiet ? "ignore" : "inherit",
      env: { ...process.env, ...options.env },
    });
    const timer = setTimeout(() => {
      say(`${command} ${args.join(" ")} exceeded ${options.timeoutMs} ms: killing it`);
      child.kill("SIGKILL");
    }, options.timeoutMs);
    child.once("error", () => resolvePromise(127));
    child.once("exit", (code) => {
      clearTimeout(timer);
      resolvePromise(code ?? 1);
    });
  });
}

/** The pinned schemathesis in the cached virtualenv, installed when missing or another version. */
async function ensureSchemathesis(): Promise<void> {
  if (existsSync(stBin)) {
    const check = `import importlib.metadata as m, sys; sys.exit(m.version("schemathesis") != "${schemathesisVersion}")`;
    if ((await run(join(venvDir, "bin", "python"), ["-c", check], { timeoutMs: 60_000, quiet: true })) === 0)
      return;
  }
  say(`installing schemathesis==${schemathesisVersion} into ${venvDir}`);
  await mkdir(dirname(venvDir), { recursive: true });
  if ((await run("python3", ["-m", "venv", venvDir], { timeoutMs: 120_000 })) !== 0)
    throw new Error("python3 -m venv failed (Debian: apt-get install python3-venv)");
  const pip = join(venvDir, "bin", "pip");
  const args = ["install", "--quiet", "--disable-pip-version-check", `schemathesis==${schemathesisVersion}`];
  if ((await run(pip, args, { timeoutMs: installTimeoutMs })) !== 0)
    throw new Error(`pip install schemathesis==${schemathesisVersion} failed`);
}

function freePort(): Promise<number> {
  return new Promise((resolvePromise, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      server.close(() => resolvePromise(port));
    });
  });
}

interface Server {
  readonly url: string;
  readonly child: ChildProcess;
}

/** `serve --role all` (what `npm start` runs) on free ports, its own data dir, a known admin. */
async function startServer(dataDir: string): Promise<Server> {
  const port = await freePort();
  const env = {
    ...process.env,
    LEDGERFLOW_MODE: "embedded",
    LEDGERFLOW_HOST: "127.0.0.1",
    LEDGERFLOW_DATA_DIR: dataDir,
    LEDGERFLOW_EMBEDDED_PG_PORT: String(await freePort()),
    LEDGERFLOW_ADMIN_USERNAME: admin.username,
    LEDGERFLOW_ADMIN_PASSWORD: admin.password,
    LEDGERFLOW_LOG_LEVEL: "warn",
  };
  const child = spawn(process.execPath, ["src/main.ts", "serve", "--role", "all", "--port", String(port)], {
    cwd: projectDir,
    env,
    stdio: ["ignore", "inherit", "inherit"],
  });
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + startTimeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`the platform exited with ${child.exitCode} while starting`);
    const ready = await fetch(`${url}/readyz`).then(
      (response) => response.ok,
      () => false,
    );
    if (ready) return { url, child };
    await new Promise((r) => setTimeout(r, 250));
  }
  child.kill("SIGKILL");
  throw new Error(`the platform was not ready within ${startTimeoutMs} ms`);
}

async function stopServer(server: Server): Promise<void> {
  if (server.child.exitCode !== null) return;
  const exited = new Promise((r) => server.child.once("exit", r));
  server.child.kill("SIGTERM");
  const timer = setTimeout(() => server.child.kill("SIGKILL"), 30_000);
  await exited;
  clearTimeout(timer);
}

async function postJson(
  url: string,
  body: unknown,
): Promise<{ status: number; json: Record<string, unknown> }> {
  const response = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  return { status: response.status, json: (await response.json()) as Record<string, unknown> };
}

async function accessToken(url: string, user: { username: string; password: string }): Promise<string> {
  const login = await postJson(`${url}/v1/auth/login`, user);
  if (login.status !== 200 || typeof login.json.accessToken !== "string")
    throw new Error(`login as ${user.username} answered ${login.status}`);
  return login.json.accessToken;
}

interface FuzzOptions {
  readonly maxTimeS: number;
  readonly maxExamples: number;
  readonly seed: string | undefined;
  readonly reportDir: string;
}

/** One schemathesis run with `token`; its exit code (0: every check passed). */
async function fuzzAs(label: string, url: string, token: string, options: FuzzOptions): Promise<number> {
  const args = [
    "--config-file",
    join(dirname(hooksFile), "schemathesis.toml"),
    "run",
    `${url}/openapi.json`,
    "--checks",
    "all",
    "--phases",
    "examples,coverage,fuzzing,stateful",
    "--header",
    `Authorization: Bearer ${token}`,
    "--max-examples",
    String(options.maxExamples),
    "--max-time",
    String(options.maxTimeS),
    // One worker: CPython 3.11 before 3.11.8 can crash parsing source in parallel threads
    // ("AST constructor recursion depth mismatch"), which hypothesis does to describe strategies.
    "--workers",
    "1",
    "--request-timeout",
    "30",
    "--report",
    "junit,ndjson",
    "--report-junit-path",
    join(options.reportDir, `${label}.junit.xml`),
    "--report-ndjson-path",
    join(options.reportDir, `${label}.ndjson`),
    "--output-sanitize",
    "true",
    // These end the session the fuzzer's token belongs to: every later request would be a 401.
    // Their contracts are checked by src/identity/sessions/sessions.e2e.test.ts instead.
    "--exclude-name",
    "POST /v1/auth/logout",
    "--exclude-name",
    "DELETE /v1/me/sessions/{id}",
    ...(options.seed === undefined ? [] : ["--seed", options.seed]),
  ];
  say(`schemathesis as ${label}: st ${args.filter((a) => !a.startsWith("Authorization")).join(" ")}`);
  const startedMs = Date.now();
  // The run stops by itself at --max-time; the timeout only guards against a hang.
  const code = await run(stBin, args, {
    timeoutMs: (options.maxTimeS + 120) * 1000,
    env: { SCHEMATHESIS_HOOKS: hooksFile },
  });
  say(`schemathesis as ${label}: exit ${code} after ${Math.round((Date.now() - startedMs) / 1000)} s`);
  return code;
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      "max-time": { type: "string", default: "90" },
      "max-examples": { type: "string", default: "40" },
      seed: { type: "string" },
      "report-dir": { type: "string" },
    },
  });
  await ensureSchemathesis();
  const dataDir = await mkdtemp(join(tmpdir(), "ledgerflow-fuzz-"));
  // As the tests do: embedded PostgreSQL (run as another user when we are root) must reach it.
  await chmod(dataDir, 0o755);
  const reportDir = values["report-dir"] ?? join(dataDir, "reports");
  await mkdir(reportDir, { recursive: true });
  const options: FuzzOptions = {
    maxTimeS: Number(values["max-time"]),
    maxExamples: Number(values["max-examples"]),
    seed: values.seed,
    reportDir,
  };
  const server = await startServer(join(dataDir, "data"));
  const stop = () => void stopServer(server);
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
  try {
    say(`platform ready at ${server.url}`);
    const registered = await postJson(`${server.url}/v1/auth/register`, customer);
    if (registered.status !== 201) throw new Error(`registering the customer answered ${registered.status}`);
    // Both tokens first: the first run's wrong logins may rate-limit this client's next login.
    const customerToken = await accessToken(server.url, customer);
    const adminToken = await accessToken(server.url, admin);
    const asCustomer = await fuzzAs("customer", server.url, customerToken, options);
    const asAdmin = await fuzzAs("admin", server.url, adminToken, options);
    if (server.child.exitCode !== null) throw new Error("the platform died during fuzzing");
    return asCustomer === 0 && asAdmin === 0 ? 0 : 1;
  } finally {
    await stopServer(server);
    await rm(join(dataDir, "data"), { recursive: true, force: true });
    if (values["report-dir"] === undefined) await rm(dataDir, { recursive: true, force: true });
  }
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    say(error instanceof Error ? error.message : String(error));
    process.exit(1);
  },
);
