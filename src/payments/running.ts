import type pg from "pg";
/** What a started payments module offers (its published interface) and what its edge needs. */
import type { LedgerApi } from "../ledger/index.ts";
import type { Clock } from "../platform/clock.ts";
import type { PreHandler } from "../platform/http/auth.ts";
import type { TopicCodec } from "../platform/log/topic-codecs.ts";
import type { PaymentCommand, PaymentState } from "./domain/types.ts";
import type { PaymentDriver } from "./driver.ts";
import type { PaymentMetrics } from "./metrics.ts";
import type { Orchestrator } from "./orchestrator.ts";
import type { GatewayRegistry } from "./registry.ts";
import type { PaymentStore } from "./store.ts";

/** A running set of gateways this process started (the simulators, a dev tool), if any. */
export interface StartedGateways {
  readonly gateways: readonly {
    readonly name: string;
    readonly url: string;
    readonly callbackSecret: string;
    profile(): {
      readonly regions: readonly string[];
      readonly currencies: readonly string[];
      readonly methods: readonly string[];
      readonly amountMax: string | null;
      readonly rateLimit: { readonly requestsPerSecond: number; readonly burst: number } | null;
    };
  }[];
  stop(): Promise<void>;
}

export interface RunningPayments {
  readonly store: PaymentStore;
  readonly registry: GatewayRegistry;
  readonly orchestrator: Orchestrator;
  readonly driver: PaymentDriver;
  readonly metrics: PaymentMetrics;
  readonly commandCodec: TopicCodec;
  /** Appends a payment command to `payments.commands` (durable once resolved). */
  submit(command: PaymentCommand): Promise<void>;
  /** Waits until the payment is final or `waitMs` passed; the latest state. */
  waitForFinal(paymentId: string, waitMs: number): Promise<PaymentState | undefined>;
  /** Where gateways call back: a URL, or a function read at each payment (the server's address). */
  setCallbackBase(url: string | (() => string | undefined)): void;
  flushAlerts(): Promise<void>;
  stop(): Promise<void>;
}

/** What the payments routes use besides the running payments. */
export interface PaymentsEdgeDeps {
  readonly clock: Clock;
  /** Payment search reads the payments tables directly (its own context's). */
  readonly pool: pg.Pool;
  readonly ledgerHttp: {
    readonly authenticate: PreHandler;
    readonly queries: LedgerApi["queries"];
    readonly waitMsMax: number;
  };
}
