// The Node version guard. Plain JavaScript on purpose: it must parse and run on old Node, before any
// TypeScript file is loaded (old Node dies on `.ts` with ERR_UNKNOWN_FILE_EXTENSION, or on syntax).
// Run directly (`node bin/node-version.js`, the preinstall script) it exits 1 with the message.
import { realpathSync } from "fs";
import { fileURLToPath } from "url";

export var nodeVersionRequired = [22, 22];

/** Undefined when `version` (e.g. "v24.1.0") can run Ledgerflow; else what to tell the user. */
export function nodeVersionProblem(version) {
  var parts = String(version).replace(/^v/, "").split(".");
  var major = Number(parts[0]);
  var minor = Number(parts[1]);
  var required = nodeVersionRequired;
  if (major > required[0] || (major === required[0] && minor >= required[1])) return undefined;
  return (
    "Ledgerflow needs Node >= " +
    required.join(".") +
    "; you have " +
    String(version).replace(/^v/, "") +
    ".\nInstall Node 24 LTS: https://nodejs.org/en/download (or `nvm install 24`, `fnm install 24`," +
    " `volta install node@24`), then run the command again.\n"
  );
}

/** Exits with status 1 and the message when this Node is too old. */
export function refuseOldNode() {
  var problem = nodeVersionProblem(process.version);
  if (problem === undefined) return;
  process.stderr.write(problem);
  process.exit(1);
}

var invokedDirectly = false;
try {
  invokedDirectly =
    process.argv[1] !== undefined && realpathSync(process.argv[1]) === fileURLToPath(import.meta.url);
  // biome-ignore lint/correctness/noUnusedVariables: `catch {}` does not parse on Node older than 10
} catch (error) {}
if (invokedDirectly) refuseOldNode();
