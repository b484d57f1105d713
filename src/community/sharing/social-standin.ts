/**
 * A stand-in for a social network's webhook receiver (a real network cannot run here): a loopback
 * HTTP server that records every POST with its headers and body, and can be told to fail the next
 * requests (to exercise retries). Used by the sharing e2e test.
 */
import { createServer, type IncomingHttpHeaders } from "node:http";
import type { AddressInfo } from "node:net";

export interface ReceivedPost {
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
  /** The status the stand-in answered. */
  readonly status: number;
}

export interface SocialStandin {
  readonly url: string;
  readonly received: ReceivedPost[];
  /** Answer the next `count` requests with `status` (500 by default). */
  failNext(count: number, status?: number): void;
  /** Waits until `count` posts answered 2xx arrived (or throws after `timeoutMs`). */
  deliveries(count: number, timeoutMs: number): Promise<ReceivedPost[]>;
  close(): Promise<void>;
}

export async function startSocialStandin(): Promise<SocialStandin> {
  const received: ReceivedPost[] = [];
  let failing = 0;
  let failStatus = 500;
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => {
      const status = failing > 0 ? failStatus : 204;
      if (failing > 0) failing--;
      received.push({ headers: request.headers, body: Buffer.concat(chunks).toString("utf8"), status });
      response.writeHead(status).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  const delivered = () => received.filter((post) => post.status < 300);
  return {
    url: `http://127.0.0.1:${port}/hooks/social`,
    received,
    failNext(count, status = 500) {
      failing = count;
      failStatus = status;
    },
    async deliveries(count, timeoutMs) {
      const untilMs = Date.now() + timeoutMs;
      while (delivered().length < count) {
        if (Date.now() > untilMs)
          throw new Error(`expected ${count} deliveries, got ${delivered().length} of ${received.length}`);
        await new Promise((resolve) => setTimeout(resolve, 25));
      }
      return delivered();
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
