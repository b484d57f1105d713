/** The identity context's only door: its module and published interface. */
export type { AuthEvent, AuthEventKind } from "./events.ts";
export { authEventKinds } from "./events.ts";
export {
  createConfiguredLoginLimiter,
  type IdentityApi,
  identityConfig,
  identityModule,
  type UserDirectory,
} from "./module.ts";
export type { PublicProfile } from "./profiles/profiles.ts";
export type { PublicUser } from "./service.ts";
export { identityTopics } from "./topics.ts";
