/**
 * Shared setup of the payments end-to-end tests: the real platform with the payments plugin, a
 * fleet of real simulator servers, a signed-in customer with an account.
 */
import { randomUUID } from "node:crypto";
import {
  apiClient,
  startTestPlatform,
  type TestPlatform,
  testAdmin,
} from "../../../test/support/platform.ts";
import { type GatewayFleet, startGatewayFleet } from "../../dev/gateway-simulators/fleet.ts";
import type { GatewayProfileInput } from "../../dev/gateway-simulators/profile.ts";
import { seededRandom, systemClock } from "../../platform/clock.ts";
import type { paymentView } from "../http.ts";
import type { PaymentsOptions, RunningPayments } from "../index.ts";

/** A payment as `GET /v1/payments/{id}` answers it. */
export type PaymentView = ReturnType<typeof paymentView>;

export interface PaymentsHarness {
  readonly tp: TestPlatform;
  readonly fleet: GatewayFleet;
  readonly payments: RunningPayments;
  readonly api: ReturnType<typeof apiClient>;
  readonly admin: ReturnType<ReturnType<typeof apiClient>["as"]>;
  readonly customer: ReturnType<ReturnType<typeof apiClient>["as"]>;
  readonly iban: string;
  stop(): Promise<void>;
}

export function euroGateway(name: string, extra: Partial<GatewayProfileInput> = {}): GatewayProfileInput {
  return {
    name,
    kind: "sepa_instant",
    regions: ["EU"],
    currencies: ["EUR"],
    methods: ["sepa_instant", "bank_transfer"],
    latency: { distribution: "constant", ms: 2 },
    ...extra,
  };
}

export async function startPaymentsHarness(
  profiles: readonly GatewayProfileInput[],
  options: Omit<PaymentsOptions, "seedGateways"> & { readonly alerts?: Record<string, unknown> } = {},
  seed = 42,
  platformOptions: NonNullable<Parameters<typeof startTestPlatform>[1]> & {
    readonly config?: Record<string, unknown>;
  } = {},
): Promise<PaymentsHarness> {
  const fleet = await startGatewayFleet(profiles, { random: seededRandom(seed), clock: systemClock });
  const { alerts, ...paymentsOptions } = options;
  const { config, ...rest } = platformOptions;
  const alertsConfig = alerts === undefined ? {} : { alerts };
  const tp = await startTestPlatform(
    { ...alertsConfig, ...config },
    {
      ...rest,
      payments: { random: seededRandom(seed + 1), ...paymentsOptions, seedGateways: fleet },
    },
  );
  const payments = tp.platform.payments;
  if (!payments) throw new Error("payments did not start");
  const api = apiClient(tp.url);
  const admin = api.as(await api.signIn(testAdmin.username, testAdmin.password));
  const customer = api.as(await api.signUp(`customer-${randomUUID().slice(0, 8)}`));
  const opened = await customer.post("/v1/accounts", { id: randomUUID(), asset: "EUR" });
  if (opened.status !== 201)
    throw new Error(`account not opened: ${opened.status} ${JSON.stringify(opened.body)}`);
  return {
    tp,
    fleet,
    payments,
    api,
    admin,
    customer,
    iban: opened.body.iban as string,
    async stop() {
      await tp.stop();
      await fleet.stop();
    },
  };
}

/** Polls until the payment is final; returns its view. */
export async function finalPayment(
  client: PaymentsHarness["customer"],
  id: string,
  timeoutMs = 30_000,
): Promise<PaymentView> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const got = await client.get(`/v1/payments/${id}`);
    if (got.status === 200 && got.body.stage === "done") return got.body as PaymentView;
    if (Date.now() > until) throw new Error(`payment ${id} not final: ${JSON.stringify(got.body)}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
