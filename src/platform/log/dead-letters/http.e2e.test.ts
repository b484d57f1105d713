import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { after, before, describe, test } from "node:test";
import {
  apiClient,
  startTestPlatform,
  type TestPlatform,
  testAdmin,
} from "../../../../test/support/platform.ts";
import { createAccountCommand } from "../../../ledger/command-service.ts";
import { commandToAvro } from "../../../ledger/schemas.ts";
import { deadLetterHeaders } from "../consumer.ts";
import { type DeadLetterView, previewJson } from "./http.ts";

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

describe("dead letters over HTTP", () => {
  let tp: TestPlatform;
  let client: ReturnType<typeof apiClient>;
  let admin: ReturnType<ReturnType<typeof apiClient>["as"]>;
  let customerToken: string;

  before(async () => {
    tp = await startTestPlatform();
    client = apiClient(tp.url);
    admin = client.as(await client.signIn(testAdmin.username, testAdmin.password));
    customerToken = await client.signUp(`dlq-${randomUUID().slice(0, 8)}`);
  });
  after(async () => {
    await tp?.stop();
  });

  const listed = async (): Promise<DeadLetterView[]> => {
    const answer = await admin.get("/v1/admin/dlq");
    assert.equal(answer.status, 200, JSON.stringify(answer.body));
    return answer.body.items as DeadLetterView[];
  };

  /** Polls the list until `match` finds a record (the handler dead-letters asynchronously). */
  const waitForLetter = async (match: (letter: DeadLetterView) => boolean): Promise<DeadLetterView> => {
    for (let i = 0; i < 150; i++) {
      const found = (await listed()).find(match);
      if (found) return found;
      await sleep(100);
    }
    throw new Error("the record was not dead-lettered within 15 s");
  };

  test("only admins may look at or replay dead letters", async () => {
    assert.equal((await client.call("GET", "/v1/admin/dlq")).status, 401);
    const customer = client.as(customerToken);
    const forbidden = await customer.get("/v1/admin/dlq");
    assert.equal(forbidden.status, 403);
    assert.equal(forbidden.body.code, "forbidden");
    const replay = await customer.post("/v1/admin/dlq/ledger.commands.dlq/0/0/replay", {}, false);
    assert.equal(replay.status, 403);
  });

  test("a poison command is listed with its origin and error, and a replay goes back to its topic", async () => {
    const key = `poison-${randomUUID()}`;
    const garbage = Uint8Array.from([0xde, 0xad, 0xbe, 0xef, 0x01, 0x02, 0x03]);
    const [sent] = await tp.platform.log
      .producer()
      .send([{ topic: "ledger.commands", key, value: garbage, headers: { trace: "t-1" } }]);
    assert.ok(sent);

    const letter = await waitForLetter((l) => l.key === key);
    assert.equal(letter.topic, "ledger.commands.dlq");
    assert.deepEqual(letter.original, {
      topic: "ledger.commands",
      partition: sent.partition,
      offset: sent.offset.toString(),
    });
    assert.equal(letter.errorCode, "poison_message");
    assert.match(letter.error, /not .*(ledger command|wire format)/);
    assert.equal(letter.value.decoded, false);
    assert.equal(letter.value.preview, "deadbeef010203");
    assert.equal(letter.value.bytes, 7);
    assert.equal(letter.replayed, false);
    assert.equal(letter.replays, 0);

    const at = `/v1/admin/dlq/${letter.topic}/${letter.partition}/${letter.offset}/replay`;
    const replay = await admin.post(at, {}, false);
    assert.equal(replay.status, 200, JSON.stringify(replay.body));
    assert.equal(replay.body.to.topic, "ledger.commands");
    assert.equal(replay.body.replays, 1);

    // Still garbage, so the handler dead-letters the replayed copy again; it says where it came from.
    const again = await waitForLetter((l) => l.key === key && l.offset !== letter.offset);
    assert.equal(again.original?.offset, replay.body.to.offset);
    const [raw] = await tp.platform.log.read(again.topic, again.partition, BigInt(again.offset), 1);
    assert.equal(raw?.headers["dlq.replayed.from"], `${letter.topic}/${letter.partition}/${letter.offset}`);
    assert.equal(raw?.headers.trace, "t-1", "the record's own headers travel with it");

    const first = (await listed()).find((l) => l.offset === letter.offset && l.topic === letter.topic);
    assert.equal(first?.replayed, true);
    assert.equal(first?.replays, 1);
    assert.ok(first?.lastReplayedAt);
  });

  test("a replayed command is applied once, however often it is replayed", async () => {
    const customer = client.as(customerToken);
    const before = (await customer.get("/v1/accounts")).body.items.length as number;
    const userId = JSON.parse(Buffer.from(customerToken.split(".")[1] ?? "", "base64url").toString()).sub;
    const command = createAccountCommand(
      { id: randomUUID(), asset: "EUR" },
      { userId, username: "dlq", roles: ["customer"] },
      "0".repeat(64),
    );
    // As the handler would have dead-lettered it after a passing failure it gave up on.
    const value = tp.platform.codecs.commands.encode(commandToAvro({ command, issuedAtMs: Date.now() }));
    const [dead] = await tp.platform.log.producer().send([
      {
        topic: "ledger.commands.dlq",
        key: command.accountId,
        value,
        headers: {
          [deadLetterHeaders.errorCode]: "unavailable",
          [deadLetterHeaders.errorMessage]: "database is unavailable",
          [deadLetterHeaders.topic]: "ledger.commands",
          [deadLetterHeaders.partition]: "0",
          [deadLetterHeaders.offset]: "0",
          [deadLetterHeaders.attempts]: "10",
        },
      },
    ]);
    assert.ok(dead);
    const letter = await waitForLetter((l) => l.key === command.accountId);
    assert.equal(letter.value.decoded, true, letter.value.note);
    assert.match(letter.value.preview, new RegExp(command.accountId));
    assert.match(letter.value.preview, /"tokenHash":"\[withheld\]"/);
    assert.equal(letter.attempts, 10);

    const at = `/v1/admin/dlq/ledger.commands/${dead.partition}/${dead.offset}/replay`;
    assert.equal((await admin.post(at, {}, false)).status, 200);
    let accounts: { id: string }[] = [];
    for (let i = 0; i < 100 && accounts.length === before; i++) {
      await sleep(100);
      accounts = (await customer.get("/v1/accounts")).body.items;
    }
    assert.equal(accounts.length, before + 1);
    assert.ok(accounts.some((a) => a.id === command.accountId));

    const twice = await admin.post(at, {}, false);
    assert.equal(twice.status, 200);
    assert.equal(twice.body.replays, 2);
    const outcome = await customer.get(`/v1/commands/${command.commandId}`);
    assert.equal(outcome.status, 200, JSON.stringify(outcome.body));
    await sleep(500);
    assert.equal((await customer.get("/v1/accounts")).body.items.length, before + 1);
  });

  test("replaying what is not there is a 404 problem; a bad position is a 400", async () => {
    const missing = await admin.post("/v1/admin/dlq/ledger.commands.dlq/0/999999/replay", {}, false);
    assert.equal(missing.status, 404);
    assert.equal(missing.body.code, "not_found");
    const unknown = await admin.post("/v1/admin/dlq/nope.dlq/0/0/replay", {}, false);
    assert.equal(unknown.status, 404);
    const bad = await admin.post("/v1/admin/dlq/ledger.commands.dlq/0/-1/replay", {}, false);
    assert.equal(bad.status, 400);
    assert.equal(bad.body.code, "validation_failed");
    assert.equal((await admin.get("/v1/admin/dlq?limit=0")).status, 400);
  });

  test("previews are bounded and withhold secrets", () => {
    const long = previewJson({ note: "x".repeat(5_000), amount: 5n, tokenHash: "abc", tokenId: "t-1" });
    assert.equal(long.truncated, true);
    assert.ok(long.text.length <= 601);
    const short = previewJson({ amount: 5n, tokenHash: "abc", tokenId: "t-1", password: "p" });
    assert.deepEqual(JSON.parse(short.text), {
      amount: "5",
      tokenHash: "[withheld]",
      tokenId: "t-1",
      password: "[withheld]",
    });
  });
});
