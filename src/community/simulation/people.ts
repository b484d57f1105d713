/**
 * The simulated people's behaviour over their sockets: officers go available, patrol and answer
 * requests (accept most, decline some, after a moment's thought); citizens walk, report their
 * position and ask a nearby officer (now and then a distant one, virtually) to connect.
 */
import type { Random } from "../../platform/clock.ts";
import type { AppSocket, ServerMessage } from "./app-socket.ts";
import type { SimUser } from "./participants.ts";
import type { SimulationSettings } from "./settings.ts";
import { countError, type Tally } from "./tally.ts";
import { step, type Walker } from "./walk.ts";

export interface Person {
  readonly user: SimUser;
  socket: AppSocket | undefined;
  readonly walker: Walker;
  /** A tick is in flight: the next one is skipped rather than queued. */
  busy: boolean;
  /** Officers: their availability window is open (they go available at their first tick). */
  available: boolean;
  lastMoveMs: number;
  /** Citizens: the open request, until the officer answers or it is given up. */
  pendingSinceMs: number | undefined;
  /** Citizens: officers already connected with in this run (a pair is rewarded once a day). */
  readonly connectedWith: Set<string>;
}

export interface World {
  readonly settings: SimulationSettings;
  readonly random: Random;
  readonly nowMs: () => number;
  readonly tally: Tally;
  readonly officerIds: readonly string[];
  /** Timers of officers thinking about a request, cleared when the run stops. */
  readonly thinking: Set<ReturnType<typeof setTimeout>>;
  stopping: boolean;
}

/** A citizen gives up on an unanswered request after this long and may ask again. */
const pendingGiveUpMs = 30_000;
const thinkMinMs = 100;
const thinkMaxMs = 1_500;
/** An officer's window outlasts the run a little; the run ends with `stop`. */
const windowSlackMs = 60_000;
const windowMaxMs = 4 * 3_600_000;

function accuracyM(random: Random): number {
  return Math.round(5 + random.next() * 25);
}

function positionOf(person: Person, random: Random) {
  return { lat: person.walker.lat, lon: person.walker.lon, accuracyM: accuracyM(random) };
}

/** One location report: the person moves for the time since their last report, then tells. */
export async function tick(world: World, person: Person): Promise<void> {
  if (person.busy || world.stopping || !person.socket) return;
  person.busy = true;
  try {
    const nowMs = world.nowMs();
    step(person.walker, world.random, world.settings.box, nowMs - person.lastMoveMs);
    person.lastMoveMs = nowMs;
    if (person.user.role === "officer" && !person.available) return await goAvailable(world, person);
    const answer = await person.socket.send({ type: "location", ...positionOf(person, world.random) });
    if (!answer.ok) return countError(world.tally, answer.code);
    world.tally.locations++;
    if (person.user.role === "citizen") await maybeRequest(world, person, answer.result);
  } finally {
    person.busy = false;
  }
}

/** Citizens who reported already are told at once (officer_nearby); the others at their next report. */
async function goAvailable(world: World, officer: Person): Promise<void> {
  const windowMs = Math.min(world.settings.durationS * 1_000 + windowSlackMs, windowMaxMs);
  const answer = await officer.socket?.send({
    type: "available",
    ...positionOf(officer, world.random),
    windowMs,
  });
  if (!answer) return;
  if (!answer.ok) return countError(world.tally, answer.code);
  officer.available = true;
}

async function maybeRequest(world: World, citizen: Person, result: Record<string, unknown>) {
  const { random, settings, tally } = world;
  if (citizen.pendingSinceMs !== undefined && world.nowMs() - citizen.pendingSinceMs < pendingGiveUpMs)
    return;
  citizen.pendingSinceMs = undefined;
  const near = ((result.officers ?? []) as { officerId: string }[]).filter(
    (o) => !citizen.connectedWith.has(o.officerId),
  );
  let officerId: string | undefined;
  let virtual = false;
  if (near.length > 0 && random.next() < settings.requestShare) officerId = near[0]?.officerId;
  else if (near.length === 0 && random.next() < settings.virtualShare) {
    const far = world.officerIds.filter((id) => !citizen.connectedWith.has(id));
    officerId = far[Math.floor(random.next() * far.length)];
    virtual = true;
  }
  if (officerId === undefined || !citizen.socket) return;
  citizen.pendingSinceMs = world.nowMs();
  const answer = await citizen.socket.send({ type: "request", officerId, ...(virtual ? { virtual } : {}) });
  if (!answer.ok) {
    citizen.pendingSinceMs = undefined;
    if (answer.code === "pair_rewarded_recently") citizen.connectedWith.add(officerId);
    return countError(tally, answer.code);
  }
  tally.requests++;
  if (virtual) tally.virtualRequests++;
}

/** What a push means to the person who got it. */
export function onPush(world: World, person: Person, push: ServerMessage): void {
  if (push.type === "officer_nearby") world.tally.officerNearby++;
  else if (push.type === "availability" && push.available === false) person.available = false;
  else if (push.type === "trophy") world.tally.trophies++;
  else if (push.type === "connection") {
    const connection = push.connection as { officerId?: string };
    if (connection.officerId) person.connectedWith.add(connection.officerId);
    person.pendingSinceMs = undefined;
  } else if (push.type === "declined") person.pendingSinceMs = undefined;
  else if (push.type === "request" && person.user.role === "officer") {
    const requestId = (push.request as { id: string }).id;
    const delayMs = thinkMinMs + world.random.next() * (thinkMaxMs - thinkMinMs);
    const accept = world.random.next() < world.settings.acceptShare;
    const timer = setTimeout(() => {
      world.thinking.delete(timer);
      void answerRequest(world, person, requestId, accept);
    }, delayMs);
    world.thinking.add(timer);
  }
}

async function answerRequest(world: World, officer: Person, requestId: string, accept: boolean) {
  if (world.stopping || !officer.socket) return;
  const { tally } = world;
  const answer = await officer.socket.send({ type: accept ? "accept" : "decline", requestId });
  if (!answer.ok) return countError(tally, answer.code);
  if (!accept) {
    tally.declined++;
    return;
  }
  tally.accepted++;
  const connection = answer.result.connection as
    | { officerId: string; citizenId: string; pointsEach: string; rewarded?: boolean }
    | undefined;
  if (!connection || answer.result.replayed) return;
  tally.connections++;
  const points = connection.rewarded === false ? 0n : BigInt(connection.pointsEach ?? "0");
  tally.pointsMinted += points * 2n;
  for (const id of [connection.officerId, connection.citizenId])
    tally.earned.set(id, (tally.earned.get(id) ?? 0n) + points);
}
