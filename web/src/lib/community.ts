/**
 * The one community WebSocket (`/v1/community/ws`) an app holds: signs in with the access token as
 * its first message (browsers cannot set the upgrade's Authorization header), reconnects by itself
 * with backoff, refreshes the token when the server closes with 4401, answers each `send` with the
 * server's reply to its `ref`, and hands every push to the listeners. Shared by every screen that
 * needs it: the socket opens with the first user and closes a moment after the last one leaves.
 */
import { getSession, refreshSession } from "./session.ts";

export type SocketState = "connecting" | "live" | "offline";

/** A user as another participant sees them (identity's public profile). */
export interface PublicProfile {
  readonly userId: string;
  readonly displayName: string;
  readonly avatarUrl: string | null;
  readonly agency: string | null;
  readonly verified: boolean;
}

export interface NearbyOfficer {
  readonly officerId: string;
  readonly distanceM: number;
  readonly profile: PublicProfile | null;
}

export interface ConnectionRequest {
  readonly id: string;
  readonly citizenId: string;
  readonly officerId: string;
  readonly kind: "in_person" | "virtual";
  readonly createdAtMs: number;
  readonly expiresAtMs: number;
}

export interface Connection {
  readonly id: string;
  readonly requestId: string;
  readonly officerId: string;
  readonly citizenId: string;
  readonly kind: "in_person" | "virtual";
  readonly rewarded: boolean;
  /** PTS each participant earned, a decimal string. */
  readonly pointsEach: string;
  readonly atMs: number;
}

/** What the server pushes without being asked, to the user it concerns only. */
export type Push =
  | { type: "officer_nearby"; officer: NearbyOfficer }
  | { type: "request"; request: ConnectionRequest; citizen: PublicProfile | null }
  | { type: "connection"; connection: Connection }
  | { type: "declined"; requestId: string }
  | { type: "officer_left"; officerId: string }
  | { type: "request_expired"; requestId: string; officerId: string }
  | { type: "request_removed"; requestId: string; reason: "expired" }
  | { type: "trophy"; trophy: string; connectionId: string }
  | { type: "availability"; available: false; reason: "stopped" | "expired" };

/** A refusal from the server: a stable code (the REST API's problem codes) and words. */
export class CommunityError extends Error {
  readonly code: string;
  readonly field: string | undefined;
  constructor(code: string, detail: string, field?: string) {
    super(detail);
    this.name = "CommunityError";
    this.code = code;
    this.field = field;
  }
}

interface Pending {
  readonly resolve: (result: unknown) => void;
  readonly reject: (error: Error) => void;
  readonly timer: ReturnType<typeof setTimeout>;
}

const replyWaitMs = 15_000;
const retryDelayMaxMs = 15_000;
const idleCloseMs = 2_000;
/** The server's close codes: the token expired or was refused; authentication too slow. */
const tokenRefused = 4401;

export function communitySocketUrl(): string {
  const scheme = location.protocol === "https:" ? "wss:" : "ws:";
  return `${scheme}//${location.host}/v1/community/ws`;
}

export class CommunitySocket {
  #socket: WebSocket | undefined;
  #state: SocketState = "offline";
  #retries = 0;
  #retryTimer: ReturnType<typeof setTimeout> | undefined;
  #refs = 0;
  #closed = false;
  readonly #pending = new Map<string, Pending>();
  readonly #pushListeners = new Set<(push: Push) => void>();
  readonly #stateListeners = new Set<(state: SocketState) => void>();
  readonly #url: string;

  constructor(url = communitySocketUrl()) {
    this.#url = url;
    this.#open();
  }

  get state(): SocketState {
    return this.#state;
  }

  onPush(listener: (push: Push) => void): () => void {
    this.#pushListeners.add(listener);
    return () => this.#pushListeners.delete(listener);
  }

  /** Called with every state change; on "live" (again) screens re-send what the server forgot. */
  onState(listener: (state: SocketState) => void): () => void {
    this.#stateListeners.add(listener);
    return () => this.#stateListeners.delete(listener);
  }

  /** Sends a message and resolves with the server's `result`, or rejects with its error. */
  send<T>(message: { type: string } & Record<string, unknown>): Promise<T> {
    const socket = this.#socket;
    if (this.#state !== "live" || !socket)
      return Promise.reject(new CommunityError("offline", "Not connected; reconnecting…"));
    const ref = `r${++this.#refs}`;
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(ref);
        reject(new CommunityError("timeout", "No answer from the server"));
      }, replyWaitMs);
      this.#pending.set(ref, { resolve: resolve as (result: unknown) => void, reject, timer });
      socket.send(JSON.stringify({ ...message, ref }));
    });
  }

  close(): void {
    this.#closed = true;
    clearTimeout(this.#retryTimer);
    this.#socket?.close(1000, "Closed by the app");
    this.#setState("offline");
  }

  #setState(state: SocketState): void {
    if (state === this.#state) return;
    this.#state = state;
    for (const listener of this.#stateListeners) listener(state);
  }

  #open(): void {
    const session = getSession();
    if (this.#closed || !session) {
      this.#setState("offline");
      return;
    }
    this.#setState("connecting");
    const socket = new WebSocket(this.#url);
    this.#socket = socket;
    socket.onopen = () => socket.send(JSON.stringify({ type: "auth", token: session.token }));
    socket.onmessage = (event) => this.#receive(String(event.data));
    socket.onclose = (event) => void this.#onClose(socket, event.code, session.token);
  }

  #receive(text: string): void {
    let message: Record<string, unknown>;
    try {
      message = JSON.parse(text) as Record<string, unknown>;
    } catch {
      return;
    }
    if (message.type === "ready") {
      this.#retries = 0;
      this.#setState("live");
      return;
    }
    const pending = typeof message.ref === "string" ? this.#pending.get(message.ref) : undefined;
    if (pending && (message.type === "reply" || message.type === "error")) {
      this.#pending.delete(message.ref as string);
      clearTimeout(pending.timer);
      const field = typeof message.field === "string" ? message.field : undefined;
      if (message.type === "reply") pending.resolve(message.result);
      else pending.reject(new CommunityError(String(message.code), String(message.detail ?? ""), field));
      return;
    }
    for (const listener of this.#pushListeners) listener(message as Push);
  }

  async #onClose(socket: WebSocket, code: number, usedToken: string): Promise<void> {
    if (socket !== this.#socket) return;
    this.#socket = undefined;
    for (const [ref, pending] of this.#pending) {
      clearTimeout(pending.timer);
      pending.reject(new CommunityError("offline", "The connection dropped; try again"));
      this.#pending.delete(ref);
    }
    this.#setState(this.#closed ? "offline" : "connecting");
    if (this.#closed) return;
    // The token expired or was refused: unless the app has a newer one already, trade the refresh
    // cookie for one before retrying; without a session there is nothing to retry with.
    if (code === tokenRefused && getSession()?.token === usedToken && !(await refreshSession())) {
      this.#setState("offline");
      return;
    }
    const delayMs = Math.min(retryDelayMaxMs, 500 * 2 ** this.#retries) * (0.5 + Math.random() / 2);
    this.#retries++;
    this.#retryTimer = setTimeout(() => this.#open(), delayMs);
  }
}

let shared: { socket: CommunitySocket; users: number; idleTimer?: ReturnType<typeof setTimeout> } | undefined;

/** The app's one community socket; call the returned release when the screen goes away. */
export function acquireCommunitySocket(): { socket: CommunitySocket; release: () => void } {
  if (shared) clearTimeout(shared.idleTimer);
  else shared = { socket: new CommunitySocket(), users: 0 };
  const held = shared;
  held.users++;
  let released = false;
  return {
    socket: held.socket,
    release: () => {
      if (released) return;
      released = true;
      held.users--;
      if (held.users > 0) return;
      // A moment's grace: a screen re-rendering or navigating between users keeps the socket.
      held.idleTimer = setTimeout(() => {
        if (held.users > 0 || shared !== held) return;
        held.socket.close();
        shared = undefined;
      }, idleCloseMs);
    },
  };
}
