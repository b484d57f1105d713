/**
 * The README's API tour runs as written: its shell blocks (under "## A tour of the API") are executed
 * in order by one bash against a fresh platform (B = its URL), and every `# →` line must match what
 * the commands before it print (`…` matches anything). Edit the tour and this test checks the edit.
 */
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { readFile } from "node:fs/promises";
import { after, before, describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { startTestPlatform, type TestPlatform } from "./support/platform.ts";

const repoRoot = fileURLToPath(new URL("..", import.meta.url));
const tourHeading = "## A tour of the API";
const runTimeoutMs = 120_000;

interface Block {
  readonly script: string;
  /** The `# →` lines, in order. */
  readonly expected: readonly string[];
}

/** The ```sh blocks of the tour section (up to the next level-2 heading). */
export function tourBlocks(readme: string): Block[] {
  const start = readme.indexOf(`${tourHeading}\n`);
  assert.ok(start >= 0, `README has "${tourHeading}"`);
  const rest = readme.slice(start + tourHeading.length);
  const end = rest.search(/\n## /);
  const section = end < 0 ? rest : rest.slice(0, end);
  return [...section.matchAll(/```sh\n([\s\S]*?)```/g)].map((match) => {
    const script = match[1] ?? "";
    const expected = script
      .split("\n")
      .filter((line) => line.startsWith("# → "))
      .map((line) => line.slice("# → ".length));
    return { script, expected };
  });
}

/** An expectation as a whole-line pattern: literal text, `…` for anything. */
export function expectationPattern(expected: string): RegExp {
  const literal = expected
    .split("…")
    .map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"))
    .join(".*?");
  return new RegExp(`^${literal}$`);
}

/** Each expectation matches a line of `output`, in order (other lines may come between). */
function assertPrinted(output: string, expected: readonly string[], where: string): void {
  const lines = output.split("\n").map((line) => line.trimEnd());
  let at = 0;
  for (const line of expected) {
    const pattern = expectationPattern(line);
    while (at < lines.length && !pattern.test(lines[at] ?? "")) at++;
    assert.ok(at < lines.length, `${where}: expected a line like\n  ${line}\nin the output:\n${output}`);
    at++;
  }
}

function runBash(
  script: string,
  env: NodeJS.ProcessEnv,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn("bash", ["-c", script], { cwd: repoRoot, env, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => {
      stdout += chunk.toString();
    });
    child.stderr.on("data", (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    const timer = setTimeout(() => child.kill("SIGKILL"), runTimeoutMs);
    child.once("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

test("the tour's expectations read as whole-line patterns with … for anything", () => {
  const pattern = expectationPattern('{"id":"…","status":"CONFIRMED"}');
  assert.match('{"id":"4f0c-x","status":"CONFIRMED"}', pattern);
  assert.doesNotMatch('{"id":"4f0c","status":"FAILED"}', pattern);
  assert.doesNotMatch('x{"id":"1","status":"CONFIRMED"}', pattern);
  const blocks = tourBlocks(
    "# x\n## A tour of the API\n```sh\necho 1\n# → 1\n```\n## Next\n```sh\nno\n```\n",
  );
  assert.deepEqual(blocks, [{ script: "echo 1\n# → 1\n", expected: ["1"] }]);
});

const missing = ["bash", "curl", "jq"].filter(
  (tool) => spawnSync("sh", ["-c", `command -v ${tool}`]).status !== 0,
);

describe("the README tour", { skip: missing.length > 0 ? `needs ${missing.join(", ")}` : false }, () => {
  let tp: TestPlatform;
  before(async () => {
    tp = await startTestPlatform();
  });
  after(async () => {
    await tp?.stop();
  });

  test("runs as written against a started platform, printing what it says", async () => {
    const blocks = tourBlocks(await readFile(new URL("../README.md", import.meta.url), "utf8"));
    assert.ok(blocks.length >= 5, "the tour has its blocks");
    assert.ok(blocks.flatMap((b) => b.expected).length >= 10, "the tour says what to expect");
    // One shell, as a reader pastes the blocks in order; a marker before each block splits the output.
    const marker = (i: number) => `@@readme-tour-block-${i}@@`;
    const script = [
      "set -euo pipefail",
      ...blocks.map((block, i) => `echo '${marker(i)}'\n${block.script}`),
      `echo '${marker(blocks.length)}'`,
    ].join("\n");
    const { code, stdout, stderr } = await runBash(script, { ...process.env, B: tp.url, NO_COLOR: "1" });
    assert.equal(code, 0, `the tour failed (exit ${code}):\n${stdout}\n${stderr}`);
    blocks.forEach((block, i) => {
      const from = stdout.indexOf(marker(i));
      const to = stdout.indexOf(marker(i + 1));
      assert.ok(from >= 0 && to > from, `block ${i + 1} ran to its end`);
      const output = stdout.slice(from + marker(i).length, to);
      assertPrinted(output, block.expected, `block ${i + 1}:\n${block.script}`);
    });
  });
});
