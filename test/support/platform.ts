/**
 * The real platform for end-to-end tests: embedded PostgreSQL in a temp dir, the PostgreSQL log,
 * the handler and the HTTP API on a free port. Each call is an isolated platform.
 */
import { chmod, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadConfig } from "../../src/app/config.ts";
import { type PlatformOptions, type RunningPlatform, startPlatform } from "../../src/app/platform.ts";
import { simulatedGateways, standardPlugins } from "../../src/app/standard-plugins.ts";
import { freePort, withRetries } from "./ports.ts";

export const testAdmin = { username: "admin", password: "admin-password-for-tests" } as const;
/** The access-token secret of every test platform (tests may sign tokens of their own with it). */
export const testJwtSecret = "test-secret-test-secret-test-secret-0123456789";

export interface TestPlatform {
  readonly url: string;
  readonly platform: RunningPlatform;
  stop(): Promise<void>;
}

export async function startTestPlatform(
  overrides: Record<string, unknown> = {},
  options: Partial<Omit<PlatformOptions, "config" | "role">> = {},
): Promise<TestPlatform> {
  const dataDir = await mkdtemp(join(tmpdir(), "ledgerflow-e2e-"));
  await chmod(dataDir, 0o755);
  const start = async () => {
    const config = loadConfig(
      {},
      {
        dataDir,
        logLevel: "warn",
        http: { port: 0 },
        database: { embeddedPort: await freePort() },
        auth: {
          adminUsername: testAdmin.username,
          adminPassword: testAdmin.password,
          jwtSecret: testJwtSecret,
          // Every test client is 127.0.0.1: a suite registers more users than one client may.
          registrationsPerClientMax: 100_000,
        },
        ...overrides,
      },
    );
    // The standard plugins unless a test chooses its own (e.g. GraphQL with other limits).
    return startPlatform({
      config,
      role: "all",
      plugins: standardPlugins,
      gatewaySimulators: simulatedGateways,
      ...options,
    });
  };
  const platform = await withRetries(3, start);
  if (!platform.url) throw new Error("the test platform serves HTTP");
  return {
    url: platform.url,
    platform,
    async stop() {
      await platform.stop();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

/** A small HTTP client for tests: JSON in, {status, body, headers} out. */
export function apiClient(baseUrl: string) {
  async function call(method: string, path: string, body?: unknown, headers: Record<string, string> = {}) {
    const response = await fetch(`${baseUrl}${path}`, {
      method,
      headers: { ...(body === undefined ? {} : { "content-type": "application/json" }), ...headers },
      ...(body === undefined ? {} : { body: typeof body === "string" ? body : JSON.stringify(body) }),
    });
    const text = await response.text();
    let parsed: unknown = text;
    try {
      parsed = text === "" ? undefined : JSON.parse(text);
    } catch {}
    // biome-ignore lint/suspicious/noExplicitAny: tests read arbitrary JSON bodies
    return { status: response.status, body: parsed as Record<string, any>, headers: response.headers };
  }
  return {
    call,
    async signUp(username: string, password = "correct horse battery staple"): Promise<string> {
      await call("POST", "/v1/auth/register", { username, password });
      return this.signIn(username, password);
    },
    async signIn(username: string, password: string): Promise<string> {
      const login = await call("POST", "/v1/auth/login", { username, password });
      if (login.status !== 200)
        throw new Error(`login failed: ${login.status} ${JSON.stringify(login.body)}`);
      return login.body.accessToken as string;
    },
    as(token: string) {
      const auth = { authorization: `Bearer ${token}` };
      return {
        call: (method: string, path: string, body?: unknown, headers: Record<string, string> = {}) =>
          call(method, path, body, { ...auth, ...headers }),
        get: (path: string) => call("GET", path, undefined, auth),
        post: (path: string, body: unknown, wait = true) =>
          call("POST", path, body, { ...auth, ...(wait ? { prefer: "wait=10" } : {}) }),
      };
    },
  };
}
