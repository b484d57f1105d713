/**
 * The back office's "Screening lists" page in a real browser: a list loaded twice by the feeder (the
 * platform's own `risk.feed`, as the scheduled feeder runs it) shows its version in force, entry
 * count, what the last load added, removed and kept, when, and from where.
 */
import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import type { RiskApi } from "../../src/risk/index.ts";
import {
  adminCredentials,
  desktop,
  platformAndBrowser,
  signInThroughUi,
  skipReason,
  watchConsole,
} from "./browser.ts";

const reason =
  (await skipReason()) ?? (process.env.LEDGERFLOW_WEB_URL ? "loads lists in-process" : undefined);

describe("screening lists page in the browser", { skip: reason ?? false, timeout: 180_000 }, () => {
  const started = platformAndBrowser();

  it("shows each list's version, entries, last load counts, time and source", async () => {
    const base = started.platform.url;
    const risk = (started.platform.platform as unknown as { risk: RiskApi }).risk;
    const dir = await mkdtemp(join(tmpdir(), "ledgerflow-lists-page-"));
    try {
      const path = join(dir, "fraud-list.txt");
      await writeFile(path, "NL91ABNA0417164300\nJan de Vries\nPiet Jansen\n");
      await risk.feed({ list: "page-fraud", source: { kind: "file", path }, format: "lines" });
      await writeFile(path, "NL91ABNA0417164300\nJan de Vries\nKlaas Bakker\nAnna Visser\n");
      const report = await risk.feed({ list: "page-fraud", source: { kind: "file", path }, format: "lines" });
      assert.deepEqual([report.version, report.added, report.removed, report.unchanged], [2, 2, 1, 2]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }

    const context = await started.browser.newContext(desktop);
    const console = watchConsole(context);
    const page = await context.newPage();
    const admin = adminCredentials();
    await signInThroughUi(page, base, admin.username, admin.password);
    await page.getByRole("link", { name: "Screening lists" }).first().click();
    await page.getByRole("heading", { name: "Screening lists" }).waitFor();
    const row = page.locator('[data-testid="screening-list"][data-list="page-fraud"]');
    await row.waitFor();
    assert.equal(((await row.getByTestId("list-version").textContent()) ?? "").trim(), "2");
    assert.equal(((await row.getByTestId("list-entries").textContent()) ?? "").trim(), "4");
    assert.equal(
      ((await row.getByTestId("list-last-load").textContent()) ?? "").trim(),
      "+2 added · −1 removed · 2 unchanged",
    );
    assert.match((await row.getByTestId("list-source").textContent()) ?? "", /fraud-list\.txt \(lines\)/);
    assert.ok(await row.locator("time").getAttribute("datetime"));
    assert.deepEqual(console.errors, []);
    await context.close();
  });
});
