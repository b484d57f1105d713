import assert from "node:assert/strict";
import { createServer } from "node:http";
import { test } from "node:test";
import { SMTPServer } from "smtp-server";
import { manualClock } from "../platform/clock.ts";
import {
  type AlertChannel,
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
