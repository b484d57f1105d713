/**
 * Sending a command and following it to its outcome. The POST asks the server to wait (Prefer:
 * wait=5); if the outcome is not ready by then (202), the `commandOutcome` subscription — opened
 * before the POST so no push is missed — settles it, with GET /v1/commands/{id} as a catch-up in
 * case the outcome was published before the subscription started.
 */
import type { Client } from "graphql-ws";
import { ApiError, get, request } from "./api.ts";
import { type CommandOutcome, type LiveDocuments, subscribeField } from "./graphql.ts";
import type { CommandStatus } from "./types.ts";

export type Outcome<T> =
  | { readonly status: "confirmed"; readonly body: T | undefined }
  | { readonly status: "failed"; readonly reason: string; readonly detail?: string }
  | { readonly status: "pending" };

const waitSeconds = 5;
const catchUpDelayMs = 1500;
const outcomeWaitMaxMs = 30_000;

function isConfirmed(status: string): boolean {
  return /^(CONFIRMED|SUCCESS|COMPLETED|POSTED|CREATED)$/i.test(status);
}

function isFailed(status: string): boolean {
  return /^(FAILED|FAILURE|REJECTED)$/i.test(status);
}

function fromStatus<T>(status: CommandStatus | CommandOutcome): Outcome<T> | undefined {
  if (isConfirmed(status.status)) return { status: "confirmed", body: undefined };
  if (isFailed(status.status)) return { status: "failed", reason: status.reason ?? "failed" };
  return undefined;
}

export interface LiveLink {
  readonly client: Client;
  readonly documents: LiveDocuments;
}

/** Waits for a pushed or fetched outcome; resolves "pending" if none arrives in time. */
function followOutcome<T>(
  live: LiveLink | undefined,
  id: string,
  signal: AbortSignal,
): {
  promise: Promise<Outcome<T>>;
  stop: () => void;
} {
  let stopSubscription = (): void => {};
  let settle: (outcome: Outcome<T>) => void = () => {};
  const promise = new Promise<Outcome<T>>((resolve) => {
    settle = resolve;
  });
  if (live) {
    stopSubscription = subscribeField<CommandOutcome>(
      live.client,
      live.documents.commandOutcome,
      { id },
      "commandOutcome",
      (outcome) => {
        const settled = fromStatus<T>(outcome);
        if (settled) settle(settled);
      },
    );
  }
  const timer = setTimeout(() => settle({ status: "pending" }), outcomeWaitMaxMs);
  signal.addEventListener("abort", () => settle({ status: "pending" }));
  return {
    promise,
    stop: () => {
      clearTimeout(timer);
      stopSubscription();
    },
  };
}

export async function sendCommand<T>(options: {
  path: string;
  id: string;
  body: Record<string, unknown>;
  live: LiveLink | undefined;
  /** Called once the server accepted the command but has no outcome yet. */
  onPending?: () => void;
  signal?: AbortSignal;
  /** Extra headers on the command's requests (a step-up's `Passkey-Assertion`). */
  headers?: Readonly<Record<string, string>>;
}): Promise<Outcome<T>> {
  const abort = new AbortController();
  options.signal?.addEventListener("abort", () => abort.abort());
  const follower = followOutcome<T>(options.live, options.id, abort.signal);
  try {
    const answer = await request<T & { status?: string }>(options.path, {
      body: { id: options.id, ...options.body },
      waitSeconds,
      signal: abort.signal,
      ...(options.headers ? { headers: options.headers } : {}),
    });
    if (answer.status !== 202) return { status: "confirmed", body: answer.body };
    options.onPending?.();
    const catchUp = new Promise<Outcome<T>>((resolve) => {
      setTimeout(() => {
        get<CommandStatus>(`/v1/commands/${encodeURIComponent(options.id)}`, abort.signal)
          .then((status) => {
            const settled = fromStatus<T>(status);
            if (settled) resolve(settled);
          })
          .catch(() => {});
      }, catchUpDelayMs);
    });
    const outcome = await Promise.race([follower.promise, catchUp]);
    if (outcome.status !== "confirmed") return outcome;
    // Same id + same payload returns the first outcome: ask again to get the full answer.
    try {
      const again = await request<T>(options.path, {
        body: { id: options.id, ...options.body },
        waitSeconds,
        signal: abort.signal,
        ...(options.headers ? { headers: options.headers } : {}),
      });
      return { status: "confirmed", body: again.status === 202 ? undefined : again.body };
    } catch {
      return outcome;
    }
  } catch (error) {
    if (error instanceof ApiError && error.status === 422) {
      return {
        status: "failed",
        reason: error.problem.code,
        ...(error.problem.detail ? { detail: error.problem.detail } : {}),
      };
    }
    throw error;
  } finally {
    follower.stop();
    abort.abort();
  }
}
