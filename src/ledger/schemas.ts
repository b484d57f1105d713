/**
 * Wire schemas of the ledger's topics (Avro) and the mapping to the domain types.
 * Changing a schema: keep it BACKWARD compatible (add fields with defaults, never remove or
 * retype); `schemas.test.ts` checks every schema against its snapshot in `schemas.snapshot.json`.
 */
import type { AvroSchema } from "../platform/log/avro.ts";
import type {
  Authorization,
  BalanceChanged,
  LedgerCommand,
  OutcomeEvent,
  RejectionReason,
  TransferKind,
  TransferPhase,
} from "./domain/types.ts";

const ns = "ledgerflow.ledger";

const authorization = {
  type: "record",
  name: "Authorization",
  fields: [
    {
      name: "kind",
      type: { type: "enum", name: "AuthorizationKind", symbols: ["owner", "token", "operator"] },
    },
    { name: "actorId", type: "string" },
    { name: "tokenHash", type: "string", default: "" },
  ],
};

export const commandSchema: AvroSchema = {
  type: "record",
  name: "Command",
  namespace: ns,
  fields: [
    { name: "commandId", type: "string" },
    { name: "fingerprint", type: "string" },
    { name: "issuedAtMs", type: "long" },
    {
      name: "body",
      type: [
        {
          type: "record",
          name: "CreateAccount",
          fields: [
            { name: "accountId", type: "string" },
            { name: "ownerId", type: "string" },
            { name: "asset", type: "string" },
            { name: "overdraftLimit", type: "long" },
            { name: "system", type: "boolean" },
            { name: "tokenHash", type: "string" },
          ],
        },
        {
          type: "record",
          name: "TransferMoney",
          fields: [
            { name: "kind", type: "string" },
            { name: "debitIban", type: "string" },
            { name: "creditIban", type: "string" },
            { name: "amount", type: "long" },
            { name: "asset", type: "string" },
            { name: "description", type: "string" },
            { name: "authorization", type: authorization },
            { name: "pendingTimeoutMs", type: ["null", "long"], default: null },
            // Added for client insights: a cash operation's branch as the teller typed it.
            { name: "branch", type: ["null", "string"], default: null },
            // Added for step-up: "passkey" when the customer confirmed a large transfer so.
            { name: "confirmedWith", type: ["null", "string"], default: null },
          ],
        },
        {
          type: "record",
          name: "PostPendingTransfer",
          fields: [
            { name: "pendingId", type: "string" },
            // Added for holds: a partial post, and a customer's authorization (null: platform).
            { name: "amount", type: ["null", "long"], default: null },
            { name: "authorization", type: ["null", "Authorization"], default: null },
            { name: "reviewId", type: ["null", "string"], default: null },
          ],
        },
        {
          type: "record",
          name: "VoidPendingTransfer",
          fields: [
            { name: "pendingId", type: "string" },
            { name: "cause", type: "string" },
            { name: "authorization", type: ["null", "Authorization"], default: null },
            { name: "reviewId", type: ["null", "string"], default: null },
          ],
        },
      ],
    },
  ],
} as AvroSchema;

export const outcomeSchema: AvroSchema = {
  type: "record",
  name: "Outcome",
  namespace: ns,
  fields: [
    { name: "commandId", type: "string" },
    { name: "fingerprint", type: "string" },
    { name: "issuedAtMs", type: "long" },
    { name: "atMs", type: "long" },
    {
      name: "body",
      type: [
        {
          type: "record",
          name: "AccountCreationConfirmed",
          fields: [
            { name: "accountId", type: "string" },
            { name: "iban", type: "string" },
            { name: "ownerId", type: "string" },
            { name: "asset", type: "string" },
            { name: "overdraftLimit", type: "long" },
            { name: "system", type: "boolean" },
          ],
        },
        {
          type: "record",
          name: "AccountCreationFailed",
          fields: [
            { name: "accountId", type: "string" },
            { name: "reason", type: "string" },
          ],
        },
        {
          type: "record",
          name: "MoneyTransferConfirmed",
          fields: [
            { name: "transferId", type: "string" },
            { name: "kind", type: "string" },
            { name: "phase", type: "string" },
            { name: "debitAccountId", type: "string" },
            { name: "creditAccountId", type: "string" },
            { name: "debitIban", type: "string" },
            { name: "creditIban", type: "string" },
            { name: "amount", type: "long" },
            { name: "asset", type: "string" },
            { name: "description", type: "string" },
            { name: "expiresAtMs", type: ["null", "long"], default: null },
            // Added for client insights: a cash operation's branch as the teller typed it.
            { name: "branch", type: ["null", "string"], default: null },
            { name: "reviewId", type: ["null", "string"], default: null },
          ],
        },
        { type: "record", name: "MoneyTransferFailed", fields: [{ name: "reason", type: "string" }] },
      ],
    },
  ],
} as AvroSchema;

export const balanceChangedSchema: AvroSchema = {
  type: "record",
  name: "BalanceChanged",
  namespace: ns,
  fields: [
    { name: "commandId", type: "string" },
    { name: "accountId", type: "string" },
    { name: "iban", type: "string" },
    { name: "asset", type: "string" },
    { name: "newBalance", type: "long" },
    { name: "changedBy", type: "long" },
    { name: "counterpartyIban", type: "string" },
    { name: "description", type: "string" },
    { name: "atMs", type: "long" },
  ],
} as AvroSchema;

/** A command as it travels: the domain command plus when it was accepted. */
export interface CommandEnvelope {
  readonly command: LedgerCommand;
  readonly issuedAtMs: number;
}

type Wrapped = Record<string, Record<string, unknown>>;

function unwrap(union: unknown): [string, Record<string, unknown>] {
  const [name, value] = Object.entries(union as Wrapped)[0] ?? [];
  if (name === undefined || value === undefined) throw new TypeError("empty union");
  return [name.slice(ns.length + 1), value];
}

export function commandToAvro({ command, issuedAtMs }: CommandEnvelope): unknown {
  const { commandId, fingerprint } = command;
  const head = { commandId, fingerprint, issuedAtMs: BigInt(issuedAtMs) };
  switch (command.type) {
    case "CreateAccount": {
      const { accountId, ownerId, asset, overdraftLimit, system, tokenHash } = command;
      const body = { accountId, ownerId, asset, overdraftLimit, system, tokenHash };
      return { ...head, body: { [`${ns}.CreateAccount`]: body } };
    }
    case "TransferMoney": {
      const { kind, debitIban, creditIban, amount, asset, description, authorization: auth } = command;
      const body = {
        kind,
        debitIban,
        creditIban,
        amount,
        asset,
        description,
        authorization: {
          kind: auth.kind,
          actorId: auth.actorId,
          tokenHash: auth.kind === "token" ? auth.tokenHash : "",
        },
        pendingTimeoutMs:
          command.pendingTimeoutMs === undefined ? null : { long: BigInt(command.pendingTimeoutMs) },
        branch: command.branch === undefined ? null : { string: command.branch },
        confirmedWith: stringToAvro(command.confirmedWith),
      };
      return { ...head, body: { [`${ns}.TransferMoney`]: body } };
    }
    case "PostPendingTransfer": {
      const body = {
        pendingId: command.pendingId,
        amount: command.amount === undefined ? null : { long: command.amount },
        authorization: authorizationToAvro(command.authorization),
        reviewId: stringToAvro(command.reviewId),
      };
      return { ...head, body: { [`${ns}.PostPendingTransfer`]: body } };
    }
    case "VoidPendingTransfer": {
      const body = {
        pendingId: command.pendingId,
        cause: command.cause,
        authorization: authorizationToAvro(command.authorization),
        reviewId: stringToAvro(command.reviewId),
      };
      return { ...head, body: { [`${ns}.VoidPendingTransfer`]: body } };
    }
  }
}

export function commandFromAvro(record: unknown): CommandEnvelope {
  const r = record as { commandId: string; fingerprint: string; issuedAtMs: bigint; body: unknown };
  const head = { commandId: r.commandId, fingerprint: r.fingerprint };
  const [name, b] = unwrap(r.body);
  const issuedAtMs = Number(r.issuedAtMs);
  switch (name) {
    case "CreateAccount":
      return {
        issuedAtMs,
        command: {
          ...head,
          type: "CreateAccount",
          accountId: b.accountId as string,
          ownerId: b.ownerId as string,
          asset: b.asset as string,
          overdraftLimit: b.overdraftLimit as bigint,
          system: b.system as boolean,
          tokenHash: b.tokenHash as string,
        },
      };
    case "TransferMoney": {
      const auth = b.authorization as {
        kind: "owner" | "token" | "operator";
        actorId: string;
        tokenHash: string;
      };
      const timeout = b.pendingTimeoutMs as { long: bigint } | null;
      const branch = optionalString(b.branch);
      const confirmedWith = optionalString(b.confirmedWith);
      return {
        issuedAtMs,
        command: {
          ...head,
          type: "TransferMoney",
          kind: b.kind as TransferKind,
          debitIban: b.debitIban as string,
          creditIban: b.creditIban as string,
          amount: b.amount as bigint,
          asset: b.asset as string,
          description: b.description as string,
          authorization:
            auth.kind === "token"
              ? { kind: "token", actorId: auth.actorId, tokenHash: auth.tokenHash }
              : { kind: auth.kind, actorId: auth.actorId },
          ...(timeout === null ? {} : { pendingTimeoutMs: Number(timeout.long) }),
          ...(branch === undefined ? {} : { branch }),
          ...(confirmedWith === "passkey" ? { confirmedWith } : {}),
        },
      };
    }
    case "PostPendingTransfer":
    case "VoidPendingTransfer":
      return { issuedAtMs, command: completionFromAvro(name, head, b) };
    default:
      throw new TypeError(`unknown command ${name}`);
  }
}

function completionFromAvro(
  name: "PostPendingTransfer" | "VoidPendingTransfer",
  head: { commandId: string; fingerprint: string },
  b: Record<string, unknown>,
): LedgerCommand {
  const authorization = authorizationFromAvro(b.authorization);
  const reviewId = optionalString(b.reviewId);
  const common = {
    ...head,
    pendingId: b.pendingId as string,
    ...(authorization === undefined ? {} : { authorization }),
    ...(reviewId === undefined ? {} : { reviewId }),
  };
  if (name === "VoidPendingTransfer")
    return { ...common, type: name, cause: b.cause === "expired" ? "expired" : "voided" };
  const amount = (b.amount ?? null) as { long: bigint } | null;
  return { ...common, type: name, ...(amount === null ? {} : { amount: amount.long }) };
}

/** A nullable string field (a union wraps the value); records written before it: absent. */
function stringToAvro(value: string | undefined): { string: string } | null {
  return value === undefined ? null : { string: value };
}

type AvroAuthorization = { kind: Authorization["kind"]; actorId: string; tokenHash: string };

function authorizationToAvro(auth: Authorization | undefined): unknown {
  if (auth === undefined) return null;
  const record = {
    kind: auth.kind,
    actorId: auth.actorId,
    tokenHash: auth.kind === "token" ? auth.tokenHash : "",
  };
  return { [`${ns}.Authorization`]: record };
}

/** A nullable authorization as decoded (a union wraps the record); records written before it: none. */
function authorizationFromAvro(value: unknown): Authorization | undefined {
  if (value === null || value === undefined) return undefined;
  const wrapped = value as Record<string, AvroAuthorization>;
  const auth = wrapped[`${ns}.Authorization`] ?? (value as AvroAuthorization);
  return auth.kind === "token"
    ? { kind: "token", actorId: auth.actorId, tokenHash: auth.tokenHash }
    : { kind: auth.kind, actorId: auth.actorId };
}

/** An outcome as published: the outcome event plus the command's fingerprint and acceptance time. */
export interface OutcomeEnvelope {
  readonly outcome: OutcomeEvent;
  readonly fingerprint: string;
  readonly issuedAtMs: number;
}

export function outcomeToAvro({ outcome, fingerprint, issuedAtMs }: OutcomeEnvelope): unknown {
  const head = {
    commandId: outcome.commandId,
    fingerprint,
    issuedAtMs: BigInt(issuedAtMs),
    atMs: BigInt(outcome.atMs),
  };
  switch (outcome.type) {
    case "AccountCreationConfirmed": {
      const { id, iban, ownerId, asset, overdraftLimit, system } = outcome.account;
      const body = { accountId: id, iban, ownerId, asset, overdraftLimit, system };
      return { ...head, body: { [`${ns}.AccountCreationConfirmed`]: body } };
    }
    case "AccountCreationFailed":
      return {
        ...head,
        body: { [`${ns}.AccountCreationFailed`]: { accountId: outcome.accountId, reason: outcome.reason } },
      };
    case "MoneyTransferConfirmed": {
      const { type: _, commandId: __, atMs: ___, expiresAtMs, reviewId, branch, ...rest } = outcome;
      const body = {
        ...rest,
        expiresAtMs: expiresAtMs === undefined ? null : { long: BigInt(expiresAtMs) },
        reviewId: stringToAvro(reviewId),
        branch: branch === undefined ? null : { string: branch },
      };
      return { ...head, body: { [`${ns}.MoneyTransferConfirmed`]: body } };
    }
    case "MoneyTransferFailed":
      return { ...head, body: { [`${ns}.MoneyTransferFailed`]: { reason: outcome.reason } } };
  }
}

/** Published outcome as consumers see it (no token hash: it never leaves the ledger). */
export type PublishedOutcome =
  | { type: "AccountCreationConfirmed"; accountId: string; iban: string; ownerId: string; asset: string }
  | { type: "AccountCreationFailed"; accountId: string; reason: RejectionReason }
  | {
      type: "MoneyTransferConfirmed";
      transferId: string;
      kind: TransferKind;
      phase: TransferPhase;
      debitIban: string;
      creditIban: string;
      amount: bigint;
      asset: string;
      description: string;
      /** A cash operation's branch as the teller typed it; absent for transfers (and older records). */
      branch?: string;
      /** Set on a transfer held for review by screening (phase pending). */
      reviewId?: string;
    }
  | { type: "MoneyTransferFailed"; reason: RejectionReason };

export interface PublishedOutcomeEnvelope {
  readonly commandId: string;
  readonly fingerprint: string;
  readonly issuedAtMs: number;
  readonly atMs: number;
  readonly outcome: PublishedOutcome;
}

export function outcomeFromAvro(record: unknown): PublishedOutcomeEnvelope {
  const r = record as {
    commandId: string;
    fingerprint: string;
    issuedAtMs: bigint;
    atMs: bigint;
    body: unknown;
  };
  const [name, { branch, reviewId, ...b }] = unwrap(r.body);
  const branchName = optionalString(branch);
  const review = optionalString(reviewId);
  return {
    commandId: r.commandId,
    fingerprint: r.fingerprint,
    issuedAtMs: Number(r.issuedAtMs),
    atMs: Number(r.atMs),
    outcome: {
      type: name,
      ...b,
      ...(branchName === undefined ? {} : { branch: branchName }),
      ...(review === undefined ? {} : { reviewId: review }),
    } as PublishedOutcome,
  };
}

/** A nullable string as decoded (a union may wrap it); null or absent (older records): undefined. */
function optionalString(value: unknown): string | undefined {
  if (value === null || value === undefined) return undefined;
  if (typeof value === "string") return value;
  return (value as { string?: string }).string;
}

export function balanceChangedToAvro(event: BalanceChanged): unknown {
  const { type: _, atMs, ...rest } = event;
  return { ...rest, atMs: BigInt(atMs) };
}

export function balanceChangedFromAvro(record: unknown): BalanceChanged {
  const r = record as Omit<BalanceChanged, "type" | "atMs"> & { atMs: bigint };
  return { ...r, type: "BalanceChanged", atMs: Number(r.atMs) };
}
