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
import type { Clock, Random } from "../platform/clock.ts";
import type { AttemptOutcome, SkippedGateway } from "./domain/types.ts";
import {
  type CallResult,
  type GatewayPaymentRequest,
  gatewayPaymentStatus,
  type StatusResult,
  voidGatewayPayment,
} from "./gateway-client.ts";
import {
  breakerBlocks,
  breakerName,
  callGateway,
  checkGatewayHealth,
  createGatewayRuntime,
  type GatewayRuntime,
  takeToken,
} from "./gateway-runtime.ts";
import { defaultHealthOptions, type HealthOptions, type HealthSnapshot } from "./health.ts";
import {
  defaultRoutingOptions,
  type GatewayConfig,
  planRoute,
  type RouteRequest,
  type RoutingOptions,
  type RoutingPlan,
} from "./routing.ts";

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
  const runtimes = new Map<string, GatewayRuntime>();
  const core: OrchestratorCore = {
    deps,
    options,
    runtimeOf(config) {
      const existing = runtimes.get(config.name);
      if (existing) {
        existing.config = config;
        return existing;
      }
      const breakerChanged = deps.observer?.breakerChanged?.bind(deps.observer);
      const runtime = createGatewayRuntime(config, options, deps.clock, breakerChanged);
      runtimes.set(config.name, runtime);
      return runtime;
    },
    resolveStatus: (gateway, key, deadlineMs) => resolveStatus(core, runtimes, gateway, key, deadlineMs),
  };

  let healthTimer: ReturnType<typeof setInterval> | undefined;
  let checking = false;
  const checkHealth = async () => {
    if (checking) return;
    checking = true;
    try {
      const enabled = deps.gateways().filter((g) => g.enabled);
      await Promise.all(
        enabled.map((g) => checkGatewayHealth(core.runtimeOf(g), deps.clock.nowMs(), options)),
      );
    } finally {
      checking = false;
    }
  };

  return {
    route: (payment, hooks) => route(core, payment, hooks),
    resolveStatus: core.resolveStatus,
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
        const runtime = core.runtimeOf(config);
        return {
          name: config.name,
          breaker: breakerName(runtime),
          health: runtime.health.snapshot(config.timeoutMs),
        };
      }),
    sync() {
      const names = new Set(deps.gateways().map((g) => g.name));
      for (const name of runtimes.keys()) if (!names.has(name)) runtimes.delete(name);
    },
  };
}

/** What the routing functions share: the deps, the options, and each gateway's runtime. */
interface OrchestratorCore {
  readonly deps: OrchestratorDeps;
  readonly options: OrchestratorOptions;
  runtimeOf(config: GatewayConfig): GatewayRuntime;
  resolveStatus(gateway: string, key: string, deadlineMs: number): Promise<ResolvedStatus>;
}

const idempotencyKeyOf = (paymentId: string) => `lf-${paymentId}`;

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
async function resolveStatus(
  core: OrchestratorCore,
  runtimes: ReadonlyMap<string, GatewayRuntime>,
  gateway: string,
  key: string,
  deadlineMs: number,
): Promise<ResolvedStatus> {
  const { clock } = core.deps;
  const { statusTimeoutMs, statusRetryMs } = core.options;
  const config = core.deps.gateways().find((g) => g.name === gateway) ?? runtimes.get(gateway)?.config;
  if (!config) return { kind: "unknown", detail: `gateway ${gateway} is not registered` };
  const until = clock.nowMs() + deadlineMs;
  let last: ResolvedStatus = { kind: "unknown", detail: "not asked" };
  while (clock.nowMs() <= until) {
    const status = await gatewayPaymentStatus(config.url, key, statusTimeoutMs);
    last =
      status.kind === "not_found"
        ? await voidGatewayPayment(config.url, key, statusTimeoutMs).then((voided) =>
            voided.kind === "not_found" ? { kind: "unknown" as const, detail: "void: not found" } : voided,
          )
        : status;
    if (last.kind !== "unknown") return last;
    if (clock.nowMs() + statusRetryMs > until) break;
    await sleep(statusRetryMs);
  }
  return last;
}

/** One payment's routing run: what stays the same across its rounds of candidates. */
interface RouteRun {
  readonly payment: RoutablePayment;
  readonly hooks: AttemptHooks;
  readonly excluded: Set<string>;
  readonly key: string;
  readonly routeRequest: RouteRequest;
  attempts: number;
}

/** How a round of candidates ended: with the payment's result, a failed call, or all throttled. */
type RoundEnd =
  | { readonly kind: "result"; readonly result: RouteResult }
  | { readonly kind: "failed_over" }
  | { readonly kind: "throttled"; readonly soonestTokenMs: number };

async function route(
  core: OrchestratorCore,
  payment: RoutablePayment,
  hooks: AttemptHooks,
): Promise<RouteResult> {
  const { clock } = core.deps;
  const { request } = payment;
  const run: RouteRun = {
    payment,
    hooks,
    excluded: new Set(payment.excluded),
    key: idempotencyKeyOf(request.paymentId),
    routeRequest: {
      amount: request.amount,
      currency: request.currency,
      ...(request.region === undefined ? {} : { region: request.region }),
      ...(request.method === undefined ? {} : { method: request.method }),
    },
    attempts: 0,
  };
  const waitUntil = clock.nowMs() + core.options.burstWaitMaxMs;
  let lastSkipped: readonly SkippedGateway[] = [];
  while (run.attempts < core.options.attemptsMax) {
    const plan = planFor(core, run);
    const skipped: SkippedGateway[] = [...plan.skipped];
    lastSkipped = skipped;
    if (plan.ordered.length === 0) break;
    const end = await tryCandidates(core, run, plan, skipped);
    if (end.kind === "result") return end.result;
    if (end.kind === "throttled") {
      // Every candidate is at its burst limit: wait for the first token, within bounds.
      if (clock.nowMs() + end.soonestTokenMs > waitUntil) return { kind: "throttled" };
      await sleep(Math.max(1, end.soonestTokenMs));
    }
  }
  return {
    kind: "exhausted",
    reason: run.attempts === 0 ? "no gateway can take this payment" : "every candidate gateway failed",
    skipped: lastSkipped,
  };
}

function planFor(core: OrchestratorCore, run: RouteRun): RoutingPlan {
  const configs = core.deps.gateways();
  return planRoute(
    run.routeRequest,
    configs,
    (name) => {
      const runtime = core.runtimeOf(configs.find((c) => c.name === name) as GatewayConfig);
      return {
        health: runtime.health.snapshot(runtime.config.timeoutMs),
        breakerOpen: breakerBlocks(runtime, core.deps.clock.nowMs(), core.options.halfOpenAfterMs),
      };
    },
    run.excluded,
    core.deps.random,
    core.options.routing,
  );
}

/** Calls the first ranked candidate that has a burst token; skips (and records) those that have none. */
async function tryCandidates(
  core: OrchestratorCore,
  run: RouteRun,
  plan: RoutingPlan,
  skipped: SkippedGateway[],
): Promise<RoundEnd> {
  let soonestTokenMs = Number.POSITIVE_INFINITY;
  for (const ranked of plan.ordered) {
    const runtime = core.runtimeOf(ranked.gateway);
    const token = takeToken(runtime, core.deps.clock.nowMs());
    if (!token.ok) {
      soonestTokenMs = Math.min(soonestTokenMs, token.waitMs);
      skipped.push({ gateway: ranked.gateway.name, reason: "burst limit reached" });
      continue;
    }
    run.attempts++;
    const others = [
      ...skipped,
      ...plan.ordered
        .filter(
          (r) => r.gateway.name !== ranked.gateway.name && !skipped.some((s) => s.gateway === r.gateway.name),
        )
        .map((r) => ({ gateway: r.gateway.name, reason: `ranked lower: ${r.why}` })),
    ];
    const attempt = await attemptOn(core, run, runtime, ranked, others);
    const name = ranked.gateway.name;
    switch (attempt.outcome) {
      case "succeeded":
        return {
          kind: "result",
          result: { kind: "captured", gateway: name, gatewayPaymentId: attempt.gatewayPaymentId ?? "" },
        };
      case "declined":
        return {
          kind: "result",
          result: { kind: "declined", gateway: name, reason: attempt.detail ?? "declined" },
        };
      case "pending":
      case "unknown":
        return { kind: "result", result: { kind: "held", gateway: name } };
      default:
        run.excluded.add(name);
        return { kind: "failed_over" };
    }
  }
  return { kind: "throttled", soonestTokenMs };
}

interface AttemptResult {
  readonly outcome: AttemptOutcome;
  readonly detail?: string | undefined;
  readonly gatewayPaymentId?: string | undefined;
}

/** One recorded gateway call: started and finished through the hooks, health and observer told. */
async function attemptOn(
  core: OrchestratorCore,
  run: RouteRun,
  runtime: GatewayRuntime,
  ranked: RoutingPlan["ordered"][number],
  others: readonly SkippedGateway[],
): Promise<AttemptResult> {
  const { clock, observer } = core.deps;
  const name = ranked.gateway.name;
  const no = await run.hooks.onStart(name, ranked.why, others);
  const startedMs = clock.nowMs();
  runtime.health.inFlight++;
  observer?.callStarted?.(name);
  let result: CallResult;
  try {
    result = await callGateway(runtime, run.payment.request, run.key);
  } finally {
    runtime.health.inFlight--;
  }
  // Never go elsewhere before this gateway says what it did with the payment.
  const attempt: AttemptResult =
    result.kind === "ambiguous" ? await afterAmbiguousCall(core, name, run.key, result.detail) : result;
  const latencyMs = clock.nowMs() - startedMs;
  const { outcome } = attempt;
  const healthy =
    outcome === "succeeded" ||
    outcome === "declined" ||
    outcome === "pending" ||
    outcome === "unsupported" ||
    outcome === "rate_limited";
  if (result.kind !== "refused" || result.detail !== "circuit breaker open")
    runtime.health.record(healthy, latencyMs);
  observer?.callFinished?.(name, outcome, latencyMs);
  await run.hooks.onFinish(no, outcome, latencyMs, attempt.detail, attempt.gatewayPaymentId);
  return attempt;
}

/** A timeout or broken connection: the gateway's own record of the payment decides what happened. */
async function afterAmbiguousCall(
  core: OrchestratorCore,
  gateway: string,
  key: string,
  callDetail: string,
): Promise<AttemptResult> {
  const status = await core.resolveStatus(gateway, key, core.options.statusDeadlineMs);
  if (status.kind === "found") {
    const outcome =
      status.status === "succeeded" ? "succeeded" : status.status === "failed" ? "declined" : "pending";
    return {
      outcome,
      detail: `${callDetail}; status check: ${status.status}`,
      gatewayPaymentId: status.gatewayPaymentId,
    };
  }
  if (status.kind === "voided")
    return {
      outcome: "timeout_not_executed",
      detail: `${callDetail}; status check: not found, voided at the gateway`,
    };
  return { outcome: "unknown", detail: `${callDetail}; status check: ${status.detail}` };
}
