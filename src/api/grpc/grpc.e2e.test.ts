/**
 * gRPC end to end: the real platform (embedded PostgreSQL, log, handler, notifier) with its gRPC
 * server on a free port, called by a real @grpc/grpc-js client over a real socket, loading the same
 * .proto files. REST is used beside it to show both edges share one command service.
 */
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import {
  type Client,
  type ClientReadableStream,
  credentials,
  loadPackageDefinition,
  Metadata,
  type ServiceError,
  status,
} from "@grpc/grpc-js";
import { loadSync } from "@grpc/proto-loader";
import { SignJWT } from "jose";
import {
  apiClient,
  startTestPlatform,
  type TestPlatform,
  testAdmin,
  testJwtSecret,
} from "../../../test/support/platform.ts";
import { decodeStatusDetails } from "./errors.ts";
import { loadLedgerflowProtos } from "./server.ts";

const messageBytesMax = 64 * 1024;
const streamsPerConnectionMax = 4;

let platform: TestPlatform;
let api: ReturnType<typeof apiClient>;
let alice: string;
let bob: string;
let admin: string;
let aliceIban: string;
let bobIban: string;
let ledger: Client;
let clients: Client;
let health: Client;
let address: string;
let clientServiceConstructor: Constructor;
/** Live `onBalanceChanged` registrations on the platform's real LedgerNotifications. */
let balanceListeners = 0;

// biome-ignore lint/suspicious/noExplicitAny: generated clients are untyped; tests read the messages
type Message = Record<string, any>;
type Constructor = new (address: string, creds: ReturnType<typeof credentials.createInsecure>) => Client;

before(async () => {
  platform = await startTestPlatform({ grpc: { port: 0, messageBytesMax, streamsPerConnectionMax } });
  api = apiClient(platform.url);
  alice = await api.signUp("alice");
  bob = await api.signUp("bob");
  admin = await api.signIn(testAdmin.username, testAdmin.password);
  countBalanceListeners();
  aliceIban = await openAccount(alice);
  bobIban = await openAccount(bob);
  const grpcAddress = platform.platform.grpcAddress;
  assert.ok(grpcAddress, "the platform serves gRPC when grpc.port is set");
  address = grpcAddress;
  // biome-ignore lint/suspicious/noExplicitAny: the loaded package is a tree of constructors
  const loaded = loadPackageDefinition(loadLedgerflowProtos()) as any;
  const make = (ctor: Constructor) => new ctor(address, credentials.createInsecure());
  ledger = make(loaded.ledgerflow.v1.LedgerService);
  clients = make(loaded.ledgerflow.v1.ClientService);
  clientServiceConstructor = loaded.ledgerflow.v1.ClientService;
  health = make(loaded.grpc.health.v1.Health);
});

after(async () => {
  for (const client of [ledger, clients, health]) client?.close();
  await platform?.stop();
});

describe("commands", () => {
  test("a cash deposit and a transfer sent over gRPC are confirmed, and REST sees the balances", async () => {
    const deposit = await call(ledger, "SendOperation", admin, {
      id: randomUUID(),
      type: "OPERATION_TYPE_DEPOSIT",
      iban: aliceIban,
      amount: "100000",
      branch: "utrecht",
    });
    assert.equal(deposit.status, "COMMAND_STATUS_CONFIRMED", JSON.stringify(deposit));
    const id = randomUUID();
    const sent = await call(ledger, "SendTransaction", alice, transfer(id, "2550"));
    assert.equal(sent.status, "COMMAND_STATUS_CONFIRMED", JSON.stringify(sent));
    assert.equal(sent.id, id);
    assert.equal(sent.phase, "single");
    assert.ok(sent.transfer_id);
    const account = await api.as(alice).get(`/v1/accounts/${aliceIban}`);
    assert.equal(account.body.balance, String(100000 - 2550));
    const status = await call(ledger, "GetCommand", alice, { id });
    assert.equal(status.status, "COMMAND_STATUS_CONFIRMED");
  });

  test("a rejected transfer is an outcome, not an error: FAILED with the reason", async () => {
    const sent = await call(ledger, "SendTransaction", alice, transfer(randomUUID(), "999999999"));
    assert.equal(sent.status, "COMMAND_STATUS_FAILED");
    assert.equal(sent.reason, "insufficient_funds");
    assert.match(sent.reason_text, /enough/);
  });

  test("idempotency: the same id and request answers the first outcome; the same id with another request is ALREADY_EXISTS (conflict)", async () => {
    const id = randomUUID();
    const first = await call(ledger, "SendTransaction", alice, transfer(id, "100"));
    const again = await call(ledger, "SendTransaction", alice, transfer(id, "100"));
    assert.deepEqual(again, first);
    const balance = await api.as(bob).get(`/v1/accounts/${bobIban}`);
    const error = await failure(ledger, "SendTransaction", alice, transfer(id, "101"));
    assert.equal(error.code, status.ALREADY_EXISTS);
    assert.equal(error.metadata.get("ledgerflow-code")[0], "conflict");
    const details = detailsOf(error);
    assert.equal(details.errorInfo?.reason, "conflict");
    assert.equal(details.errorInfo?.domain, "ledgerflow.dev");
    // Nothing moved twice.
    assert.equal((await api.as(bob).get(`/v1/accounts/${bobIban}`)).body.balance, balance.body.balance);
  });

  test("bad input is INVALID_ARGUMENT naming the field, in trailers and in google.rpc.BadRequest", async () => {
    const error = await failure(ledger, "SendTransaction", alice, transfer(randomUUID(), "12.50"));
    assert.equal(error.code, status.INVALID_ARGUMENT);
    assert.equal(error.metadata.get("ledgerflow-code")[0], "validation_failed");
    assert.equal(error.metadata.get("ledgerflow-field")[0], "amount");
    const details = detailsOf(error);
    assert.equal(details.code, status.INVALID_ARGUMENT);
    assert.equal(details.errorInfo?.metadata.field, "amount");
    assert.equal(details.badRequest?.field_violations[0]?.field, "amount");

    const { id: _id, ...withoutId } = transfer(randomUUID(), "100");
    const missing = await failure(ledger, "SendTransaction", alice, withoutId);
    assert.equal(missing.code, status.INVALID_ARGUMENT);
    assert.equal(missing.metadata.get("ledgerflow-field")[0], "id");

    const badIban = await failure(ledger, "SendTransaction", alice, {
      ...transfer(randomUUID(), "100"),
      to: "NL00OPEN0000000000",
    });
    assert.equal(badIban.code, status.INVALID_ARGUMENT);
    assert.equal(badIban.metadata.get("ledgerflow-field")[0], "to");

    const noType = await failure(ledger, "SendOperation", admin, {
      id: randomUUID(),
      iban: aliceIban,
      amount: "100",
      branch: "utrecht",
    });
    assert.equal(noType.code, status.INVALID_ARGUMENT);
    assert.equal(noType.metadata.get("ledgerflow-field")[0], "type");
  });

  test("no token or an invalid one is UNAUTHENTICATED", async () => {
    const none = await failure(ledger, "SendTransaction", undefined, transfer(randomUUID(), "100"));
    assert.equal(none.code, status.UNAUTHENTICATED);
    assert.equal(none.metadata.get("ledgerflow-code")[0], "unauthenticated");
    const invalid = await failure(ledger, "SendTransaction", `${alice}x`, transfer(randomUUID(), "100"));
    assert.equal(invalid.code, status.UNAUTHENTICATED);
    assert.match(invalid.details, /invalid/);
  });

  test("another user's account is NOT_FOUND (field from), as REST answers 404; a customer's cash operation is PERMISSION_DENIED", async () => {
    const body = transfer(randomUUID(), "100");
    const error = await failure(ledger, "SendTransaction", bob, body);
    assert.equal(error.code, status.NOT_FOUND);
    assert.equal(error.metadata.get("ledgerflow-field")[0], "from");
    const rest = await api.as(bob).post("/v1/transfers", { ...body, id: randomUUID() });
    assert.equal(rest.status, 404);

    const operation = await failure(ledger, "SendOperation", alice, {
      id: randomUUID(),
      type: "OPERATION_TYPE_DEPOSIT",
      iban: aliceIban,
      amount: "100",
      branch: "utrecht",
    });
    assert.equal(operation.code, status.PERMISSION_DENIED);
    assert.equal(operation.metadata.get("ledgerflow-code")[0], "forbidden");
  });

  test("a message over the size limit is refused with RESOURCE_EXHAUSTED, nothing booked", async () => {
    const id = randomUUID();
    const error = await failure(ledger, "SendTransaction", alice, {
      ...transfer(id, "100"),
      description: "x".repeat(messageBytesMax + 1),
    });
    assert.equal(error.code, status.RESOURCE_EXHAUSTED);
    const lookup = await failure(ledger, "GetCommand", alice, { id });
    assert.equal(lookup.code, status.NOT_FOUND);
  });
});

describe("client data and the live stream", () => {
  test("the stream receives the outcome and the balance change of a transfer made via REST", async () => {
    const stream = watch(alice, {});
    const live = new Promise((resolve) => stream.once("metadata", resolve));
    const events = collect(stream);
    await live;
    const id = randomUUID();
    const sent = await api.as(alice).post("/v1/transfers", transfer(id, "700"));
    assert.equal(sent.status, 201, JSON.stringify(sent.body));
    await waitUntil(
      () =>
        events.some((e) => e.outcome?.id === id) && events.some((e) => e.balance_change?.command_id === id),
    );
    const outcome = events.find((e) => e.outcome?.id === id)?.outcome;
    assert.equal(outcome.status, "COMMAND_STATUS_CONFIRMED");
    const change = events.find((e) => e.balance_change?.command_id === id)?.balance_change;
    assert.equal(change.iban, aliceIban);
    assert.equal(change.changed_by, "-700");
    assert.equal(change.counterparty, bobIban);
    assert.equal(events.find((e) => e.event === "outcome")?.event, "outcome");
    // Bob's balance change (the credit) is his, not Alice's.
    assert.ok(!events.some((e) => e.balance_change?.iban === bobIban));
    assert.equal(balanceListeners, 1);
    stream.cancel();
    // The last watch gone, the hub lets go of the notifier.
    await waitUntil(() => balanceListeners === 0);
  });

  test("a stream ends with UNAUTHENTICATED when the access token that opened it expires", async () => {
    // A token of Alice's that expires in 2 s, signed as the platform signs (the test platform's secret).
    const claims = JSON.parse(Buffer.from(alice.split(".")[1] ?? "", "base64url").toString());
    const nowS = Math.floor(Date.now() / 1000);
    const shortLived = await new SignJWT({ username: claims.username, roles: claims.roles })
      .setProtectedHeader({ alg: "HS256", typ: "JWT" })
      .setSubject(claims.sub)
      .setIssuer(claims.iss)
      .setAudience(claims.aud)
      .setIssuedAt(nowS)
      .setExpirationTime(nowS + 2)
      .sign(new TextEncoder().encode(testJwtSecret));
    const startedMs = Date.now();
    const error = await streamError(watch(shortLived, {}));
    assert.equal(error.code, status.UNAUTHENTICATED);
    assert.match(error.details, /expired/);
    assert.ok(Date.now() - startedMs < 5_000);
  });

  test("a connection carries at most streamsPerConnectionMax calls at once; one more is not served while it is full", async () => {
    // A channel of its own: one HTTP/2 connection whose streams this test alone uses.
    const own = new clientServiceConstructor(address, credentials.createInsecure());
    try {
      // biome-ignore lint/suspicious/noExplicitAny: generated client method
      const open = () => (own as any).WatchClient({}, metadataOf(alice)) as ClientReadableStream<Message>;
      const live = (stream: ClientReadableStream<Message>) =>
        new Promise<string>((resolve) => {
          stream.once("metadata", () => resolve("live"));
          stream.once("status", (s: Message) => resolve(`ended ${s.code}`));
        });
      const streams = Array.from({ length: streamsPerConnectionMax }, open);
      for (const stream of streams) collect(stream);
      assert.deepEqual(
        await Promise.all(streams.map(live)),
        streams.map(() => "live"),
      );
      const extra = open();
      collect(extra);
      const extraAnswer = live(extra);
      const whileFull = await Promise.race([extraAnswer, sleep(500).then(() => "waiting")]);
      assert.equal(whileFull, "waiting", "no call beyond the limit runs on the connection");
      for (const stream of streams) stream.cancel();
      // HTTP/2 refuses the surplus stream (grpc-js: RESOURCE_EXHAUSTED) or admits it once a place
      // is free, depending on which the server sees first; either way the connection serves again.
      assert.match(await extraAnswer, /^(live|ended 8)$/);
      extra.cancel();
      let next = "";
      for (let attempt = 0; attempt < 20 && next !== "live"; attempt++) {
        const stream = open();
        collect(stream);
        next = await live(stream);
        stream.cancel();
        if (next !== "live") await sleep(50);
      }
      assert.equal(next, "live");
    } finally {
      own.close();
    }
  });

  test("another customer cannot watch or read a client: NOT_FOUND like an unknown client", async () => {
    const aliceId = userIdOf(alice);
    const watching = await streamError(watch(bob, { client_id: aliceId }));
    assert.equal(watching.code, status.NOT_FOUND);
    const listing = await failure(clients, "ListTransactions", bob, { client_id: aliceId });
    assert.equal(listing.code, status.NOT_FOUND);
    const unknown = await failure(clients, "ListTransactions", admin, { client_id: randomUUID() });
    assert.equal(unknown.code, status.NOT_FOUND);
  });

  test("transactions, operations, interactions and branches by kind (insights), paged with page tokens; GetClient has everything", async () => {
    // The insights read models are projections of the ledger's outcomes: they catch up shortly.
    const transferred = await eventually(
      () => call(clients, "ListTransactions", alice, { page_size: 100 }),
      (page) => page.items.length >= 3,
    );
    const firstPage = await call(clients, "ListTransactions", alice, { page_size: 1 });
    assert.equal(firstPage.items.length, 1);
    assert.ok(firstPage.next_page_token);
    const secondPage = await call(clients, "ListTransactions", alice, {
      page_size: 1,
      page_token: firstPage.next_page_token,
    });
    assert.equal(secondPage.items.length, 1);
    assert.notEqual(secondPage.items[0].id, firstPage.items[0].id);
    assert.equal(firstPage.items[0].iban, aliceIban);
    assert.equal(firstPage.items[0].amount, "-700");
    assert.equal(firstPage.items[0].counterparty_client_id, userIdOf(bob));
    assert.equal((await allTransactions(alice)).length, transferred.items.length);

    const operations = await eventually(
      () => call(clients, "ListOperations", alice, {}),
      (page) => page.items.length === 1,
    );
    const { id: _id, at: _at, branch_id: branchId, ...operation } = operations.items[0];
    assert.deepEqual(operation, {
      type: "OPERATION_TYPE_DEPOSIT",
      iban: aliceIban,
      branch: "utrecht",
      amount: "100000",
      asset: "EUR",
    });
    assert.equal(operations.next_page_token ?? "", "");

    const interactions = await eventually(
      () => call(clients, "ListInteractions", alice, {}),
      (page) => page.items.length === 1,
    );
    const withBob = interactions.items[0];
    assert.equal(withBob.counterparty_client_id, userIdOf(bob));
    assert.equal(withBob.counterparty_username, "bob");
    assert.equal(withBob.counterparty_iban, bobIban);
    assert.equal(withBob.totals[0].asset, "EUR");
    assert.equal(withBob.totals[0].sent, String(2550 + 100 + 700));

    const branches = await call(clients, "ListBranches", alice, {});
    assert.deepEqual(
      branches.items.map((b: Message) => [b.branch_id, b.name, b.deposits, b.withdrawals]),
      [[branchId, "utrecht", "1", "0"]],
    );

    const everything = await call(clients, "GetClient", admin, {
      client_id: userIdOf(alice),
      page_size: 100,
    });
    assert.equal(everything.client_id, userIdOf(alice));
    assert.equal(everything.username, "alice");
    assert.equal(everything.accounts[0].iban, aliceIban);
    assert.equal(everything.transactions.items.length, transferred.items.length);
    assert.equal(everything.operations.items.length, 1);
    assert.equal(everything.interactions.items.length, 1);
    assert.equal(everything.branches.items.length, 1);

    const badToken = await failure(clients, "ListTransactions", alice, { page_token: "not-a-token" });
    assert.equal(badToken.code, status.INVALID_ARGUMENT);
    assert.equal(badToken.metadata.get("ledgerflow-field")[0], "page_token");
    const badSize = await failure(clients, "ListOperations", alice, { page_size: 10_000 });
    assert.equal(badSize.code, status.INVALID_ARGUMENT);
    assert.equal(badSize.metadata.get("ledgerflow-field")[0], "page_size");
    assert.match(badSize.details, /page_size/);
  });
});

describe("reflection and health", () => {
  test("server reflection lists the services", async () => {
    const reflectionProto = join(
      import.meta.dirname,
      "..",
      "..",
      "..",
      "node_modules",
      "@grpc",
      "reflection",
      "build",
      "proto",
      "grpc",
      "reflection",
      "v1",
      "reflection.proto",
    );
    // biome-ignore lint/suspicious/noExplicitAny: the loaded package is a tree of constructors
    const loaded = loadPackageDefinition(loadSync(reflectionProto, { keepCase: true })) as any;
    const reflection: Client = new loaded.grpc.reflection.v1.ServerReflection(
      address,
      credentials.createInsecure(),
    );
    try {
      // biome-ignore lint/suspicious/noExplicitAny: generated client method
      const stream = (reflection as any).ServerReflectionInfo();
      const answers: Message[] = [];
      const both = new Promise<void>((resolve, reject) => {
        stream.on("data", (message: Message) => {
          answers.push(message);
          if (answers.length === 2) resolve();
        });
        stream.on("error", reject);
      });
      stream.write({ list_services: "" });
      // The error details' types are described too, so clients can decode grpc-status-details-bin.
      stream.write({ file_containing_symbol: "google.rpc.BadRequest" });
      await both;
      stream.end();
      const names = answers[0]?.list_services_response.service.map((s: Message) => s.name);
      for (const name of [
        "ledgerflow.v1.LedgerService",
        "ledgerflow.v1.ClientService",
        "grpc.health.v1.Health",
      ])
        assert.ok(names.includes(name), `${name} in ${names}`);
      assert.ok(
        answers[1]?.file_descriptor_response?.file_descriptor_proto?.length > 0,
        JSON.stringify(answers[1]),
      );
    } finally {
      reflection.close();
    }
  });

  test("the health service answers SERVING", async () => {
    const answer = await call(health, "Check", undefined, { service: "" });
    assert.equal(answer.status, "SERVING");
  });
});

/** Counts live registrations on the real notifications, to prove cancelled watches release them. */
function countBalanceListeners(): void {
  const notifications = platform.platform.notifications;
  const register = notifications.onBalanceChanged.bind(notifications);
  notifications.onBalanceChanged = (listener) => {
    const unregister = register(listener);
    balanceListeners += 1;
    let registered = true;
    return () => {
      if (registered) balanceListeners -= 1;
      registered = false;
      return unregister();
    };
  };
}

function transfer(id: string, amount: string) {
  return { id, from: aliceIban, to: bobIban, amount, asset: "EUR", description: "gRPC" };
}

async function openAccount(token: string): Promise<string> {
  const answer = await api.as(token).post("/v1/accounts", { id: randomUUID(), asset: "EUR" });
  assert.equal(answer.status, 201);
  return answer.body.iban;
}

function metadataOf(token: string | undefined): Metadata {
  const metadata = new Metadata();
  if (token !== undefined) metadata.set("authorization", `Bearer ${token}`);
  return metadata;
}

function invoke(
  client: Client,
  method: string,
  token: string | undefined,
  request: Message,
): Promise<Message> {
  return new Promise((resolve, reject) => {
    // biome-ignore lint/suspicious/noExplicitAny: generated client method
    (client as any)[method](
      request,
      metadataOf(token),
      { deadline: Date.now() + 20_000 },
      (error: ServiceError | null, response: Message) => (error ? reject(error) : resolve(response)),
    );
  });
}

function call(client: Client, method: string, token: string | undefined, request: Message): Promise<Message> {
  return invoke(client, method, token, request);
}

async function failure(
  client: Client,
  method: string,
  token: string | undefined,
  request: Message,
): Promise<ServiceError> {
  try {
    const answer = await invoke(client, method, token, request);
    assert.fail(`expected an error, got ${JSON.stringify(answer)}`);
  } catch (error) {
    if (error instanceof assert.AssertionError) throw error;
    return error as ServiceError;
  }
}

function detailsOf(error: ServiceError) {
  const bytes = error.metadata.get("grpc-status-details-bin")[0];
  assert.ok(Buffer.isBuffer(bytes), "grpc-status-details-bin is sent");
  return decodeStatusDetails(bytes);
}

function watch(token: string, request: Message): ClientReadableStream<Message> {
  // biome-ignore lint/suspicious/noExplicitAny: generated client method
  return (clients as any).WatchClient(request, metadataOf(token));
}

function collect(stream: ClientReadableStream<Message>): Message[] {
  const events: Message[] = [];
  stream.on("data", (event: Message) => events.push(event));
  stream.on("error", () => {});
  return events;
}

function streamError(stream: ClientReadableStream<Message>): Promise<ServiceError> {
  return new Promise((resolve, reject) => {
    stream.on("data", () => reject(new Error("expected no data")));
    stream.on("error", (error: ServiceError) => resolve(error));
  });
}

async function allTransactions(token: string): Promise<Message[]> {
  const items: Message[] = [];
  let pageToken = "";
  do {
    const page = await call(clients, "ListTransactions", token, { page_size: 2, page_token: pageToken });
    items.push(...page.items);
    pageToken = page.next_page_token ?? "";
  } while (pageToken !== "");
  return items;
}

function userIdOf(accessToken: string): string {
  const payload = accessToken.split(".")[1] ?? "";
  return JSON.parse(Buffer.from(payload, "base64url").toString()).sub;
}

/** Calls `read` until `done` holds of its answer (read models catch up shortly). */
async function eventually(
  read: () => Promise<Message>,
  done: (answer: Message) => boolean,
  timeoutMs = 10_000,
): Promise<Message> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const answer = await read();
    if (done(answer)) return answer;
    if (Date.now() > deadline) assert.fail(`not caught up: ${JSON.stringify(answer)}`);
    await sleep(50);
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

async function waitUntil(condition: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error("timed out waiting");
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
