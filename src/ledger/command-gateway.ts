/**
 * How the edge hands commands to the ledger: append to the command topic (durable before the
 * answer), keyed so one account's commands stay in order, and optionally wait for the outcome.
 */
import { createHash } from "node:crypto";
import type { Producer } from "../platform/log/port.ts";
import type { TopicCodec } from "../platform/log/topic-codecs.ts";
import type { LedgerCommand } from "./domain/types.ts";
import type { CommandResult, LedgerNotifications } from "./notifications.ts";
import type { LedgerQueries } from "./queries.ts";
import { commandToAvro } from "./schemas.ts";
import type { StoredOutcome } from "./store.ts";

/**
 * Commands this process accepted and has not seen decided, for `GET /v1/commands/{id}` → PENDING.
 * Bounded: the oldest entries are forgotten first (their outcome is in the ledger by then, or the
 * command is still in the log and shows up as decided later).
 */
export class AcceptedCommands {
  readonly #actors = new Map<string, string>();
  readonly #sizeMax: number;
  constructor(sizeMax: number) {
    this.#sizeMax = sizeMax;
  }
  add(commandId: string, actorId: string): void {
    this.#actors.set(commandId, actorId);
    if (this.#actors.size > this.#sizeMax) {
      const oldest = this.#actors.keys().next().value;
      if (oldest !== undefined) this.#actors.delete(oldest);
    }
  }
  delete(commandId: string): void {
    this.#actors.delete(commandId);
  }
  has(commandId: string, actorId: string): boolean {
    return this.#actors.get(commandId) === actorId;
  }
}

export function actorOf(command: LedgerCommand): string {
  if (command.type === "CreateAccount") return command.ownerId;
  if (command.type === "TransferMoney") return command.authorization.actorId;
  return command.authorization?.actorId ?? "platform";
}

export interface CommandGatewayDeps {
  readonly accepted: AcceptedCommands;
  readonly producer: Producer;
  readonly codec: TopicCodec;
  readonly notifications: LedgerNotifications;
  readonly queries: LedgerQueries;
  readonly nowMs: () => number;
}

/** What a submission ended as, from the caller's point of view. */
export type Submission =
  | { readonly kind: "accepted" }
  | { readonly kind: "decided"; readonly result: CommandResult }
  /** The id was used before for a different command. */
  | { readonly kind: "conflict" };

export function partitionKey(command: LedgerCommand): string {
  switch (command.type) {
    case "CreateAccount":
      return command.accountId;
    case "TransferMoney":
      return command.debitIban;
    case "PostPendingTransfer":
    case "VoidPendingTransfer":
      return command.pendingId;
  }
}

/** Stable hash of what makes two commands "the same": field order independent, ids excluded. */
export function fingerprintOf(
  fields: Readonly<Record<string, string | number | boolean | bigint | undefined>>,
): string {
  const canonical = Object.keys(fields)
    .sort()
    .map((key) => `${key}=${String(fields[key] ?? "")}`)
    .join("\n");
  return createHash("sha256").update(canonical).digest("base64url");
}

export function resultFromStored(stored: StoredOutcome): CommandResult {
  return {
    commandId: stored.commandId,
    fingerprint: stored.fingerprint,
    status: stored.status,
    ...(stored.reason === undefined ? {} : { reason: stored.reason }),
    result: stored.result,
    issuedAtMs: stored.issuedAtMs,
    decidedAtMs: stored.decidedAtMs,
  };
}

export interface CommandGateway {
  /** Appends and, when `waitMs` > 0, waits up to that long for the outcome. */
  submit(command: LedgerCommand, waitMs: number): Promise<Submission>;
  /** Appends many commands in one produce call; the caller waits for outcomes itself. */
  submitMany(commands: readonly LedgerCommand[]): Promise<void>;
}

export function createCommandGateway(deps: CommandGatewayDeps): CommandGateway {
  const judge = (command: LedgerCommand, result: CommandResult): Submission =>
    result.fingerprint === command.fingerprint ? { kind: "decided", result } : { kind: "conflict" };

  const append = async (commands: readonly LedgerCommand[]) => {
    const issuedAtMs = deps.nowMs();
    await deps.producer.send(
      commands.map((command) => ({
        topic: deps.codec.topic,
        key: partitionKey(command),
        value: deps.codec.encode(commandToAvro({ command, issuedAtMs })),
      })),
    );
    for (const command of commands) deps.accepted.add(command.commandId, actorOf(command));
  };

  return {
    async submit(command, waitMs) {
      // Register before appending so an outcome that arrives quickly is not missed.
      const waiter = waitMs > 0 ? deps.notifications.waitFor(command.commandId, waitMs) : undefined;
      // The known-id lookup and the durable append run side by side: the accept path costs one
      // round trip, not two. A replayed id is thereby appended again, which the handler's
      // idempotency turns into a no-op; its answer is the first outcome (or a conflict).
      let known: StoredOutcome | undefined;
      try {
        [known] = await Promise.all([deps.queries.outcome(command.commandId), append([command])]);
      } catch (error) {
        waiter?.cancel();
        throw error;
      }
      if (known) {
        waiter?.cancel();
        return judge(command, resultFromStored(known));
      }
      if (!waiter) return { kind: "accepted" };
      const result = await waiter.promise;
      if (result) return judge(command, result);
      const late = await deps.queries.outcome(command.commandId);
      return late ? judge(command, resultFromStored(late)) : { kind: "accepted" };
    },
    async submitMany(commands) {
      if (commands.length > 0) await append(commands);
    },
  };
}
