/**
 * The audit trail of authentication events: each one a row of `identity_auth_events` and a log
 * line. Refusals (a forged state, a tampered ID token, a guessed code…) are recorded as carefully
 * as successes. Never records a secret: no codes, tokens or client secrets, only their outcome.
 */
import type pg from "pg";
import type pino from "pino";
import type { Clock } from "../../platform/clock.ts";
import { type AuthEventKind, type AuthEvents, authEventKinds, discardAuthEvents } from "../events.ts";

function publishedKind(kind: string): AuthEventKind {
  const known = (authEventKinds as readonly string[]).includes(kind);
  if (!known) throw new Error(`audit kind ${kind} is not an identity event kind (events.ts)`);
  return kind as AuthEventKind;
}

export interface AuthEvent {
  /** e.g. `oidc.sign_in`, `phone.verify`. */
  readonly kind: string;
  readonly outcome: "succeeded" | "refused";
  readonly userId?: string | undefined;
  readonly providerId?: string | undefined;
  /** Why it was refused (a stable word, e.g. `state_mismatch`), or what happened (`linked`). */
  readonly reason?: string | undefined;
  readonly clientIp?: string | undefined;
}

export interface AuthAudit {
  record(event: AuthEvent): Promise<void>;
}

/**
 * With `events`, each record is also published on `identity.events` (the audit trail every other
 * authentication event takes), as `{kind, detail: "<outcome>[ <reason>][ provider=<id>]"}`.
 */
export function createAuthAudit(
  pool: pg.Pool,
  clock: Clock,
  logger: pino.Logger,
  events: AuthEvents = discardAuthEvents,
): AuthAudit {
  return {
    async record(event) {
      await events.publish({
        kind: publishedKind(event.kind),
        ...(event.userId === undefined ? {} : { userId: event.userId }),
        ...(event.clientIp === undefined ? {} : { clientIp: event.clientIp }),
        detail: [event.outcome, event.reason, event.providerId && `provider=${event.providerId}`]
          .filter(Boolean)
          .join(" "),
        atMs: clock.nowMs(),
      });
      const line = { audit: event.kind, ...event };
      if (event.outcome === "refused") logger.warn(line, "authentication refused");
      else logger.info(line, "authentication event");
      try {
        await pool.query(
          `INSERT INTO identity_auth_events (at, kind, outcome, user_id, provider_id, reason, client_ip)
           VALUES ($1, $2, $3, $4, $5, $6, $7)`,
          [
            new Date(clock.nowMs()),
            event.kind,
            event.outcome,
            event.userId ?? null,
            event.providerId ?? null,
            event.reason ?? null,
            event.clientIp ?? null,
          ],
        );
      } catch (error) {
        // The log line above is the record of last resort; the request's own answer stands.
        logger.error({ err: error, audit: event.kind }, "audit record not stored");
      }
    },
  };
}
