/**
 * Sign-in with OpenID Connect providers: the `oidc` configuration section and the presets of the
 * "social login" providers. A preset only fills in the issuer, the scopes and the response mode;
 * the client id and secret are always the operator's (README "Sign-in with OpenID Connect").
 */
import { z } from "zod";
import { positiveInt } from "../../platform/config.ts";

export const providerIdPattern = /^[a-z0-9][a-z0-9-]{0,31}$/;

const presetNames = ["google", "microsoft", "apple"] as const;
export type PresetName = (typeof presetNames)[number];

const providerEntry = z
  .strictObject({
    /** Names the provider in URLs (`/v1/auth/oidc/{id}/start`) and in the sign-in page. */
    id: z.string().regex(providerIdPattern),
    preset: z.enum(presetNames).optional(),
    /** Required without a preset. Must be https, except on loopback (development, tests). */
    issuer: z.string().url().optional(),
    /**
     * Microsoft preset: `common` (default: work, school and personal accounts), `organizations`,
     * `consumers`, or one directory (tenant) id.
     */
    tenant: z
      .string()
      .regex(/^[A-Za-z0-9.-]{1,64}$/)
      .optional(),
    clientId: z.string().min(1).max(512),
    /** Besides `openid`; the preset's when unset. */
    scopes: z
      .array(z.string().regex(/^[\x21\x23-\x5B\x5D-\x7E]{1,64}$/))
      .max(16)
      .optional(),
    /** How the provider answers the callback (default: the preset's, else `query`). */
    responseMode: z.enum(["query", "form_post"]).optional(),
    /** The button text on the sign-in page (default: the preset's name or the id). */
    displayName: z.string().min(1).max(64).optional(),
  })
  .refine((entry) => entry.issuer !== undefined || entry.preset !== undefined, {
    message: "an issuer, or a preset that names one",
  });

export type ProviderEntry = z.infer<typeof providerEntry>;

/** A JSON value from an environment variable (a string) or from code (already parsed). */
function json<T extends z.ZodType>(schema: T) {
  return z.preprocess((value) => {
    if (typeof value !== "string") return value;
    try {
      return JSON.parse(value);
    } catch {
      return value;
    }
  }, schema);
}

export const oidcConfig = {
  sections: {
    oidc: z.object({
      /** `LEDGERFLOW_OIDC_PROVIDERS`: a JSON list of providers (no secrets in it). */
      providers: json(
        z
          .array(providerEntry)
          .max(32)
          .refine((list) => new Set(list.map((entry) => entry.id)).size === list.length, {
            message: "provider ids must be unique",
          }),
      ).default([]),
      /**
       * `LEDGERFLOW_OIDC_CLIENT_SECRETS`: a JSON object, provider id → client secret. A secret: no
       * default, never logged; every configured provider needs one.
       */
      clientSecrets: json(
        z.record(z.string().regex(providerIdPattern), z.string().min(1).max(4096)),
      ).optional(),
      /** How long a started sign-in may take at the provider before its state is forgotten. */
      flowTtlMs: positiveInt.max(60 * 60 * 1000).default(10 * 60 * 1000),
      /** How long the web app has to exchange the one-time sign-in ticket for tokens. */
      ticketTtlMs: positiveInt.max(10 * 60 * 1000).default(60 * 1000),
      /** Discovery, token and userinfo requests to a provider give up after this long. */
      httpTimeoutMs: positiveInt.max(60_000).default(10_000),
      /** Accepted clock difference when checking a provider's ID token (iat, exp). */
      clockToleranceSeconds: z.coerce.number().int().min(0).max(300).default(30),
    }),
  },
  env: {
    LEDGERFLOW_OIDC_PROVIDERS: ["oidc", "providers"],
    LEDGERFLOW_OIDC_CLIENT_SECRETS: ["oidc", "clientSecrets"],
    LEDGERFLOW_OIDC_FLOW_TTL_MS: ["oidc", "flowTtlMs"],
    LEDGERFLOW_OIDC_TICKET_TTL_MS: ["oidc", "ticketTtlMs"],
    LEDGERFLOW_OIDC_HTTP_TIMEOUT_MS: ["oidc", "httpTimeoutMs"],
    LEDGERFLOW_OIDC_CLOCK_TOLERANCE_SECONDS: ["oidc", "clockToleranceSeconds"],
  },
} as const;

export type OidcConfig = z.infer<typeof oidcConfig.sections.oidc>;

/** What a configured provider resolves to once its preset is applied. */
export interface ResolvedProvider {
  readonly id: string;
  readonly displayName: string;
  readonly issuer: string;
  readonly clientId: string;
  readonly clientSecret: string;
  readonly scopes: readonly string[];
  /**
   * Apple answers with an HTML form POSTed to the callback (`form_post`) whenever the name or
   * email scope is asked for; the others redirect with the code in the query.
   */
  readonly responseMode: "query" | "form_post";
}

interface Preset {
  readonly displayName: string;
  readonly issuer: (entry: ProviderEntry) => string;
  readonly scopes: readonly string[];
  readonly responseMode: "query" | "form_post";
}

export const presets: Readonly<Record<PresetName, Preset>> = {
  google: {
    displayName: "Google",
    issuer: () => "https://accounts.google.com",
    scopes: ["email", "profile"],
    responseMode: "query",
  },
  microsoft: {
    displayName: "Microsoft",
    // For the multi-tenant endpoints (`common`, `organizations`, `consumers`) each token's issuer
    // names the user's tenant; openid-client checks it against the token's `tid` claim. Identities
    // are keyed by that issuer and the subject, so two tenants' users never meet.
    issuer: (entry) => `https://login.microsoftonline.com/${entry.tenant ?? "common"}/v2.0`,
    scopes: ["email", "profile"],
    responseMode: "query",
  },
  apple: {
    displayName: "Apple",
    issuer: () => "https://appleid.apple.com",
    scopes: ["email", "name"],
    responseMode: "form_post",
  },
};

/** Applies presets and secrets; throws (at start) when a provider has no secret. */
export function resolveProviders(config: OidcConfig): ResolvedProvider[] {
  return config.providers.map((entry) => {
    const secret = config.clientSecrets?.[entry.id];
    if (secret === undefined)
      throw new Error(`oidc provider ${entry.id}: no client secret (LEDGERFLOW_OIDC_CLIENT_SECRETS)`);
    const preset = entry.preset === undefined ? undefined : presets[entry.preset];
    const issuer = entry.issuer ?? preset?.issuer(entry);
    if (issuer === undefined) throw new Error(`oidc provider ${entry.id}: no issuer`);
    if (!isAllowedIssuer(issuer))
      throw new Error(`oidc provider ${entry.id}: the issuer must be https (http only on loopback)`);
    return {
      id: entry.id,
      displayName: entry.displayName ?? preset?.displayName ?? entry.id,
      issuer,
      clientId: entry.clientId,
      clientSecret: secret,
      scopes: ["openid", ...(entry.scopes ?? preset?.scopes ?? ["email", "profile"])],
      responseMode: entry.responseMode ?? preset?.responseMode ?? "query",
    };
  });
}

/** https everywhere; plain http only to this machine (a development or test provider). */
export function isAllowedIssuer(issuer: string): boolean {
  const url = new URL(issuer);
  return url.protocol === "https:" || (url.protocol === "http:" && isLoopbackHost(url.hostname));
}

export function isLoopbackHost(hostname: string): boolean {
  return hostname === "127.0.0.1" || hostname === "localhost" || hostname === "[::1]";
}
