/**
 * Gateway down / recovered alerts. The breaker's transitions drive them; the alerter keeps the last
 * state it announced per gateway and stays quiet unless it changes (a flapping breaker's
 * open → half-open → open is one "down"), and a "down" within `quietMs` of the previous
 * announcement for that gateway is suppressed. Channels: email over SMTP (nodemailer), a webhook
 * (JSON POST), an SMS port (bring your provider), and the `payments.alerts` topic.
 */
import nodemailer from "nodemailer";
import type { Clock } from "../platform/clock.ts";

export interface GatewayAlert {
  readonly gateway: string;
  readonly kind: "down" | "recovered";
  readonly detail: string;
  readonly atMs: number;
}

export interface AlertChannel {
  readonly name: string;
  send(alert: GatewayAlert): Promise<void>;
}

/** The SMS port: a provider adapter implements it (none ships: it needs an account). */
export interface SmsSender {
  sendSms(to: string, text: string): Promise<void>;
}

export function alertText(alert: GatewayAlert): string {
  const when = new Date(alert.atMs).toISOString();
  return alert.kind === "down"
    ? `Ledgerflow: gateway ${alert.gateway} is DOWN since ${when} (${alert.detail}); traffic fails over to other gateways.`
    : `Ledgerflow: gateway ${alert.gateway} RECOVERED at ${when} (${alert.detail}).`;
}

export interface SmtpOptions {
  readonly host: string;
  readonly port: number;
  readonly secure?: boolean;
  readonly auth?: { readonly user: string; readonly pass: string };
  readonly from: string;
  readonly to: readonly string[];
}

export function emailChannel(options: SmtpOptions): AlertChannel {
  const transport = nodemailer.createTransport({
    host: options.host,
    port: options.port,
    secure: options.secure ?? false,
    ...(options.auth ? { auth: { ...options.auth } } : {}),
    // Local relays in tests and on-prem often speak plain SMTP; never fail an alert on a certificate.
    tls: { rejectUnauthorized: false },
  });
  return {
    name: "email",
    async send(alert) {
      await transport.sendMail({
        from: options.from,
        to: [...options.to],
        subject: `[ledgerflow] gateway ${alert.gateway} ${alert.kind}`,
        text: alertText(alert),
      });
    },
  };
}

export function webhookChannel(url: string, timeoutMs = 5_000): AlertChannel {
  return {
    name: "webhook",
    async send(alert) {
      const response = await fetch(url, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ ...alert, at: new Date(alert.atMs).toISOString(), text: alertText(alert) }),
        signal: AbortSignal.timeout(timeoutMs),
      });
      await response.body?.cancel();
      if (!response.ok) throw new Error(`webhook answered ${response.status}`);
    },
  };
}

export function smsChannel(sender: SmsSender, to: readonly string[]): AlertChannel {
  return {
    name: "sms",
    async send(alert) {
      for (const number of to) await sender.sendSms(number, alertText(alert));
    },
  };
}

export interface Alerter {
  /** Called on every breaker transition; announces only real changes. */
  breakerChanged(gateway: string, state: "closed" | "open" | "half_open", detail: string): void;
  /** Resolves when every alert sent so far was handed to every channel. */
  flush(): Promise<void>;
}

export function createAlerter(options: {
  readonly channels: readonly AlertChannel[];
  readonly clock: Clock;
  readonly quietMs: number;
  readonly onError: (channel: string, error: unknown) => void;
}): Alerter {
  const announced = new Map<string, { kind: GatewayAlert["kind"]; atMs: number }>();
  const inFlight = new Set<Promise<unknown>>();
  const announce = (alert: GatewayAlert) => {
    announced.set(alert.gateway, { kind: alert.kind, atMs: alert.atMs });
    for (const channel of options.channels) {
      const sending = channel
        .send(alert)
        .catch((error) => options.onError(channel.name, error))
        .finally(() => inFlight.delete(sending));
      inFlight.add(sending);
    }
  };
  return {
    breakerChanged(gateway, state, detail) {
      if (state === "half_open") return;
      const kind = state === "open" ? "down" : "recovered";
      const last = announced.get(gateway);
      const nowMs = options.clock.nowMs();
      if (last?.kind === kind) return;
      // Recovered is only news after a down we announced.
      if (kind === "recovered" && last === undefined) return;
      if (kind === "down" && last !== undefined && nowMs - last.atMs < options.quietMs) return;
      announce({ gateway, kind, detail, atMs: nowMs });
    },
    async flush() {
      while (inFlight.size > 0) await Promise.allSettled([...inFlight]);
    },
  };
}
