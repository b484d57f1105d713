/**
 * What one simulated gateway remembers for its lifetime: payments by idempotency key and the
 * captures it executed. In memory on purpose (it is a simulator); tests read the captures to prove
 * that no payment was executed twice.
 */

export type Direction = "payin" | "payout";
/** "reversed": a succeeded payment later returned or charged back (triggered through the admin API). */
export type PaymentStatus = "pending" | "succeeded" | "failed" | "reversed";

/** A validated `POST /payments` body. */
export interface PaymentRequest {
  readonly paymentId: string;
  readonly amount: bigint;
  readonly currency: string;
  readonly direction: Direction;
  readonly method?: string;
  readonly account?: string;
  readonly iban?: string;
  readonly region?: string;
  readonly callbackUrl?: string;
}

export interface PaymentRecord {
  readonly gatewayPaymentId: string;
  readonly idempotencyKey: string;
  readonly request: PaymentRequest;
  /** Canonical form of the request: a replay must match it exactly. */
  readonly fingerprint: string;
  readonly createdAtMs: number;
  status: PaymentStatus;
  reason?: string;
  completedAtMs?: number;
  reversedAtMs?: number;
  /** Resolves once the first request has been processed (its outcome is known). */
  settled: Promise<void>;
}

export interface Capture {
  readonly gatewayPaymentId: string;
  readonly paymentId: string;
  readonly idempotencyKey: string;
  readonly amount: string;
  readonly currency: string;
  readonly direction: Direction;
  readonly capturedAt: string;
}

export interface CapturesReport {
  readonly gateway: string;
  readonly total: number;
  readonly captures: readonly Capture[];
  /** How many times each paymentId was captured here; anything above 1 is a double capture. */
  readonly countsByPaymentId: Readonly<Record<string, number>>;
  readonly duplicates: readonly string[];
}

/** JSON shape of a payment in every answer of the gateway API. */
export interface PaymentView {
  readonly gatewayPaymentId: string;
  readonly paymentId: string;
  readonly idempotencyKey: string;
  readonly gateway: string;
  readonly status: PaymentStatus;
  readonly reason?: string;
  readonly amount: string;
  readonly currency: string;
  readonly direction: Direction;
  readonly method?: string;
  readonly createdAt: string;
  readonly completedAt?: string;
  readonly reversedAt?: string;
}

/**
 * JSON shape of a voided idempotency key: the gateway promised that no payment will ever execute
 * under it (see `POST /payments/:idempotencyKey/void` in server.ts).
 */
export interface VoidedView {
  readonly idempotencyKey: string;
  readonly gateway: string;
  readonly status: "voided";
  readonly voidedAt: string;
}

export function fingerprintOf(request: PaymentRequest): string {
  // Fixed field order, absent fields as null: two requests are "the same" exactly when this matches.
  return JSON.stringify([
    request.paymentId,
    request.amount.toString(),
    request.currency,
    request.direction,
    request.method ?? null,
    request.account ?? null,
    request.iban ?? null,
    request.region ?? null,
    request.callbackUrl ?? null,
  ]);
}

function captureOf(record: PaymentRecord, atMs: number): Capture {
  const { request } = record;
  return {
    gatewayPaymentId: record.gatewayPaymentId,
    paymentId: request.paymentId,
    idempotencyKey: record.idempotencyKey,
    amount: request.amount.toString(),
    currency: request.currency,
    direction: request.direction,
    capturedAt: new Date(atMs).toISOString(),
  };
}

function paymentView(gateway: string, record: PaymentRecord): PaymentView {
  const { request } = record;
  return {
    gatewayPaymentId: record.gatewayPaymentId,
    paymentId: request.paymentId,
    idempotencyKey: record.idempotencyKey,
    gateway,
    status: record.status,
    ...(record.reason === undefined ? {} : { reason: record.reason }),
    amount: request.amount.toString(),
    currency: request.currency,
    direction: request.direction,
    ...(request.method === undefined ? {} : { method: request.method }),
    createdAt: new Date(record.createdAtMs).toISOString(),
    ...(record.completedAtMs === undefined
      ? {}
      : { completedAt: new Date(record.completedAtMs).toISOString() }),
    ...(record.reversedAtMs === undefined ? {} : { reversedAt: new Date(record.reversedAtMs).toISOString() }),
  };
}

export function createPaymentStore(gateway: string) {
  const byKey = new Map<string, PaymentRecord>();
  const keysByPaymentId = new Map<string, Set<string>>();
  const captures: Capture[] = [];
  const captureCounts = new Map<string, number>();
  /** Voided keys and when: a later request with one of them is refused, never executed. */
  const voidedAtMs = new Map<string, number>();

  return {
    byKey(idempotencyKey: string): PaymentRecord | undefined {
      return byKey.get(idempotencyKey);
    },

    byPaymentId(paymentId: string): readonly PaymentRecord[] {
      const keys = keysByPaymentId.get(paymentId) ?? new Set<string>();
      return [...keys].flatMap((key) => byKey.get(key) ?? []);
    },

    /**
     * Query-then-void in one synchronous step (nothing can land between the two): the payment
     * under this key if there is one, otherwise the key is voided for good.
     */
    voidKey(idempotencyKey: string, atMs: number): PaymentRecord | VoidedView {
      const record = byKey.get(idempotencyKey);
      if (record !== undefined) return record;
      if (!voidedAtMs.has(idempotencyKey)) voidedAtMs.set(idempotencyKey, atMs);
      return this.voided(idempotencyKey) as VoidedView;
    },

    voided(idempotencyKey: string): VoidedView | undefined {
      const atMs = voidedAtMs.get(idempotencyKey);
      if (atMs === undefined) return undefined;
      return { idempotencyKey, gateway, status: "voided", voidedAt: new Date(atMs).toISOString() };
    },

    add(record: PaymentRecord): void {
      byKey.set(record.idempotencyKey, record);
      const keys = keysByPaymentId.get(record.request.paymentId) ?? new Set<string>();
      keys.add(record.idempotencyKey);
      keysByPaymentId.set(record.request.paymentId, keys);
    },

    /** Drops a record whose request never took effect (5xx, or lost in a timeout). */
    forget(record: PaymentRecord): void {
      if (byKey.get(record.idempotencyKey) !== record) return;
      byKey.delete(record.idempotencyKey);
      keysByPaymentId.get(record.request.paymentId)?.delete(record.idempotencyKey);
    },

    /** Records the money movement. Called once per record, when it succeeds. */
    capture(record: PaymentRecord, atMs: number): void {
      const { paymentId } = record.request;
      captures.push(captureOf(record, atMs));
      captureCounts.set(paymentId, (captureCounts.get(paymentId) ?? 0) + 1);
    },

    capturesReport(): CapturesReport {
      const countsByPaymentId = Object.fromEntries(captureCounts);
      const duplicates = [...captureCounts].filter(([, count]) => count > 1).map(([paymentId]) => paymentId);
      return { gateway, total: captures.length, captures: [...captures], countsByPaymentId, duplicates };
    },

    view(record: PaymentRecord): PaymentView {
      return paymentView(gateway, record);
    },
  };
}

export type PaymentStore = ReturnType<typeof createPaymentStore>;
