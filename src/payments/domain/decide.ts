/**
 * The payment decider: pure, no I/O, time comes in. `decide` answers a command with events (or a
 * stable rejection code); `evolve` folds an event into the state. Commands are idempotent: a
 * command that was already applied answers with no events, so redelivery from the log is harmless.
 */
import { assert } from "../../platform/errors.ts";
import type {
  Attempt,
  Decision,
  FinishAttempt,
  PaymentCommand,
  PaymentEvent,
  PaymentRejection,
  PaymentState,
  RecordGatewayResult,
} from "./types.ts";

const none: Decision = { ok: true, events: [] };
const reject = (code: PaymentRejection): Decision => ({ ok: false, code });
const emit = (...events: PaymentEvent[]): Decision => ({ ok: true, events });

/** Outcomes that leave the payment with the gateway that answered them. */
const heldOutcomes = new Set(["pending", "unknown"]);

export function decide(state: PaymentState | undefined, command: PaymentCommand, nowMs: number): Decision {
  const base = { paymentId: command.paymentId, atMs: nowMs };
  if (command.type === "RequestPayment") {
    if (state) return state.fingerprint === command.fingerprint ? none : reject("payment_exists");
    const { type: _, paymentId: __, ...fields } = command;
    return emit({ ...base, type: "PaymentRequested", ...fields });
  }
  if (!state) return reject("unknown_payment");
  switch (command.type) {
    case "RecordReservation":
      if (state.stage !== "reserving") return none;
      return command.ok
        ? emit({ ...base, type: "FundsReserved", transferId: command.transferId })
        : emit({ ...base, type: "ReservationRejected", reason: command.reason ?? "rejected" });
    case "StartAttempt": {
      if (state.stage !== "routing") return reject("not_in_stage");
      if (state.attempts.some((a) => a.outcome === undefined)) return reject("not_in_stage");
      const no = state.attempts.length + 1;
      const { gateway, why, skipped } = command;
      return emit({ ...base, type: "AttemptStarted", no, gateway, why, skipped });
    }
    case "FinishAttempt":
      return decideFinish(state, command, base);
    case "RecordGatewayResult":
      return decideGatewayResult(state, command, base);
    case "GiveUp":
      if (state.stage !== "routing") return none;
      return emit({ ...base, type: "RoutingExhausted", reason: command.reason, skipped: command.skipped });
    case "RecordSettlement":
      if (state.stage !== "settling") return none;
      return emit({ ...base, type: "PaymentSucceeded", transferId: command.transferId });
    case "RecordRelease":
      if (state.stage !== "releasing") return none;
      return emit({ ...base, type: "PaymentFailed", reason: state.reason ?? "failed" });
    case "ReversePayment":
      if (state.status === "REVERSED" || state.stage === "reversing") return none;
      if (state.status !== "SUCCESS") return reject("not_reversible");
      return emit({ ...base, type: "ReversalRequested", gateway: command.gateway, reason: command.reason });
    case "RecordReversalSettlement":
      if (state.stage !== "reversing") return none;
      return emit({
        ...base,
        type: "PaymentReversed",
        transferId: command.transferId,
        ...(command.ledgerRejection === undefined ? {} : { ledgerRejection: command.ledgerRejection }),
      });
  }
}

function decideFinish(
  state: PaymentState,
  command: FinishAttempt,
  base: { paymentId: string; atMs: number },
): Decision {
  const attempt = state.attempts.find((a) => a.no === command.no);
  if (!attempt) return reject("unknown_attempt");
  if (attempt.outcome !== undefined) return none;
  const finished: PaymentEvent = {
    ...base,
    type: "AttemptFinished",
    no: command.no,
    outcome: command.outcome,
    latencyMs: command.latencyMs,
    ...(command.detail === undefined ? {} : { detail: command.detail }),
    ...(command.gatewayPaymentId === undefined ? {} : { gatewayPaymentId: command.gatewayPaymentId }),
  };
  if (state.stage !== "routing") return emit(finished);
  const gateway = attempt.gateway;
  if (command.outcome === "succeeded") {
    return emit(finished, {
      ...base,
      type: "PaymentCaptured",
      gateway,
      ...(command.gatewayPaymentId === undefined ? {} : { gatewayPaymentId: command.gatewayPaymentId }),
    });
  }
  if (command.outcome === "declined")
    return emit(finished, {
      ...base,
      type: "PaymentDeclined",
      gateway,
      reason: command.detail ?? "declined",
    });
  if (heldOutcomes.has(command.outcome))
    return emit(finished, { ...base, type: "PaymentHeldByGateway", gateway });
  return emit(finished);
}

function decideGatewayResult(
  state: PaymentState,
  command: RecordGatewayResult,
  base: { paymentId: string; atMs: number },
): Decision {
  // Only the gateway holding the payment can finish it; late or duplicate answers change nothing.
  if (state.stage !== "awaiting_gateway" || state.gateway !== command.gateway) return none;
  switch (command.result) {
    case "succeeded":
      return emit({
        ...base,
        type: "PaymentCaptured",
        gateway: command.gateway,
        ...(command.gatewayPaymentId === undefined ? {} : { gatewayPaymentId: command.gatewayPaymentId }),
      });
    case "failed":
      return emit({
        ...base,
        type: "PaymentDeclined",
        gateway: command.gateway,
        reason: command.reason ?? "declined",
      });
    case "not_executed":
      return emit({ ...base, type: "GatewayReleased", gateway: command.gateway });
  }
}

type EventOf<T extends PaymentEvent["type"]> = Extract<PaymentEvent, { type: T }>;

/** The state a payment starts in: withdrawals reserve their funds before routing. */
function requestedPayment(event: EventOf<"PaymentRequested">): PaymentState {
  const { type: _, paymentId, atMs, ...fields } = event;
  return {
    ...fields,
    id: paymentId,
    status: "PENDING",
    stage: event.direction === "withdrawal" ? "reserving" : "routing",
    attempts: [],
    createdAtMs: atMs,
    updatedAtMs: atMs,
    version: 1,
  };
}

function startedAttempt(event: EventOf<"AttemptStarted">): Attempt {
  return {
    no: event.no,
    gateway: event.gateway,
    startedAtMs: event.atMs,
    why: event.why,
    skipped: event.skipped,
  };
}

function finishedAttempt(attempt: Attempt, event: EventOf<"AttemptFinished">): Attempt {
  return {
    ...attempt,
    finishedAtMs: event.atMs,
    outcome: event.outcome,
    latencyMs: event.latencyMs,
    ...(event.detail === undefined ? {} : { detail: event.detail }),
    ...(event.gatewayPaymentId === undefined ? {} : { gatewayPaymentId: event.gatewayPaymentId }),
  };
}

export function evolve(state: PaymentState | undefined, event: PaymentEvent): PaymentState {
  if (event.type === "PaymentRequested") {
    assert(state === undefined, "a payment is requested once");
    return requestedPayment(event);
  }
  assert(state !== undefined, "events after PaymentRequested have a state");
  const next = { ...state, updatedAtMs: event.atMs, version: state.version + 1 };
  const failOrRelease = (reason: string): PaymentState =>
    state.direction === "withdrawal"
      ? { ...next, stage: "releasing", reason }
      : { ...next, status: "FAILURE", stage: "done", reason };
  switch (event.type) {
    case "FundsReserved":
      return { ...next, stage: "routing", ledgerTransferId: event.transferId };
    case "ReservationRejected":
      return { ...next, status: "FAILURE", stage: "done", reason: event.reason };
    case "AttemptStarted":
      return { ...next, attempts: [...state.attempts, startedAttempt(event)] };
    case "AttemptFinished":
      return {
        ...next,
        attempts: state.attempts.map((a) => (a.no === event.no ? finishedAttempt(a, event) : a)),
      };
    case "PaymentCaptured":
      return {
        ...next,
        stage: "settling",
        gateway: event.gateway,
        ...(event.gatewayPaymentId === undefined ? {} : { gatewayPaymentId: event.gatewayPaymentId }),
      };
    case "PaymentHeldByGateway":
      return { ...next, stage: "awaiting_gateway", gateway: event.gateway };
    case "GatewayReleased": {
      const { gateway: _, ...rest } = next;
      return { ...rest, stage: "routing" };
    }
    case "PaymentDeclined":
      return { ...failOrRelease(event.reason), gateway: event.gateway };
    case "RoutingExhausted":
      return failOrRelease(event.reason);
    case "PaymentSucceeded":
      return {
        ...next,
        status: "SUCCESS",
        stage: "done",
        ...(state.direction === "deposit" ? { ledgerTransferId: event.transferId } : {}),
      };
    case "PaymentFailed":
      return { ...next, status: "FAILURE", stage: "done", reason: event.reason };
    case "ReversalRequested":
      return { ...next, stage: "reversing", reason: event.reason };
    case "PaymentReversed":
      return {
        ...next,
        status: "REVERSED",
        stage: "done",
        ...(event.ledgerRejection === undefined
          ? {}
          : { reason: `${state.reason}; ${event.ledgerRejection}` }),
      };
  }
}

/** Applies a command: the decision, and the state after its events. */
export function apply(
  state: PaymentState | undefined,
  command: PaymentCommand,
  nowMs: number,
): { decision: Decision; state: PaymentState | undefined } {
  const decision = decide(state, command, nowMs);
  if (!decision.ok) return { decision, state };
  let next = state;
  for (const event of decision.events) next = evolve(next, event);
  return { decision, state: next };
}

/** The attempt still waiting for an answer, if any (its gateway must be asked before going elsewhere). */
export function openAttempt(state: PaymentState): Attempt | undefined {
  return state.attempts.find((a) => a.outcome === undefined);
}

/** Gateways that already failed this payment in a way that rules them out for it. */
export function exhaustedGateways(state: PaymentState): Set<string> {
  return new Set(
    state.attempts
      .filter((a) => a.outcome !== undefined && a.outcome !== "rate_limited")
      .map((a) => a.gateway),
  );
}
