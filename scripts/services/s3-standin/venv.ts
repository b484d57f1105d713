/**
 * A stand-in for S3 in tests: moto's server mode (PyPI `moto[server]`, pinned) in a Python virtualenv
 * cached in .services/moto-venv (gitignored, beside the schemathesis venv of scripts/fuzz/run.ts).
 * It answers the S3 API on loopback; it is not AWS, and nothing outside tests uses it.
 *
 * `node scripts/services/s3-standin/venv.ts` installs it when missing or another version (`.ci/run`
 * does, before `npm test`, so the S3 tests run in CI); tests only look for it and skip when absent.
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

export const motoVersion = "5.2.5";
const projectDir = resolve(dirname(fileURLToPath(import.meta.url)), "../../..");
export const motoVenvDir = join(projectDir, ".services", "moto-venv");
export const motoServerBin = join(motoVenvDir, "bin", "moto_server");
const installTimeoutMs = 10 * 60_000;

/** True when the venv holds the pinned moto. */
export function motoInstalled(): boolean {
  if (!existsSync(motoServerBin)) return false;
  const check = `import importlib.metadata as m, sys; sys.exit(m.version("moto") != "${motoVersion}")`;
  return spawnSync(join(motoVenvDir, "bin", "python"), ["-c", check], { timeout: 60_000 }).status === 0;
}

function run(command: string, args: readonly string[]): void {
  const done = spawnSync(command, args, { stdio: "inherit", timeout: installTimeoutMs });
  if (done.status !== 0)
    throw new Error(`${command} ${args.join(" ")} failed (${done.status ?? done.signal})`);
}

/** Installs the pinned moto[server] into the cached venv unless it is there already. */
export function ensureMoto(say: (text: string) => void): void {
  if (motoInstalled()) {
    say(`moto ${motoVersion} (stand-in for S3) already in ${motoVenvDir}`);
    return;
  }
  say(`installing moto[server]==${motoVersion} (stand-in for S3) into ${motoVenvDir}`);
  mkdirSync(dirname(motoVenvDir), { recursive: true });
  run("python3", ["-m", "venv", motoVenvDir]);
  run(join(motoVenvDir, "bin", "pip"), [
    "install",
    "--quiet",
    "--disable-pip-version-check",
    `moto[server]==${motoVersion}`,
  ]);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  ensureMoto((text) => process.stdout.write(`[s3-standin] ${text}\n`));
}
