/** The ledger's Avro mapping: a cash operation's branch travels on its command and outcome. */
import assert from "node:assert/strict";
import { test } from "node:test";
import { type AvroSchema, avroType } from "../platform/log/avro.ts";
import type { MoneyTransferConfirmed, TransferMoney } from "./domain/types.ts";
import {
  commandFromAvro,
  commandSchema,
  commandToAvro,
  outcomeFromAvro,
  outcomeSchema,
  outcomeToAvro,
} from "./schemas.ts";

const deposit: TransferMoney = {
  type: "TransferMoney",
  commandId: "0b0e7c5e-8f3c-4d8e-9f5e-3c7a2f1d9b01",
  fingerprint: "f",
  kind: "deposit",
  debitIban: "NL01OPEN0000000001",
  creditIban: "NL02OPEN0000000002",
  amount: 500n,
  asset: "EUR",
  description: "Cash deposit at Amsterdam Zuid",
  authorization: { kind: "operator", actorId: "teller" },
  branch: "Amsterdam Zuid",
};

const confirmed: MoneyTransferConfirmed = {
  type: "MoneyTransferConfirmed",
  commandId: deposit.commandId,
  transferId: deposit.commandId,
  kind: "deposit",
  phase: "single",
  debitAccountId: "d",
  creditAccountId: "c",
  debitIban: deposit.debitIban,
  creditIban: deposit.creditIban,
  amount: 500n,
  asset: "EUR",
  description: deposit.description,
  branch: "Amsterdam Zuid",
  atMs: 1_700_000_000_000,
};

/** The schema as it was before branches were carried: the same without the `branch` fields. */
function withoutBranch(schema: AvroSchema): AvroSchema {
  return JSON.parse(JSON.stringify(schema), (key, value) =>
    key === "fields" && Array.isArray(value)
      ? value.filter((f: { name: string }) => f.name !== "branch")
      : value,
  );
}

test("an operation's branch round-trips on the command and the outcome", () => {
  const commands = avroType(commandSchema);
  const decoded = commandFromAvro(
    commands.fromBuffer(commands.toBuffer(commandToAvro({ command: deposit, issuedAtMs: 1 }))),
  );
  assert.equal((decoded.command as TransferMoney).branch, "Amsterdam Zuid");
  const outcomes = avroType(outcomeSchema);
  const bytes = outcomes.toBuffer(outcomeToAvro({ outcome: confirmed, fingerprint: "f", issuedAtMs: 1 }));
  const published = outcomeFromAvro(outcomes.fromBuffer(bytes)).outcome;
  assert.equal(published.type === "MoneyTransferConfirmed" && published.branch, "Amsterdam Zuid");
});

test("a transfer has no branch, and records written before branches were carried decode without one", () => {
  const { branch: _, ...transfer } = confirmed;
  const outcomes = avroType(outcomeSchema);
  const bytes = outcomes.toBuffer(
    outcomeToAvro({ outcome: { ...transfer, kind: "transfer" }, fingerprint: "f", issuedAtMs: 1 }),
  );
  const published = outcomeFromAvro(outcomes.fromBuffer(bytes)).outcome;
  assert.equal(published.type === "MoneyTransferConfirmed" && "branch" in published, false);

  const old = avroType(withoutBranch(outcomeSchema));
  const { branch: __, ...oldRecord } = outcomeToAvro({
    outcome: confirmed,
    fingerprint: "f",
    issuedAtMs: 1,
  }) as {
    body: Record<string, Record<string, unknown>>;
  } & Record<string, unknown>;
  const body = Object.fromEntries(
    Object.entries(oldRecord.body).map(([name, fields]) => {
      const { branch: ___, ...rest } = fields;
      return [name, rest];
    }),
  );
  const written = old.toBuffer({ ...oldRecord, body });
  const read = outcomes.fromBuffer(written, outcomes.createResolver(old));
  const decoded = outcomeFromAvro(read).outcome;
  assert.equal(decoded.type, "MoneyTransferConfirmed");
  assert.equal("branch" in decoded, false);
});

test("a transfer confirmed with a passkey (step-up) records it on the command; others record nothing", () => {
  const commands = avroType(commandSchema);
  const roundTrip = (command: TransferMoney) =>
    commandFromAvro(commands.fromBuffer(commands.toBuffer(commandToAvro({ command, issuedAtMs: 1 }))))
      .command as TransferMoney;
  const transfer: TransferMoney = {
    ...deposit,
    kind: "transfer",
    authorization: { kind: "owner", actorId: "u" },
  };
  assert.equal(roundTrip({ ...transfer, confirmedWith: "passkey" }).confirmedWith, "passkey");
  assert.equal("confirmedWith" in roundTrip(transfer), false);
});
