/** The identity context's only door: its module and published interface. */
export {
  createConfiguredLoginLimiter,
  type IdentityApi,
  identityConfig,
  identityModule,
  type UserDirectory,
} from "./module.ts";
export type { PublicUser } from "./service.ts";
