/**
 * The ledger's port for step-up confirmation of large transfers (the identity context's passkeys
 * implement it; the composition root wires it). Asked before a transfer's command is appended: a
 * refusal appends nothing.
 */
export interface TransferStepUp {
  confirm(
    transfer: {
      readonly userId: string;
      readonly transferId: string;
      readonly to: string;
      readonly amount: bigint;
      readonly asset: string;
    },
    assertion:
      | { readonly value: string; readonly protocol: string; readonly host: string | undefined }
      | undefined,
  ): Promise<
    | { readonly ok: true; readonly confirmed: boolean }
    | {
        readonly ok: false;
        readonly code: "step_up_required";
        readonly reason: string;
        readonly detail: string;
      }
  >;
}

export type StepUpAssertion = Parameters<TransferStepUp["confirm"]>[1];
