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
import type { Orchestrator, ResolvedStatus } from "./orchestrator.ts";
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
  const options = { ...defaultDriverOptions, ...deps.options };
  const { store, orchestrator, ledger, clock } = deps;
  const driving = new Map<string, Promise<void>>();
  let stopped = false;
  let sweeper: ReturnType<typeof setInterval> | undefined;

  const record = async (command: PaymentCommand): Promise<PaymentState | undefined> => {
    const now = clock.nowMs();
    const applied = await store.apply(command, now, {
      owner: deps.instanceId,
      untilMs: now + options.leaseMs,
    });
    if (!applied.decision.ok)
      throw new Error(`payment ${command.paymentId}: ${command.type} rejected: ${applied.decision.code}`);
    return applied.state;
  };

  const fromLedger = (answer: LedgerAnswer, accept: readonly string[] = []) =>
    answer.kind === "confirmed" || (answer.kind === "rejected" && accept.includes(answer.reason));

  /** One step; false when the payment cannot progress now. */
  const step = async (payment: PaymentState): Promise<boolean> => {
    const paymentId = payment.id;
    switch (payment.stage) {
      case "reserving": {
        const answer = await ledger.reserve(payment);
        if (answer.kind === "later") return false;
        await record({
          type: "RecordReservation",
          paymentId,
          ok: answer.kind === "confirmed",
          transferId: answer.kind === "confirmed" ? answer.transferId : "",
          ...(answer.kind === "rejected" ? { reason: answer.reason } : {}),
        });
        return true;
      }
      case "routing":
        return route(payment);
      case "awaiting_gateway":
        return awaitGateway(payment);
      case "settling": {
        const answer = await ledger.settle(payment);
        if (!fromLedger(answer)) {
          if (answer.kind === "rejected")
            deps.onError(new Error(`settlement rejected by the ledger: ${answer.reason}`), paymentId);
          return false;
        }
        const transferId = answer.kind === "confirmed" ? answer.transferId : "";
        await record({ type: "RecordSettlement", paymentId, transferId });
        return true;
      }
      case "releasing": {
        const answer = await ledger.release(payment);
        // Already voided or expired: the reservation is released either way.
        if (
          !fromLedger(answer, [
            "pending_transfer_already_voided",
            "pending_transfer_expired",
            "pending_transfer_not_found",
          ])
        )
          return false;
        await record({ type: "RecordRelease", paymentId });
        return true;
      }
      case "reversing": {
        const answer = await ledger.reverse(payment);
        if (answer.kind === "later") return false;
        await record({
          type: "RecordReversalSettlement",
          paymentId,
          transferId: answer.kind === "confirmed" ? answer.transferId : "",
          ...(answer.kind === "rejected" ? { ledgerRejection: answer.reason } : {}),
        });
        return true;
      }
      case "done":
        return false;
    }
  };

  const route = async (payment: PaymentState): Promise<boolean> => {
    const key = orchestrator.idempotencyKeyOf(payment.id);
    const open = openAttempt(payment);
    if (open) {
      // A call was in flight when the previous driver stopped: learn its fate before anything else.
      const status = await orchestrator.resolveStatus(open.gateway, key, 5_000);
      await record({
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
    const callbackUrl = deps.callbackUrl();
    const result = await orchestrator.route(
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
      {
        onStart: async (gateway, why, skipped) => {
          const state = await record({ type: "StartAttempt", paymentId: payment.id, gateway, why, skipped });
          return state?.attempts.at(-1)?.no ?? 0;
        },
        onFinish: async (no, outcome, latencyMs, detail, gatewayPaymentId) => {
          await record({
            type: "FinishAttempt",
            paymentId: payment.id,
            no,
            outcome,
            latencyMs,
            ...(detail === undefined ? {} : { detail }),
            ...(gatewayPaymentId === undefined ? {} : { gatewayPaymentId }),
          });
        },
      },
    );
    if (result.kind === "throttled") return false;
    if (result.kind === "exhausted")
      await record({ type: "GiveUp", paymentId: payment.id, reason: result.reason, skipped: result.skipped });
    return true;
  };

  const awaitGateway = async (payment: PaymentState): Promise<boolean> => {
    const gateway = payment.gateway;
    if (gateway === undefined) return false;
    const key = orchestrator.idempotencyKeyOf(payment.id);
    const until = clock.nowMs() + options.pollDeadlineMs;
    while (!stopped) {
      const status = await orchestrator.resolveStatus(gateway, key, Math.min(2_000, options.pollDeadlineMs));
      let result: "succeeded" | "failed" | "not_executed" | undefined;
      if (status.kind === "voided") result = "not_executed";
      else if (status.kind === "found" && status.status !== "pending")
        result = status.status === "failed" ? "failed" : "succeeded";
      if (result !== undefined) {
        await record({
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
      if (clock.nowMs() + options.pollIntervalMs > until) return false;
      await sleep(options.pollIntervalMs);
    }
    return false;
  };

  const run = async (paymentId: string): Promise<void> => {
    const now = clock.nowMs();
    if (!(await store.lease(paymentId, deps.instanceId, now, now + options.leaseMs))) return;
    let finished = false;
    try {
      for (let steps = 0; steps < 64 && !stopped; steps++) {
        const payment = await store.get(paymentId);
        if (!payment) return;
        if (payment.stage === "done") {
          finished = true;
          deps.onFinished(payment);
          return;
        }
        if (!(await step(payment))) break;
      }
    } catch (error) {
      deps.onError(error, paymentId);
    } finally {
      // Hand the payment back to the sweeper: retried after a pause unless it finished.
      if (!finished)
        await store.release(paymentId, deps.instanceId, clock.nowMs() + options.retryDelayMs).catch(() => {});
    }
  };

  const drive = (paymentId: string): Promise<void> => {
    const running = driving.get(paymentId);
    if (running) return running;
    const task = run(paymentId).finally(() => driving.delete(paymentId));
    driving.set(paymentId, task);
    return task;
  };

  const sweep = async () => {
    const ids = await store.orphans(clock.nowMs(), options.sweepBatchMax);
    for (const id of ids) if (!driving.has(id)) void drive(id);
  };

  return {
    drive,
    startSweeper() {
      let sweeping = false;
      sweeper = setInterval(() => {
        if (sweeping || stopped) return;
        sweeping = true;
        sweep()
          .catch((error) => deps.onError(error, "sweeper"))
          .finally(() => {
            sweeping = false;
          });
      }, options.sweepIntervalMs);
      sweeper.unref();
    },
    async stop() {
      stopped = true;
      if (sweeper) clearInterval(sweeper);
      await Promise.allSettled([...driving.values()]);
    },
    get inFlight() {
      return driving.size;
    },
  };
}
