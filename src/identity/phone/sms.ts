/**
 * The SMS port and its adapters: a development sink (logs the code; in embedded mode the web app
 * shows it) and an HTTP provider adapter (a JSON POST with a bearer secret) for real use.
 */
import type pino from "pino";
import { UnavailableError } from "../../platform/errors.ts";

export interface SmsMessage {
  /** E.164. */
  readonly to: string;
  readonly text: string;
  /** The one-time code the text carries (only the development sink keeps it). */
  readonly code: string;
}

export interface SmsSender {
  readonly kind: "dev" | "http";
  /** Throws UnavailableError when the message could not be handed over. */
  send(message: SmsMessage): Promise<void>;
}

export interface DevSmsSink extends SmsSender {
  readonly kind: "dev";
  /** The last code sent to a number (development only), if any. */
  lastCodeTo(phoneE164: string): { readonly code: string; readonly sentAtMs: number } | undefined;
}

// The sink keeps the last code of this many numbers, forgetting the oldest first.
const devNumbersMax = 1_000;

export function createDevSmsSink(logger: pino.Logger, nowMs: () => number): DevSmsSink {
  const last = new Map<string, { code: string; sentAtMs: number }>();
  return {
    kind: "dev",
    async send(message) {
      // A development sink: the code in the log is the point (never configure it in production).
      logger.warn(
        { sms: "dev-sink", to: message.to, code: message.code },
        "SMS (development sink, not sent)",
      );
      last.delete(message.to);
      last.set(message.to, { code: message.code, sentAtMs: nowMs() });
      if (last.size > devNumbersMax) last.delete(last.keys().next().value as string);
    },
    lastCodeTo: (phoneE164) => last.get(phoneE164),
  };
}

export interface HttpSmsOptions {
  readonly url: string;
  /** Sent as `Authorization: Bearer …`; never logged. */
  readonly secret: string;
  readonly timeoutMs: number;
}

/**
 * `POST url` with `{"to": "+31612345678", "text": "…"}` and the bearer secret; any 2xx is
 * accepted. Most SMS gateways take this shape directly or through a small relay.
 */
export function createHttpSmsSender(options: HttpSmsOptions): SmsSender {
  return {
    kind: "http",
    async send(message) {
      let status: number;
      try {
        const response = await fetch(options.url, {
          method: "POST",
          headers: { "content-type": "application/json", authorization: `Bearer ${options.secret}` },
          body: JSON.stringify({ to: message.to, text: message.text }),
          signal: AbortSignal.timeout(options.timeoutMs),
          redirect: "error",
        });
        status = response.status;
        await response.body?.cancel();
      } catch (cause) {
        throw new UnavailableError("SMS provider", { cause });
      }
      if (status < 200 || status >= 300)
        throw new UnavailableError("SMS provider", { cause: new Error(`SMS provider answered ${status}`) });
    },
  };
}
