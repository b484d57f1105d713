/** The tokens context's only door: its module and published interface. */
export {
  loadOrCreateChainKey,
  type TokensDeps,
  type TokensOptions,
  tokensConfig,
  tokensModule,
} from "./module.ts";
export type { RunningTokens } from "./running.ts";
export { tokensTopics } from "./topics.ts";
