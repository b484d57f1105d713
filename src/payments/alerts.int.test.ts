import assert from "node:assert/strict";
import { createHmac, timingSafeEqual } from "node:crypto";
import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import { test } from "node:test";
import { SMTPServer } from "smtp-server";
import { manualClock } from "../platform/clock.ts";
import {
  type AlertChannel,
  configuredAlertChannels,
  createAlerter,
  emailChannel,
  type GatewayAlert,
  smsChannel,
  webhookChannel,
} from "./alerts.ts";

test("alerts go out by SMTP, webhook and SMS, once per real change", async () => {
  const mails: string[] = [];
  const smtp = new SMTPServer({
    authOptional: true,
    disabledCommands: ["STARTTLS"],
    onData(stream, _session, callback) {
      let text = "";
      stream.on("data", (c: Buffer) => {
        text += c.toString();
      });
      stream.on("end", () => {
        mails.push(text);
        callback();
      });
    },
  });
  await new Promise<void>((resolve) => smtp.listen(0, "127.0.0.1", () => resolve()));
  const hooks: unknown[] = [];
  const webhook = createServer((req, res) => {
    let body = "";
    req.on("data", (c) => {
      body += c;
    });
    req.on("end", () => {
      hooks.push(JSON.parse(body));
      res.end("ok");
    });
  });
  await new Promise<void>((resolve) => webhook.listen(0, "127.0.0.1", () => resolve()));
  const sms: string[] = [];
  const clock = manualClock();
  const channels: AlertChannel[] = [
    emailChannel({
      host: "127.0.0.1",
      port: (smtp.server.address() as { port: number }).port,
      from: "lf@localhost",
      to: ["ops@localhost"],
    }),
    webhookChannel(`http://127.0.0.1:${(webhook.address() as { port: number }).port}/alerts`),
    smsChannel({ sendSms: async (to, text) => void sms.push(`${to}: ${text}`) }, ["+3100000000"]),
  ];
  const alerter = createAlerter({
    channels,
    clock,
    quietMs: 60_000,
    onError: (c, e) => assert.fail(`${c}: ${e}`),
  });
  try {
    alerter.breakerChanged("acq", "closed", "nothing happened"); // no recovery without a down first
    alerter.breakerChanged("acq", "open", "5 failures");
    alerter.breakerChanged("acq", "half_open", "probing");
    alerter.breakerChanged("acq", "open", "probe failed"); // still down: no news
    clock.advance(1_000);
    alerter.breakerChanged("acq", "closed", "probe succeeded");
    clock.advance(1_000);
    alerter.breakerChanged("acq", "open", "flapping"); // inside the quiet window: suppressed
    await alerter.flush();
    const kinds = (hooks as GatewayAlert[]).map((h) => h.kind);
    assert.deepEqual(kinds, ["down", "recovered"]);
    assert.equal(mails.length, 2);
    assert.match(mails[0] ?? "", /Subject: \[ledgerflow\] gateway acq down/);
    assert.equal(sms.length, 2);
    assert.match(sms[0] ?? "", /acq is DOWN/);
  } finally {
    await new Promise<void>((resolve) => smtp.close(() => resolve()));
    webhook.close();
  }
});

interface ReceivedRequest {
  readonly method: string | undefined;
  readonly path: string | undefined;
  readonly headers: IncomingHttpHeaders;
  readonly rawBody: string;
}

/** A real HTTP server on loopback that records every request and answers `status`. */
async function recordingServer(
  status: () => number,
): Promise<{ url: string; requests: ReceivedRequest[]; server: Server }> {
  const requests: ReceivedRequest[] = [];
  const server = createServer((req, res) => {
    let rawBody = "";
    req.setEncoding("utf8");
    req.on("data", (chunk: string) => {
      rawBody += chunk;
    });
    req.on("end", () => {
      requests.push({ method: req.method, path: req.url, headers: req.headers, rawBody });
      res.statusCode = status();
      res.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
  return { url: `http://127.0.0.1:${(server.address() as { port: number }).port}`, requests, server };
}

/**
 * What a webhook receiver does, written from the documented format (not with the sender's code):
 * `x-ledgerflow-signature: t=<unix ms>,v1=<hex HMAC-SHA256 of "<t>.<raw body>">`, compared in
 * constant time.
 */
function receiverAccepts(secret: string, header: string | string[] | undefined, rawBody: string): boolean {
  const match = /^t=([0-9]+),v1=([0-9a-f]{64})$/.exec(typeof header === "string" ? header : "");
  if (!match) return false;
  const [, t, v1] = match as unknown as [string, string, string];
  const expected = createHmac("sha256", secret).update(`${t}.${rawBody}`).digest();
  return timingSafeEqual(expected, Buffer.from(v1, "hex"));
}

test("webhook alerts are signed: a real receiver verifies the HMAC over the raw body", async () => {
  const secret = "webhook-secret-0123456789";
  const receiver = await recordingServer(() => 204);
  const errors: string[] = [];
  const alerter = createAlerter({
    // The configured path (LEDGERFLOW_ALERTS_WEBHOOK_URLS / _WEBHOOK_SECRET), two receivers' URLs.
    channels: configuredAlertChannels(
      {
        emailFrom: "lf@localhost",
        webhookUrls: [`${receiver.url}/a`, `${receiver.url}/b`],
        webhookSecret: secret,
        webhookTimeoutMs: 5_000,
      },
      manualClock(1_800_000_000_000),
    ),
    clock: manualClock(),
    quietMs: 0,
    onError: (channel, error) => errors.push(`${channel}: ${error}`),
  });
  try {
    alerter.breakerChanged("acq", "open", "5 failures");
    await alerter.flush();
    assert.deepEqual(errors, []);
    assert.deepEqual(receiver.requests.map((r) => r.path).sort(), ["/a", "/b"]);
    for (const request of receiver.requests) {
      assert.equal(request.method, "POST");
      assert.equal(request.headers["content-type"], "application/json");
      const header = request.headers["x-ledgerflow-signature"];
      assert.ok(receiverAccepts(secret, header, request.rawBody), `signature ${header} verifies`);
      // Signed at the injected clock's time, not the machine's: a seeded run replays byte for byte.
      assert.match(String(header), /^t=1800000000000,v1=/);
      assert.equal(receiverAccepts("another-secret-0123456789", header, request.rawBody), false);
      assert.equal(receiverAccepts(secret, header, request.rawBody.replace("acq", "acx")), false);
      const alert = JSON.parse(request.rawBody) as GatewayAlert & { text: string };
      assert.equal(alert.gateway, "acq");
      assert.equal(alert.kind, "down");
      assert.match(alert.text, /acq is DOWN/);
    }
  } finally {
    receiver.server.close();
  }
});

test("without a webhook secret no signature header is sent; a non-2xx answer is reported", async () => {
  const receiver = await recordingServer(() => 500);
  const errors: string[] = [];
  const alerter = createAlerter({
    channels: [webhookChannel(`${receiver.url}/alerts`, 5_000)],
    clock: manualClock(),
    quietMs: 0,
    onError: (channel, error) => errors.push(`${channel}: ${(error as Error).message}`),
  });
  try {
    alerter.breakerChanged("acq", "open", "5 failures");
    await alerter.flush();
    assert.equal(receiver.requests.length, 1);
    assert.equal(receiver.requests[0]?.headers["x-ledgerflow-signature"], undefined);
    assert.deepEqual(errors, ["webhook: webhook answered 500"]);
  } finally {
    receiver.server.close();
  }
});

test("SMS alerts go through the HTTP provider adapter: one POST {to, text} per number, bearer token", async () => {
  // A local HTTP server stands in for a real SMS provider's API (which needs an account).
  let providerStatus = 200;
  const standInSmsProvider = await recordingServer(() => providerStatus);
  const errors: string[] = [];
  const alerter = createAlerter({
    // The configured path (LEDGERFLOW_ALERTS_SMS_URL / _SMS_TOKEN / _SMS_TO).
    channels: configuredAlertChannels({
      emailFrom: "lf@localhost",
      webhookTimeoutMs: 5_000,
      smsUrl: `${standInSmsProvider.url}/v1/messages`,
      smsToken: "sms-token-123",
      smsTo: "+31600000001,+32470000002",
    }),
    clock: manualClock(),
    quietMs: 0,
    onError: (channel, error) => errors.push(`${channel}: ${(error as Error).message}`),
  });
  try {
    alerter.breakerChanged("acq", "open", "5 failures");
    await alerter.flush();
    assert.deepEqual(errors, []);
    const { requests } = standInSmsProvider;
    assert.equal(requests.length, 2);
    for (const request of requests) {
      assert.equal(request.method, "POST");
      assert.equal(request.path, "/v1/messages");
      assert.equal(request.headers["content-type"], "application/json");
      assert.equal(request.headers.authorization, "Bearer sms-token-123");
    }
    const bodies = requests.map((r) => JSON.parse(r.rawBody) as { to: string; text: string });
    assert.deepEqual(
      bodies.map((b) => b.to),
      ["+31600000001", "+32470000002"],
    );
    for (const body of bodies) assert.match(body.text, /gateway acq is DOWN/);

    providerStatus = 503;
    alerter.breakerChanged("acq", "closed", "probe succeeded");
    await alerter.flush();
    assert.deepEqual(errors, ["sms: SMS provider answered 503"]);
  } finally {
    standInSmsProvider.server.close();
  }
});
