/**
 * The part of `oidc-provider` (no bundled types; @types/oidc-provider lags the 9.x line) that
 * test/support/oidc-provider.ts uses.
 */
declare module "oidc-provider" {
  import type { IncomingMessage, ServerResponse } from "node:http";

  interface AccountClaims {
    readonly sub: string;
    readonly [claim: string]: unknown;
  }

  interface Account {
    readonly accountId: string;
    claims(): Promise<AccountClaims>;
  }

  export interface Configuration {
    readonly clients?: readonly Record<string, unknown>[];
    readonly jwks?: { readonly keys: readonly Record<string, unknown>[] };
    readonly pkce?: { readonly required?: () => boolean };
    readonly cookies?: { readonly keys?: readonly string[] };
    readonly claims?: Readonly<Record<string, readonly string[]>>;
    readonly conformIdTokenClaims?: boolean;
    readonly responseModes?: readonly string[];
    readonly features?: Readonly<Record<string, unknown>>;
    findAccount?(context: unknown, sub: string): Promise<Account | undefined>;
  }

  export default class Provider {
    constructor(issuer: string, configuration?: Configuration);
    callback(): (request: IncomingMessage, response: ServerResponse) => void;
    on(event: string, listener: (...args: unknown[]) => void): this;
  }
}
