#!/usr/bin/env node
// The `ledgerflow` command (package.json "bin"; `npx ledgerflow`, `npm link`). Plain JavaScript, so
// that an old Node gets a clear message instead of a parse error or ERR_UNKNOWN_FILE_EXTENSION:
// the version is checked before the TypeScript entry (src/main.ts) is loaded.
import { refuseOldNode } from "./node-version.js";

refuseOldNode();
import("../src/main.ts").then(
  (entry) => {
    entry.runCommandLine(process.argv.slice(2));
  },
  (error) => {
    // biome-ignore lint/complexity/useOptionalChain: this file must parse on Node older than 14
    const reason = error && error.message ? error.message : error;
    process.stderr.write("ledgerflow could not load: " + reason + "\n");
    process.exit(1);
  },
);
