/**
 * WebSocket upgrades shared by several edges on one HTTP server (GraphQL, the community context):
 * each edge listens for its own path and claims it here; an upgrade to a path nobody claimed is
 * answered 404 rather than left hanging, whatever order the edges registered in.
 */
import type { IncomingMessage, Server } from "node:http";
import type { Duplex } from "node:stream";

const claimedPaths = new WeakMap<Server, Set<string>>();

export function upgradePathOf(url: string | undefined): string {
  return (url ?? "").split("?")[0] ?? "";
}

export function refuseUpgrade(socket: Duplex, status: number, reason: string): void {
  socket.end(`HTTP/1.1 ${status} ${reason}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
}

/** Claims `path` on `server`; the first claim installs the listener that refuses unclaimed paths. */
export function claimUpgradePath(server: Server, path: string): void {
  let paths = claimedPaths.get(server);
  if (paths === undefined) {
    const claimed = new Set<string>();
    paths = claimed;
    claimedPaths.set(server, claimed);
    server.on("upgrade", (request: IncomingMessage, socket: Duplex) => {
      if (!claimed.has(upgradePathOf(request.url))) refuseUpgrade(socket, 404, "Not Found");
    });
  }
  paths.add(path);
}
