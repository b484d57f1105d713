/** The HTTP SMS adapter against a real HTTP server on loopback (the stand-in SMS provider). */
import assert from "node:assert/strict";
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, describe, test } from "node:test";
import { UnavailableError } from "../../platform/errors.ts";
import { createHttpSmsSender } from "./sms.ts";

describe("HTTP SMS adapter", () => {
  let server: Server;
  let url: string;
  const received: { authorization: string | undefined; contentType: string | undefined; body: unknown }[] =
    [];
  let answerStatus = 202;
  let delayMs = 0;

  before(async () => {
    server = createServer(async (request: IncomingMessage, response) => {
      const chunks: Buffer[] = [];
      for await (const chunk of request) chunks.push(chunk as Buffer);
      received.push({
        authorization: request.headers.authorization,
        contentType: request.headers["content-type"],
        body: JSON.parse(Buffer.concat(chunks).toString()),
      });
      setTimeout(() => {
        response.statusCode = answerStatus;
        response.end("{}");
      }, delayMs);
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/messages`;
  });
  after(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  const message = { to: "+31612345678", text: "Your Ledgerflow code is 123456.", code: "123456" };

  test("POSTs {to, text} as JSON with the bearer secret", async () => {
    const sender = createHttpSmsSender({ url, secret: "sms-secret-0123456789", timeoutMs: 5_000 });
    await sender.send(message);
    assert.deepEqual(received.at(-1), {
      authorization: "Bearer sms-secret-0123456789",
      contentType: "application/json",
      body: { to: "+31612345678", text: "Your Ledgerflow code is 123456." },
    });
  });

  test("a non-2xx answer or a timeout is UnavailableError (the API answers 503)", async () => {
    const sender = createHttpSmsSender({ url, secret: "sms-secret-0123456789", timeoutMs: 200 });
    answerStatus = 500;
    await assert.rejects(sender.send(message), UnavailableError);
    answerStatus = 202;
    delayMs = 1_000;
    await assert.rejects(sender.send(message), UnavailableError);
    delayMs = 0;
  });

  test("an unreachable provider is UnavailableError", async () => {
    const sender = createHttpSmsSender({
      url: "http://127.0.0.1:9/messages",
      secret: "sms-secret-0123456789",
      timeoutMs: 1_000,
    });
    await assert.rejects(sender.send(message), UnavailableError);
  });
});
