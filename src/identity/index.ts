/** The identity context's only door: its module and published interface. */

export type { AuthEvent, AuthEventKind } from "./events.ts";
export { authEventKinds } from "./events.ts";
export { createConfiguredLoginLimiter, type IdentityApi, identityConfig, identityModule } from "./module.ts";
export { identityTopics } from "./topics.ts";
