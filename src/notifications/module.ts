/**
 * The notifications module: a per-user inbox of the movements each user should hear of (money sent,
 * received, paid in or out, holds), projected from the ledger's published outcomes into its own
 * table (consumer group `notifications-inbox`, where projections run), read and marked over REST,
 * and pushed live (a consumer per notifier process, from now on) to in-process listeners such as
 * the GraphQL `notificationAdded` subscription.
 */
import { join } from "node:path";
import type pg from "pg";
import type pino from "pino";
import { z } from "zod";
import { type LedgerApi, outcomeFromAvro, systemOwnerPrefix } from "../ledger/index.ts";
import type { IdGenerator } from "../platform/clock.ts";
import { positiveInt } from "../platform/config.ts";
import { derivedUuid } from "../platform/derived-uuid.ts";
import type { PreHandler } from "../platform/http/auth.ts";
import { runConsumer } from "../platform/log/consumer.ts";
import type { Log, LogRecord } from "../platform/log/port.ts";
import { type ConfigSection, type LedgerflowModule, stopper } from "../platform/module.ts";
import { entriesOf, type InboxEntry } from "./domain/entries.ts";
import { inboxRoutes } from "./http.ts";
import { createInboxStore } from "./store.ts";

export const notificationsConfig = {
  sections: {
    notifications: z.object({
      /** Largest page of GET /v1/notifications. */
      pageSizeMax: positiveInt.max(500).default(100),
      /** Most ids one POST /v1/notifications/read may name. */
      markReadIdsMax: positiveInt.max(1_000).default(100),
      /** Outcomes the projection (and each live feed) takes per fetch. */
      batchSizeMax: positiveInt.max(20_000).default(2_000),
    }),
  },
  env: {
    LEDGERFLOW_NOTIFICATIONS_PAGE_SIZE_MAX: ["notifications", "pageSizeMax"],
  },
} as const satisfies ConfigSection;

export type NotificationsConfig = z.infer<typeof notificationsConfig.sections.notifications>;

export interface NotificationsDeps {
  readonly config: NotificationsConfig;
  readonly pool: pg.Pool;
  readonly log: Log;
  readonly ids: IdGenerator;
  readonly logger: pino.Logger;
  readonly authenticate: PreHandler;
  readonly ledger: Pick<LedgerApi, "codecs" | "queries">;
}

/** What edges use: live entries for one user (needs the notifier ability in this process). */
export interface InboxApi {
  onNotification(userId: string, listener: (entry: InboxEntry) => void): () => void;
}

/** In-process fan-out of new entries to each user's listeners. */
class InboxHub implements InboxApi {
  readonly #listeners = new Map<string, Set<(entry: InboxEntry) => void>>();
  onNotification(userId: string, listener: (entry: InboxEntry) => void): () => void {
    const set = this.#listeners.get(userId) ?? new Set();
    this.#listeners.set(userId, set);
    set.add(listener);
    return () => {
      set.delete(listener);
      if (set.size === 0) this.#listeners.delete(userId);
    };
  }
  get idle(): boolean {
    return this.#listeners.size === 0;
  }
  deliver(entries: readonly InboxEntry[]): void {
    for (const entry of entries)
      for (const listener of this.#listeners.get(entry.userId) ?? []) listener(entry);
  }
}

/** Turns outcome records into inbox entries, looking up (cached) account owners. */
function entryReader(ledger: NotificationsDeps["ledger"]) {
  const customer = async (iban: string) => {
    const owner = await ledger.queries.ownerOfIban(iban);
    return owner === undefined || owner.startsWith(systemOwnerPrefix) ? undefined : owner;
  };
  return async (records: readonly LogRecord[]): Promise<InboxEntry[]> => {
    const entries: InboxEntry[] = [];
    for (const record of records) {
      const envelope = outcomeFromAvro(ledger.codecs.outcomes.decode(record.value));
      const outcome = envelope.outcome;
      if (outcome.type !== "MoneyTransferConfirmed") continue;
      const [debitOwner, creditOwner] = await Promise.all([
        customer(outcome.debitIban),
        customer(outcome.creditIban),
      ]);
      const movement = { ...outcome, commandId: envelope.commandId, atMs: envelope.atMs };
      entries.push(...entriesOf(movement, { debitOwner, creditOwner }, derivedUuid));
    }
    return entries;
  };
}

export const notificationsModule: LedgerflowModule<NotificationsDeps, InboxApi> = {
  name: "notifications",
  config: notificationsConfig,
  migrations: [join(import.meta.dirname, "migrations")],
  topics: {},
  async start(deps, run) {
    const { config, log, logger } = deps;
    const stops = stopper((error) => logger.warn({ err: error }, "notifications stop"));
    const store = createInboxStore(deps.pool);
    const hub = new InboxHub();
    const read = entryReader(deps.ledger);
    const topic = deps.ledger.codecs.outcomes.topic;
    const running: string[] = [];
    try {
      if (run.abilities.projections) {
        const projection = await runConsumer(log, {
          groupId: "notifications-inbox",
          topics: [topic],
          batchSizeMax: config.batchSizeMax,
          fetchWaitMaxMs: 50,
          retry: { attemptsMax: 5, backoffBaseMs: 100, backoffMaxMs: 10_000 },
          handle: async (records) => void (await store.add(await read(records))),
          onDeadLetter: (record, error) =>
            logger.error({ err: error, offset: String(record.offset) }, "notification dead-lettered"),
        });
        stops.add(() => projection.stop());
        projection.done.catch(run.crash);
        running.push("notifications.inbox-projection");
      }
      if (run.abilities.notifier) {
        const live = await runConsumer(log, {
          groupId: `notifications-live-${deps.ids.uuid()}`,
          topics: [topic],
          batchSizeMax: config.batchSizeMax,
          fetchWaitMaxMs: 50,
          startFrom: "latest",
          retry: { attemptsMax: 3, backoffBaseMs: 20, backoffMaxMs: 1_000 },
          handle: async (records) => {
            if (!hub.idle) hub.deliver(await read(records));
          },
        });
        stops.add(() => live.stop());
        live.done.catch(run.crash);
        running.push("notifications.live");
      }
    } catch (error) {
      await stops.stop();
      throw error;
    }
    const http = { store, authenticate: deps.authenticate, ...config };
    return { published: hub, routes: [(app) => inboxRoutes(app, http)], running, stop: stops.stop };
  },
};
