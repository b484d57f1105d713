/** Every REST route of the ledger, in one encapsulated scope. */
import type { FastifyInstance } from "fastify";
import { accountRoutes } from "./accounts.ts";
import { commandRoutes } from "./commands.ts";
import type { LedgerHttpDeps } from "./common.ts";
import { holdRoutes } from "./holds.ts";
import { operationRoutes } from "./operations.ts";
import { transferRoutes } from "./transfers.ts";

export async function ledgerRoutes(app: FastifyInstance, deps: LedgerHttpDeps): Promise<void> {
  await app.register(async (scope) => {
    await accountRoutes(scope, deps);
    await transferRoutes(scope, deps);
    await holdRoutes(scope, deps);
    await operationRoutes(scope, deps);
    await commandRoutes(scope, deps);
  });
}
