/**
 * Name screening with the names users give in their identity profiles (the composition root wires
 * identity's door into risk's party-names port): a receiver whose legal name is on a list is
 * blocked, one whose name is only similar is held for review; a receiver who renames themselves is
 * screened by the new name within seconds, though screening processes cache names.
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

    const greta = await customer("greta", "Greta Jansen");
    const unrelated = await send(greta);
    assert.equal(unrelated.status, 201);
    assert.equal(unrelated.body.heldForReview, undefined, JSON.stringify(unrelated.body));

    // Greta's name is now in the screening process's cache (party-names-cache.ts). She renames
    // herself to a listed name: the poll for changed profiles evicts her, so transfers to her are
    // blocked within a few poll intervals (1 s each), not at the cache's TTL (5 minutes).
    const edited = await greta.client.call("PATCH", "/v1/me/profile", { legalName: "Hans Müller" });
    assert.equal(edited.status, 200, JSON.stringify(edited.body));
    const deadlineMs = Date.now() + 10_000;
    let answer = await send(greta);
    while (answer.status === 201 && Date.now() < deadlineMs) {
      await new Promise((resolve) => setTimeout(resolve, 250));
      answer = await send(greta);
    }
    assert.deepEqual([answer.status, answer.body.code], [422, "fraudulent"], JSON.stringify(answer.body));
  });
});
