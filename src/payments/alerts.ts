/**
 * Gateway down / recovered alerts. The breaker's transitions drive them; the alerter keeps the last
 * state it announced per gateway and stays quiet unless it changes (a flapping breaker's
 * open → half-open → open is one "down"), and a "down" within `quietMs` of the previous
 * announcement for that gateway is suppressed. Channels: email over SMTP (nodemailer), a webhook
 * (JSON POST), an SMS port (bring your provider), and the `payments.alerts` topic.
 */
import { createHmac } from "node:crypto";
import nodemailer from "nodemailer";
import { type Clock, systemClock } from "../platform/clock.ts";

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

/** Header carrying `t=<unix ms>,v1=<hex HMAC-SHA256 of "<t>.<body>">` when a webhook secret is set. */
export const webhookSignatureHeader = "x-ledgerflow-signature";

export function webhookSignature(secret: string, atMs: number, body: string): string {
  return `t=${atMs},v1=${createHmac("sha256", secret).update(`${atMs}.${body}`).digest("hex")}`;
}

/** The signature's timestamp is when the request is signed, from the injected clock (replayable tests). */
export function webhookChannel(
  url: string,
  timeoutMs = 5_000,
  secret?: string,
  clock: Clock = systemClock,
): AlertChannel {
  return {
    name: "webhook",
    async send(alert) {
      const body = JSON.stringify({
        ...alert,
        at: new Date(alert.atMs).toISOString(),
        text: alertText(alert),
      });
      const signature =
        secret === undefined
          ? {}
          : { [webhookSignatureHeader]: webhookSignature(secret, clock.nowMs(), body) };
      const response = await fetch(url, {
        method: "POST",
        headers: { "content-type": "application/json", ...signature } as Record<string, string>,
        body,
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

/** The SMS port over an HTTP provider: POST {"to","text"} as JSON, with a bearer token if given. */
export function httpSmsSender(url: string, token: string | undefined, timeoutMs = 5_000): SmsSender {
  return {
    async sendSms(to, text) {
      const response = await fetch(url, {
        method: "POST",
        headers: {
          "content-type": "application/json",
          ...(token ? { authorization: `Bearer ${token}` } : {}),
        },
        body: JSON.stringify({ to, text }),
        signal: AbortSignal.timeout(timeoutMs),
      });
      await response.body?.cancel();
      if (!response.ok) throw new Error(`SMS provider answered ${response.status}`);
    },
  };
}

/** SMTP options from an `smtp://user:pass@host:port` (or `smtps://`) URL. */
export function smtpOptionsFromUrl(url: string, from: string, to: readonly string[]): SmtpOptions {
  const parsed = new URL(url);
  const secure = parsed.protocol === "smtps:";
  const user = decodeURIComponent(parsed.username);
  return {
    host: parsed.hostname,
    port: parsed.port === "" ? (secure ? 465 : 25) : Number(parsed.port),
    secure,
    ...(user ? { auth: { user, pass: decodeURIComponent(parsed.password) } } : {}),
    from,
    to,
  };
}

/** The alert channels the configuration switches on (each only when its settings are given). */
export function configuredAlertChannels(
  config: {
    readonly smtpUrl?: string | undefined;
    readonly emailFrom: string;
    readonly emailTo?: string | undefined;
    readonly webhookUrls?: readonly string[] | undefined;
    readonly webhookSecret?: string | undefined;
    readonly webhookTimeoutMs: number;
    readonly smsUrl?: string | undefined;
    readonly smsToken?: string | undefined;
    readonly smsTo?: string | undefined;
  },
  clock: Clock = systemClock,
): AlertChannel[] {
  const list = (text: string | undefined) =>
    (text ?? "")
      .split(",")
      .map((s) => s.trim())
      .filter((s) => s !== "");
  const channels: AlertChannel[] = [];
  if (config.smtpUrl && config.emailTo)
    channels.push(emailChannel(smtpOptionsFromUrl(config.smtpUrl, config.emailFrom, list(config.emailTo))));
  for (const url of config.webhookUrls ?? [])
    channels.push(webhookChannel(url, config.webhookTimeoutMs, config.webhookSecret, clock));
  if (config.smsUrl && config.smsTo)
    channels.push(smsChannel(httpSmsSender(config.smsUrl, config.smsToken), list(config.smsTo)));
  return channels;
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
