import { createServer } from "node:net";

/** A port that was free on 127.0.0.1 a moment ago (the OS picks it), for servers that need a number. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** Runs `start` up to `attemptsMax` times: a port taken between choosing and binding it is retried. */
export async function withRetries<T>(attemptsMax: number, start: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await start();
    } catch (error) {
      if (attempt >= attemptsMax) throw error;
    }
  }
}
