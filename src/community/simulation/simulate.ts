/**
 * `ledgerflow community simulate`: simulated officers and citizens move through a city over the
 * community WebSocket, a load source and a demo (as `ledgerflow generate` is for the ledger). Only
 * the public HTTP API and WebSocket are used. Bounded in people and time; stops by itself, or
 * cleanly on Ctrl-C; a live progress line, then a report.
 */
import { commandUsage } from "../../cli/help.ts";
import { type Clock, type Random, seededRandom, systemClock } from "../../platform/clock.ts";
import { createJsonClient, type JsonClient } from "../../tools/load/http.ts";
import { createProgressLine, type ProgressLine } from "../../tools/load/progress.ts";
import { forEachConcurrently } from "../../tools/load/setup.ts";
import { openAppSocket } from "./app-socket.ts";
import { checkLedger } from "./ledger-check.ts";
import { prepareParticipants, type SimUser, signInAs, simulationPassword } from "./participants.ts";
import { onPush, type Person, tick, type World } from "./people.ts";
import { parseSimulationArgs, type SimulationSettings } from "./settings.ts";
import { expectedErrorCodes, liveLine, newTally, reportText, type SimulationReport } from "./tally.ts";
import { placeWalker } from "./walk.ts";

export interface SimulationDeps {
  readonly clock: Clock;
  /** Default: seeded from --seed. */
  readonly random?: Random;
  readonly stdout: NodeJS.WritableStream;
  readonly progress: ProgressLine;
  readonly signal?: AbortSignal;
}

const connectConcurrency = 32;
const replyWaitMs = 10_000;
const speeds = { officer: 4, citizen: 1.4 } as const;

function wsUrlOf(url: string): string {
  return `${url.replace(/^http/, "ws")}/v1/community/ws`;
}

/** Opens a person's socket, signing in again if the token was refused (officers go available at their first tick). */
async function connectPerson(world: World, person: Person, client: JsonClient, password: string) {
  const open = () =>
    openAppSocket({
      wsUrl: wsUrlOf(world.settings.url),
      accessToken: person.user.accessToken,
      replyWaitMs,
      onPush: (push) => onPush(world, person, push),
    });
  person.available = false;
  person.socket = await open().catch(async () => {
    person.user.accessToken = await signInAs(client, person.user.username, password);
    return open();
  });
  void person.socket.closed.then(({ code }) => reconnectAfter(world, person, client, password, code));
}

/** A socket closed by the server mid-run (the access token expired: 4401) is opened again. */
function reconnectAfter(world: World, person: Person, client: JsonClient, password: string, code: number) {
  if (world.stopping) return;
  const key = code === 4401 ? "token_expired" : "socket_closed";
  world.tally.errors.set(key, (world.tally.errors.get(key) ?? 0) + 1);
  person.socket = undefined;
  signInAs(client, person.user.username, password)
    .then((token) => {
      person.user.accessToken = token;
      if (!world.stopping) return connectPerson(world, person, client, password);
    })
    .catch(() =>
      world.tally.errors.set("reconnect_failed", (world.tally.errors.get("reconnect_failed") ?? 0) + 1),
    );
}

function peopleOf(users: readonly SimUser[], world: World): Person[] {
  return users.map((user) => ({
    user,
    socket: undefined,
    walker: placeWalker(world.random, world.settings.box, speeds[user.role]),
    busy: false,
    available: false,
    lastMoveMs: world.nowMs(),
    pendingSinceMs: undefined,
    connectedWith: new Set<string>(),
  }));
}

/** Every person reports at the interval, spread over it (not all in the same millisecond). */
function startTicking(world: World, people: readonly Person[]): () => void {
  const timers: ReturnType<typeof setTimeout>[] = [];
  for (const person of people) {
    const phaseMs = world.random.next() * world.settings.intervalMs;
    timers.push(
      setTimeout(() => {
        void tick(world, person);
        timers.push(setInterval(() => void tick(world, person), world.settings.intervalMs));
      }, phaseMs),
    );
  }
  return () => {
    for (const timer of timers) clearTimeout(timer);
  };
}

/** Redraws the live line every second; returns a function that stops it. */
function startLiveLine(world: World, progress: ProgressLine, startMs: number): () => void {
  let lastLocations = 0;
  let lastMs = startMs;
  const timer = setInterval(() => {
    const nowMs = world.nowMs();
    const perSec = Math.round(
      ((world.tally.locations - lastLocations) * 1_000) / Math.max(1, nowMs - lastMs),
    );
    lastLocations = world.tally.locations;
    lastMs = nowMs;
    progress.update(liveLine(world.tally, (nowMs - startMs) / 1_000, perSec));
  }, 1_000);
  return () => clearInterval(timer);
}

/** Waits for the duration or the abort signal, whichever comes first. */
function runFor(durationMs: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const timer = setTimeout(done, durationMs);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      resolve();
    }
    signal?.addEventListener("abort", done, { once: true });
  });
}

/** Stops ticking, lets answers in flight land (bounded), officers stop, every socket closes. */
async function wind(world: World, people: readonly Person[]) {
  world.stopping = true;
  for (const timer of world.thinking) clearTimeout(timer);
  const settleUntil = world.nowMs() + replyWaitMs;
  while (people.some((p) => p.busy) && world.nowMs() < settleUntil)
    await new Promise((r) => setTimeout(r, 50));
  await forEachConcurrently(people, connectConcurrency, async (person) => {
    if (person.user.role === "officer") await person.socket?.send({ type: "stop" });
    await person.socket?.close();
  });
}

export async function simulate(
  client: JsonClient,
  settings: SimulationSettings,
  deps: SimulationDeps,
): Promise<SimulationReport> {
  const world: World = {
    settings,
    random: deps.random ?? seededRandom(settings.seed),
    nowMs: () => deps.clock.nowMs(),
    tally: newTally(),
    officerIds: [],
    thinking: new Set(),
    stopping: false,
  };
  const password = simulationPassword(settings.adminPassword, settings.prefix);
  const adminToken = await signInAs(client, settings.adminUsername, settings.adminPassword);
  const { users, registered } = await prepareParticipants(
    client,
    {
      prefix: settings.prefix,
      officers: settings.officers,
      citizens: settings.citizens,
      password,
      adminToken,
    },
    (text) => deps.progress.update(text),
  );
  Object.assign(world, { officerIds: users.filter((u) => u.role === "officer").map((u) => u.id) });
  const people = peopleOf(users, world);
  let connected = 0;
  await forEachConcurrently(people, connectConcurrency, async (person) => {
    if (deps.signal?.aborted) return;
    await connectPerson(world, person, client, password);
    if (++connected % 50 === 0) deps.progress.update(`sockets open ${connected}/${people.length}`);
  });
  const startMs = deps.clock.nowMs();
  const stopTicking = startTicking(world, people);
  const stopLine = startLiveLine(world, deps.progress, startMs);
  await runFor(settings.durationS * 1_000, deps.signal);
  stopTicking();
  await wind(world, people);
  stopLine();
  const elapsedS = (deps.clock.nowMs() - startMs) / 1_000;
  deps.progress.update(liveLine(world.tally, elapsedS, Math.round(world.tally.locations / elapsedS)));
  deps.progress.done();
  const ledger = await checkLedger(client, world.tally.earned, users, password, deps.clock);
  return reportOf(settings, world, { registered, elapsedS, ledger });
}

function reportOf(
  settings: SimulationSettings,
  world: World,
  run: { registered: number; elapsedS: number; ledger: SimulationReport["ledger"] },
): SimulationReport {
  const { tally } = world;
  const errors = Object.fromEntries([...tally.errors].sort(([a], [b]) => a.localeCompare(b)));
  return {
    url: settings.url,
    seed: settings.seed,
    officers: settings.officers,
    citizens: settings.citizens,
    registered: run.registered,
    durationS: settings.durationS,
    elapsedS: run.elapsedS,
    locations: tally.locations,
    locationsPerSec: Math.round(tally.locations / run.elapsedS),
    requests: tally.requests,
    virtualRequests: tally.virtualRequests,
    accepted: tally.accepted,
    declined: tally.declined,
    connections: tally.connections,
    pointsMinted: tally.pointsMinted.toString(),
    officerNearby: tally.officerNearby,
    trophies: tally.trophies,
    errors,
    unexpectedErrors: Object.fromEntries(
      Object.entries(errors).filter(([code]) => !expectedErrorCodes.has(code)),
    ),
    ledger: run.ledger,
  };
}

export async function runCommunitySimulation(
  argv: readonly string[],
  overrides: Partial<SimulationDeps> = {},
): Promise<SimulationReport | undefined> {
  const clock = overrides.clock ?? systemClock;
  const settings = parseSimulationArgs(argv, process.env, () => clock.nowMs() % 2 ** 32);
  const stdout = overrides.stdout ?? process.stdout;
  if (settings === "help") {
    stdout.write(commandUsage("community"));
    return undefined;
  }
  const controller = new AbortController();
  const onSigint = () => controller.abort();
  if (!overrides.signal) process.once("SIGINT", onSigint);
  const deps: SimulationDeps = {
    clock,
    stdout,
    progress: createProgressLine(),
    signal: controller.signal,
    ...overrides,
  };
  const client = createJsonClient({ baseUrl: settings.url, connectionsMax: 16, timeoutMs: 60_000 });
  try {
    const report = await simulate(client, settings, deps);
    stdout.write(settings.json ? `${JSON.stringify(report, null, 2)}\n` : reportText(report));
    return report;
  } finally {
    process.off("SIGINT", onSigint);
    client.close();
  }
}
