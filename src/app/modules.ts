/** Every context module, in start order (a module starts after those whose interface it uses). */
import { communityModule } from "../community/index.ts";
import { identityModule } from "../identity/index.ts";
import { insightsModule } from "../insights/index.ts";
import { ledgerModule } from "../ledger/index.ts";
import { notificationsModule } from "../notifications/index.ts";
import { paymentsModule } from "../payments/index.ts";
import { riskModule } from "../risk/index.ts";
import { tokensModule } from "../tokens/index.ts";

export const modules = [
  identityModule,
  riskModule,
  ledgerModule,
  paymentsModule,
  tokensModule,
  notificationsModule,
  insightsModule,
  communityModule,
] as const;

/** Every module's migrations, for `migrate(pool, moduleMigrations)`. */
export const moduleMigrations: readonly string[] = modules.flatMap((module) => module.migrations);
