/**
 * Feature checks for capabilities that ship separately (payments, dead letters, gateways): a
 * screen is shown only when the server offers its endpoint. The server's OpenAPI document is
 * asked first (one request, no failed calls in the console); without it, the endpoint itself is
 * probed and a 404 means "not here yet". Nothing is faked while a capability is missing.
 */
import { ApiError, request } from "./api.ts";

export interface Features {
  /** False until the server has been asked; screens wait rather than say "not here". */
  readonly checked: boolean;
  readonly payments: boolean;
  /** Signed receipts with proofs (GET /v1/tokens/{id}/proof). */
  readonly tokens: boolean;
  readonly deadLetters: boolean;
  readonly gateways: boolean;
  readonly screeningLists: boolean;
}

export const noFeatures: Features = {
  checked: false,
  payments: false,
  tokens: false,
  deadLetters: false,
  gateways: false,
  screeningLists: false,
};

const endpoints = {
  payments: "/v1/deposits",
  tokens: "/v1/tokens/{id}/proof",
  deadLetters: "/v1/admin/dlq",
  gateways: "/v1/admin/gateways",
  screeningLists: "/v1/risk/lists",
} as const;

async function probe(path: string): Promise<boolean> {
  try {
    await request(path);
    return true;
  } catch (error) {
    return error instanceof ApiError && error.status !== 404 && error.status !== 0;
  }
}

async function documentedPaths(): Promise<Set<string> | undefined> {
  try {
    const response = await fetch("/openapi.json", { headers: { accept: "application/json" } });
    if (!response.ok) return undefined;
    const spec = (await response.json()) as { paths?: Record<string, unknown> };
    return spec.paths ? new Set(Object.keys(spec.paths)) : undefined;
  } catch {
    return undefined;
  }
}

export async function detectFeatures(admin: boolean): Promise<Features> {
  const paths = await documentedPaths();
  const has = async (path: string, adminOnly: boolean): Promise<boolean> => {
    if (adminOnly && !admin) return false;
    if (paths) return paths.has(path);
    return probe(path);
  };
  const [payments, tokens, deadLetters, gateways, screeningLists] = await Promise.all([
    has(endpoints.payments, false),
    has(endpoints.tokens, false),
    has(endpoints.deadLetters, true),
    has(endpoints.gateways, true),
    has(endpoints.screeningLists, true),
  ]);
  return { checked: true, payments, tokens, deadLetters, gateways, screeningLists };
}
