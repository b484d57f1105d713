/** Payment gateways as the back-office API shows them (GET /v1/admin/gateways), and their state in words. */
import { get } from "./api.ts";

export interface GatewayHealth {
  readonly successRate?: number;
  readonly latencyEwmaMs?: number;
  readonly forecastLatencyMs?: number;
  readonly forecastErrorRate?: number;
  readonly demoted?: boolean;
  readonly demotedBecause?: string;
  readonly inFlight?: number;
  readonly calls?: number;
}

export interface Gateway {
  readonly name: string;
  readonly url: string;
  readonly regions: readonly string[];
  readonly currencies: readonly string[];
  readonly methods: readonly string[];
  readonly amountMin: string;
  readonly amountMax: string | null;
  readonly weight: number;
  readonly costBps: number;
  readonly enabled: boolean;
  readonly timeoutMs: number;
  readonly rateLimit: { readonly perSecond: number; readonly burst: number } | null;
  readonly version: number;
  /** closed, open or half_open; absent until the orchestrator has seen the gateway. */
  readonly breaker?: string;
  readonly health?: GatewayHealth;
}

export async function fetchGateways(signal?: AbortSignal): Promise<Gateway[]> {
  return (await get<{ gateways: Gateway[] }>("/v1/admin/gateways", signal)).gateways;
}

export type GatewayTone = "good" | "warn" | "bad" | "off";

/** One word for where a gateway stands, most serious first. */
export function gatewayState(gateway: Gateway): { label: string; tone: GatewayTone; available: boolean } {
  if (!gateway.enabled) return { label: "Disabled", tone: "off", available: false };
  if (gateway.breaker === "open") return { label: "Breaker open", tone: "bad", available: false };
  if (gateway.breaker === "half_open") return { label: "Probing", tone: "warn", available: true };
  if (gateway.health?.demoted) return { label: "Demoted", tone: "warn", available: true };
  return { label: "Healthy", tone: "good", available: true };
}

export function percent(rate: number | undefined): string {
  return rate === undefined ? "—" : `${(rate * 100).toFixed(rate >= 0.999 || rate === 0 ? 0 : 1)} %`;
}

export function milliseconds(value: number | undefined): string {
  return value === undefined ? "—" : `${value < 10 ? value.toFixed(1) : value.toFixed(0)} ms`;
}
