/**
 * Name screening with the names users give in their identity profiles (the composition root wires
 * identity's door into risk's party-names port): a receiver whose legal name is on a list is
 * blocked, one whose name is only similar is held for review.
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
let api: ReturnType<typeof apiClient>;
let admin: Client;

async function customer(username: string, legalName?: string) {
  const client = api.as(await api.signUp(username));
  if (legalName !== undefined) {
    const edited = await client.call("PATCH", "/v1/me/profile", { legalName });
    assert.equal(edited.status, 200, JSON.stringify(edited.body));
  }
  const opened = await client.post("/v1/accounts", { id: randomUUID(), asset: "EUR" });
  assert.equal(opened.status, 201, JSON.stringify(opened.body));
  return { client, iban: opened.body.iban as string };
}

before(async () => {
  dir = await mkdtemp(join(tmpdir(), "ledgerflow-profile-names-"));
  tp = await startTestPlatform();
  api = apiClient(tp.url);
  admin = api.as(await api.signIn(testAdmin.username, testAdmin.password));
  const path = join(dir, "names.txt");
  await writeFile(path, "Petrov, Ivan\nMüller, Hans\n");
  await tp.platform.risk.feed({ list: "fraud", source: { kind: "file", path }, format: "lines" });
});

after(async () => {
  await tp?.stop();
  await rm(dir, { recursive: true, force: true });
});

describe("name screening with profile names", () => {
  test("a listed legal name blocks, a similar one holds, an unrelated one passes", async () => {
    const payer = await customer("payer");
    const deposit = {
      id: randomUUID(),
      type: "deposit",
      iban: payer.iban,
      amount: "90000",
      branch: "Utrecht",
    };
    assert.equal((await admin.post("/v1/operations", deposit)).status, 201);
    const send = (to: { iban: string }) =>
      payer.client.post("/v1/transfers", {
        id: randomUUID(),
        from: payer.iban,
        to: to.iban,
        amount: "100",
        asset: "EUR",
      });

    const listed = await send(await customer("ivan", "Ivan PETROV"));
    assert.deepEqual([listed.status, listed.body.code], [422, "fraudulent"], JSON.stringify(listed.body));

    const similar = await send(await customer("hans", "Hans Mueller"));
    assert.equal(similar.status, 201, JSON.stringify(similar.body));
    assert.equal(similar.body.heldForReview, true, JSON.stringify(similar.body));

    const unrelated = await send(await customer("greta", "Greta Jansen"));
    assert.equal(unrelated.status, 201);
    assert.equal(unrelated.body.heldForReview, undefined, JSON.stringify(unrelated.body));
  });
});
