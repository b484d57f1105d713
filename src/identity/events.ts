/**
 * Authentication events for the audit trail, published on `identity.events`. The port lets the
 * service stay free of the log; `createLogAuthEvents` writes them through a topic codec.
 */
import type pino from "pino";
import type { Producer } from "../platform/log/port.ts";
import type { TopicCodec } from "../platform/log/topic-codecs.ts";
import { usernameKey } from "./store.ts";

export const authEventKinds = [
  "login_succeeded",
  "login_failed",
  "refreshed",
  "refresh_reuse_detected",
  "refresh_refused",
  "logout",
  "session_revoked",
  "role_changed",
  "password_reset",
  "admin_created",
  "officer_verification",
  "passkey_registered",
  "passkey_removed",
  // Provider sign-in and phone verification (oidc/audit.ts): the audit kind as it is recorded.
  "oidc.sign_in",
  "oidc.ticket_exchange",
  "phone.start",
  "phone.code_sent",
  "phone.verify",
  // Passkeys (passkeys/service.ts, passkeys/step-up.ts), recorded through the same audit.
  "passkey.register",
  "passkey.sign_in",
  "passkey.step_up",
] as const;
export type AuthEventKind = (typeof authEventKinds)[number];

export interface AuthEvent {
  readonly kind: AuthEventKind;
  readonly userId?: string;
  readonly username?: string;
  readonly sessionId?: string;
  readonly clientIp?: string;
  readonly actor?: string;
  readonly detail?: string;
  readonly atMs: number;
}

export interface AuthEvents {
  publish(event: AuthEvent): Promise<void>;
}

/** Drops events (unit tests of other parts); never used by a started module. */
export const discardAuthEvents: AuthEvents = { publish: async () => {} };

/** Remembers events in order (tests). */
export function recordingAuthEvents(): AuthEvents & { readonly events: AuthEvent[] } {
  const events: AuthEvent[] = [];
  return {
    events,
    publish: async (event) => {
      events.push(event);
    },
  };
}

/**
 * Durable once `publish` resolves. A failed publish is logged and does not fail the sign-in: the
 * user's request must not depend on the audit pipeline; the log line keeps the event.
 */
export function createLogAuthEvents(producer: Producer, codec: TopicCodec, logger: pino.Logger): AuthEvents {
  return {
    async publish(event) {
      const value = {
        kind: event.kind,
        userId: event.userId ?? "",
        username: event.username ?? "",
        sessionId: event.sessionId ?? "",
        clientIp: event.clientIp ?? "",
        actor: event.actor ?? "",
        detail: event.detail ?? "",
        atMs: BigInt(event.atMs),
      };
      try {
        await producer.send([
          {
            topic: codec.topic,
            key: usernameKey(value.username || value.userId),
            value: codec.encode(value),
          },
        ]);
      } catch (error) {
        logger.error({ err: error, authEvent: value }, "identity.events: publish failed");
      }
    },
  };
}
