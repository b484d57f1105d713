/**
 * The orchestrator's per-gateway runtime (orchestrator.ts): a cockatiel circuit breaker that opens
 * on consecutive failures or on a failure rate, health statistics, and our own burst-limit token
 * bucket; with the guarded gateway call and the active health check.
 */
import {
  BrokenCircuitError,
  type CircuitBreakerPolicy,
  CircuitState,
  ConsecutiveBreaker,
  circuitBreaker,
  handleWhen,
  type IBreaker,
  SamplingBreaker,
  TaskCancelledError,
  TimeoutStrategy,
  timeout,
} from "cockatiel";
import type { Clock } from "../platform/clock.ts";
import { type CallResult, createGatewayPayment, type GatewayPaymentRequest } from "./gateway-client.ts";
import { GatewayHealth, type HealthOptions } from "./health.ts";
import type { GatewayConfig } from "./routing.ts";

export interface GatewayRuntime {
  config: GatewayConfig;
  readonly health: GatewayHealth;
  readonly breaker: CircuitBreakerPolicy;
  openedAtMs: number | undefined;
  tokens: number;
  refilledAtMs: number;
}

export interface BreakerOptions {
  readonly breakerConsecutiveFailures: number;
  readonly breakerFailureRate: number;
  readonly breakerSamplingMs: number;
  readonly halfOpenAfterMs: number;
  readonly health: HealthOptions;
}

/** Breaker transitions, reported for metrics and alerts. */
export type BreakerChanged = (
  gateway: string,
  state: "closed" | "open" | "half_open",
  reason: string,
) => void;

/** Opens on whichever trips first: consecutive failures or the failure rate of a sampling window. */
class EitherBreaker implements IBreaker {
  readonly #a: IBreaker;
  readonly #b: IBreaker;
  constructor(a: IBreaker, b: IBreaker) {
    this.#a = a;
    this.#b = b;
  }
  get state(): unknown {
    return [this.#a.state, this.#b.state];
  }
  set state(value: unknown) {
    const [a, b] = value as [unknown, unknown];
    this.#a.state = a;
    this.#b.state = b;
  }
  success(state: CircuitState): void {
    this.#a.success(state);
    this.#b.success(state);
  }
  failure(state: CircuitState): boolean {
    const a = this.#a.failure(state);
    const b = this.#b.failure(state);
    return a || b;
  }
}

/** A gateway fault as seen by the breaker; carries the classified result out of cockatiel. */
class GatewayFault extends Error {
  readonly result: CallResult;
  constructor(result: CallResult) {
    super(result.kind === "answered" ? "answered" : result.detail);
    this.result = result;
  }
}

export function createGatewayRuntime(
  config: GatewayConfig,
  options: BreakerOptions,
  clock: Clock,
  breakerChanged: BreakerChanged | undefined,
): GatewayRuntime {
  const breaker = circuitBreaker(
    handleWhen((error) => error instanceof GatewayFault || error instanceof TaskCancelledError),
    {
      halfOpenAfter: options.halfOpenAfterMs,
      breaker: new EitherBreaker(
        new ConsecutiveBreaker(options.breakerConsecutiveFailures),
        new SamplingBreaker({
          threshold: options.breakerFailureRate,
          duration: options.breakerSamplingMs,
          minimumRps: 5,
        }),
      ),
    },
  );
  const runtime: GatewayRuntime = {
    config,
    health: new GatewayHealth(options.health),
    breaker,
    openedAtMs: undefined,
    tokens: config.rateLimit?.burst ?? 0,
    refilledAtMs: clock.nowMs(),
  };
  breaker.onBreak((reason) => {
    runtime.openedAtMs = clock.nowMs();
    const why =
      "isolated" in reason
        ? "isolated"
        : "error" in reason
          ? String((reason.error as Error)?.message ?? reason.error)
          : "failures";
    breakerChanged?.(config.name, "open", why);
  });
  breaker.onHalfOpen(() => breakerChanged?.(config.name, "half_open", "probing"));
  breaker.onReset(() => {
    runtime.openedAtMs = undefined;
    // A clean slate: the failures that opened the breaker must not keep a recovered gateway starved.
    runtime.health.reset();
    breakerChanged?.(config.name, "closed", "probe succeeded");
  });
  return runtime;
}

/** Open and not yet due for a probe, or half-open with its probe in flight. */
export function breakerBlocks(runtime: GatewayRuntime, nowMs: number, halfOpenAfterMs: number): boolean {
  const state = runtime.breaker.state;
  if (state === CircuitState.HalfOpen || state === CircuitState.Isolated) return true;
  if (state !== CircuitState.Open) return false;
  return nowMs - (runtime.openedAtMs ?? 0) < halfOpenAfterMs;
}

export function breakerName(runtime: GatewayRuntime): "open" | "half_open" | "closed" {
  const state = runtime.breaker.state;
  return state === CircuitState.Open ? "open" : state === CircuitState.HalfOpen ? "half_open" : "closed";
}

/** Takes a burst token; when none is left, how long until one is. */
export function takeToken(
  runtime: GatewayRuntime,
  now: number,
): { ok: true } | { ok: false; waitMs: number } {
  const limit = runtime.config.rateLimit;
  if (limit === null) return { ok: true };
  runtime.tokens = Math.min(
    limit.burst,
    runtime.tokens + ((now - runtime.refilledAtMs) * limit.perSecond) / 1000,
  );
  runtime.refilledAtMs = now;
  if (runtime.tokens >= 1) {
    runtime.tokens -= 1;
    return { ok: true };
  }
  return { ok: false, waitMs: Math.ceil(((1 - runtime.tokens) * 1000) / limit.perSecond) };
}

/** One payment call through the breaker and a per-call timeout; faults come back classified. */
export async function callGateway(
  runtime: GatewayRuntime,
  request: GatewayPaymentRequest,
  key: string,
): Promise<CallResult> {
  const perCall = timeout(runtime.config.timeoutMs, TimeoutStrategy.Aggressive);
  try {
    return await runtime.breaker.execute(() =>
      perCall.execute(async ({ signal }) => {
        const result = await createGatewayPayment(runtime.config.url, request, key, signal);
        const fault = result.kind === "ambiguous" || (result.kind === "refused" && result.fault);
        if (fault) throw new GatewayFault(result);
        return result;
      }),
    );
  } catch (error) {
    if (error instanceof GatewayFault) return error.result;
    if (error instanceof TaskCancelledError) return { kind: "ambiguous", detail: "timed out" };
    if (error instanceof BrokenCircuitError)
      return { kind: "refused", outcome: "unavailable", detail: "circuit breaker open", fault: false };
    return { kind: "ambiguous", detail: error instanceof Error ? error.message : String(error) };
  }
}

async function healthCall(runtime: GatewayRuntime, healthCheckTimeoutMs: number): Promise<CallResult> {
  try {
    const response = await fetch(`${runtime.config.url}/health`, {
      signal: AbortSignal.timeout(Math.min(healthCheckTimeoutMs, runtime.config.timeoutMs)),
    });
    await response.body?.cancel();
    if (response.ok) return { kind: "answered", outcome: "succeeded", gatewayPaymentId: "" };
    return {
      kind: "refused",
      outcome: "unavailable",
      detail: `health check: HTTP ${response.status}`,
      fault: true,
    };
  } catch {
    return { kind: "refused", outcome: "unavailable", detail: "health check: no answer", fault: true };
  }
}

/**
 * One active health check: a failure counts against the breaker; when the breaker is due for a
 * probe, the check is that probe (success closes it, failure opens it again).
 */
export async function checkGatewayHealth(
  runtime: GatewayRuntime,
  nowMs: number,
  options: { readonly halfOpenAfterMs: number; readonly healthCheckTimeoutMs: number },
): Promise<void> {
  const state = runtime.breaker.state;
  if (state === CircuitState.HalfOpen || state === CircuitState.Isolated) return;
  if (state === CircuitState.Open) {
    if (breakerBlocks(runtime, nowMs, options.halfOpenAfterMs)) return;
    // The half-open probe: success closes the breaker, failure opens it again.
    await runtime.breaker
      .execute(async () => {
        const result = await healthCall(runtime, options.healthCheckTimeoutMs);
        if (result.kind !== "answered") throw new GatewayFault(result);
      })
      .catch(() => {});
    return;
  }
  const result = await healthCall(runtime, options.healthCheckTimeoutMs);
  if (result.kind === "answered") return;
  await runtime.breaker
    .execute(() => {
      throw new GatewayFault(result);
    })
    .catch(() => {});
}
