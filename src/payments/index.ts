/** The payments context's only door: its module, published interface, and the gateway callback protocol. */
export {
  createEventDeduplicator,
  signatureHeader,
  signCallback,
  verifyCallbackSignature,
} from "./callback-signature.ts";
export { paymentsConfig } from "./config.ts";
export type { PaymentState } from "./domain/types.ts";
export { paymentTokenId } from "./ledger-port.ts";
export { type PaymentsDeps, type PaymentsOptions, paymentsModule, seedGatewayInputs } from "./module.ts";
export type { RunningPayments, StartedGateways } from "./running.ts";
export { paymentsTopics } from "./topics.ts";
