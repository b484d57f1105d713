/**
 * Drives payments through their stages (a process manager): each step performs one effect — a
 * ledger command or gateway calls — and records what happened as a command on the payment's
 * decider. Steps are idempotent (derived ledger command ids, one idempotency key per payment at
 * every gateway, a status check before anything is retried elsewhere), so a payment can be resumed
 * by any instance after a crash: a lease in the payment row says who drives it, and a sweeper
 * resumes payments whose lease ran out.
 */
import type { Clock } from "../platform/clock.ts";
import { exhaustedGateways, openAttempt } from "./domain/decide.ts";
import type { AttemptOutcome, PaymentCommand, PaymentState } from "./domain/types.ts";
import type { LedgerAnswer, PaymentsLedger } from "./ledger-port.ts";
import type { AttemptHooks, Orchestrator, ResolvedStatus } from "./orchestrator.ts";
import type { PaymentStore } from "./store.ts";

export interface DriverOptions {
  readonly leaseMs: number;
  /** Delay before a payment that could not progress (ledger busy, gateway still pending) is retried. */
  readonly retryDelayMs: number;
  /** How long one drive polls a gateway that holds a pending payment, before leaving it to the sweeper. */
  readonly pollDeadlineMs: number;
  readonly pollIntervalMs: number;
  readonly sweepIntervalMs: number;
  readonly sweepBatchMax: number;
}

export const defaultDriverOptions: DriverOptions = {
  leaseMs: 60_000,
  retryDelayMs: 1_000,
  pollDeadlineMs: 5_000,
  pollIntervalMs: 100,
  sweepIntervalMs: 500,
  sweepBatchMax: 200,
};

export interface DriverDeps {
  readonly store: PaymentStore;
  readonly orchestrator: Orchestrator;
  readonly ledger: PaymentsLedger;
  readonly clock: Clock;
  readonly instanceId: string;
  readonly callbackUrl: () => string | undefined;
  readonly onFinished: (payment: PaymentState) => void;
  readonly onError: (error: unknown, paymentId: string) => void;
  readonly options?: Partial<DriverOptions>;
}

export interface PaymentDriver {
  /** Drives the payment as far as it goes now; safe to call concurrently and repeatedly. */
  drive(paymentId: string): Promise<void>;
  /** Starts the sweeper that resumes orphaned payments. */
  startSweeper(): void;
  stop(): Promise<void>;
  readonly inFlight: number;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

function statusToOutcome(status: ResolvedStatus): AttemptOutcome {
  if (status.kind === "voided") return "timeout_not_executed";
  if (status.kind === "unknown") return "unknown";
  if (status.status === "failed") return "declined";
  if (status.status === "pending") return "pending";
  return "succeeded";
}

export function createPaymentDriver(deps: DriverDeps): PaymentDriver {
  const driver = new Driver(deps);
  return {
    drive: (paymentId) => driver.drive(paymentId),
    startSweeper: () => driver.startSweeper(),
    stop: () => driver.stop(),
    get inFlight() {
      return driver.driving.size;
    },
  };
}

const fromLedger = (answer: LedgerAnswer, accept: readonly string[] = []) =>
  answer.kind === "confirmed" || (answer.kind === "rejected" && accept.includes(answer.reason));

class Driver {
  readonly driving = new Map<string, Promise<void>>();
  private readonly deps: DriverDeps;
  private readonly options: DriverOptions;
  private stopped = false;
  private sweeper: ReturnType<typeof setInterval> | undefined;

  constructor(deps: DriverDeps) {
    this.deps = deps;
    this.options = { ...defaultDriverOptions, ...deps.options };
  }

  drive(paymentId: string): Promise<void> {
    const running = this.driving.get(paymentId);
    if (running) return running;
    const task = this.run(paymentId).finally(() => this.driving.delete(paymentId));
    this.driving.set(paymentId, task);
    return task;
  }

  startSweeper(): void {
    let sweeping = false;
    this.sweeper = setInterval(() => {
      if (sweeping || this.stopped) return;
      sweeping = true;
      this.sweep()
        .catch((error) => this.deps.onError(error, "sweeper"))
        .finally(() => {
          sweeping = false;
        });
    }, this.options.sweepIntervalMs);
    this.sweeper.unref();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.sweeper) clearInterval(this.sweeper);
    await Promise.allSettled([...this.driving.values()]);
  }

  private async sweep(): Promise<void> {
    const ids = await this.deps.store.orphans(this.deps.clock.nowMs(), this.options.sweepBatchMax);
    for (const id of ids) if (!this.driving.has(id)) void this.drive(id);
  }

  private async run(paymentId: string): Promise<void> {
    const { store, clock, instanceId } = this.deps;
    const now = clock.nowMs();
    if (!(await store.lease(paymentId, instanceId, now, now + this.options.leaseMs))) return;
    let finished = false;
    try {
      for (let steps = 0; steps < 64 && !this.stopped; steps++) {
        const payment = await store.get(paymentId);
        if (!payment) return;
        if (payment.stage === "done") {
          finished = true;
          this.deps.onFinished(payment);
          return;
        }
        if (!(await this.step(payment))) break;
      }
    } catch (error) {
      this.deps.onError(error, paymentId);
    } finally {
      // Hand the payment back to the sweeper: retried after a pause unless it finished.
      if (!finished)
        await store.release(paymentId, instanceId, clock.nowMs() + this.options.retryDelayMs).catch(() => {});
    }
  }

  private async record(command: PaymentCommand): Promise<PaymentState | undefined> {
    const now = this.deps.clock.nowMs();
    const applied = await this.deps.store.apply(command, now, {
      owner: this.deps.instanceId,
      untilMs: now + this.options.leaseMs,
    });
    if (!applied.decision.ok)
      throw new Error(`payment ${command.paymentId}: ${command.type} rejected: ${applied.decision.code}`);
    return applied.state;
  }

  /** One step; false when the payment cannot progress now. */
  private async step(payment: PaymentState): Promise<boolean> {
    switch (payment.stage) {
      case "reserving":
        return this.reserve(payment);
      case "routing":
        return this.route(payment);
      case "awaiting_gateway":
        return this.awaitGateway(payment);
      case "settling":
        return this.settle(payment);
      case "releasing":
        return this.release(payment);
      case "reversing":
        return this.reverse(payment);
      case "done":
        return false;
    }
  }

  private async reserve(payment: PaymentState): Promise<boolean> {
    const answer = await this.deps.ledger.reserve(payment);
    if (answer.kind === "later") return false;
    await this.record({
      type: "RecordReservation",
      paymentId: payment.id,
      ok: answer.kind === "confirmed",
      transferId: answer.kind === "confirmed" ? answer.transferId : "",
      ...(answer.kind === "rejected" ? { reason: answer.reason } : {}),
    });
    return true;
  }

  private async settle(payment: PaymentState): Promise<boolean> {
    const answer = await this.deps.ledger.settle(payment);
    if (!fromLedger(answer)) {
      if (answer.kind === "rejected")
        this.deps.onError(new Error(`settlement rejected by the ledger: ${answer.reason}`), payment.id);
      return false;
    }
    const transferId = answer.kind === "confirmed" ? answer.transferId : "";
    await this.record({ type: "RecordSettlement", paymentId: payment.id, transferId });
    return true;
  }

  private async release(payment: PaymentState): Promise<boolean> {
    const answer = await this.deps.ledger.release(payment);
    // Already voided or expired: the reservation is released either way.
    const released = fromLedger(answer, [
      "pending_transfer_already_voided",
      "pending_transfer_expired",
      "pending_transfer_not_found",
    ]);
    if (!released) return false;
    await this.record({ type: "RecordRelease", paymentId: payment.id });
    return true;
  }

  private async reverse(payment: PaymentState): Promise<boolean> {
    const answer = await this.deps.ledger.reverse(payment);
    if (answer.kind === "later") return false;
    await this.record({
      type: "RecordReversalSettlement",
      paymentId: payment.id,
      transferId: answer.kind === "confirmed" ? answer.transferId : "",
      ...(answer.kind === "rejected" ? { ledgerRejection: answer.reason } : {}),
    });
    return true;
  }

  private async route(payment: PaymentState): Promise<boolean> {
    const open = openAttempt(payment);
    if (open) return this.resumeOpenAttempt(payment, open);
    const callbackUrl = this.deps.callbackUrl();
    const result = await this.deps.orchestrator.route(
      {
        request: {
          paymentId: payment.id,
          amount: payment.amount,
          currency: payment.asset,
          direction: payment.direction === "deposit" ? "payin" : "payout",
          iban: payment.iban,
          ...(payment.region === undefined ? {} : { region: payment.region }),
          ...(payment.method === undefined ? {} : { method: payment.method }),
          ...(callbackUrl === undefined ? {} : { callbackUrl }),
        },
        excluded: exhaustedGateways(payment),
      },
      this.attemptHooks(payment.id),
    );
    if (result.kind === "throttled") return false;
    if (result.kind === "exhausted")
      await this.record({
        type: "GiveUp",
        paymentId: payment.id,
        reason: result.reason,
        skipped: result.skipped,
      });
    return true;
  }

  /** A call was in flight when the previous driver stopped: learn its fate before anything else. */
  private async resumeOpenAttempt(
    payment: PaymentState,
    open: NonNullable<ReturnType<typeof openAttempt>>,
  ): Promise<boolean> {
    const { orchestrator, clock } = this.deps;
    const status = await orchestrator.resolveStatus(
      open.gateway,
      orchestrator.idempotencyKeyOf(payment.id),
      5_000,
    );
    await this.record({
      type: "FinishAttempt",
      paymentId: payment.id,
      no: open.no,
      outcome: statusToOutcome(status),
      latencyMs: clock.nowMs() - open.startedAtMs,
      detail: "resumed after restart; status check",
      ...(status.kind === "found" ? { gatewayPaymentId: status.gatewayPaymentId } : {}),
    });
    return true;
  }

  /** Each gateway call is recorded on the payment: started before, finished after. */
  private attemptHooks(paymentId: string): AttemptHooks {
    return {
      onStart: async (gateway, why, skipped) => {
        const state = await this.record({ type: "StartAttempt", paymentId, gateway, why, skipped });
        return state?.attempts.at(-1)?.no ?? 0;
      },
      onFinish: async (no, outcome, latencyMs, detail, gatewayPaymentId) => {
        await this.record({
          type: "FinishAttempt",
          paymentId,
          no,
          outcome,
          latencyMs,
          ...(detail === undefined ? {} : { detail }),
          ...(gatewayPaymentId === undefined ? {} : { gatewayPaymentId }),
        });
      },
    };
  }

  /** Polls the gateway holding a pending payment until it answers, a callback finishes it, or the deadline. */
  private async awaitGateway(payment: PaymentState): Promise<boolean> {
    const gateway = payment.gateway;
    if (gateway === undefined) return false;
    const { orchestrator, clock, store } = this.deps;
    const { pollDeadlineMs, pollIntervalMs } = this.options;
    const key = orchestrator.idempotencyKeyOf(payment.id);
    const until = clock.nowMs() + pollDeadlineMs;
    while (!this.stopped) {
      const status = await orchestrator.resolveStatus(gateway, key, Math.min(2_000, pollDeadlineMs));
      const result = gatewayResult(status);
      if (result !== undefined) {
        await this.record({
          type: "RecordGatewayResult",
          paymentId: payment.id,
          gateway,
          result,
          ...(status.kind === "found" ? { gatewayPaymentId: status.gatewayPaymentId } : {}),
          ...(status.kind === "found" && status.reason !== undefined ? { reason: status.reason } : {}),
        });
        return true;
      }
      // A callback may have finished it meanwhile.
      const current = await store.get(payment.id);
      if (current?.stage !== "awaiting_gateway") return true;
      if (clock.nowMs() + pollIntervalMs > until) return false;
      await sleep(pollIntervalMs);
    }
    return false;
  }
}

/** A gateway's final answer about a payment it held, or undefined while it is still pending. */
function gatewayResult(status: ResolvedStatus): "succeeded" | "failed" | "not_executed" | undefined {
  if (status.kind === "voided") return "not_executed";
  if (status.kind === "found" && status.status !== "pending")
    return status.status === "failed" ? "failed" : "succeeded";
  return undefined;
}
