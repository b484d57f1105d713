/**
 * Summarises a V8 .cpuprofile (from `node --cpu-prof`, e.g. `npm run bench -- --profile`):
 * self time by function and by source file, the top entries first.
 *   node bench/profile-summary.ts bench-results/profile/<file>.cpuprofile [top]
 */
import { readFileSync } from "node:fs";

interface ProfileNode {
  readonly id: number;
  readonly callFrame: { functionName: string; url: string; lineNumber: number };
  readonly children?: readonly number[];
}
interface CpuProfile {
  readonly nodes: readonly ProfileNode[];
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
}

export function summarizeProfile(profile: CpuProfile, top: number) {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const selfUs = new Map<number, number>();
  for (const [i, id] of profile.samples.entries()) {
    selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
  }
  const totalUs = [...selfUs.values()].reduce((a, b) => a + b, 0);
  const byFunction = new Map<string, number>();
  const byFile = new Map<string, number>();
  for (const [id, us] of selfUs) {
    const frame = (byId.get(id) as ProfileNode).callFrame;
    const file = frame.url.replace(/^file:\/\/.*?\/(node_modules|src|bench|test)\//, "$1/") || "(native)";
    const name = `${frame.functionName || "(anonymous)"} ${file}:${frame.lineNumber + 1}`;
    byFunction.set(name, (byFunction.get(name) ?? 0) + us);
    const module = file.startsWith("node_modules/")
      ? file
          .split("/")
          .slice(0, file.split("/")[1]?.startsWith("@") ? 3 : 2)
          .join("/")
      : file;
    byFile.set(module, (byFile.get(module) ?? 0) + us);
  }
  const ranked = (map: Map<string, number>) =>
    [...map]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([what, us]) => ({ what, ms: Math.round(us / 1000), share: Number((us / totalUs).toFixed(3)) }));
  return { totalMs: Math.round(totalUs / 1000), functions: ranked(byFunction), files: ranked(byFile) };
}

if (import.meta.main) {
  const [file, top = "25"] = process.argv.slice(2);
  if (!file) {
    process.stderr.write("usage: node bench/profile-summary.ts <file.cpuprofile> [top]\n");
    process.exit(2);
  }
  const summary = summarizeProfile(JSON.parse(readFileSync(file, "utf8")) as CpuProfile, Number(top));
  process.stdout.write(`total sampled ${summary.totalMs} ms\n\nself time by function:\n`);
  for (const f of summary.functions)
    process.stdout.write(
      `${(f.share * 100).toFixed(1).padStart(5)}% ${String(f.ms).padStart(6)} ms  ${f.what}\n`,
    );
  process.stdout.write("\nself time by file/package:\n");
  for (const f of summary.files)
    process.stdout.write(
      `${(f.share * 100).toFixed(1).padStart(5)}% ${String(f.ms).padStart(6)} ms  ${f.what}\n`,
    );
}
