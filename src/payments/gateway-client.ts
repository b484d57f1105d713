/**
 * The gateway port over HTTP (the simulators' contract, see simulators/server.ts): create a payment
 * with an idempotency key, ask its status by key. Answers are classified by what they prove about
 * money: a refusal (4xx/5xx before capture, refused connection) proves nothing moved, so going
 * elsewhere is safe; a timeout or a broken connection proves nothing, so the status must be asked.
 * A "not found" proves nothing either (the original may still be on its way and execute after the
 * answer): only a void acknowledged by the gateway ("voided") proves the payment never will.
 */

export interface GatewayPaymentRequest {
  readonly paymentId: string;
  readonly amount: bigint;
  readonly currency: string;
  readonly direction: "payin" | "payout";
  readonly iban: string;
  readonly method?: string;
  readonly region?: string;
  readonly callbackUrl?: string;
}

export type CallResult =
  | {
      readonly kind: "answered";
      readonly outcome: "succeeded" | "declined" | "pending";
      readonly gatewayPaymentId: string;
      readonly detail?: string;
    }
  | {
      readonly kind: "refused";
      readonly outcome: "error" | "unavailable" | "rate_limited" | "unsupported";
      readonly detail: string;
      /** Counts against the gateway's health and breaker (a 422 or 429 does not). */
      readonly fault: boolean;
      readonly retryAfterMs?: number;
    }
  /** The request may or may not have taken effect. */
  | { readonly kind: "ambiguous"; readonly detail: string };

export type StatusResult =
  | {
      readonly kind: "found";
      readonly status: "succeeded" | "failed" | "pending" | "reversed";
      readonly gatewayPaymentId: string;
      readonly reason?: string;
    }
  /** The gateway has no payment under the key *yet*: proves nothing about a request in transit. */
  | { readonly kind: "not_found" }
  /** The gateway voided the key: nothing executed under it and nothing ever will. */
  | { readonly kind: "voided" }
  | { readonly kind: "unknown"; readonly detail: string };

interface PaymentViewBody {
  gatewayPaymentId?: string;
  status?: string;
  reason?: string;
  code?: string;
  detail?: string;
  retryAfterMs?: number;
}

/** Connection errors that prove the request never reached the gateway. */
const neverSentCodes = new Set(["ECONNREFUSED", "ENOTFOUND", "EAI_AGAIN", "EHOSTUNREACH", "ENETUNREACH"]);

function causeCode(error: unknown): string | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < 4 && current instanceof Error; depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === "string") return code;
    current = current.cause;
  }
  return undefined;
}

export async function createGatewayPayment(
  url: string,
  request: GatewayPaymentRequest,
  idempotencyKey: string,
  signal: AbortSignal,
): Promise<CallResult> {
  let response: Response;
  try {
    response = await fetch(`${url}/payments`, {
      method: "POST",
      headers: { "content-type": "application/json", "idempotency-key": idempotencyKey },
      body: JSON.stringify({
        paymentId: request.paymentId,
        amount: request.amount.toString(),
        currency: request.currency,
        direction: request.direction,
        iban: request.iban,
        ...(request.method === undefined ? {} : { method: request.method }),
        ...(request.region === undefined ? {} : { region: request.region }),
        ...(request.callbackUrl === undefined ? {} : { callbackUrl: request.callbackUrl }),
      }),
      signal,
    });
  } catch (error) {
    if (signal.aborted) return { kind: "ambiguous", detail: "timed out" };
    const code = causeCode(error);
    if (code !== undefined && neverSentCodes.has(code))
      return { kind: "refused", outcome: "unavailable", detail: `connection failed (${code})`, fault: true };
    return { kind: "ambiguous", detail: `connection broke (${code ?? "unknown"})` };
  }
  let body: PaymentViewBody;
  try {
    body = (await response.json()) as PaymentViewBody;
  } catch {
    if (signal.aborted) return { kind: "ambiguous", detail: "timed out" };
    return response.status >= 500
      ? { kind: "refused", outcome: "error", detail: `HTTP ${response.status}`, fault: true }
      : { kind: "ambiguous", detail: `unreadable answer (HTTP ${response.status})` };
  }
  const status = response.status;
  if (status === 200 || status === 201) {
    const gatewayPaymentId = body.gatewayPaymentId ?? "";
    if (body.status === "succeeded") return { kind: "answered", outcome: "succeeded", gatewayPaymentId };
    if (body.status === "failed")
      return { kind: "answered", outcome: "declined", gatewayPaymentId, detail: body.reason ?? "declined" };
    if (body.status === "pending") return { kind: "answered", outcome: "pending", gatewayPaymentId };
    if (body.status === "voided")
      return { kind: "refused", outcome: "error", detail: "key voided at the gateway", fault: false };
    return { kind: "ambiguous", detail: `unexpected status ${body.status}` };
  }
  const detail = `HTTP ${status} ${body.code ?? ""}`.trim();
  if (status === 422) return { kind: "refused", outcome: "unsupported", detail, fault: false };
  if (status === 429)
    return {
      kind: "refused",
      outcome: "rate_limited",
      detail,
      fault: false,
      ...(typeof body.retryAfterMs === "number" ? { retryAfterMs: body.retryAfterMs } : {}),
    };
  if (status === 503) return { kind: "refused", outcome: "unavailable", detail, fault: true };
  if (status >= 500) return { kind: "refused", outcome: "error", detail, fault: true };
  // 409 (key reused with another body) or another 4xx: we cannot tell what the gateway holds.
  return { kind: "ambiguous", detail };
}

/** A 200 answer of a status query or a void, as what it proves. */
function statusOf(body: PaymentViewBody): StatusResult {
  const status = body.status;
  if (status === "voided") return { kind: "voided" };
  if (status === "succeeded" || status === "failed" || status === "pending" || status === "reversed") {
    return {
      kind: "found",
      status,
      gatewayPaymentId: body.gatewayPaymentId ?? "",
      ...(body.reason === undefined ? {} : { reason: body.reason }),
    };
  }
  return { kind: "unknown", detail: `unexpected status ${String(status)}` };
}

export async function gatewayPaymentStatus(
  url: string,
  idempotencyKey: string,
  timeoutMs: number,
): Promise<StatusResult> {
  try {
    const response = await fetch(`${url}/payments/${encodeURIComponent(idempotencyKey)}`, {
      signal: AbortSignal.timeout(timeoutMs),
    });
    const body = (await response.json().catch(() => ({}))) as PaymentViewBody;
    if (response.status === 404) return { kind: "not_found" };
    if (response.status !== 200) return { kind: "unknown", detail: `HTTP ${response.status}` };
    return statusOf(body);
  } catch (error) {
    return { kind: "unknown", detail: `status check failed (${causeCode(error) ?? "timeout"})` };
  }
}

/**
 * Query-then-void (`POST /payments/<key>/void`): the payment under the key if the gateway has one,
 * otherwise "voided", after which the gateway refuses the key for good. Never "not_found".
 */
export async function voidGatewayPayment(
  url: string,
  idempotencyKey: string,
  timeoutMs: number,
): Promise<StatusResult> {
  try {
    const response = await fetch(`${url}/payments/${encodeURIComponent(idempotencyKey)}/void`, {
      method: "POST",
      signal: AbortSignal.timeout(timeoutMs),
    });
    const body = (await response.json().catch(() => ({}))) as PaymentViewBody;
    if (response.status !== 200) return { kind: "unknown", detail: `void: HTTP ${response.status}` };
    return statusOf(body);
  } catch (error) {
    return { kind: "unknown", detail: `void failed (${causeCode(error) ?? "timeout"})` };
  }
}
