/**
 * Account tokens (issue 11, point 1) over real HTTP against the whole platform: a creation by another
 * caller under an id that is still PENDING is a conflict with no token; tokens are random, stored
 * only as hashes, and returned once, to the caller that opened the account.
 */
import assert from "node:assert/strict";
import { createHash, randomUUID } from "node:crypto";
import { after, before, describe, test } from "node:test";
import {
  apiClient,
  startTestPlatform,
  type TestPlatform,
  testAdmin,
} from "../../../test/support/platform.ts";

type Client = ReturnType<ReturnType<typeof apiClient>["as"]>;

let tp: TestPlatform;
let alice: Client;
let mallory: Client;
let carol: Client;
let admin: Client;
let malloryEur: string;

const sha256 = (text: string) => createHash("sha256").update(text).digest("hex");

async function deposit(iban: string, amount: string) {
  const response = await admin.post("/v1/operations", {
    id: randomUUID(),
    type: "deposit",
    iban,
    amount,
    branch: "amsterdam-centraal",
  });
  assert.equal(response.status, 201, JSON.stringify(response.body));
}

async function waitDecided(as: Client, id: string): Promise<string> {
  for (let i = 0; i < 200; i++) {
    const status = (await as.get(`/v1/commands/${id}`)).body.status as string;
    if (status !== "PENDING") return status;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`command ${id} still PENDING`);
}

before(async () => {
  tp = await startTestPlatform();
  const api = apiClient(tp.url);
  alice = api.as(await api.signUp("alice"));
  mallory = api.as(await api.signUp("mallory"));
  carol = api.as(await api.signUp("carol"));
  admin = api.as(await api.signIn(testAdmin.username, testAdmin.password));
  const opened = await mallory.post("/v1/accounts", { id: randomUUID(), asset: "EUR" });
  assert.equal(opened.status, 201);
  malloryEur = opened.body.iban as string;
});

after(async () => {
  await tp?.stop();
});

describe("account tokens", () => {
  test("100 racing pairs under one id: the token only ever reaches the owner, and no other token moves money", async () => {
    const pairs = await Promise.all(
      Array.from({ length: 100 }, async (_, i) => {
        const id = randomUUID();
        const body = { id, asset: "EUR" };
        // Both without waiting, so the second arrives while the first is PENDING; alternate who leads.
        const [first, second] = i % 2 === 0 ? [alice, mallory] : [mallory, alice];
        const answers = await Promise.all([
          first.post("/v1/accounts", body, false),
          second.post("/v1/accounts", body, false),
        ]);
        return { id, callers: [first, second], answers };
      }),
    );
    // Who owns each account once decided, and who holds a token for it without owning it.
    const stolen: { id: string; token: string; thief: Client }[] = [];
    const problems: string[] = [];
    for (const { id, callers, answers } of pairs) {
      const statuses = answers.map((a) => a.status).sort();
      if (statuses.join() !== "202,409") problems.push(`${id}: ${statuses.join()}`);
      const creator = callers[answers.findIndex((a) => a.status === 202)] as Client;
      assert.equal(await waitDecided(creator, id), "CONFIRMED");
      for (const [i, caller] of callers.entries()) {
        const answer = answers[i];
        const owns = ((await caller.get("/v1/accounts")).body.items as { id: string }[]).some(
          (a) => a.id === id,
        );
        if (answer?.status === 409 && (answer.body.code !== "conflict" || answer.body.token !== undefined))
          problems.push(`${id}: 409 ${JSON.stringify(answer.body)}`);
        if (answer?.status === 202 && !owns) problems.push(`${id}: 202 to a caller who does not own it`);
        const token = answer?.body.token as string | undefined;
        if (token !== undefined && !owns) stolen.push({ id, token, thief: caller });
      }
    }
    // Whatever a non-owner was given must not move the owner's money.
    let thefts = 0;
    for (const { id, token, thief } of stolen.slice(0, 10)) {
      const iban = (await tp.platform.ledger.queries.accountById(id))?.iban as string;
      await deposit(iban, "1000");
      const theft = await thief.post("/v1/transfers", {
        id: randomUUID(),
        from: iban,
        to: malloryEur,
        amount: "1000",
        asset: "EUR",
        token,
      });
      if (theft.status === 201) thefts++;
    }
    assert.equal(
      thefts,
      0,
      `${thefts} of ${Math.min(10, stolen.length)} tokens held by non-owners moved money`,
    );
    assert.equal(stolen.length, 0, `${stolen.length} of 100 non-owners got a token`);
    assert.deepEqual(problems, [], "one 202 with the token to the owner, one 409 conflict without");
  });

  test("a token is random, kept only as its hash, returned once; a replay neither shows it nor mints another", async () => {
    const id = randomUUID();
    const created = await alice.post("/v1/accounts", { id, asset: "EUR" });
    assert.equal(created.status, 201);
    const token = created.body.token as string;
    assert.match(token, /^[A-Za-z0-9_-]{43}$/, "256 bits, base64url");
    const other = await alice.post("/v1/accounts", { id: randomUUID(), asset: "EUR" });
    assert.notEqual(other.body.token, token);

    for (const wait of [true, false]) {
      const replay = await alice.post("/v1/accounts", { id, asset: "EUR" }, wait);
      assert.equal(replay.status, 201);
      assert.equal(replay.body.token, undefined, "a replay shows no token");
      assert.equal(replay.body.iban, created.body.iban);
    }
    const taken = await mallory.post("/v1/accounts", { id, asset: "EUR" });
    assert.deepEqual([taken.status, taken.body.code, taken.body.token], [409, "conflict", undefined]);

    // Only the hash is stored, in the account and the claim; the plaintext nowhere.
    const { rows } = await tp.platform.pool.query(
      `SELECT a.token_hash AS account, c.token_hash AS claim FROM ledger_accounts a
         JOIN ledger_account_claims c ON c.account_id = a.id WHERE a.id = $1`,
      [id],
    );
    assert.deepEqual(rows, [{ account: sha256(token), claim: sha256(token) }]);
    const { rows: leaks } = await tp.platform.pool.query(
      `SELECT (SELECT count(*) FROM ledger_commands WHERE result::text LIKE '%' || $1 || '%')::int
            + (SELECT count(*) FROM ledger_account_claims WHERE token_hash = $1 OR owner_id = $1)::int AS n`,
      [token],
    );
    assert.equal(leaks[0].n, 0);

    // The one token works for whoever the owner gives it to.
    await deposit(created.body.iban as string, "50");
    const spent = await carol.post("/v1/transfers", {
      id: randomUUID(),
      from: created.body.iban,
      to: malloryEur,
      amount: "20",
      asset: "EUR",
      token,
    });
    assert.equal(spent.status, 201, JSON.stringify(spent.body));
  });
});
