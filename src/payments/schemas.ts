/**
 * Wire format of the payments topics: a small Avro envelope (registered in the schema registry
 * like every topic) whose `body` is canonical JSON of the command or event, amounts as decimal
 * strings. The envelope carries what consumers route and de-duplicate on.
 */

import { PoisonMessageError } from "../platform/errors.ts";
import type { AvroSchema } from "../platform/log/avro.ts";
import type { PaymentCommand, PaymentEvent } from "./domain/types.ts";

const ns = "dev.ledgerflow.payments";

export const paymentCommandSchema = {
  type: "record",
  name: "PaymentCommand",
  namespace: ns,
  fields: [
    { name: "paymentId", type: "string" },
    { name: "type", type: "string" },
    { name: "issuedAtMs", type: "long" },
    { name: "body", type: "string" },
  ],
} as AvroSchema;

export const paymentEventSchema = {
  type: "record",
  name: "PaymentEvent",
  namespace: ns,
  fields: [
    { name: "paymentId", type: "string" },
    { name: "type", type: "string" },
    { name: "atMs", type: "long" },
    { name: "body", type: "string" },
  ],
} as AvroSchema;

export const gatewayChangeSchema = {
  type: "record",
  name: "GatewayChanged",
  namespace: ns,
  fields: [
    { name: "name", type: "string" },
    { name: "change", type: "string" },
    { name: "version", type: "long" },
    { name: "atMs", type: "long" },
  ],
} as AvroSchema;

export const gatewayAlertSchema = {
  type: "record",
  name: "GatewayAlert",
  namespace: ns,
  fields: [
    { name: "gateway", type: "string" },
    { name: "kind", type: "string" },
    { name: "detail", type: "string" },
    { name: "atMs", type: "long" },
  ],
} as AvroSchema;

/** JSON with bigints as decimal strings (tagged so they come back as bigints). */
export function toJson(value: unknown): string {
  return JSON.stringify(value, (_key, v) => (typeof v === "bigint" ? { $bigint: v.toString() } : v));
}

export function fromJson<T>(text: string): T {
  return JSON.parse(text, (_key, v) =>
    v !== null && typeof v === "object" && typeof v.$bigint === "string" && Object.keys(v).length === 1
      ? BigInt(v.$bigint)
      : v,
  ) as T;
}

export function commandToAvro(command: PaymentCommand, issuedAtMs: number): unknown {
  return {
    paymentId: command.paymentId,
    type: command.type,
    issuedAtMs: BigInt(issuedAtMs),
    body: toJson(command),
  };
}

export function commandFromAvro(record: unknown): PaymentCommand {
  const r = record as { paymentId: string; type: string; body: string };
  try {
    const command = fromJson<PaymentCommand>(r.body);
    if (command.type !== r.type || command.paymentId !== r.paymentId) throw new Error("envelope mismatch");
    return command;
  } catch (cause) {
    throw new PoisonMessageError(`payment command ${r.paymentId} cannot be decoded`, { cause });
  }
}

export function eventToAvro(event: PaymentEvent): unknown {
  return { paymentId: event.paymentId, type: event.type, atMs: BigInt(event.atMs), body: toJson(event) };
}

export function eventFromAvro(record: unknown): PaymentEvent {
  const r = record as { body: string };
  return fromJson<PaymentEvent>(r.body);
}
