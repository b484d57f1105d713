/** `ledgerflow community simulate`'s options: parsed, bounded, explained. */
import { parseArgs } from "node:util";
import { ConfigError } from "../../platform/config.ts";
import { isLoopbackUrl } from "../../tools/load/http.ts";
import { type BoundingBox, parseBoundingBox } from "./walk.ts";

export interface SimulationSettings {
  readonly url: string;
  readonly officers: number;
  readonly citizens: number;
  readonly durationS: number;
  readonly seed: number;
  readonly box: BoundingBox;
  /** Between two location reports of one simulated app. */
  readonly intervalMs: number;
  /** Share of requests an officer accepts (the others are declined). */
  readonly acceptShare: number;
  /** Chance that an idle citizen with an officer near asks for a connection, per location report. */
  readonly requestShare: number;
  /** Chance per report that an idle citizen with no officer near asks one for a virtual connection. */
  readonly virtualShare: number;
  readonly prefix: string;
  readonly adminUsername: string;
  readonly adminPassword: string;
  readonly json: boolean;
}

/** Amsterdam's centre, about 1.7 by 1.7 km: dense enough that people meet. */
export const defaultBox = "52.365,4.88,52.38,4.905";

function bounded(text: string | undefined, name: string, fallback: number, min: number, max: number) {
  if (text === undefined) return fallback;
  const value = Number(text);
  if (!Number.isFinite(value) || value < min || value > max)
    throw new ConfigError(`--${name} must be a number from ${min} to ${max}, got ${text}`);
  return value;
}

const options = {
  officers: { type: "string" },
  citizens: { type: "string" },
  duration: { type: "string" },
  url: { type: "string" },
  "allow-remote": { type: "boolean", default: false },
  seed: { type: "string" },
  bbox: { type: "string" },
  interval: { type: "string" },
  "accept-share": { type: "string" },
  "request-share": { type: "string" },
  "virtual-share": { type: "string" },
  prefix: { type: "string" },
  "admin-user": { type: "string" },
  "admin-password": { type: "string" },
  json: { type: "boolean", default: false },
  help: { type: "boolean", default: false },
} as const;

export function parseSimulationArgs(
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
  seedFallback: () => number,
): SimulationSettings | "help" {
  const { values } = parseArgs({ args: [...argv], options, allowPositionals: false });
  if (values.help) return "help";
  const url = (values.url ?? "http://localhost:8080").replace(/\/+$/, "");
  if (!isLoopbackUrl(url) && !values["allow-remote"])
    throw new ConfigError(`--url ${url} is not a loopback address; pass --allow-remote to load it anyway`);
  const adminPassword = values["admin-password"] ?? env.LEDGERFLOW_ADMIN_PASSWORD;
  if (!adminPassword)
    throw new ConfigError(
      "roles are granted by an admin: pass --admin-password or set LEDGERFLOW_ADMIN_PASSWORD",
    );
  const box = parseBoundingBox(values.bbox ?? defaultBox);
  if (typeof box === "string") throw new ConfigError(`--bbox: ${box}`);
  const prefix = values.prefix ?? "sim";
  if (!/^[a-z0-9]{1,20}$/.test(prefix))
    throw new ConfigError("--prefix: 1 to 20 lowercase letters or digits");
  return {
    url,
    officers: Math.floor(bounded(values.officers, "officers", 20, 1, 2_000)),
    citizens: Math.floor(bounded(values.citizens, "citizens", 100, 1, 8_000)),
    durationS: bounded(values.duration, "duration", 60, 1, 3_600),
    seed: Math.floor(bounded(values.seed, "seed", seedFallback(), 0, 2 ** 32 - 1)),
    box,
    intervalMs: Math.round(bounded(values.interval, "interval", 2, 0.1, 60) * 1_000),
    acceptShare: bounded(values["accept-share"], "accept-share", 0.85, 0, 1),
    requestShare: bounded(values["request-share"], "request-share", 0.3, 0, 1),
    virtualShare: bounded(values["virtual-share"], "virtual-share", 0.02, 0, 1),
    prefix,
    adminUsername: values["admin-user"] ?? env.LEDGERFLOW_ADMIN_USERNAME ?? "admin",
    adminPassword,
    json: values.json,
  };
}
