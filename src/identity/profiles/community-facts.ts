/**
 * What identity's profiles learn from one decoded `community.events` record (the community
 * context's published contract, `community/events.ts`): per participant of an established
 * connection, one connection fact; per trophy, one trophy fact. Pure: no I/O, no clock.
 *
 * The fields read are declared here (a tolerant reader), not imported: the community context uses
 * identity's door, so identity importing its door would make a cycle. The feed's test writes the
 * community's own typed events, which ties the two together.
 *
 * A record of a known type whose fields break the contract is poison (dead-lettered, never retried);
 * a type this version does not know is skipped, so the community context can add types first.
 */
import { z } from "zod";
import { PoisonMessageError } from "../../platform/errors.ts";

export interface ConnectionFact {
  readonly kind: "connection";
  readonly connectionId: string;
  readonly userId: string;
  readonly rewarded: boolean;
  /** PTS minor units this participant earned by the connection (0 when not rewarded). */
  readonly points: bigint;
  readonly atMs: number;
}

export interface TrophyFact {
  readonly kind: "trophy";
  readonly userId: string;
  readonly trophy: string;
  readonly connectionId: string;
  readonly atMs: number;
}

export type CommunityFact = ConnectionFact | TrophyFact;

const userId = z
  .string()
  .regex(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i, "a user id (UUID)")
  .transform((id) => id.toLowerCase());
const connectionId = z.string().min(1).max(128);
/**
 * Milliseconds since the epoch (an Avro long, decoded as bigint), within what a timestamptz and a
 * JavaScript Date both hold.
 */
const atMs = z
  .bigint()
  .min(0n)
  .max(8_640_000_000_000_000n)
  .transform((ms) => Number(ms));
/** Non-negative PTS minor units that fit PostgreSQL's bigint (at most 18 digits). */
const minorUnits = z.string().regex(/^(0|[1-9][0-9]{0,17})$/, "minor units as a decimal string");

// Only the fields identity uses are checked (kind and cell are the community context's business).
const connectionEstablished = z
  .object({
    type: z.literal("ConnectionEstablished"),
    connectionId,
    officerId: userId,
    citizenId: userId,
    rewarded: z.boolean(),
    pointsEach: minorUnits,
    atMs,
  })
  .refine((event) => event.officerId !== event.citizenId, "an officer cannot connect with themselves");

const trophyAwarded = z.object({
  type: z.literal("TrophyAwarded"),
  userId,
  trophy: z.string().regex(/^[a-z0-9_]{1,64}$/, "a trophy code"),
  connectionId,
  atMs,
});

/** The facts in one decoded record; throws PoisonMessageError when it breaks the contract. */
export function communityFactsOf(value: unknown): CommunityFact[] {
  const type = (value as { type?: unknown } | null)?.type;
  if (type === "ConnectionEstablished") return connectionFacts(parsed(connectionEstablished, value));
  if (type === "TrophyAwarded") return [trophyFact(parsed(trophyAwarded, value))];
  if (typeof type === "string") return [];
  throw new PoisonMessageError("community event without a type");
}

function parsed<T>(schema: z.ZodType<T>, value: unknown): T {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const field = issue?.path.join(".") || "record";
  throw new PoisonMessageError(`community event: ${field}: ${issue?.message ?? "invalid"}`);
}

function connectionFacts(event: z.infer<typeof connectionEstablished>): ConnectionFact[] {
  // Points count only when the connection was rewarded (one rewarded connection per pair per day).
  const points = event.rewarded ? BigInt(event.pointsEach) : 0n;
  return [event.officerId, event.citizenId].map((participant) => ({
    kind: "connection",
    connectionId: event.connectionId,
    userId: participant,
    rewarded: event.rewarded,
    points,
    atMs: event.atMs,
  }));
}

function trophyFact(event: z.infer<typeof trophyAwarded>): TrophyFact {
  return {
    kind: "trophy",
    userId: event.userId,
    trophy: event.trophy,
    connectionId: event.connectionId,
    atMs: event.atMs,
  };
}
