/**
 * Screening in the command path over real HTTP against the whole platform: a transfer to a listed
 * IBAN fails `fraudulent` with nothing booked and a screening log row; the same command replayed
 * after the list changed gets the same outcome; a malformed list file is rejected with its line
 * number and the version in force stays.
 */
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { apiClient, startTestPlatform, type TestPlatform, testAdmin } from "../../test/support/platform.ts";

type Client = ReturnType<ReturnType<typeof apiClient>["as"]>;
let tp: TestPlatform;
let dir: string;
let alice: Client;
let bob: Client;
let admin: Client;
let aliceEur: { iban: string };
let bobEur: { iban: string };
let carolEur: { iban: string };

async function openAccount(as: Client) {
  const response = await as.post("/v1/accounts", { id: randomUUID(), asset: "EUR" });
  assert.equal(response.status, 201, JSON.stringify(response.body));
  return response.body as { iban: string };
}

async function balance(as: Client, iban: string): Promise<string> {
  return (await as.get(`/v1/accounts/${iban}`)).body.balance as string;
}

async function feedFile(name: string, text: string) {
  const path = join(dir, name);
  await writeFile(path, text);
  return tp.platform.risk.feed({ list: "fraud", source: { kind: "file", path }, format: "lines" });
}

before(async () => {
  dir = await mkdtemp(join(tmpdir(), "ledgerflow-risk-"));
  tp = await startTestPlatform();
  const api = apiClient(tp.url);
  alice = api.as(await api.signUp("alice"));
  bob = api.as(await api.signUp("bob"));
  admin = api.as(await api.signIn(testAdmin.username, testAdmin.password));
  aliceEur = await openAccount(alice);
  bobEur = await openAccount(bob);
  carolEur = await openAccount(bob);
  const funded = await admin.post("/v1/operations", {
    ...{ id: randomUUID(), type: "deposit", iban: aliceEur.iban, amount: "100000" },
    branch: "utrecht",
  });
  assert.equal(funded.status, 201, JSON.stringify(funded.body));
});

after(async () => {
  await tp?.stop();
  await rm(dir, { recursive: true, force: true });
});

describe("screening in the command path", () => {
  const blockedTransfer = { id: randomUUID(), amount: "2500", asset: "EUR" };

  test("a transfer to a listed IBAN is FAILED fraudulent, nothing booked, the screening log says why", async () => {
    const loaded = await feedFile("v1.txt", `# fraud list\n${bobEur.iban}\nJan de Vries\n`);
    assert.deepEqual([loaded.version, loaded.added, loaded.removed, loaded.unchanged], [1, 2, 0, 0]);
    const answer = await alice.post("/v1/transfers", {
      ...blockedTransfer,
      from: aliceEur.iban,
      to: bobEur.iban,
    });
    assert.equal(answer.status, 422, JSON.stringify(answer.body));
    assert.equal(answer.body.status, "FAILED");
    assert.equal(answer.body.code, "fraudulent");
    assert.equal(await balance(alice, aliceEur.iban), "100000");
    assert.equal(await balance(bob, bobEur.iban), "0");
    const status = await alice.get(`/v1/commands/${blockedTransfer.id}`);
    assert.deepEqual([status.body.status, status.body.reason], ["FAILED", "fraudulent"]);
    const log = await admin.get("/v1/risk/screenings");
    assert.equal(log.status, 200);
    const row = log.body.screenings.find((s: { commandId: string }) => s.commandId === blockedTransfer.id);
    assert.ok(row, "the blocked transfer is in the screening log");
    assert.equal(row.decision, "block");
    assert.equal(row.partyRole, "receiver");
    assert.equal(row.partyIban, bobEur.iban);
    assert.equal(row.counterpartyIban, aliceEur.iban);
    assert.equal(row.amount, "2500");
    assert.deepEqual(
      [row.list, row.listVersion, row.entryKind, row.entryValue],
      ["fraud", 1, "iban", bobEur.iban],
    );
    assert.equal((await bob.get("/v1/risk/screenings")).status, 403, "the log is for admins");
  });

  test("the same command replayed after the list changed gets the same outcome; new commands see the new list", async () => {
    const loaded = await feedFile("v2.txt", "Jan de Vries\n");
    assert.deepEqual([loaded.version, loaded.added, loaded.removed, loaded.unchanged], [2, 0, 1, 1]);
    const replay = await alice.post("/v1/transfers", {
      ...blockedTransfer,
      from: aliceEur.iban,
      to: bobEur.iban,
    });
    assert.equal(replay.status, 422);
    assert.equal(replay.body.code, "fraudulent");
    const fresh = await alice.post("/v1/transfers", {
      ...{ id: randomUUID(), amount: "2500", asset: "EUR" },
      ...{ from: aliceEur.iban, to: bobEur.iban },
    });
    assert.equal(fresh.status, 201, JSON.stringify(fresh.body));
    assert.equal(await balance(bob, bobEur.iban), "2500");
  });

  test("a cash withdrawal by a listed customer is FAILED fraudulent", async () => {
    await feedFile("v3.txt", `Jan de Vries\n${carolEur.iban}\n`);
    const withdrawal = await admin.post("/v1/operations", {
      ...{ id: randomUUID(), type: "withdrawal", iban: carolEur.iban, amount: "1" },
      branch: "amsterdam-zuid",
    });
    assert.equal(withdrawal.status, 422, JSON.stringify(withdrawal.body));
    assert.equal(withdrawal.body.code, "fraudulent");
  });

  test("a malformed list file is rejected with its line number and the version in force stays", async () => {
    await assert.rejects(
      feedFile("bad.txt", `Jan de Vries\n${bobEur.iban}\nNL00OPEN0000000001\n`),
      /line 3: IBAN "NL00OPEN0000000001" has wrong check digits/,
    );
    await assert.rejects(
      feedFile("dup.txt", `${bobEur.iban}\nx y\n${bobEur.iban}\n`),
      /line 3: duplicate of line 1/,
    );
    await assert.rejects(feedFile("empty.txt", "\n# nothing\n"), /no entries/);
    const lists = await admin.get("/v1/risk/lists");
    assert.equal(lists.status, 200);
    assert.deepEqual(
      lists.body.lists.map((l: { list: string; version: number; entries: number }) => [
        l.list,
        l.version,
        l.entries,
      ]),
      [["fraud", 3, 2]],
    );
    assert.equal(lists.body.lists[0].screeningVersion, 3);
    const stillBlocked = await admin.post("/v1/operations", {
      ...{ id: randomUUID(), type: "deposit", iban: carolEur.iban, amount: "1" },
      branch: "utrecht",
    });
    assert.equal(stillBlocked.body.code, "fraudulent", "version 3 still screens");
  });
});
