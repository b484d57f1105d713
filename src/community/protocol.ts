/**
 * The community WebSocket protocol (`/v1/community/ws`), as zod schemas: JSON text messages, one
 * object each. A client message may carry `ref` (echoed in the server's reply or error). Coordinates
 * are checked by the domain (out of range: `invalid_location` with the field), so only their type
 * is checked here.
 */
import { z } from "zod";

const ref = z.string().max(64).optional();
const uuid = z.uuid();
const location = { lat: z.number(), lon: z.number(), accuracyM: z.number() };

export const clientMessage = z.discriminatedUnion("type", [
  /** Only when the upgrade carried no Authorization header: the access token, as the first message. */
  z.strictObject({ type: z.literal("auth"), ref, token: z.string().min(1).max(4_096) }),
  /** An officer: open (or renew) the availability window at this position. */
  z.strictObject({ type: z.literal("available"), ref, ...location, windowMs: z.number().optional() }),
  z.strictObject({ type: z.literal("stop"), ref }),
  /** Position: an available officer's moves, or a citizen's (answered with the officers near). */
  z.strictObject({ type: z.literal("location"), ref, ...location }),
  /** A citizen asks an officer; `virtual` asks without proximity (if the programme allows it). */
  z.strictObject({ type: z.literal("request"), ref, officerId: uuid, virtual: z.boolean().optional() }),
  z.strictObject({ type: z.literal("accept"), ref, requestId: uuid }),
  z.strictObject({ type: z.literal("decline"), ref, requestId: uuid }),
]);

export type ClientMessage = z.infer<typeof clientMessage>;

/** Close codes: the token expired or was refused (reconnect with a fresh one), sign-in too slow. */
// 1008 policy violation: the socket kept sending while its earlier messages waited.
export const closeCodes = { unauthorized: 4401, authTimeout: 4408, tooMuchWaiting: 1008 } as const;
