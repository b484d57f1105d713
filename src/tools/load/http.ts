/**
 * A small keep-alive JSON client for load tools. `node:http` with one Agent keeps a bounded pool of
 * sockets, so thousands of requests per second reuse connections instead of opening new ones.
 */
import http from "node:http";

export interface HttpAnswer {
  readonly status: number;
  readonly body: unknown;
}

export interface JsonClient {
  request(
    method: string,
    path: string,
    body?: unknown,
    headers?: Readonly<Record<string, string>>,
  ): Promise<HttpAnswer>;
  close(): void;
}

export interface JsonClientOptions {
  readonly baseUrl: string;
  /** Sockets kept open at most; requests beyond wait in the agent's queue. */
  readonly connectionsMax: number;
  readonly timeoutMs: number;
}

const loopbackHosts = new Set(["127.0.0.1", "localhost", "[::1]", "::1"]);

/** Load tools target this machine only unless told otherwise: a typo must not load someone's server. */
export function isLoopbackUrl(url: string): boolean {
  try {
    const { hostname, protocol } = new URL(url);
    return (
      (protocol === "http:" || protocol === "https:") &&
      (loopbackHosts.has(hostname) || /^127\./.test(hostname))
    );
  } catch {
    return false;
  }
}

export function createJsonClient(options: JsonClientOptions): JsonClient {
  const base = new URL(options.baseUrl);
  const agent = new http.Agent({ keepAlive: true, maxSockets: options.connectionsMax, scheduling: "lifo" });
  return {
    request(method, path, body, headers = {}) {
      const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
      return new Promise<HttpAnswer>((resolve, reject) => {
        const req = http.request(
          {
            agent,
            host: base.hostname,
            port: base.port,
            method,
            path,
            timeout: options.timeoutMs,
            headers: {
              ...(payload ? { "content-type": "application/json", "content-length": payload.length } : {}),
              ...headers,
            },
          },
          (res) => {
            const chunks: Buffer[] = [];
            res.on("data", (chunk: Buffer) => chunks.push(chunk));
            res.on("end", () => {
              const text = Buffer.concat(chunks).toString("utf8");
              let parsed: unknown = text;
              try {
                parsed = text === "" ? undefined : JSON.parse(text);
              } catch {}
              resolve({ status: res.statusCode ?? 0, body: parsed });
            });
            res.on("error", reject);
          },
        );
        req.on("timeout", () =>
          req.destroy(new Error(`${method} ${path} timed out after ${options.timeoutMs} ms`)),
        );
        req.on("error", reject);
        req.end(payload);
      });
    },
    close() {
      agent.destroy();
    },
  };
}
