import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { apply, decide, exhaustedGateways } from "./decide.ts";
import type { AttemptOutcome, PaymentCommand, PaymentState, RequestPayment } from "./types.ts";

const request = (direction: "deposit" | "withdrawal"): RequestPayment => ({
  type: "RequestPayment",
  paymentId: "p1",
  direction,
  ownerId: "u1",
  iban: "NL39OPEN0000000001",
  amount: 500n,
  asset: "EUR",
  fingerprint: "f1",
});

function run(commands: readonly PaymentCommand[]): PaymentState | undefined {
  let state: PaymentState | undefined;
  for (const [i, command] of commands.entries()) state = apply(state, command, 1_000 + i).state;
  return state;
}

test("a deposit: attempt fails over, second gateway captures, settlement succeeds", () => {
  const state = run([
    request("deposit"),
    { type: "StartAttempt", paymentId: "p1", gateway: "a", why: "pick", skipped: [] },
    { type: "FinishAttempt", paymentId: "p1", no: 1, outcome: "error", latencyMs: 5 },
    { type: "StartAttempt", paymentId: "p1", gateway: "b", why: "failover", skipped: [] },
    {
      type: "FinishAttempt",
      paymentId: "p1",
      no: 2,
      outcome: "succeeded",
      latencyMs: 7,
      gatewayPaymentId: "g2",
    },
    { type: "RecordSettlement", paymentId: "p1", transferId: "t1" },
  ]);
  assert.equal(state?.status, "SUCCESS");
  assert.equal(state?.gateway, "b");
  assert.equal(state?.attempts.length, 2);
  assert.deepEqual([...exhaustedGateways(state as PaymentState)].sort(), ["a", "b"]);
});

test("a withdrawal declined by the gateway releases its reservation before failing", () => {
  const declined = run([
    request("withdrawal"),
    { type: "RecordReservation", paymentId: "p1", ok: true, transferId: "r1" },
    { type: "StartAttempt", paymentId: "p1", gateway: "a", why: "pick", skipped: [] },
    { type: "FinishAttempt", paymentId: "p1", no: 1, outcome: "declined", latencyMs: 5, detail: "declined" },
  ]);
  assert.equal(declined?.status, "PENDING");
  assert.equal(declined?.stage, "releasing");
  const failed = apply(declined, { type: "RecordRelease", paymentId: "p1" }, 2_000).state;
  assert.equal(failed?.status, "FAILURE");
  assert.equal(failed?.reason, "declined");
});

test("a payment held by a gateway is finished only by that gateway", () => {
  const held = run([
    request("deposit"),
    { type: "StartAttempt", paymentId: "p1", gateway: "a", why: "pick", skipped: [] },
    { type: "FinishAttempt", paymentId: "p1", no: 1, outcome: "unknown", latencyMs: 2_000 },
  ]);
  assert.equal(held?.stage, "awaiting_gateway");
  const other = decide(
    held,
    { type: "RecordGatewayResult", paymentId: "p1", gateway: "b", result: "succeeded" },
    3_000,
  );
  assert.deepEqual(other, { ok: true, events: [] });
  const released = apply(
    held,
    { type: "RecordGatewayResult", paymentId: "p1", gateway: "a", result: "not_executed" },
    3_000,
  ).state;
  assert.equal(released?.stage, "routing");
  assert.equal(released?.gateway, undefined);
  assert.ok(exhaustedGateways(released as PaymentState).has("a"));
});

test("a succeeded payment can be reversed once", () => {
  const done = run([
    request("deposit"),
    { type: "StartAttempt", paymentId: "p1", gateway: "a", why: "pick", skipped: [] },
    { type: "FinishAttempt", paymentId: "p1", no: 1, outcome: "succeeded", latencyMs: 5 },
    { type: "RecordSettlement", paymentId: "p1", transferId: "t1" },
    { type: "ReversePayment", paymentId: "p1", gateway: "a", reason: "chargeback" },
    { type: "RecordReversalSettlement", paymentId: "p1", transferId: "t2" },
  ]);
  assert.equal(done?.status, "REVERSED");
  assert.deepEqual(
    decide(done, { type: "ReversePayment", paymentId: "p1", gateway: "a", reason: "again" }, 9),
    {
      ok: true,
      events: [],
    },
  );
  const pending = run([request("deposit")]);
  assert.deepEqual(
    decide(pending, { type: "ReversePayment", paymentId: "p1", gateway: "a", reason: "x" }, 9),
    {
      ok: false,
      code: "not_reversible",
    },
  );
});

const outcomes: AttemptOutcome[] = [
  "succeeded",
  "declined",
  "pending",
  "error",
  "unavailable",
  "rate_limited",
  "unsupported",
  "timeout_not_executed",
  "unknown",
];

test("property: any command sequence, applied twice, gives the same state; at most one capture", () => {
  const command = fc.oneof(
    fc.constant<PaymentCommand>(request("withdrawal")),
    fc
      .boolean()
      .map<PaymentCommand>((ok) => ({ type: "RecordReservation", paymentId: "p1", ok, transferId: "r" })),
    fc.constantFrom("a", "b", "c").map<PaymentCommand>((gateway) => ({
      type: "StartAttempt",
      paymentId: "p1",
      gateway,
      why: "",
      skipped: [],
    })),
    fc
      .record({ no: fc.integer({ min: 1, max: 4 }), outcome: fc.constantFrom(...outcomes) })
      .map<PaymentCommand>(({ no, outcome }) => ({
        type: "FinishAttempt",
        paymentId: "p1",
        no,
        outcome,
        latencyMs: 1,
      })),
    fc.constantFrom("succeeded", "failed", "not_executed").map<PaymentCommand>((result) => ({
      type: "RecordGatewayResult",
      paymentId: "p1",
      gateway: "a",
      result: result as "succeeded",
    })),
    fc.constant<PaymentCommand>({ type: "GiveUp", paymentId: "p1", reason: "none", skipped: [] }),
    fc.constant<PaymentCommand>({ type: "RecordSettlement", paymentId: "p1", transferId: "t" }),
    fc.constant<PaymentCommand>({ type: "RecordRelease", paymentId: "p1" }),
  );
  fc.assert(
    fc.property(fc.array(command, { maxLength: 30 }), (commands) => {
      let state: PaymentState | undefined;
      let captures = 0;
      for (const c of commands) {
        const once = apply(state, c, 1);
        const twice = once.decision.ok ? apply(once.state, c, 1) : once;
        // Redelivery of the same command changes nothing more.
        assert.deepEqual(twice.state, once.state);
        if (once.decision.ok)
          captures += once.decision.events.filter((e) => e.type === "PaymentCaptured").length;
        state = once.state;
      }
      assert.ok(captures <= 1, "a payment is captured at most once");
      if (state?.status === "SUCCESS") assert.equal(state.stage, "done");
    }),
  );
});
