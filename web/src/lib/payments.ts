/**
 * Payments through external gateways (GET /v1/payments/{id}): the shapes the server sends and how
 * to say them in words. Amounts are decimal-integer strings of minor units.
 */
import { get, request } from "./api.ts";

export interface SkippedGateway {
  readonly gateway: string;
  readonly reason: string;
}

export interface PaymentAttempt {
  readonly no: number;
  readonly gateway: string;
  readonly startedAt?: string;
  readonly finishedAt?: string;
  /** succeeded, failed, timed_out… or in_flight while the gateway has not answered. */
  readonly outcome: string;
  readonly latencyMs?: number;
  /** Why the router picked this gateway. */
  readonly why: string;
  /** Gateways the router did not pick for this attempt, with the reason. */
  readonly skipped: readonly SkippedGateway[];
  readonly detail?: string;
}

export type PaymentStatus = "PENDING" | "SUCCESS" | "FAILURE" | "REVERSED";

export interface Payment {
  readonly id: string;
  readonly type: "deposit" | "withdrawal";
  readonly status: PaymentStatus;
  readonly stage?: string;
  readonly iban: string;
  readonly amount: string;
  readonly asset: string;
  readonly region?: string;
  readonly method?: string;
  readonly reason?: string;
  readonly gateway?: string;
  readonly gatewayPaymentId?: string;
  readonly tokenId?: string;
  readonly attempts: readonly PaymentAttempt[];
  readonly createdAt?: string;
  readonly updatedAt?: string;
}

export function isFinal(payment: Pick<Payment, "status">): boolean {
  return payment.status !== "PENDING";
}

export async function fetchPayment(id: string, signal?: AbortSignal): Promise<Payment> {
  return get<Payment>(`/v1/payments/${encodeURIComponent(id)}`, signal);
}

const stageWords: Readonly<Record<string, string>> = {
  requested: "Received, about to start",
  reserving: "Setting the money aside",
  routing: "Choosing a payment gateway",
  awaiting_gateway: "Waiting for the gateway",
  settling: "Booking it on your account",
  releasing: "Releasing the money set aside",
  reversing: "Reversing",
  done: "Done",
};

export function stageInWords(stage: string | undefined): string {
  if (!stage) return "Processing";
  return stageWords[stage] ?? stage.replace(/_/g, " ");
}

export function statusInWords(payment: Pick<Payment, "status" | "type">): string {
  const noun = payment.type === "withdrawal" ? "Withdrawal" : "Deposit";
  switch (payment.status) {
    case "PENDING":
      return `${noun} pending`;
    case "SUCCESS":
      return `${noun} succeeded`;
    case "FAILURE":
      return `${noun} failed`;
    case "REVERSED":
      return `${noun} reversed`;
  }
}

export function outcomeInWords(outcome: string): string {
  const words: Record<string, string> = {
    succeeded: "Succeeded",
    declined: "Declined",
    pending: "Accepted, finishing",
    error: "Gateway error",
    unavailable: "Unreachable",
    rate_limited: "Rate limited",
    unsupported: "Can't serve it",
    timeout_not_executed: "Timed out, not executed",
    unknown: "Timed out, checking status",
    in_flight: "Waiting for an answer",
  };
  return words[outcome] ?? outcome.replace(/_/g, " ");
}

/** Outcomes after which the gateway still owed its answer; the payment's status carries it later. */
const answeredLater = new Set(["pending", "unknown"]);

/**
 * How an attempt ended, in words and tone. The attempt that held the payment when the gateway
 * answered later (callback or status query) ended as the payment did, so say that instead of the
 * stale "Accepted, finishing".
 */
export function attemptResult(
  outcome: string,
  payment: { status: Payment["status"]; held: boolean },
): { words: string; tone: "good" | "warn" | "bad" } {
  if (payment.held && answeredLater.has(outcome) && payment.status !== "PENDING") {
    const settled = payment.status === "SUCCESS";
    return {
      words: `Accepted, then ${settled ? "succeeded" : payment.status === "REVERSED" ? "reversed" : "failed"}`,
      tone: settled ? "good" : "bad",
    };
  }
  if (outcome === "succeeded") return { words: outcomeInWords(outcome), tone: "good" };
  if (outcome === "in_flight" || answeredLater.has(outcome))
    return { words: outcomeInWords(outcome), tone: "warn" };
  return { words: outcomeInWords(outcome), tone: "bad" };
}

export const paymentMethods = [
  { value: "", label: "Any method" },
  { value: "sepa_instant", label: "SEPA Instant" },
  { value: "card", label: "Card" },
  { value: "ewallet", label: "E-wallet" },
  { value: "bank_transfer", label: "Bank transfer" },
] as const;

export interface PaymentRequest {
  readonly id: string;
  readonly type: Payment["type"];
  readonly iban: string;
  readonly amount: string;
  readonly asset: string;
  readonly method?: string;
}

/**
 * Payments being created, by id: the page that follows a payment shows it as pending from the
 * click on, while the POST asks the server to wait up to a second for the outcome (most payments
 * finish within it; a slower one comes back pending, and is stored, so it can be followed).
 */
const creations = new Map<string, { readonly draft: Payment; readonly answer: Promise<Payment> }>();
const createWaitSeconds = 1;

export function createPayment(input: PaymentRequest): void {
  const { type, ...body } = input;
  const draft: Payment = { ...input, status: "PENDING", stage: "requested", attempts: [] };
  const answer = request<Payment>(type === "deposit" ? "/v1/deposits" : "/v1/withdrawals", {
    body,
    waitSeconds: createWaitSeconds,
  }).then((response) => ({ ...draft, ...response.body }));
  creations.set(input.id, { draft, answer });
  // Settled either way once the follower has it; the entry only bridges the navigation.
  answer.catch(() => {}).finally(() => setTimeout(() => creations.delete(input.id), 60_000));
}

export function creationOf(
  id: string,
): { readonly draft: Payment; readonly answer: Promise<Payment> } | undefined {
  return creations.get(id);
}
