/**
 * The Node version guard (bin/node-version.js) refuses Node older than 22.22 with a message that
 * says what is needed, what there is and how to install it. The machine has no old Node, so the
 * check is tested as a function, and the guard script on this Node as a child process.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { join } from "node:path";
import { test } from "node:test";
// @ts-expect-error plain JavaScript without types (it must parse on old Node)
import { nodeVersionProblem } from "../../bin/node-version.js";

const root = join(import.meta.dirname, "..", "..");

test("Node older than 22.22 is refused with what is needed, what there is and how to install", () => {
  for (const old of ["v20.11.1", "v22.21.9", "v18.20.4", "v22.6.0", "v16.0.0"]) {
    const problem = nodeVersionProblem(old) as string;
    assert.match(problem, /^Ledgerflow needs Node >= 22\.22; you have /, old);
    assert.ok(problem.includes(`you have ${old.slice(1)}`), problem);
    assert.match(problem, /install/i);
  }
  for (const fine of ["v22.22.0", "v22.30.1", "v24.21.0", "v25.0.0", "v30.1.2"])
    assert.equal(nodeVersionProblem(fine), undefined, fine);
});

test("the guard runs before TypeScript: bin/ledgerflow.js imports only the guard statically", () => {
  // `node --check` parses without running; a TypeScript-only syntax or a static .ts import would
  // make an old Node fail before the guard could speak.
  execFileSync(process.execPath, ["--check", join(root, "bin", "ledgerflow.js")]);
  execFileSync(process.execPath, ["--check", join(root, "bin", "node-version.js")]);
  // On this (new enough) Node the preinstall check passes silently.
  assert.equal(
    execFileSync(process.execPath, [join(root, "bin", "node-version.js")], { encoding: "utf8" }),
    "",
  );
});
