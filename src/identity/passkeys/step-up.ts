/**
 * Step-up confirmation of large transfers with a passkey. The client asks for options bound to the
 * transfer (id, creditor, amount, asset), has the user's authenticator sign them, and sends the
 * assertion with the transfer (`Passkey-Assertion` header, base64url of the credential's JSON). The
 * ledger asks `confirm` before it appends the command; a confirmed transfer is recorded here (by
 * its id), so an idempotent retry of the same transfer needs no second assertion.
 */
import type {
  AuthenticationResponseJSON,
  PublicKeyCredentialRequestOptionsJSON,
} from "@simplewebauthn/server";
import { generateAuthenticationOptions } from "@simplewebauthn/server";
import {
  bindingOf,
  type RelyingParty,
  relyingPartyOf,
  stepUpNeeded,
  type TransferToConfirm,
} from "./decisions.ts";
import { issueChallenge, type PasskeysDeps, transportsOf, verifyAssertion } from "./service.ts";

export type StepUpDecision =
  | { readonly ok: true; readonly confirmed: boolean }
  | {
      readonly ok: false;
      readonly code: "step_up_required";
      readonly reason: string;
      readonly detail: string;
    };

/** How the assertion arrived: its header value and the request's host (for the relying party). */
export interface StepUpAssertion {
  readonly value: string;
  readonly protocol: string;
  readonly host: string | undefined;
}

export interface StepUp {
  options(transfer: TransferToConfirm, rp: RelyingParty): Promise<PublicKeyCredentialRequestOptionsJSON>;
  /** Whether the transfer may be appended: not large, already confirmed, or confirmed now. */
  confirm(transfer: TransferToConfirm, assertion: StepUpAssertion | undefined): Promise<StepUpDecision>;
}

const assertionHeaderBytesMax = 16 * 1024;

export function createStepUp(deps: PasskeysDeps & { readonly publicUrl: string | undefined }): StepUp {
  const required = (reason: string, detail: string): StepUpDecision => ({
    ok: false,
    code: "step_up_required",
    reason,
    detail,
  });
  return {
    async options(transfer, rp) {
      const passkeys = await deps.store.ofUser(transfer.userId);
      return generateAuthenticationOptions({
        rpID: rp.id,
        challenge: await issueChallenge(deps, "step_up", transfer.userId, bindingOf(transfer)),
        allowCredentials: passkeys.map((p) => ({ id: p.id, transports: transportsOf(p) })),
        userVerification: "preferred",
        timeout: deps.config.challengeTtlMs,
      });
    },
    async confirm(transfer, assertion) {
      if (!stepUpNeeded(deps.config.stepUpAmountMin, transfer.asset, transfer.amount))
        return { ok: true, confirmed: false };
      const binding = bindingOf(transfer);
      const earlier = await deps.store.confirmationOf(transfer.transferId);
      if (earlier !== undefined && earlier.userId === transfer.userId && earlier.binding === binding)
        return { ok: true, confirmed: true };
      const need =
        "Confirm with a passkey: POST /v1/me/passkeys/step-up/options with the transfer, sign the options with navigator.credentials.get, send the credential's JSON (base64url) as the Passkey-Assertion header";
      if (assertion === undefined) return required("assertion_missing", need);
      const refusal = await verifyStepUp(deps, transfer, binding, assertion);
      if (refusal !== undefined) {
        await deps.audit.record({
          kind: "passkey.step_up",
          outcome: "refused",
          userId: transfer.userId,
          reason: refusal,
        });
        return required(refusal, need);
      }
      await deps.audit.record({
        kind: "passkey.step_up",
        outcome: "succeeded",
        userId: transfer.userId,
        reason: transfer.transferId,
      });
      return { ok: true, confirmed: true };
    },
  };
}

/** Undefined when the assertion confirms this transfer (and the confirmation is recorded), else why not. */
async function verifyStepUp(
  deps: PasskeysDeps & { readonly publicUrl: string | undefined },
  transfer: TransferToConfirm,
  binding: string,
  assertion: StepUpAssertion,
): Promise<string | undefined> {
  const rp = relyingPartyOf(deps.publicUrl, { protocol: assertion.protocol, host: assertion.host });
  if (rp === undefined) return "relying_party_unknown";
  const response = parsedAssertion(assertion.value);
  if (response === undefined) return "assertion_malformed";
  const verified = await verifyAssertion(deps, response, rp, "step_up");
  if (!verified.ok) return verified.code;
  if (verified.assertion.userId !== transfer.userId) return "credential_of_another_user";
  if (verified.assertion.binding !== binding) return "challenge_for_another_transfer";
  const recorded = await deps.store.addConfirmation({
    transferId: transfer.transferId,
    userId: transfer.userId,
    credentialId: verified.assertion.credentialId,
    binding,
    confirmedAtMs: deps.clock.nowMs(),
  });
  return recorded ? undefined : "transfer_confirmed_otherwise";
}

function parsedAssertion(value: string): AuthenticationResponseJSON | undefined {
  if (value.length > assertionHeaderBytesMax || !/^[A-Za-z0-9_-]+$/.test(value)) return undefined;
  try {
    const parsed = JSON.parse(Buffer.from(value, "base64url").toString("utf8")) as AuthenticationResponseJSON;
    const response = parsed?.response;
    const strings = [parsed?.id, response?.clientDataJSON, response?.authenticatorData, response?.signature];
    if (parsed?.type !== "public-key" || !strings.every((s) => typeof s === "string")) return undefined;
    return parsed;
  } catch {
    return undefined;
  }
}
