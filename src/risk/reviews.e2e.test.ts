/**
 * Holds for review over real HTTP against the whole platform: a transfer to a party whose name is
 * similar to a listed one (or that hits a rule) is booked as a pending transfer (reserved, nothing
 * moved) and queued for review; a compliance officer approves it (posted) or rejects it (voided)
 * with a reason; an unreviewed hold expires by the ledger's sweeper and its review says so; a
 * replayed command keeps its held outcome after the list changed.
 */
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { apiClient, startTestPlatform, type TestPlatform, testAdmin } from "../../test/support/platform.ts";

type Client = ReturnType<ReturnType<typeof apiClient>["as"]>;
type Api = ReturnType<typeof apiClient>;
const reviewTimeoutMs = 6_000;
let tp: TestPlatform;
let dir: string;
let api: Api;
let admin: Client;
let officer: Client;
const names = new Map<string, string>();
const clients = new Map<string, { client: Client; iban: string }>();

function idOfToken(token: string): string {
  return JSON.parse(Buffer.from(token.split(".")[1] ?? "", "base64url").toString("utf8")).sub as string;
}

/** A customer with one funded EUR account (and, with `name`, a profile name screening sees). */
async function customer(username: string, funds: string, name?: string) {
  const token = await api.signUp(username);
  if (name) names.set(idOfToken(token), name);
  const client = api.as(token);
  const opened = await client.post("/v1/accounts", { id: randomUUID(), asset: "EUR" });
  assert.equal(opened.status, 201, JSON.stringify(opened.body));
  const iban = opened.body.iban as string;
  if (funds !== "0") {
    const deposit = { id: randomUUID(), type: "deposit", iban, amount: funds, branch: "Utrecht" };
    assert.equal((await admin.post("/v1/operations", deposit)).status, 201);
  }
  clients.set(username, { client, iban });
  return { client, iban, userId: idOfToken(token) };
}

async function account(who: { client: Client; iban: string }) {
  const body = (await who.client.get(`/v1/accounts/${who.iban}`)).body;
  return { balance: body.balance as string, available: body.availableBalance as string };
}

async function eventually<T>(
  what: string,
  probe: () => Promise<T | undefined>,
  timeoutMs = 20_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

type ReviewView = Record<string, unknown> & { id: string; state: string; screening: Record<string, unknown> };

async function review(id: string, state = "all", until?: (r: ReviewView) => boolean): Promise<ReviewView> {
  return eventually(`review ${id}`, async () => {
    for (let cursor: string | null = null; ; ) {
      const page = await officer.get(
        `/v1/risk/reviews?state=${state}&limit=2${cursor ? `&cursor=${cursor}` : ""}`,
      );
      assert.equal(page.status, 200, JSON.stringify(page.body));
      const found = (page.body.items as ReviewView[]).find((item) => item.id === id);
      if (found) return until === undefined || until(found) ? found : undefined;
      cursor = page.body.nextCursor;
      if (cursor === null) return undefined;
    }
  });
}

async function transfer(
  from: { client: Client; iban: string },
  to: { iban: string },
  amount: string,
  id = randomUUID(),
) {
  const answer = await from.client.post("/v1/transfers", {
    id,
    from: from.iban,
    to: to.iban,
    amount,
    asset: "EUR",
  });
  return { id, answer };
}

async function feed(name: string, text: string) {
  const path = join(dir, name);
  await writeFile(path, text);
  return tp.platform.risk.feed({ list: "fraud", source: { kind: "file", path }, format: "lines" });
}

before(async () => {
  dir = await mkdtemp(join(tmpdir(), "ledgerflow-reviews-"));
  const partyNames = {
    namesOf: async (ids: readonly string[]) =>
      new Map(ids.flatMap((id) => (names.has(id) ? [[id, names.get(id) ?? ""] as const] : []))),
  };
  tp = await startTestPlatform(
    {
      risk: {
        reviewTimeoutMs,
        rules: [
          { kind: "velocity", transfersMax: 3, windowMs: 600_000 },
          { kind: "first_counterparty_amount", amountsOver: { EUR: "50000" } },
        ],
      },
      handler: { pendingSweepIntervalMs: 200 },
    },
    { partyNames },
  );
  api = apiClient(tp.url);
  admin = api.as(await api.signIn(testAdmin.username, testAdmin.password));
  const officerToken = await api.signUp("officer");
  const granted = await admin.call("PUT", `/v1/admin/users/${idOfToken(officerToken)}/roles/compliance`);
  assert.equal(granted.status, 200, JSON.stringify(granted.body));
  officer = api.as(await api.signIn("officer", "correct horse battery staple"));
  await feed("v1.txt", "Müller, Hans\nPetrov, Ivan\n");
});

after(async () => {
  await tp?.stop();
  await rm(dir, { recursive: true, force: true });
});

describe("holds for review", () => {
  test("a transfer to a similar name is held (reserved, not moved); the officer approves: posted", async () => {
    const alice = await customer("alice", "100000");
    const hans = await customer("hans", "0", "Hans Mueller");
    const { id, answer } = await transfer(alice, hans, "2500");
    assert.equal(answer.status, 201, JSON.stringify(answer.body));
    assert.deepEqual(
      [answer.body.status, answer.body.heldForReview, answer.body.reviewId],
      ["CONFIRMED", true, id],
    );
    const status = await alice.client.get(`/v1/commands/${id}`);
    assert.deepEqual(
      [status.body.status, status.body.phase, status.body.reviewId],
      ["CONFIRMED", "pending", id],
    );
    assert.deepEqual(await account(alice), { balance: "100000", available: "97500" });
    assert.deepEqual(await account(hans), { balance: "0", available: "0" });
    // The customer cannot post their own transfer held for review.
    const self = await alice.client.post(`/v1/holds/${id}/post`, { id: randomUUID() });
    assert.equal(self.body.code, "under_review", JSON.stringify(self.body));

    const open = await review(id, "open");
    assert.deepEqual(
      [open.state, open.from, open.to, open.amount, open.asset],
      ["open", alice.iban, hans.iban, "2500", "EUR"],
    );
    const screening = open.screening;
    assert.deepEqual(
      [
        screening.decision,
        screening.partyName,
        screening.list,
        screening.listVersion,
        screening.entryDisplay,
      ],
      ["hold", "Hans Mueller", "fraud", 1, "Müller, Hans"],
    );
    assert.ok(
      (screening.score as number) >= 0.92 && (screening.score as number) < 1,
      String(screening.score),
    );
    assert.match(
      screening.explanation as string,
      /"hans mueller" is 0\.9\d+ similar .*"hans muller"\), threshold 0\.92/,
    );

    const approved = await officer.post(`/v1/risk/reviews/${id}/approve`, {
      reason: "Known supplier, checked ID",
    });
    assert.equal(approved.status, 200, JSON.stringify(approved.body));
    assert.deepEqual(
      [approved.body.state, approved.body.reason, approved.body.ledgerPhase],
      ["approved", "Known supplier, checked ID", "posted"],
    );
    assert.deepEqual(await account(alice), { balance: "97500", available: "97500" });
    assert.deepEqual(await account(hans), { balance: "2500", available: "2500" });
    const again = await officer.post(`/v1/risk/reviews/${id}/reject`, { reason: "changed my mind" });
    assert.deepEqual([again.status, again.body.code, again.body.state], [409, "review_decided", "approved"]);
  });

  test("another is rejected with a reason: voided, the reservation released, nothing moved", async () => {
    const bea = await customer("bea", "10000");
    const ivan = await customer("ivan", "0", "Ivan Petrow");
    const { id, answer } = await transfer(bea, ivan, "4000");
    assert.equal(answer.body.heldForReview, true, JSON.stringify(answer.body));
    assert.deepEqual(await account(bea), { balance: "10000", available: "6000" });
    await review(id, "open");
    const rejected = await officer.post(`/v1/risk/reviews/${id}/reject`, {
      reason: "Matches sanctioned person",
    });
    assert.equal(rejected.status, 200, JSON.stringify(rejected.body));
    assert.deepEqual(
      [rejected.body.state, rejected.body.reason, rejected.body.ledgerPhase],
      ["rejected", "Matches sanctioned person", "voided"],
    );
    assert.deepEqual(await account(bea), { balance: "10000", available: "10000" });
    assert.deepEqual(await account(ivan), { balance: "0", available: "0" });
    const decided = await review(id, "decided");
    assert.equal(decided.decidedBy !== null, true);
  });

  test("an unreviewed hold expires by the ledger's timeout: voided, its review expired", async () => {
    const carl = await customer("carl", "10000");
    const hans2 = await customer("hans2", "0", "Hanss Müller");
    const { id, answer } = await transfer(carl, hans2, "1000");
    assert.equal(answer.body.heldForReview, true, JSON.stringify(answer.body));
    const expired = await review(id, "all", (r) => r.state === "expired");
    assert.equal(expired.ledgerPhase, "expired");
    assert.deepEqual(await account(carl), { balance: "10000", available: "10000" });
    const late = await officer.post(`/v1/risk/reviews/${id}/approve`, { reason: "too late" });
    assert.deepEqual([late.status, late.body.code, late.body.state], [409, "review_decided", "expired"]);
  });

  test("a replayed command after the list changed keeps its held outcome", async () => {
    const dora = await customer("dora", "10000");
    const hans3 = await customer("hans3", "0", "Hans Muler");
    const first = await transfer(dora, hans3, "700");
    assert.equal(first.answer.body.heldForReview, true, JSON.stringify(first.answer.body));
    await feed("v2.txt", "Petrov, Ivan\n");
    const replay = await transfer(dora, hans3, "700", first.id);
    assert.deepEqual(
      [replay.answer.status, replay.answer.body.heldForReview, replay.answer.body.reviewId],
      [201, true, first.id],
    );
    const fresh = await transfer(dora, hans3, "700");
    assert.equal(fresh.answer.status, 201);
    assert.equal(fresh.answer.body.heldForReview, undefined, "new commands see the new list");
    await feed("v3.txt", "Müller, Hans\nPetrov, Ivan\n");
  });

  test("a cash deposit for a customer with a similar name is held too; a teller's client sees it", async () => {
    const hans4 = await customer("hans4", "0", "Hans Mülller");
    const deposit = { id: randomUUID(), type: "deposit", iban: hans4.iban, amount: "900", branch: "Utrecht" };
    const answer = await admin.post("/v1/operations", deposit);
    assert.deepEqual([answer.status, answer.body.heldForReview], [201, true], JSON.stringify(answer.body));
    assert.deepEqual(await account(hans4), { balance: "0", available: "0" });
    const held = await review(deposit.id, "open");
    assert.equal(held.kind, "deposit");
  });
});

describe("rules", () => {
  test("velocity: the fourth transfer within the window is held, with the rule's explanation", async () => {
    const eve = await customer("eve", "10000");
    const fay = await customer("fay", "0");
    for (let i = 0; i < 3; i++)
      assert.equal((await transfer(eve, fay, "10")).answer.body.heldForReview, undefined);
    const fourth = await transfer(eve, fay, "10");
    assert.equal(fourth.answer.body.heldForReview, true, JSON.stringify(fourth.answer.body));
    const held = await review(fourth.id, "open");
    const hits = held.screening.ruleHits as { rule: string; explanation: string }[];
    assert.deepEqual(
      hits.map((hit) => hit.rule),
      ["velocity"],
    );
    assert.equal(held.screening.list, null);
  });

  test("amount over the threshold to a first-time counterparty is held; to a known one it is not", async () => {
    const gus = await customer("gus", "200000");
    const hal = await customer("hal", "0");
    const first = await transfer(gus, hal, "60000");
    assert.equal(first.answer.body.heldForReview, true, JSON.stringify(first.answer.body));
    const held = await review(first.id, "open");
    assert.deepEqual(
      (held.screening.ruleHits as { rule: string }[]).map((hit) => hit.rule),
      ["first_counterparty_amount"],
    );
    const small = await transfer(gus, hal, "100");
    assert.equal(small.answer.body.heldForReview, undefined);
    // The pair is known once the ledger's outcome reached risk.
    await eventually("the pair known", async () => {
      const probe = await tp.platform.pool.query(
        "SELECT 1 FROM risk_counterparties WHERE sender_iban = $1 AND receiver_iban = $2",
        [gus.iban, hal.iban],
      );
      return probe.rowCount ? true : undefined;
    });
    const large = await transfer(gus, hal, "60000");
    assert.deepEqual([large.answer.status, large.answer.body.heldForReview], [201, undefined]);
  });
});

describe("the review queue's access and input", () => {
  test("customers get 403; unknown review 404; no reason 400 naming the field; bad cursor 400", async () => {
    const ida = await customer("ida", "0");
    assert.equal((await ida.client.get("/v1/risk/reviews")).status, 403);
    const forbidden = await ida.client.post(`/v1/risk/reviews/${randomUUID()}/approve`, { reason: "x" });
    assert.equal(forbidden.status, 403);
    const unknown = await officer.post(`/v1/risk/reviews/${randomUUID()}/approve`, { reason: "x" });
    assert.deepEqual([unknown.status, unknown.body.code], [404, "not_found"]);
    const noReason = await officer.post(`/v1/risk/reviews/${randomUUID()}/reject`, {});
    assert.deepEqual(
      [noReason.status, noReason.body.code, noReason.body.field],
      [400, "validation_failed", "reason"],
    );
    const blank = await officer.post(`/v1/risk/reviews/${randomUUID()}/reject`, { reason: "  " });
    assert.deepEqual([blank.status, blank.body.field], [400, "reason"]);
    // PostgreSQL text cannot hold NUL: refused at the edge (it was a 500 from the store).
    const nul = await officer.post(`/v1/risk/reviews/${randomUUID()}/reject`, { reason: "\u00007" });
    assert.deepEqual([nul.status, nul.body.field], [400, "reason"]);
    const cursor = await officer.get("/v1/risk/reviews?cursor=nope");
    assert.deepEqual([cursor.status, cursor.body.field], [400, "cursor"]);
    assert.equal((await admin.get("/v1/risk/reviews?state=decided")).status, 200, "admins review too");
  });
});
