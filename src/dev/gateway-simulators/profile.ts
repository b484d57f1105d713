import { z } from "zod";

/**
 * The behaviour of one simulated gateway. Every field can be changed at runtime through
 * `PUT /admin/profile` (a partial update: top-level fields are replaced whole).
 * Rates are probabilities in [0, 1] drawn per new payment from the simulator's seeded random.
 */

const latencySchema = z.discriminatedUnion("distribution", [
  z
    .object({
      distribution: z.literal("lognormal"),
      p50Ms: z.number().min(0),
      p99Ms: z.number().min(0),
      /** Samples above this are clamped so one unlucky draw cannot stall a test. */
      capMs: z.number().min(0).optional(),
    })
    .strict()
    .refine((l) => l.p99Ms >= l.p50Ms, { message: "p99Ms must be >= p50Ms", path: ["p99Ms"] }),
  z.object({ distribution: z.literal("constant"), ms: z.number().min(0) }).strict(),
]);

const rate = z.number().min(0).max(1);
const decimalMinor = z.string().regex(/^(0|[1-9][0-9]{0,37})$/, "a decimal-integer string of minor units");

export const gatewayKinds = ["card_acquirer", "sepa_instant", "ewallet", "custody_bank"] as const;

const outageWindowSchema = z
  .object({ fromMs: z.number().int().min(0), toMs: z.number().int().min(0) })
  .strict()
  .refine((w) => w.toMs > w.fromMs, { message: "toMs must be > fromMs", path: ["toMs"] });

const profileFields = {
  name: z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/, "lowercase letters, digits and dashes"),
  kind: z.enum(gatewayKinds),
  regions: z.array(z.string().regex(/^[A-Z]{2,8}$/)).min(1),
  currencies: z.array(z.string().regex(/^[A-Z]{3}$/)).min(1),
  methods: z.array(z.string().regex(/^[a-z0-9_]{1,32}$/)).min(1),
  /** Time the gateway takes to answer a new payment. */
  latency: latencySchema,
  /** Share of new payments answered 500 after the latency; nothing is captured or stored. */
  errorRate: rate,
  /**
   * Share of new payments that are accepted and never answered (the socket is held for
   * `timeoutHangMs`, then destroyed). A coin flip decides whether the capture was executed anyway;
   * `GET /payments/:key` tells the truth (found and succeeded, or 404 because it was lost).
   */
  timeoutRate: rate,
  timeoutHangMs: z.number().int().min(0),
  /** Share of new payments answered "pending" and completed after `completionLatency`. */
  pendingRate: rate,
  completionLatency: latencySchema,
  /** Share of payments that end "failed" with reason "declined" (a business outcome, stored). */
  declineRate: rate,
  /** Token bucket over the payment API; null = unlimited. Excess → 429 with Retry-After. */
  rateLimit: z
    .object({ requestsPerSecond: z.number().positive(), burst: z.number().int().min(1) })
    .strict()
    .nullable(),
  /** Scheduled outages, [fromMs, toMs) relative to the simulator's start: everything but /admin → 503. */
  outages: z.array(outageWindowSchema),
  /** Down now, regardless of the schedule. */
  down: z.boolean(),
  /** Largest amount accepted per payment, minor units; null = no limit. */
  amountMax: decimalMinor.nullable(),
};

export const gatewayProfileSchema = z.object(profileFields).strict();
export const gatewayProfilePatchSchema = z.object(profileFields).partial().strict();

export type GatewayProfile = z.infer<typeof gatewayProfileSchema>;
export type GatewayProfilePatch = z.infer<typeof gatewayProfilePatchSchema>;
export type GatewayKind = GatewayProfile["kind"];
export type LatencyDistribution = GatewayProfile["latency"];
export type OutageWindow = GatewayProfile["outages"][number];

/** Fields a caller may leave out when describing a profile; the rest describes the gateway itself. */
export type GatewayProfileInput = Pick<
  GatewayProfile,
  "name" | "kind" | "regions" | "currencies" | "methods"
> &
  Partial<GatewayProfile>;

export const profileDefaults = {
  latency: { distribution: "constant", ms: 0 },
  errorRate: 0,
  timeoutRate: 0,
  timeoutHangMs: 30_000,
  pendingRate: 0,
  completionLatency: { distribution: "constant", ms: 0 },
  declineRate: 0,
  rateLimit: null,
  outages: [],
  down: false,
  amountMax: null,
} as const satisfies Omit<GatewayProfile, "name" | "kind" | "regions" | "currencies" | "methods">;

export type ProfileValidation =
  | { readonly ok: true; readonly profile: GatewayProfile }
  | { readonly ok: false; readonly field: string; readonly detail: string };

/** Fills defaults and validates; a bad profile is the caller's input error, so it is returned. */
export function completeProfile(input: GatewayProfileInput): ProfileValidation {
  return toValidation(gatewayProfileSchema.safeParse({ ...profileDefaults, ...input }));
}

/** Applies a partial update to a valid profile. The name cannot change: it identifies the gateway. */
export function applyProfilePatch(current: GatewayProfile, patch: unknown): ProfileValidation {
  const parsed = gatewayProfilePatchSchema.safeParse(patch);
  if (!parsed.success) return firstIssue(parsed.error);
  if (parsed.data.name !== undefined && parsed.data.name !== current.name) {
    return { ok: false, field: "name", detail: "the name of a running gateway cannot change" };
  }
  return toValidation(gatewayProfileSchema.safeParse({ ...current, ...parsed.data }));
}

function toValidation(result: z.ZodSafeParseResult<GatewayProfile>): ProfileValidation {
  return result.success ? { ok: true, profile: result.data } : firstIssue(result.error);
}

function firstIssue(error: z.ZodError): ProfileValidation {
  const issue = error.issues[0];
  return { ok: false, field: issue?.path.join("/") ?? "", detail: issue?.message ?? "invalid profile" };
}
