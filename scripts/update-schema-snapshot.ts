/** Records the current topic schemas as the compatibility baseline. Run after a compatible change. */
import { snapshotPath, writeSnapshot } from "../src/app/schema-snapshot.ts";

await writeSnapshot();
process.stdout.write(`wrote ${snapshotPath}\n`);
