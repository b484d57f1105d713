/**
 * Hey Blue! over real WebSockets and HTTP on a started platform: an officer and a citizen connect,
 * both earn PTS on the ledger, ConnectionEstablished is on community.events; every bad input is a
 * clear error with a stable code, and leaves no points and nothing stored.
 */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { WebSocket } from "ws";
import { apiClient, startTestPlatform, type TestPlatform, testAdmin } from "../../test/support/platform.ts";
import { createTopicCodec } from "../platform/log/topic-codecs.ts";
import { communityTopics } from "./topics.ts";

let running: TestPlatform;
/** The platform's clock runs `offsetMs` ahead of the wall clock (expiry without waiting). */
let offsetMs = 0;
const clock = { nowMs: () => Date.now() + offsetMs };
const password = "correct horse battery staple";

before(async () => {
  // Requests left unanswered are swept for often (their timers run on the wall clock, not this one).
  running = await startTestPlatform({ community: { requestExpirySweepIntervalMs: 200 } }, { clock });
});
after(() => running?.stop());

const api = () => apiClient(running.url);

/** A user holding `roles` (granted by the admin), signed in afresh so the token carries them. */
async function user(username: string, roles: readonly string[], drop: readonly string[] = []) {
  const client = api();
  await client.signUp(username, password);
  const admin = client.as(await client.signIn(testAdmin.username, testAdmin.password));
  const found = await admin.get(`/v1/admin/users?search=${username}`);
  const id = found.body.items[0].id as string;
  for (const role of roles)
    assert.equal((await admin.call("PUT", `/v1/admin/users/${id}/roles/${role}`)).status, 200);
  for (const role of drop)
    assert.equal((await admin.call("DELETE", `/v1/admin/users/${id}/roles/${role}`)).status, 200);
  const token = await client.signIn(username, password);
  return { id, token, http: client.as(token) };
}

type Message = Record<string, unknown> & { type: string };

/** A community socket: sends with a ref, waits for the reply/error to it or for a push. */
async function connect(token: string, how: "header" | "message" = "header") {
  const socket = new WebSocket(
    `${running.url.replace("http", "ws")}/v1/community/ws`,
    how === "header" ? { headers: { authorization: `Bearer ${token}` } } : {},
  );
  const received: Message[] = [];
  const waiters: { match: (m: Message) => boolean; resolve: (m: Message) => void }[] = [];
  socket.on("message", (data) => {
    const message = JSON.parse(data.toString()) as Message;
    received.push(message);
    for (const waiter of waiters.splice(0)) {
      if (waiter.match(message)) waiter.resolve(message);
      else waiters.push(waiter);
    }
  });
  await new Promise((resolve, reject) => socket.once("open", resolve).once("error", reject));
  const next = (match: (m: Message) => boolean, timeoutMs = 10_000) => {
    const seen = received.find(match);
    if (seen) return Promise.resolve(seen);
    return new Promise<Message>((resolve, reject) => {
      waiters.push({ match, resolve });
      setTimeout(
        () => reject(new Error(`no message matched; got ${JSON.stringify(received)}`)),
        timeoutMs,
      ).unref();
    });
  };
  let refs = 0;
  const send = async (message: Record<string, unknown>) => {
    const ref = `r${++refs}`;
    socket.send(JSON.stringify({ ...message, ref }));
    return next((m) => m.ref === ref && (m.type === "reply" || m.type === "error" || m.type === "ready"));
  };
  if (how === "message") assert.equal((await send({ type: "auth", token })).type, "ready");
  else await next((m) => m.type === "ready");
  return { socket, send, next, received, close: () => socket.close() };
}

const here = { lat: 52.37, lon: 4.89, accuracyM: 5 };
/** `metres` north of `here`. */
const north = (metres: number) => ({ ...here, lat: here.lat + metres / 111_195 });

async function balanceOf(userId: string): Promise<bigint | undefined> {
  const accountId = await running.platform.community.pointsAccountOf(userId);
  if (accountId === undefined) return undefined;
  return (await running.platform.ledger.queries.accountById(accountId))?.balance;
}

async function eventually<T>(read: () => Promise<T>, done: (value: T) => boolean, what: string): Promise<T> {
  for (let attempt = 0; attempt < 100; attempt++) {
    const value = await read();
    if (done(value)) return value;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`timed out waiting for ${what}`);
}

async function publishedEvents(): Promise<Record<string, unknown>[]> {
  const { log, registry } = running.platform;
  const codec = await createTopicCodec(registry, communityTopics.communityEvents);
  const found: Record<string, unknown>[] = [];
  for (let partition = 0; partition < communityTopics.communityEvents.spec.partitions; partition++)
    for (const record of await log.read(codec.topic, partition, 0n, 10_000))
      found.push(codec.decode(record.value) as Record<string, unknown>);
  return found;
}

/** Rows of the community's tables: a refused input must change none. */
async function stored() {
  const { rows } = await running.platform.pool.query(
    `SELECT (SELECT count(*) FROM community_requests)::int AS requests,
            (SELECT count(*) FROM community_connections)::int AS connections,
            (SELECT count(*) FROM community_trophies)::int AS trophies`,
  );
  return rows[0] as { requests: number; connections: number; trophies: number };
}

let officer: Awaited<ReturnType<typeof user>>;
let citizen: Awaited<ReturnType<typeof user>>;

test("an officer and a citizen connect over two WebSockets; both earn points; the event is published", async () => {
  officer = await user("officer-olive", ["officer"]);
  citizen = await user("citizen-carl", ["citizen"]);
  const officerApp = await connect(officer.token);
  const citizenApp = await connect(citizen.token, "message");
  // The citizen shares their position first: no officer near yet; told when one goes available.
  const alone = await citizenApp.send({ type: "location", ...north(55) });
  assert.deepEqual(alone.result, { as: "citizen", officers: [] });
  const available = await officerApp.send({ type: "available", ...here });
  assert.equal(available.type, "reply", JSON.stringify(available));
  const pushed = await citizenApp.next((m) => m.type === "officer_nearby");
  assert.deepEqual(pushed.officer, {
    officerId: officer.id,
    distanceM: 55,
    profile: {
      userId: officer.id,
      displayName: "officer-olive",
      avatarUrl: null,
      agency: null,
      verified: false,
    },
  });
  const near = await citizenApp.send({ type: "location", ...north(60) });
  const officers = (
    near.result as { officers: { officerId: string; distanceM: number; profile: { displayName: string } }[] }
  ).officers;
  assert.deepEqual(
    officers.map((o) => [o.officerId, o.profile.displayName]),
    [[officer.id, "officer-olive"]],
  );
  assert.ok(Math.abs((officers[0]?.distanceM ?? 0) - 60) <= 1);

  const requested = await citizenApp.send({ type: "request", officerId: officer.id });
  assert.equal(requested.type, "reply", JSON.stringify(requested));
  const requestId = (requested.result as { id: string }).id;
  const incoming = await officerApp.next((m) => m.type === "request");
  assert.equal((incoming.request as { id: string }).id, requestId);
  assert.equal((incoming.citizen as { displayName: string }).displayName, "citizen-carl");

  const accepted = await officerApp.send({ type: "accept", requestId });
  assert.equal(accepted.type, "reply", JSON.stringify(accepted));
  const connection = (accepted.result as { connection: { id: string; pointsEach: string; cell: string } })
    .connection;
  assert.equal(connection.pointsEach, "10");
  assert.match(connection.cell, /^87[0-9a-f]{13}$/, "a resolution-7 H3 cell, never coordinates");
  const told = await citizenApp.next((m) => m.type === "connection");
  assert.equal((told.connection as { id: string }).id, connection.id);
  await citizenApp.next((m) => m.type === "trophy" && m.trophy === "first_connection");
  await officerApp.next((m) => m.type === "trophy" && m.trophy === "first_connection");

  for (const who of [officer, citizen])
    assert.equal(
      await eventually(
        () => balanceOf(who.id),
        (b) => b === 10n,
        "points",
      ),
      10n,
    );
  const events = await eventually(
    publishedEvents,
    (list) => list.some((e) => e.connectionId === connection.id),
    "event",
  );
  const established = events.find(
    (e) => e.type === "ConnectionEstablished" && e.connectionId === connection.id,
  );
  assert.equal(established?.officerId, officer.id);
  assert.equal(established?.citizenId, citizen.id);
  assert.equal(established?.rewarded, true);
  assert.equal(established?.pointsEach, "10");

  // Identity's profile projection follows the same events (through the log).
  const profile = await eventually(
    () => citizen.http.get("/v1/me/profile"),
    (answer) => answer.body.community?.connectionsCount === 1,
    "the profile's community numbers",
  );
  assert.equal(profile.body.community.pointsEarned, "10");
  assert.deepEqual(
    profile.body.community.trophies.map((t: { code: string }) => t.code),
    ["first_connection"],
  );

  const listed = await citizen.http.get("/v1/community/connections");
  assert.deepEqual(
    listed.body.items.map((c: { id: string }) => c.id),
    [connection.id],
  );
  const trophies = await officer.http.get("/v1/community/trophies");
  assert.deepEqual(
    trophies.body.items.map((t: { trophy: string }) => t.trophy),
    ["first_connection"],
  );

  // A replayed accept answers the same connection: no second connection, no second payment.
  const before = await stored();
  const replayed = await officerApp.send({ type: "accept", requestId });
  assert.deepEqual(replayed.result, {
    outcome: "accepted",
    replayed: true,
    connection: (accepted.result as { connection: unknown }).connection,
  });
  const overHttp = await officer.http.call("POST", `/v1/community/requests/${requestId}/accept`);
  assert.equal(overHttp.status, 200);
  assert.equal(overHttp.body.replayed, true);
  await new Promise((resolve) => setTimeout(resolve, 500));
  assert.deepEqual(await stored(), before);
  for (const who of [officer, citizen]) assert.equal(await balanceOf(who.id), 10n);

  // The event delivered again (a redelivery through the log) pays nobody twice: each leg's ledger
  // command id is derived from the connection id.
  const { log, registry } = running.platform;
  const codec = await createTopicCodec(registry, communityTopics.communityEvents);
  const copies = [];
  for (let partition = 0; partition < communityTopics.communityEvents.spec.partitions; partition++)
    for (const record of await log.read(codec.topic, partition, 0n, 10_000))
      if ((codec.decode(record.value) as { connectionId: string }).connectionId === connection.id)
        copies.push({ topic: codec.topic, key: connection.id, value: record.value });
  assert.ok(copies.length >= 1);
  // A forged event (no stored connection behind it) pays nobody either: points follow the table.
  const forged = {
    ...established,
    connectionId: "6f1d2c3b-4a59-4e8d-9c7b-0a1b2c3d4e5f",
    pointsEach: "1000",
    atMs: BigInt(Date.now()),
  };
  copies.push({ topic: codec.topic, key: forged.connectionId, value: codec.encode(forged) });
  await log.producer().send(copies);
  await new Promise((resolve) => setTimeout(resolve, 2_000));
  for (const who of [officer, citizen])
    assert.equal(await balanceOf(who.id), 10n, "paid once, and not for the forgery");

  // A second rewarded connection of the pair inside 24 hours is refused (and stores nothing).
  const again = await citizenApp.send({ type: "request", officerId: officer.id });
  assert.deepEqual([again.type, again.code], ["error", "pair_rewarded_recently"]);
  const againHttp = await citizen.http.post("/v1/community/requests", { officerId: officer.id });
  assert.deepEqual([againHttp.status, againHttp.body.code], [409, "pair_rewarded_recently"]);
  assert.deepEqual(await stored(), before);
  officerApp.close();
  citizenApp.close();
});

/** Asserts a refusal over the socket, and that nothing was stored and no points moved. */
async function refusedOverSocket(
  app: Awaited<ReturnType<typeof connect>>,
  message: Record<string, unknown>,
  code: string,
  field?: string,
) {
  const before = await stored();
  const answer = await app.send(message);
  assert.deepEqual([answer.type, answer.code], ["error", code], JSON.stringify(answer));
  if (field !== undefined) assert.equal(answer.field, field);
  assert.deepEqual(await stored(), before, `${code}: nothing stored`);
}

test("bad locations: out of range, NaN, too fast, or from an officer who is not available", async () => {
  const officerApp = await connect((await user("officer-bad-loc", ["officer"])).token);
  const citizenApp = await connect((await user("citizen-bad-loc", ["citizen"])).token);
  await refusedOverSocket(citizenApp, { type: "location", ...here, lat: 91 }, "invalid_location", "lat");
  await refusedOverSocket(citizenApp, { type: "location", ...here, lon: -180.5 }, "invalid_location", "lon");
  await refusedOverSocket(
    citizenApp,
    { type: "location", ...here, accuracyM: -1 },
    "invalid_location",
    "accuracyM",
  );
  // JSON has no NaN: a client's NaN arrives as null.
  await refusedOverSocket(
    citizenApp,
    { type: "location", ...here, lat: Number.NaN },
    "validation_failed",
    "lat",
  );
  await refusedOverSocket(
    citizenApp,
    { type: "location", ...here, lat: "52.37" },
    "validation_failed",
    "lat",
  );
  assert.equal((await citizenApp.send({ type: "location", ...here })).type, "reply");
  await refusedOverSocket(citizenApp, { type: "location", ...north(50_000) }, "impossible_jump");
  await refusedOverSocket(officerApp, { type: "location", ...here }, "officer_not_available");
  await refusedOverSocket(officerApp, { type: "available", ...here, lat: 90.01 }, "invalid_location", "lat");
  await refusedOverSocket(
    officerApp,
    { type: "available", ...here, windowMs: 5 * 3_600_000 },
    "invalid_window",
    "windowMs",
  );
  // Over HTTP the same inputs are 4xx problems with the field.
  const officer = await user("officer-bad-http", ["officer"]);
  const outOfRange = await officer.http.post("/v1/community/availability", { ...here, lon: 181 });
  assert.deepEqual(
    [outOfRange.status, outOfRange.body.code, outOfRange.body.field],
    [400, "validation_failed", "lon"],
  );
  assert.equal((await officer.http.post("/v1/community/availability", here)).status, 200);
  const jump = await officer.http.post("/v1/community/availability", north(80_000));
  assert.deepEqual([jump.status, jump.body.code], [422, "impossible_jump"]);
  officerApp.close();
  citizenApp.close();
});

test("a customer without the citizen role cannot request; an officer cannot connect with themselves", async () => {
  const officer = await user("officer-solo", ["officer"]);
  const officerApp = await connect(officer.token);
  assert.equal((await officerApp.send({ type: "available", ...here })).type, "reply");
  const customer = await user("customer-only", []);
  const customerApp = await connect(customer.token);
  await refusedOverSocket(customerApp, { type: "location", ...north(10) }, "forbidden");
  await refusedOverSocket(customerApp, { type: "request", officerId: officer.id }, "not_citizen");
  const overHttp = await customer.http.post("/v1/community/requests", { officerId: officer.id });
  assert.deepEqual([overHttp.status, overHttp.body.code], [403, "forbidden"]);
  // A user who is both officer and citizen cannot request (so never accept) a connection with themselves.
  const both = await user("officer-and-citizen", ["officer", "citizen"]);
  const bothApp = await connect(both.token);
  assert.equal((await bothApp.send({ type: "available", ...north(20) })).type, "reply");
  await refusedOverSocket(bothApp, { type: "request", officerId: both.id, virtual: true }, "own_request");
  // …nor accept a request addressed to another officer.
  const citizen = await user("citizen-asks-solo", ["citizen"]);
  const citizenApp = await connect(citizen.token);
  const asked = await citizenApp.send({ type: "request", officerId: officer.id, virtual: true });
  assert.equal(asked.type, "reply", JSON.stringify(asked));
  const requestId = (asked.result as { id: string }).id;
  await refusedOverSocket(bothApp, { type: "accept", requestId }, "request_not_found");
  for (const app of [officerApp, customerApp, bothApp, citizenApp]) app.close();
  for (const who of [officer, customer, both, citizen])
    assert.equal(await balanceOf(who.id), undefined, "no points");
});

test("an expired request cannot be accepted; a citizen cannot flood an officer", async () => {
  const officer = await user("officer-slow", ["officer"]);
  const citizen = await user("citizen-eager", ["citizen"]);
  const officerApp = await connect(officer.token);
  const citizenApp = await connect(citizen.token);
  assert.equal((await officerApp.send({ type: "available", ...here })).type, "reply");
  assert.equal((await citizenApp.send({ type: "location", ...north(30) })).type, "reply");
  const asked = await citizenApp.send({ type: "request", officerId: officer.id });
  const requestId = (asked.result as { id: string }).id;
  // One open request per pair: asking again while it waits is refused.
  await refusedOverSocket(citizenApp, { type: "request", officerId: officer.id }, "request_pending");
  offsetMs += 121_000; // past the 2-minute TTL
  await refusedOverSocket(officerApp, { type: "accept", requestId }, "request_expired");
  const overHttp = await officer.http.call("POST", `/v1/community/requests/${requestId}/accept`);
  assert.deepEqual([overHttp.status, overHttp.body.code], [409, "request_expired"]);
  // Two more requests (each expiring unanswered) reach the limit of 3 per 10 minutes.
  for (let i = 0; i < 2; i++) {
    const again = await citizenApp.send({ type: "request", officerId: officer.id, virtual: true });
    assert.equal(again.type, "reply", JSON.stringify(again));
    offsetMs += 121_000;
  }
  await refusedOverSocket(
    citizenApp,
    { type: "request", officerId: officer.id, virtual: true },
    "too_many_requests",
  );
  for (const who of [officer, citizen]) assert.equal(await balanceOf(who.id), undefined, "no points");
  officerApp.close();
  citizenApp.close();
});

test("an upgrade to a path no edge serves is answered 404; a socket without a valid token is closed 4401", async () => {
  const stray = new WebSocket(`${running.url.replace("http", "ws")}/v1/nowhere`);
  const status = await new Promise((resolve) =>
    stray.once("unexpected-response", (_req, res) => resolve(res.statusCode)),
  );
  assert.equal(status, 404);
  const forged = new WebSocket(`${running.url.replace("http", "ws")}/v1/community/ws`, {
    headers: { authorization: "Bearer not-a-token" },
  });
  const code = await new Promise((resolve) => forged.once("close", resolve));
  assert.equal(code, 4401);
});

test("a declined request tells the citizen and cannot be answered again; a socket sending too fast is slowed", async () => {
  const officer = await user("officer-declines", ["officer"]);
  const citizen = await user("citizen-declined", ["citizen"]);
  const officerApp = await connect(officer.token);
  const citizenApp = await connect(citizen.token);
  assert.equal((await officerApp.send({ type: "available", ...here })).type, "reply");
  const asked = await citizenApp.send({ type: "request", officerId: officer.id, virtual: true });
  const requestId = (asked.result as { id: string; kind: string }).id;
  assert.equal((asked.result as { kind: string }).kind, "virtual");
  const declined = await officerApp.send({ type: "decline", requestId });
  assert.deepEqual(declined.result, { outcome: "declined", requestId });
  assert.equal((await citizenApp.next((m) => m.type === "declined")).requestId, requestId);
  await refusedOverSocket(officerApp, { type: "accept", requestId }, "request_not_pending");
  // More than 20 messages in a second: the rest are refused with rate_limited, the socket stays open.
  const answers = await Promise.all(Array.from({ length: 30 }, () => officerApp.send({ type: "stop" })));
  const refused = answers.filter((a) => a.code === "rate_limited").length;
  // 20 a second are answered: at least the 10 beyond them are refused (more if the burst straddled a second).
  assert.ok(refused >= 10, JSON.stringify(answers.slice(-3)));
  assert.equal(officerApp.socket.readyState, WebSocket.OPEN);
  officerApp.close();
  citizenApp.close();
});

test("an availability window closes by itself: the officer is told, drops off the map, and cannot share a location", async () => {
  const officer = await user("officer-short-window", ["officer"]);
  const citizen = await user("citizen-watching", ["citizen"]);
  // Away from the other tests' officers (still available where they went available).
  const elsewhere = { lat: 40.7128, lon: -74.006, accuracyM: 5 };
  const officerApp = await connect(officer.token);
  const citizenApp = await connect(citizen.token);
  const opened = await officerApp.send({ type: "available", ...elsewhere, windowMs: 800 });
  assert.equal(opened.type, "reply", JSON.stringify(opened));
  const seen = await citizenApp.send({ type: "location", ...elsewhere, lat: elsewhere.lat + 0.0004 });
  assert.deepEqual(
    (seen.result as { officers: { officerId: string }[] }).officers.map((o) => o.officerId),
    [officer.id],
  );
  const closed = await officerApp.next((m) => m.type === "availability");
  assert.deepEqual(closed, { type: "availability", available: false, reason: "expired" });
  const after = await citizenApp.send({ type: "location", ...elsewhere, lat: elsewhere.lat + 0.0005 });
  assert.deepEqual((after.result as { officers: unknown[] }).officers, []);
  await refusedOverSocket(officerApp, { type: "location", ...elsewhere }, "officer_not_available");
  await refusedOverSocket(citizenApp, { type: "request", officerId: officer.id }, "officer_unavailable");
  officerApp.close();
  citizenApp.close();
});

/** `metres` north of `point`. */
const northOf = (point: typeof here, metres: number) => ({ ...point, lat: point.lat + metres / 111_195 });

test("an officer who moves into a citizen's range: the citizen is told once, again only after leaving; officer_left at the end", async () => {
  const officer = await user("officer-walking", ["officer"]);
  const citizen = await user("citizen-waiting", ["citizen"]);
  // Away from the other tests' officers and citizens.
  const square = { lat: 48.8566, lon: 2.3522, accuracyM: 5 };
  const officerApp = await connect(officer.token);
  const citizenApp = await connect(citizen.token);
  assert.equal((await officerApp.send({ type: "available", ...northOf(square, -400) })).type, "reply");
  const alone = await citizenApp.send({ type: "location", ...square });
  assert.deepEqual(alone.result, { as: "citizen", officers: [] });
  // Reach: 100 m plus both accuracies (5 + 5). Each step 5 s apart (no impossible jump).
  const walkTo = async (metresSouth: number) => {
    offsetMs += 5_000;
    const moved = await officerApp.send({ type: "location", ...northOf(square, -metresSouth) });
    assert.equal(moved.type, "reply", JSON.stringify(moved));
  };
  const toldOf = () =>
    citizenApp.received.filter(
      (m) => m.type === "officer_nearby" && (m.officer as { officerId: string }).officerId === officer.id,
    );
  for (const metres of [300, 200, 120]) await walkTo(metres);
  await new Promise((resolve) => setTimeout(resolve, 300));
  assert.equal(toldOf().length, 0, "not yet in range");
  await walkTo(105);
  const told = await citizenApp.next((m) => m.type === "officer_nearby");
  assert.deepEqual(told.officer, {
    officerId: officer.id,
    distanceM: 105,
    profile: {
      userId: officer.id,
      displayName: "officer-walking",
      avatarUrl: null,
      agency: null,
      verified: false,
    },
  });
  for (const metres of [80, 60, 40, 60]) await walkTo(metres);
  await new Promise((resolve) => setTimeout(resolve, 300));
  assert.equal(toldOf().length, 1, "told once while the officer stays near");
  // Out of range and back in: told again.
  for (const metres of [150, 250, 150, 90]) await walkTo(metres);
  await eventually(
    async () => toldOf().length,
    (n) => n === 2,
    "the second officer_nearby",
  );
  // The window ends: the citizen, told of the officer, learns they left.
  assert.equal((await officerApp.send({ type: "stop" })).type, "reply");
  const left = await citizenApp.next((m) => m.type === "officer_left");
  assert.equal(left.officerId, officer.id);
  officerApp.close();
  citizenApp.close();
});

test("a request left unanswered past its expiry: the citizen is told, the officer's request is removed, a late accept is refused", async () => {
  const officer = await user("officer-busy", ["officer"]);
  const citizen = await user("citizen-unanswered", ["citizen"]);
  const plaza = { lat: 40.4168, lon: -3.7038, accuracyM: 5 };
  const officerApp = await connect(officer.token);
  const citizenApp = await connect(citizen.token);
  assert.equal((await officerApp.send({ type: "available", ...plaza })).type, "reply");
  assert.equal((await citizenApp.send({ type: "location", ...northOf(plaza, 40) })).type, "reply");
  const asked = await citizenApp.send({ type: "request", officerId: officer.id });
  assert.equal(asked.type, "reply", JSON.stringify(asked));
  const requestId = (asked.result as { id: string }).id;
  await officerApp.next((m) => m.type === "request");
  offsetMs += 121_000; // past the 2-minute TTL; nobody answers
  const expired = await citizenApp.next((m) => m.type === "request_expired");
  assert.deepEqual(expired, { type: "request_expired", requestId, officerId: officer.id });
  const removed = await officerApp.next((m) => m.type === "request_removed");
  assert.deepEqual(removed, { type: "request_removed", requestId, reason: "expired" });
  const { rows } = await running.platform.pool.query("SELECT status FROM community_requests WHERE id = $1", [
    requestId,
  ]);
  assert.equal(rows[0].status, "expired");
  await refusedOverSocket(officerApp, { type: "accept", requestId }, "request_expired");
  await new Promise((resolve) => setTimeout(resolve, 500));
  assert.equal(
    citizenApp.received.filter((m) => m.type === "request_expired").length,
    1,
    "told once (timer, sweeps and the late accept)",
  );
  for (const who of [officer, citizen]) assert.equal(await balanceOf(who.id), undefined, "no points");
  officerApp.close();
  citizenApp.close();
});
