/**
 * The gateway orchestrator: routes one payment across the registered gateways.
 *
 * Per gateway (cockatiel): a circuit breaker that opens on consecutive failures or on a failure
 * rate over a sampling window, then lets a probe through after `halfOpenAfterMs`; a per-call
 * timeout; our own token bucket (burst limit) in front of it. Across gateways: the routing plan
 * (routing.ts) gives the pick and the failover order; a refusal moves on to the next candidate; a
 * timeout or broken connection is resolved by asking that gateway for the payment's status *before*
 * anything else happens, so a payment is never captured twice (see `resolveStatus` for why a
 * "not found" is never enough). When every candidate is over its
 * burst limit, the payment waits for a token (bounded by `burstWaitMaxMs`).
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
import type { Clock, Random } from "../platform/clock.ts";
import type { AttemptOutcome, SkippedGateway } from "./domain/types.ts";
import {
  type CallResult,
  createGatewayPayment,
  type GatewayPaymentRequest,
  gatewayPaymentStatus,
  type StatusResult,
  voidGatewayPayment,
} from "./gateway-client.ts";
import { defaultHealthOptions, GatewayHealth, type HealthOptions, type HealthSnapshot } from "./health.ts";
import { defaultRoutingOptions, type GatewayConfig, planRoute, type RoutingOptions } from "./routing.ts";

export interface OrchestratorOptions {
  readonly breakerConsecutiveFailures: number;
  /** Failure share over `breakerSamplingMs` that opens the breaker (with at least 5 calls/s). */
  readonly breakerFailureRate: number;
  readonly breakerSamplingMs: number;
  readonly halfOpenAfterMs: number;
  /** Longest a payment waits for a burst token when every candidate is at its limit. */
  readonly burstWaitMaxMs: number;
  /** Gateway calls per payment routing run, at most. */
  readonly attemptsMax: number;
  /** How long a timed-out call's status is chased before the payment is left "unknown" for later. */
  readonly statusDeadlineMs: number;
  readonly statusTimeoutMs: number;
  readonly statusRetryMs: number;
  /**
   * Active health checks (`GET /health`) per gateway; 0 disables them. A failed check counts as a
   * breaker failure (so a gateway without traffic is still noticed going down); once the breaker is
   * open, the check is the half-open probe that closes it again, so no customer payment is used as a
   * probe. A passing check never counts as a success while closed: it must not mask failing payments.
   */
  readonly healthCheckIntervalMs: number;
  readonly healthCheckTimeoutMs: number;
  readonly routing: RoutingOptions;
  readonly health: HealthOptions;
}

export const defaultOrchestratorOptions: OrchestratorOptions = {
  breakerConsecutiveFailures: 5,
  breakerFailureRate: 0.5,
  breakerSamplingMs: 10_000,
  halfOpenAfterMs: 5_000,
  burstWaitMaxMs: 2_000,
  attemptsMax: 6,
  statusDeadlineMs: 10_000,
  statusTimeoutMs: 2_000,
  statusRetryMs: 100,
  healthCheckIntervalMs: 1_000,
  healthCheckTimeoutMs: 1_000,
  routing: defaultRoutingOptions,
  health: defaultHealthOptions,
};

/** What the orchestrator reports, for metrics and alerts. */
export interface OrchestratorObserver {
  callStarted?(gateway: string): void;
  callFinished?(gateway: string, outcome: AttemptOutcome, latencyMs: number): void;
  breakerChanged?(gateway: string, state: "closed" | "open" | "half_open", reason: string): void;
}

/** Hooks that persist each attempt: started before the call, finished after it. */
export interface AttemptHooks {
  onStart(gateway: string, why: string, skipped: readonly SkippedGateway[]): Promise<number>;
  onFinish(
    no: number,
    outcome: AttemptOutcome,
    latencyMs: number,
    detail?: string,
    gatewayPaymentId?: string,
  ): Promise<void>;
}

export type ResolvedStatus = Exclude<StatusResult, { kind: "not_found" }>;

export type RouteResult =
  | { readonly kind: "captured"; readonly gateway: string; readonly gatewayPaymentId: string }
  | { readonly kind: "declined"; readonly gateway: string; readonly reason: string }
  /** The gateway holds the payment (pending, or a timeout whose outcome is still unknown). */
  | { readonly kind: "held"; readonly gateway: string }
  | { readonly kind: "exhausted"; readonly reason: string; readonly skipped: readonly SkippedGateway[] }
  /** Every candidate is over its burst limit for longer than we wait: try again later. */
  | { readonly kind: "throttled" };

export interface RoutablePayment {
  readonly request: GatewayPaymentRequest;
  /** Gateways ruled out for this payment (already failed it). */
  readonly excluded: ReadonlySet<string>;
}

interface GatewayRuntime {
  config: GatewayConfig;
  readonly health: GatewayHealth;
  readonly breaker: CircuitBreakerPolicy;
  openedAtMs: number | undefined;
  tokens: number;
  refilledAtMs: number;
}

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

export interface Orchestrator {
  route(payment: RoutablePayment, hooks: AttemptHooks): Promise<RouteResult>;
  /**
   * Asks a gateway for a payment's status until it is known or the deadline passes. Never
   * "not_found": "voided" (the gateway promised it never executes) is the only proof of no effect.
   */
  resolveStatus(gateway: string, idempotencyKey: string, deadlineMs: number): Promise<ResolvedStatus>;
  conditions(): readonly { name: string; breaker: string; health: HealthSnapshot }[];
  /** Drops runtime state of gateways no longer registered. */
  sync(): void;
  readonly idempotencyKeyOf: (paymentId: string) => string;
  /** Runs one round of health checks (also run on a timer by `startHealthChecks`). */
  checkHealth(): Promise<void>;
  startHealthChecks(): void;
  stop(): void;
}

export interface OrchestratorDeps {
  readonly gateways: () => readonly GatewayConfig[];
  readonly clock: Clock;
  readonly random: Random;
  readonly options?: Partial<OrchestratorOptions>;
  readonly observer?: OrchestratorObserver;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export function createOrchestrator(deps: OrchestratorDeps): Orchestrator {
  const options = { ...defaultOrchestratorOptions, ...deps.options };
  const { clock, random, observer } = deps;
  const runtimes = new Map<string, GatewayRuntime>();

  const runtimeOf = (config: GatewayConfig): GatewayRuntime => {
    const existing = runtimes.get(config.name);
    if (existing) {
      existing.config = config;
      return existing;
    }
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
      observer?.breakerChanged?.(config.name, "open", why);
    });
    breaker.onHalfOpen(() => observer?.breakerChanged?.(config.name, "half_open", "probing"));
    breaker.onReset(() => {
      runtime.openedAtMs = undefined;
      // A clean slate: the failures that opened the breaker must not keep a recovered gateway starved.
      runtime.health.reset();
      observer?.breakerChanged?.(config.name, "closed", "probe succeeded");
    });
    runtimes.set(config.name, runtime);
    return runtime;
  };

  /** Open and not yet due for a probe, or half-open with its probe in flight. */
  const breakerBlocks = (runtime: GatewayRuntime): boolean => {
    const state = runtime.breaker.state;
    if (state === CircuitState.HalfOpen || state === CircuitState.Isolated) return true;
    if (state !== CircuitState.Open) return false;
    return clock.nowMs() - (runtime.openedAtMs ?? 0) < options.halfOpenAfterMs;
  };

  /** Takes a burst token; when none is left, how long until one is. */
  const takeToken = (runtime: GatewayRuntime): { ok: true } | { ok: false; waitMs: number } => {
    const limit = runtime.config.rateLimit;
    if (limit === null) return { ok: true };
    const now = clock.nowMs();
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
  };

  const call = async (
    runtime: GatewayRuntime,
    request: GatewayPaymentRequest,
    key: string,
  ): Promise<CallResult> => {
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
  };

  /*
   * Why a "not found" is not enough: the timed-out original may still be on its way (a proxy, a
   * socket buffer, a busy gateway) and execute after the gateway answered 404; failing over then
   * captures the payment twice. Any number of 404s, however far apart, leaves that window open.
   * So, as acquirers do after a timeout (a "technical cancel" by merchant reference), a 404 is
   * followed by a void of the key: the gateway atomically answers with the payment if it exists
   * by then, or voids the key so the late original is refused. Only "voided" lets the payment go
   * elsewhere; a void that fails or goes unanswered is asked again, and at the deadline the
   * payment stays "unknown" with this gateway (held), never moved on.
   */
  const resolveStatus = async (gateway: string, key: string, deadlineMs: number): Promise<ResolvedStatus> => {
    const config = deps.gateways().find((g) => g.name === gateway) ?? runtimes.get(gateway)?.config;
    if (!config) return { kind: "unknown", detail: `gateway ${gateway} is not registered` };
    const until = clock.nowMs() + deadlineMs;
    let last: ResolvedStatus = { kind: "unknown", detail: "not asked" };
    while (clock.nowMs() <= until) {
      const status = await gatewayPaymentStatus(config.url, key, options.statusTimeoutMs);
      last =
        status.kind === "not_found"
          ? await voidGatewayPayment(config.url, key, options.statusTimeoutMs).then((voided) =>
              voided.kind === "not_found" ? { kind: "unknown" as const, detail: "void: not found" } : voided,
            )
          : status;
      if (last.kind !== "unknown") return last;
      if (clock.nowMs() + options.statusRetryMs > until) break;
      await sleep(options.statusRetryMs);
    }
    return last;
  };

  const idempotencyKeyOf = (paymentId: string) => `lf-${paymentId}`;

  const route = async (payment: RoutablePayment, hooks: AttemptHooks): Promise<RouteResult> => {
    const excluded = new Set(payment.excluded);
    const key = idempotencyKeyOf(payment.request.paymentId);
    const waitUntil = clock.nowMs() + options.burstWaitMaxMs;
    let attempts = 0;
    let lastSkipped: readonly SkippedGateway[] = [];
    const routeRequest = {
      amount: payment.request.amount,
      currency: payment.request.currency,
      ...(payment.request.region === undefined ? {} : { region: payment.request.region }),
      ...(payment.request.method === undefined ? {} : { method: payment.request.method }),
    };
    while (attempts < options.attemptsMax) {
      const configs = deps.gateways();
      const plan = planRoute(
        routeRequest,
        configs,
        (name) => {
          const runtime = runtimeOf(configs.find((c) => c.name === name) as GatewayConfig);
          return {
            health: runtime.health.snapshot(runtime.config.timeoutMs),
            breakerOpen: breakerBlocks(runtime),
          };
        },
        excluded,
        random,
        options.routing,
      );
      const skipped: SkippedGateway[] = [...plan.skipped];
      lastSkipped = skipped;
      if (plan.ordered.length === 0) break;
      let called = false;
      let soonestTokenMs = Number.POSITIVE_INFINITY;
      for (const ranked of plan.ordered) {
        const runtime = runtimeOf(ranked.gateway);
        const token = takeToken(runtime);
        if (!token.ok) {
          soonestTokenMs = Math.min(soonestTokenMs, token.waitMs);
          skipped.push({ gateway: ranked.gateway.name, reason: "burst limit reached" });
          continue;
        }
        called = true;
        attempts++;
        const others = [
          ...skipped,
          ...plan.ordered
            .filter(
              (r) =>
                r.gateway.name !== ranked.gateway.name && !skipped.some((s) => s.gateway === r.gateway.name),
            )
            .map((r) => ({ gateway: r.gateway.name, reason: `ranked lower: ${r.why}` })),
        ];
        const no = await hooks.onStart(ranked.gateway.name, ranked.why, others);
        const startedMs = clock.nowMs();
        runtime.health.inFlight++;
        observer?.callStarted?.(ranked.gateway.name);
        let result: CallResult;
        try {
          result = await call(runtime, payment.request, key);
        } finally {
          runtime.health.inFlight--;
        }
        let latencyMs = clock.nowMs() - startedMs;
        let outcome: AttemptOutcome;
        let detail: string | undefined;
        let gatewayPaymentId: string | undefined;
        if (result.kind === "answered") {
          outcome = result.outcome;
          detail = result.detail;
          gatewayPaymentId = result.gatewayPaymentId;
        } else if (result.kind === "refused") {
          outcome = result.outcome;
          detail = result.detail;
        } else {
          // Never go elsewhere before this gateway says what it did with the payment.
          const status = await resolveStatus(ranked.gateway.name, key, options.statusDeadlineMs);
          latencyMs = clock.nowMs() - startedMs;
          if (status.kind === "found") {
            gatewayPaymentId = status.gatewayPaymentId;
            outcome =
              status.status === "succeeded"
                ? "succeeded"
                : status.status === "failed"
                  ? "declined"
                  : "pending";
            detail = `${result.detail}; status check: ${status.status}`;
          } else if (status.kind === "voided") {
            outcome = "timeout_not_executed";
            detail = `${result.detail}; status check: not found, voided at the gateway`;
          } else {
            outcome = "unknown";
            detail = `${result.detail}; status check: ${status.detail}`;
          }
        }
        const healthy =
          outcome === "succeeded" ||
          outcome === "declined" ||
          outcome === "pending" ||
          outcome === "unsupported" ||
          outcome === "rate_limited";
        if (result.kind !== "refused" || result.detail !== "circuit breaker open")
          runtime.health.record(healthy, latencyMs);
        observer?.callFinished?.(ranked.gateway.name, outcome, latencyMs);
        await hooks.onFinish(no, outcome, latencyMs, detail, gatewayPaymentId);
        switch (outcome) {
          case "succeeded":
            return {
              kind: "captured",
              gateway: ranked.gateway.name,
              gatewayPaymentId: gatewayPaymentId ?? "",
            };
          case "declined":
            return { kind: "declined", gateway: ranked.gateway.name, reason: detail ?? "declined" };
          case "pending":
          case "unknown":
            return { kind: "held", gateway: ranked.gateway.name };
          default:
            excluded.add(ranked.gateway.name);
        }
        break;
      }
      if (!called) {
        // Every candidate is at its burst limit: wait for the first token, within bounds.
        if (clock.nowMs() + soonestTokenMs > waitUntil) return { kind: "throttled" };
        await sleep(Math.max(1, soonestTokenMs));
      }
    }
    return {
      kind: "exhausted",
      reason: attempts === 0 ? "no gateway can take this payment" : "every candidate gateway failed",
      skipped: lastSkipped,
    };
  };

  const healthCall = async (runtime: GatewayRuntime): Promise<CallResult> => {
    try {
      const response = await fetch(`${runtime.config.url}/health`, {
        signal: AbortSignal.timeout(Math.min(options.healthCheckTimeoutMs, runtime.config.timeoutMs)),
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
  };

  const checkOne = async (runtime: GatewayRuntime): Promise<void> => {
    const state = runtime.breaker.state;
    if (state === CircuitState.HalfOpen || state === CircuitState.Isolated) return;
    if (state === CircuitState.Open) {
      if (breakerBlocks(runtime)) return;
      // The half-open probe: success closes the breaker, failure opens it again.
      await runtime.breaker
        .execute(async () => {
          const result = await healthCall(runtime);
          if (result.kind !== "answered") throw new GatewayFault(result);
        })
        .catch(() => {});
      return;
    }
    const result = await healthCall(runtime);
    if (result.kind === "answered") return;
    await runtime.breaker
      .execute(() => {
        throw new GatewayFault(result);
      })
      .catch(() => {});
  };

  let healthTimer: ReturnType<typeof setInterval> | undefined;
  let checking = false;
  const checkHealth = async () => {
    if (checking) return;
    checking = true;
    try {
      await Promise.all(
        deps
          .gateways()
          .filter((g) => g.enabled)
          .map((g) => checkOne(runtimeOf(g))),
      );
    } finally {
      checking = false;
    }
  };

  return {
    route,
    resolveStatus,
    idempotencyKeyOf,
    checkHealth,
    startHealthChecks() {
      if (options.healthCheckIntervalMs <= 0 || healthTimer) return;
      healthTimer = setInterval(() => void checkHealth().catch(() => {}), options.healthCheckIntervalMs);
      healthTimer.unref();
    },
    stop() {
      if (healthTimer) clearInterval(healthTimer);
      healthTimer = undefined;
    },
    conditions: () =>
      deps.gateways().map((config) => {
        const runtime = runtimeOf(config);
        const state = runtime.breaker.state;
        return {
          name: config.name,
          breaker:
            state === CircuitState.Open ? "open" : state === CircuitState.HalfOpen ? "half_open" : "closed",
          health: runtime.health.snapshot(config.timeoutMs),
        };
      }),
    sync() {
      const names = new Set(deps.gateways().map((g) => g.name));
      for (const name of runtimes.keys()) if (!names.has(name)) runtimes.delete(name);
    },
  };
}
