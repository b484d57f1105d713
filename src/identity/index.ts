/** The identity context's only door: its module and published interface. */
export { createConfiguredLoginLimiter, type IdentityApi, identityConfig, identityModule } from "./module.ts";
