/**
 * The sharing feature's part of the community module: the poster (where processors run, only when
 * webhooks are configured) and the routes (where HTTP is served).
 */
import type pg from "pg";
import type pino from "pino";
import type { Clock } from "../../platform/clock.ts";
import type { PreHandler } from "../../platform/http/auth.ts";
import type { RoutePlugin } from "../../platform/module.ts";
import type { CommunityConfig } from "../config.ts";
import type { Connection } from "../domain/requests.ts";
import type { ParticipantViews } from "../service.ts";
import { createWebhookPoster } from "./adapters/webhook-poster.ts";
import { webhooksOf } from "./config.ts";
import type { SocialPoster } from "./port.ts";
import { startSharePoster } from "./posting.ts";
import { sharingRoutes } from "./routes.ts";
import { createSharing } from "./service.ts";
import { createShareStore } from "./store.ts";

export interface SharingWiringDeps {
  readonly config: CommunityConfig;
  readonly pool: pg.Pool;
  readonly clock: Clock;
  readonly logger: pino.Logger;
  readonly authenticate: PreHandler;
  readonly connection: (id: string) => Promise<Connection | undefined>;
  readonly participants: ParticipantViews;
}

export interface StartedSharing {
  /** The running poster's name, when it runs. */
  readonly running: readonly string[];
  readonly route: RoutePlugin | undefined;
  stop(): Promise<void>;
}

function posterOf(deps: SharingWiringDeps): SocialPoster | undefined {
  const webhooks = webhooksOf(deps.config);
  if (webhooks === undefined) return undefined;
  return createWebhookPoster({
    ...webhooks,
    timeoutMs: deps.config.socialTimeoutMs,
    nowMs: () => deps.clock.nowMs(),
  });
}

export interface StartedSharingAbilities {
  readonly processors: boolean;
  readonly http: boolean;
}

export function startSharing(deps: SharingWiringDeps, abilities: StartedSharingAbilities): StartedSharing {
  const { config } = deps;
  const store = createShareStore(deps.pool);
  const poster = posterOf(deps);
  const worker =
    poster !== undefined && abilities.processors
      ? startSharePoster({
          ...{ store, poster, clock: deps.clock, logger: deps.logger },
          timeoutMs: config.socialTimeoutMs,
          attemptsMax: config.socialAttemptsMax,
          backoffBaseMs: config.socialBackoffBaseMs,
          backoffMaxMs: config.socialBackoffMaxMs,
          pollIntervalMs: config.socialPollIntervalMs,
        })
      : undefined;
  const sharing = createSharing({
    ...{ store, connection: deps.connection, participants: deps.participants, clock: deps.clock },
    targets: poster?.targets ?? [],
    cardUrlOf: (id) => `${config.socialCardBaseUrl?.replace(/\/$/, "") ?? ""}/v1/community/shared/${id}/card`,
    ...(worker === undefined ? {} : { onShared: () => worker.wake() }),
  });
  return {
    running: worker === undefined ? [] : ["community.social-poster"],
    route: abilities.http
      ? (app) => sharingRoutes(app, { sharing, authenticate: deps.authenticate })
      : undefined,
    stop: async () => worker?.stop(),
  };
}
