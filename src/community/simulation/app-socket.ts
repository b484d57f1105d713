/**
 * One simulated app's connection to `/v1/community/ws`: signs in with the upgrade's Authorization
 * header, sends messages with a `ref` and resolves each with the server's reply or error, and hands
 * every push to `onPush`. Replies not answered within `replyWaitMs` resolve as `timeout`.
 */
import { WebSocket } from "ws";

export type ServerMessage = Record<string, unknown> & { type: string };

export type Answer =
  | { readonly ok: true; readonly result: Record<string, unknown> }
  | { readonly ok: false; readonly code: string };

export interface AppSocket {
  readonly userId: string;
  send(message: Record<string, unknown>): Promise<Answer>;
  /** Sends without waiting for the answer (the bench's firehose): its ref; answers go to `onAnswer`. */
  fire(message: Record<string, unknown>): string | undefined;
  close(): Promise<void>;
  readonly closed: Promise<{ code: number }>;
}

export interface AppSocketOptions {
  readonly wsUrl: string;
  readonly accessToken: string;
  readonly replyWaitMs: number;
  readonly onPush: (push: ServerMessage) => void;
  readonly onAnswer?: (answer: Answer, ref: string) => void;
}

function answerOf(message: ServerMessage): Answer {
  if (message.type === "reply")
    return { ok: true, result: (message.result ?? {}) as Record<string, unknown> };
  return { ok: false, code: String(message.code ?? "unknown") };
}

/** Opens the socket and waits for `ready`; rejects if the server refuses or closes it. */
export function openAppSocket(options: AppSocketOptions): Promise<AppSocket> {
  const socket = new WebSocket(options.wsUrl, {
    headers: { authorization: `Bearer ${options.accessToken}` },
  });
  const waiting = new Map<string, (answer: Answer) => void>();
  let refs = 0;
  const closed = new Promise<{ code: number }>((resolve) =>
    socket.once("close", (code) => {
      for (const [ref, resolveAnswer] of waiting) {
        waiting.delete(ref);
        resolveAnswer({ ok: false, code: "socket_closed" });
      }
      resolve({ code });
    }),
  );
  return new Promise((resolve, reject) => {
    socket.once("error", reject);
    socket.once("close", (code) => reject(new Error(`the community socket closed (${code}) before ready`)));
    socket.on("message", (data) => {
      const message = JSON.parse(data.toString()) as ServerMessage;
      const ref = typeof message.ref === "string" ? message.ref : undefined;
      if (message.type === "ready") return resolve(appSocket(String(message.userId)));
      if (ref !== undefined && (message.type === "reply" || message.type === "error")) {
        const answer = answerOf(message);
        const resolveAnswer = waiting.get(ref);
        waiting.delete(ref);
        if (resolveAnswer) resolveAnswer(answer);
        else options.onAnswer?.(answer, ref);
        return;
      }
      options.onPush(message);
    });
  });

  function appSocket(userId: string): AppSocket {
    socket.on("error", () => {});
    return {
      userId,
      closed,
      send(message) {
        if (socket.readyState !== socket.OPEN) return Promise.resolve({ ok: false, code: "socket_closed" });
        const ref = `s${++refs}`;
        return new Promise<Answer>((resolveAnswer) => {
          const timer = setTimeout(() => {
            waiting.delete(ref);
            resolveAnswer({ ok: false, code: "timeout" });
          }, options.replyWaitMs);
          timer.unref();
          waiting.set(ref, (answer) => {
            clearTimeout(timer);
            resolveAnswer(answer);
          });
          socket.send(JSON.stringify({ ...message, ref }));
        });
      },
      fire(message) {
        if (socket.readyState !== socket.OPEN) return undefined;
        const ref = `f${++refs}`;
        socket.send(JSON.stringify({ ...message, ref }));
        return ref;
      },
      async close() {
        if (socket.readyState === socket.CLOSED) return;
        socket.close(1000, "simulation over");
        await Promise.race([closed, new Promise((r) => setTimeout(r, 2_000).unref())]);
        socket.terminate();
      },
    };
  }
}
