/**
 * Passkeys in the browser through SimpleWebAuthn's browser library: the server hands out the
 * options (a fresh, single-use challenge), the browser's authenticator answers, the server verifies.
 */
import {
  browserSupportsWebAuthn,
  type PublicKeyCredentialCreationOptionsJSON,
  type PublicKeyCredentialRequestOptionsJSON,
  startAuthentication,
  startRegistration,
} from "@simplewebauthn/browser";
import { request } from "./api.ts";

export const passkeysSupported = (): boolean => browserSupportsWebAuthn();

/** Creates a passkey for the signed-in user and stores it on the server. */
export async function addPasskey(): Promise<void> {
  const { body: optionsJSON } = await request<PublicKeyCredentialCreationOptionsJSON>(
    "/v1/me/passkeys/options",
    {
      method: "POST",
      body: {},
    },
  );
  const credential = await startRegistration({ optionsJSON });
  await request("/v1/me/passkeys", { method: "POST", body: credential });
}

/** Signs in with any passkey of this site; the answer is a login answer (refresh token as a cookie). */
export async function signInWithPasskey<T>(): Promise<T> {
  const { body: optionsJSON } = await request<PublicKeyCredentialRequestOptionsJSON>(
    "/v1/auth/passkeys/options",
    {
      method: "POST",
      body: {},
      anonymous: true,
    },
  );
  const credential = await startAuthentication({ optionsJSON });
  const { body } = await request<T>("/v1/auth/passkeys/verify", {
    body: { credential, refreshTokenIn: "cookie" },
    anonymous: true,
  });
  return body;
}

/**
 * Step-up for a large transfer: a passkey assertion over a challenge bound to exactly this transfer
 * (id, payee, amount, asset), returned as the `Passkey-Assertion` header value (base64url JSON).
 */
export async function confirmTransferWithPasskey(transfer: {
  transferId: string;
  to: string;
  amount: string;
  asset: string;
}): Promise<string> {
  const { body: optionsJSON } = await request<PublicKeyCredentialRequestOptionsJSON>(
    "/v1/me/passkeys/step-up/options",
    { method: "POST", body: transfer },
  );
  const credential = await startAuthentication({ optionsJSON });
  const bytes = new TextEncoder().encode(JSON.stringify(credential));
  let binary = "";
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
}
