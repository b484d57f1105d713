/**
 * Shared set-up for the web app's browser tests: Debian's Chromium driven by playwright-core (never
 * a downloaded browser), the real platform from test/support/platform.ts, and a console watcher so
 * every test can assert "no console errors".
 */

import { randomUUID } from "node:crypto";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before } from "node:test";
import { pathToFileURL } from "node:url";
import type { Browser, BrowserContext, ConsoleMessage, Page } from "playwright-core";
import type { Log } from "../../src/platform/log/port.ts";

export const chromiumPath = "/usr/bin/chromium";
export const chromiumArgs = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

export interface Platform {
  readonly url: string;
  /** The platform in this process, when the tests started it (not against LEDGERFLOW_WEB_URL). */
  readonly platform?: { readonly log: Log };
  stop(): Promise<void>;
}

interface PlatformModule {
  startTestPlatform(
    overrides?: Record<string, unknown>,
    options?: { plugins?: readonly unknown[] },
  ): Promise<Platform>;
  readonly testAdmin?: { readonly username: string; readonly password: string };
}

/** The admin the test platform bootstraps, when the platform module names it. */
let platformAdmin: { username: string; password: string } | undefined;

/** Why the browser tests cannot run here, or undefined when they can. */
export async function skipReason(): Promise<string | undefined> {
  if (!existsSync(chromiumPath)) return `${chromiumPath} is absent (apt-get install chromium)`;
  if (process.env.LEDGERFLOW_WEB_URL) return undefined;
  if (!(await platformModule())) return "test/support/platform.ts (startTestPlatform) does not exist yet";
  if (!existsSync(new URL("../../web/dist/index.html", import.meta.url))) {
    return "web/dist is not built (npx vite build --config web/vite.config.ts)";
  }
  return undefined;
}

async function platformModule(): Promise<PlatformModule | undefined> {
  // A variable specifier: the module is provided by the platform and may not exist yet.
  const specifier = "../support/platform.ts";
  if (!existsSync(new URL(specifier, import.meta.url))) return undefined;
  return (await import(specifier)) as PlatformModule;
}

/** The real platform, or (for working on the UI) one already running at LEDGERFLOW_WEB_URL. */
export async function startPlatform(overrides: Record<string, unknown> = {}): Promise<Platform> {
  const running = process.env.LEDGERFLOW_WEB_URL;
  if (running) return { url: running.replace(/\/$/, ""), stop: async () => {} };
  const module = await platformModule();
  if (!module) throw new Error("test/support/platform.ts is missing");
  if (module.testAdmin) platformAdmin = { ...module.testAdmin };
  // The standard plugins (GraphQL subscriptions, payments, dead letters…): what `npm start` serves.
  return module.startTestPlatform(overrides);
}

/**
 * A suite's platform and Chromium: started before its tests, stopped after them. Read the fields
 * inside tests (they are set by the `before` hook).
 */
export function platformAndBrowser(
  /** Configuration overrides for the platform (e.g. screening rules), or a function computing them
   * once the suite's own servers run (e.g. an OpenID provider). */
  overrides: Record<string, unknown> | (() => Promise<Record<string, unknown>>) = {},
): { readonly platform: Platform; readonly browser: Browser } {
  const started = {} as { platform: Platform; browser: Browser };
  before(async () => {
    started.platform = await startPlatform(typeof overrides === "function" ? await overrides() : overrides);
    started.browser = await launchBrowser();
  });
  after(async () => {
    await started.browser?.close();
    await started.platform?.stop();
  });
  return started;
}

export async function launchBrowser(): Promise<Browser> {
  const { chromium } = await import("playwright-core");
  return chromium.launch({ executablePath: chromiumPath, args: chromiumArgs, timeout: 30_000 });
}

export const phone = {
  viewport: { width: 390, height: 844 },
  deviceScaleFactor: 2,
  isMobile: true,
  hasTouch: true,
};
export const desktop = { viewport: { width: 1440, height: 900 }, deviceScaleFactor: 1 };

/**
 * Records console errors and uncaught exceptions of every page in a context. A command the ledger
 * rejects answers 422 on purpose, which Chromium logs as a failed resource; tests that provoke one
 * allow exactly that message.
 */
export function watchConsole(context: BrowserContext): { errors: string[]; allowRejections: () => void } {
  const errors: string[] = [];
  let rejectionsAllowed = false;
  const track = (page: Page): void => {
    page.on("console", (message: ConsoleMessage) => {
      if (message.type() !== "error") return;
      const text = message.text();
      if (rejectionsAllowed && /status of 422/.test(text)) return;
      errors.push(`${page.url()}: ${text}`);
    });
    page.on("pageerror", (error) => errors.push(`${page.url()}: uncaught ${error.message}`));
  };
  for (const page of context.pages()) track(page);
  context.on("page", track);
  return {
    errors,
    allowRejections: () => {
      rejectionsAllowed = true;
    },
  };
}

export function uniqueUsername(prefix: string): string {
  return `${prefix}-${randomUUID().slice(0, 8)}`;
}

export const testPassword = "correct-horse-battery";

async function api<T>(
  baseUrl: string,
  path: string,
  options: { token?: string; body?: unknown; wait?: boolean },
): Promise<T> {
  const headers: Record<string, string> = { "content-type": "application/json" };
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  if (options.wait) headers.prefer = "wait=5";
  const response = await fetch(`${baseUrl}${path}`, {
    method: options.body === undefined ? "GET" : "POST",
    headers,
    body: options.body === undefined ? null : JSON.stringify(options.body),
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`${path} answered ${response.status}: ${text}`);
  return (text ? JSON.parse(text) : undefined) as T;
}

export async function login(baseUrl: string, username: string, password: string): Promise<string> {
  const answer = await api<{ accessToken: string }>(baseUrl, "/v1/auth/login", {
    body: { username, password },
  });
  return answer.accessToken;
}

export function adminCredentials(): { username: string; password: string } {
  const username = process.env.LEDGERFLOW_ADMIN_USERNAME ?? platformAdmin?.username;
  const password = process.env.LEDGERFLOW_ADMIN_PASSWORD ?? platformAdmin?.password;
  if (!username || !password) {
    throw new Error("no admin credentials: set LEDGERFLOW_ADMIN_USERNAME / LEDGERFLOW_ADMIN_PASSWORD");
  }
  return { username, password };
}

/** A cash deposit at a branch, made by the admin through the public API (as a teller would). */
export async function depositAsAdmin(baseUrl: string, iban: string, amountMinor: string): Promise<void> {
  const admin = adminCredentials();
  const token = await login(baseUrl, admin.username, admin.password);
  await api(baseUrl, "/v1/operations", {
    token,
    wait: true,
    body: { id: randomUUID(), type: "deposit", iban, amount: amountMinor, branch: "amsterdam-centraal" },
  });
}

export async function registerThroughUi(page: Page, baseUrl: string, username: string): Promise<void> {
  await page.goto(`${baseUrl}/register`);
  await page.getByLabel("Username").fill(username);
  await page.getByLabel("Password").fill(testPassword);
  await page.getByRole("button", { name: "Create account" }).click();
  // Registration continues with phone verification, which may be done later.
  await page.getByRole("heading", { name: "Verify your phone" }).waitFor();
  await page.getByRole("link", { name: "Not now" }).click();
  await page.getByRole("heading", { name: "Your accounts" }).waitFor();
}

export async function signInThroughUi(
  page: Page,
  baseUrl: string,
  username: string,
  password: string,
): Promise<void> {
  await page.goto(`${baseUrl}/signin`);
  await page.getByLabel("Username").fill(username);
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Sign in", exact: true }).click();
  // Customers land on their accounts, admins on the back-office dashboard.
  await page
    .getByRole("heading", { name: "Your accounts" })
    .or(page.getByRole("heading", { name: "Throughput" }))
    .first()
    .waitFor();
}

/** Opens an account in the UI and returns its IBAN (spaces removed) and the one-time token. */
export async function openAccountThroughUi(
  page: Page,
  baseUrl: string,
  asset = "EUR",
): Promise<{ iban: string; token: string }> {
  await page.goto(`${baseUrl}/accounts/new`);
  await page.getByRole("radio", { name: new RegExp(asset) }).check();
  await page.getByRole("button", { name: "Open account" }).click();
  await page.getByRole("heading", { name: "Your account is open" }).waitFor();
  const iban = ((await page.getByTestId("new-iban").textContent()) ?? "").replace(/\s+/g, "");
  const token = (await page.getByTestId("account-token").textContent()) ?? "";
  return { iban, token };
}

export async function transferThroughUi(
  page: Page,
  baseUrl: string,
  transfer: { from: string; to: string; amount: string; description?: string },
): Promise<{ status: string; reason: string | undefined }> {
  await page.goto(`${baseUrl}/transfer?from=${encodeURIComponent(transfer.from)}`);
  await page.getByLabel("To (IBAN)").fill(transfer.to);
  await page.getByLabel("Amount").fill(transfer.amount);
  if (transfer.description) await page.getByLabel("Description (optional)").fill(transfer.description);
  await page.getByRole("button", { name: /^Send/ }).click();
  const status = page.getByTestId("transfer-status");
  await page.waitForFunction(
    () =>
      /^(confirmed|held|failed|unknown)$/.test(
        document.querySelector("[data-testid=transfer-status]")?.getAttribute("data-status") ?? "",
      ),
    undefined,
    { timeout: 15_000 },
  );
  const final = (await status.getAttribute("data-status")) ?? "";
  const reason =
    final === "failed" ? ((await page.getByTestId("failure-reason").textContent()) ?? undefined) : undefined;
  return { status: final, reason };
}

/**
 * `npm run screenshots` (UPDATE_SCREENSHOTS=1) writes the README's screenshots into docs/screenshots/;
 * a plain test run takes them too (the code path stays tested) but into a temporary folder, so
 * `npm test` leaves the working tree as it found it.
 */
export const screenshotsDir =
  process.env.UPDATE_SCREENSHOTS === "1"
    ? new URL("../../docs/screenshots/", import.meta.url)
    : temporaryDir("ledgerflow-screenshots-");

/** A folder removed when this process exits. */
function temporaryDir(prefix: string): URL {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  process.once("exit", () => rmSync(dir, { recursive: true, force: true }));
  return pathToFileURL(`${dir}/`);
}

/** A screenshot into the screenshots folder, once fonts are in and entrance animations have settled. */
export async function screenshot(
  page: Page,
  name: string,
  options: { fullPage?: boolean } = {},
): Promise<void> {
  await page.evaluate(() => document.fonts.ready);
  await page.waitForTimeout(1200);
  await page.screenshot({
    path: new URL(`${name}.png`, screenshotsDir).pathname,
    fullPage: options.fullPage ?? false,
  });
}

/** Signs up and opens a EUR account through the API, for traffic that only needs to exist. */
export async function customerWithAccount(
  baseUrl: string,
  username: string,
): Promise<{ token: string; iban: string }> {
  await api(baseUrl, "/v1/auth/register", { body: { username, password: testPassword } });
  const token = await login(baseUrl, username, testPassword);
  const account = await api<{ iban: string }>(baseUrl, "/v1/accounts", {
    token,
    wait: true,
    body: { id: randomUUID(), asset: "EUR" },
  });
  return { token, iban: account.iban };
}

/** A deposit through the payments API (simulated gateways), waited for. */
export async function depositThroughApi(
  baseUrl: string,
  token: string,
  payment: { iban: string; amount: string; method?: string },
): Promise<{ id: string; status: string }> {
  return api(baseUrl, "/v1/deposits", {
    token,
    wait: true,
    body: { id: randomUUID(), asset: "EUR", ...payment },
  });
}

let axeSource: string | undefined;

/** A violation axe-core found, in a line a failing assertion can show. */
export interface AxeFinding {
  readonly id: string;
  readonly impact: string;
  readonly help: string;
  readonly targets: readonly string[];
}

/**
 * Runs axe-core (WCAG 2.x A/AA rules and best practices) on the page as it is and returns the
 * serious and critical violations. The library's source is injected through the DevTools protocol
 * (page.evaluate), which the page's Content-Security-Policy does not govern.
 */
export async function accessibilityViolations(page: Page): Promise<AxeFinding[]> {
  if (!axeSource) {
    const { readFile } = await import("node:fs/promises");
    const { createRequire } = await import("node:module");
    axeSource = await readFile(createRequire(import.meta.url).resolve("axe-core/axe.min.js"), "utf8");
  }
  const source = axeSource;
  // Colours halfway through a transition (a button turning from primary to secondary after a click)
  // are not what anyone reads, and axe judges them: check the settled page. Finite animations only
  // (the radar's sweep never ends), bounded.
  await page.evaluate(async (waitMaxMs) => {
    const settling = document
      .getAnimations()
      .filter((animation) => animation.effect?.getComputedTiming().iterations !== Number.POSITIVE_INFINITY)
      .map((animation) => animation.finished.catch(() => undefined));
    await Promise.race([Promise.all(settling), new Promise((resolve) => setTimeout(resolve, waitMaxMs))]);
  }, 2_000);
  if (!(await page.evaluate(() => "axe" in window))) await page.evaluate(source);
  const results = await page.evaluate(async () => {
    const axe = (
      window as unknown as { axe: { run: (context: Document, options: object) => Promise<unknown> } }
    ).axe;
    return (await axe.run(document, { resultTypes: ["violations"] })) as {
      violations: { id: string; impact: string | null; help: string; nodes: { target: unknown[] }[] }[];
    };
  });
  return results.violations
    .filter((violation) => violation.impact === "serious" || violation.impact === "critical")
    .map((violation) => ({
      id: violation.id,
      impact: violation.impact ?? "",
      help: violation.help,
      targets: violation.nodes.slice(0, 5).map((node) => node.target.map(String).join(" ")),
    }));
}

/** Asserts 0 serious or critical axe-core violations; the message lists what was found. */
export async function assertAccessible(page: Page, where: string): Promise<void> {
  const found = await accessibilityViolations(page);
  if (found.length > 0) {
    const lines = found.map((v) => `  ${v.impact} ${v.id}: ${v.help} at ${v.targets.join(", ")}`);
    throw new Error(
      `${where}: ${found.length} serious/critical accessibility violations\n${lines.join("\n")}`,
    );
  }
}

/** Nothing on the page is wider than the viewport (no sideways scrolling), and no table scrolls inside. */
export async function assertNoSidewaysScroll(page: Page, where: string): Promise<void> {
  const overflow = await page.evaluate(() => {
    const root = document.documentElement;
    const scrolled = Array.from(document.querySelectorAll<HTMLElement>(".table-scroll, table")).filter(
      (element) => element.scrollWidth > element.clientWidth + 1,
    );
    return { page: root.scrollWidth - root.clientWidth, tables: scrolled.length };
  });
  if (overflow.page > 0 || overflow.tables > 0)
    throw new Error(
      `${where}: ${overflow.page}px sideways overflow, ${overflow.tables} tables scroll sideways`,
    );
}

/** The page title in the top bar is shown whole (not cut off with an ellipsis or clipped). */
export async function assertTitleWhole(page: Page, where: string): Promise<void> {
  const title = await page.evaluate(() => {
    const element = document.querySelector<HTMLElement>(".topbar-title");
    if (!element || getComputedStyle(element).display === "none") return undefined;
    return {
      text: element.textContent ?? "",
      clipped:
        element.scrollWidth > element.clientWidth + 1 || element.scrollHeight > element.clientHeight + 1,
    };
  });
  if (title?.clipped) throw new Error(`${where}: the page title "${title.text}" is cut off`);
}
