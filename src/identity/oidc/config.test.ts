import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { loadConfig } from "../../app/config.ts";
import { isAllowedIssuer, resolveProviders } from "./config.ts";

describe("OpenID Connect provider configuration", () => {
  test("presets fill in issuer, scopes and response mode; secrets come from their own variable", () => {
    const config = loadConfig({
      LEDGERFLOW_OIDC_PROVIDERS: JSON.stringify([
        { id: "google", preset: "google", clientId: "g" },
        { id: "microsoft", preset: "microsoft", clientId: "m" },
        { id: "work", preset: "microsoft", tenant: "contoso.onmicrosoft.com", clientId: "w" },
        { id: "apple", preset: "apple", clientId: "a" },
        {
          id: "corp",
          issuer: "https://sso.example.com/realms/staff",
          clientId: "c",
          displayName: "Staff SSO",
        },
      ]),
      LEDGERFLOW_OIDC_CLIENT_SECRETS: JSON.stringify({
        google: "s1",
        microsoft: "s2",
        work: "s3",
        apple: "s4",
        corp: "s5",
      }),
    });
    const resolved = resolveProviders(config.oidc);
    assert.deepEqual(
      resolved.map(({ id, issuer, scopes, responseMode, displayName }) => ({
        id,
        issuer,
        scopes,
        responseMode,
        displayName,
      })),
      [
        {
          id: "google",
          issuer: "https://accounts.google.com",
          scopes: ["openid", "email", "profile"],
          responseMode: "query",
          displayName: "Google",
        },
        {
          id: "microsoft",
          issuer: "https://login.microsoftonline.com/common/v2.0",
          scopes: ["openid", "email", "profile"],
          responseMode: "query",
          displayName: "Microsoft",
        },
        {
          id: "work",
          issuer: "https://login.microsoftonline.com/contoso.onmicrosoft.com/v2.0",
          scopes: ["openid", "email", "profile"],
          responseMode: "query",
          displayName: "Microsoft",
        },
        {
          id: "apple",
          issuer: "https://appleid.apple.com",
          scopes: ["openid", "email", "name"],
          responseMode: "form_post",
          displayName: "Apple",
        },
        {
          id: "corp",
          issuer: "https://sso.example.com/realms/staff",
          scopes: ["openid", "email", "profile"],
          responseMode: "query",
          displayName: "Staff SSO",
        },
      ],
    );
    assert.equal(resolved[0]?.clientSecret, "s1");
  });

  test("a provider without a secret, or with neither issuer nor preset, stops the start", () => {
    const noSecret = loadConfig({
      LEDGERFLOW_OIDC_PROVIDERS: '[{"id":"google","preset":"google","clientId":"g"}]',
    });
    assert.throws(() => resolveProviders(noSecret.oidc), /no client secret/);
    assert.throws(() => loadConfig({ LEDGERFLOW_OIDC_PROVIDERS: '[{"id":"x","clientId":"g"}]' }), /issuer/);
    assert.throws(
      () =>
        loadConfig({
          LEDGERFLOW_OIDC_PROVIDERS:
            '[{"id":"a","preset":"apple","clientId":"1"},{"id":"a","preset":"google","clientId":"2"}]',
        }),
      /unique/,
    );
  });

  test("issuers are https; plain http only on loopback", () => {
    assert.equal(isAllowedIssuer("https://accounts.google.com"), true);
    assert.equal(isAllowedIssuer("http://127.0.0.1:4000"), true);
    assert.equal(isAllowedIssuer("http://localhost:4000"), true);
    assert.equal(isAllowedIssuer("http://idp.example.com"), false);
    const config = loadConfig({
      LEDGERFLOW_OIDC_PROVIDERS: '[{"id":"plain","issuer":"http://idp.example.com","clientId":"c"}]',
      LEDGERFLOW_OIDC_CLIENT_SECRETS: '{"plain":"s"}',
    });
    assert.throws(() => resolveProviders(config.oidc), /https/);
  });
});
