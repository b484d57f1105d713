/**
 * Sharing a connection on a started platform: both participants must agree before the card is
 * shown and the connection posted; the posting reaches the social webhook once, signed, retried
 * after a failure. The webhook receiver is a loopback stand-in for a social network.
 */
import assert from "node:assert/strict";
import { createHmac } from "node:crypto";
import { after, before, describe, test } from "node:test";
import {
  apiClient,
  startTestPlatform,
  type TestPlatform,
  testAdmin,
} from "../../../test/support/platform.ts";
import { type SocialStandin, startSocialStandin } from "./social-standin.ts";

const password = "correct horse battery staple";
const secret = "a-webhook-secret-for-tests-0123456789";

describe("sharing a connection (loopback stand-in social network)", () => {
  let running: TestPlatform;
  let social: SocialStandin;

  before(async () => {
    social = await startSocialStandin();
    running = await startTestPlatform({
      community: {
        virtualAllowed: true,
        socialWebhookUrls: [social.url],
        socialWebhookSecret: secret,
        socialBackoffBaseMs: 100,
        socialPollIntervalMs: 50,
        socialCardBaseUrl: "https://heyblue.example",
      },
    });
  });
  after(async () => {
    await running?.stop();
    await social?.close();
  });

  async function user(username: string, role: string) {
    const client = apiClient(running.url);
    await client.signUp(username, password);
    const admin = client.as(await client.signIn(testAdmin.username, testAdmin.password));
    const id = (await admin.get(`/v1/admin/users?search=${username}`)).body.items[0].id as string;
    assert.equal((await admin.call("PUT", `/v1/admin/users/${id}/roles/${role}`)).status, 200);
    return { id, http: client.as(await client.signIn(username, password)) };
  }

  type User = Awaited<ReturnType<typeof user>>;

  async function connected(officer: User, citizen: User): Promise<string> {
    const here = { lat: 52.37, lon: 4.89, accuracyM: 5 };
    assert.equal((await officer.http.call("POST", "/v1/community/availability", here)).status, 200);
    const asked = await citizen.http.call("POST", "/v1/community/requests", {
      officerId: officer.id,
      virtual: true,
    });
    assert.equal(asked.status, 201, JSON.stringify(asked.body));
    const accepted = await officer.http.call("POST", `/v1/community/requests/${asked.body.id}/accept`);
    assert.equal(accepted.status, 200, JSON.stringify(accepted.body));
    return accepted.body.connection.id as string;
  }

  const settle = () => new Promise((resolve) => setTimeout(resolve, 400));

  test("one agreement: no card, nothing posted; both: the card, one signed post; others see nothing", async () => {
    const officer = await user("share-officer", "officer");
    const citizen = await user("share-citizen", "citizen");
    const stranger = await user("share-stranger", "citizen");
    const id = await connected(officer, citizen);
    const share = `/v1/community/connections/${id}/share`;
    const card = `/v1/community/connections/${id}/card`;

    for (const [method, path] of [
      ["GET", share],
      ["PUT", share],
      ["DELETE", share],
      ["GET", card],
    ] as const) {
      const refused = await stranger.http.call(method, path);
      assert.equal(refused.status, 404, `${method} ${path}`);
      assert.equal(refused.body.code, "not_found");
    }

    const waiting = await citizen.http.call("PUT", share);
    assert.equal(waiting.status, 200, JSON.stringify(waiting.body));
    assert.deepEqual(
      {
        you: waiting.body.you,
        officer: waiting.body.officerAgreed,
        citizen: waiting.body.citizenAgreed,
        shared: waiting.body.shared,
      },
      { you: "citizen", officer: false, citizen: true, shared: false },
    );
    assert.equal((await citizen.http.call("PUT", share)).body.citizenAgreed, true, "a replay is the same");
    const early = await citizen.http.get(card);
    assert.equal(early.status, 409);
    assert.equal(early.body.code, "share_not_agreed");
    assert.equal((await apiClient(running.url).call("GET", `/v1/community/shared/${id}/card`)).status, 404);
    await settle();
    assert.equal(social.received.length, 0, "nothing posted on one agreement");

    const both = await officer.http.call("PUT", share);
    assert.equal(both.status, 200);
    assert.equal(both.body.shared, true);
    const [post] = await social.deliveries(1, 10_000);
    assert.ok(post);
    const signed = String(post.headers["x-ledgerflow-signature"]);
    const [, t, v1] = /^t=(\d+),v1=([0-9a-f]{64})$/.exec(signed) ?? [];
    assert.equal(
      v1,
      createHmac("sha256", secret).update(`${t}.${post.body}`).digest("hex"),
      "signature verifies",
    );
    assert.equal(post.headers["content-type"], "application/json");
    const document = JSON.parse(post.body);
    assert.deepEqual(
      { ...document, sharedAtMs: 0, connectedAtMs: 0 },
      {
        type: "community.connection.shared",
        connectionId: id,
        officer: { displayName: "share-officer" },
        citizen: { displayName: "share-citizen" },
        kind: "virtual",
        pointsEach: "3",
        connectedAtMs: 0,
        sharedAtMs: 0,
        cardUrl: `https://heyblue.example/v1/community/shared/${id}/card`,
      },
    );
    assert.doesNotMatch(post.body, /cell|lat|lon/);

    const shown = await citizen.http.get(card);
    assert.equal(shown.status, 200);
    assert.match(String(shown.headers.get("content-type")), /^image\/svg\+xml/);
    assert.match(
      String(shown.body),
      /share-officer[\s\S]*share-citizen connected virtually[\s\S]*\+3 PTS each/,
    );
    const open = await apiClient(running.url).call("GET", `/v1/community/shared/${id}/card`);
    assert.equal(open.status, 200);
    assert.equal(open.body, shown.body);
    const raw = await fetch(`${running.url}/v1/community/shared/${id}/card`);
    assert.match(
      await raw.text(),
      /^<svg xmlns="http:\/\/www.w3.org\/2000\/svg"/,
      "the SVG itself, not a JSON string",
    );
    assert.match(String(raw.headers.get("content-security-policy")), /default-src 'none'/);

    // Replayed agreements post nothing more; withdrawing is refused once shared.
    assert.equal((await officer.http.call("PUT", share)).status, 200);
    assert.equal((await citizen.http.call("PUT", share)).status, 200);
    const late = await officer.http.call("DELETE", share);
    assert.equal(late.status, 409);
    assert.equal(late.body.code, "share_final");
    await settle();
    assert.equal(social.received.length, 1, "posted exactly once");
    const status = await officer.http.get(share);
    assert.deepEqual(
      status.body.postings.map((p: Record<string, unknown>) => [p.target, p.status, p.attempts]),
      [[new URL(social.url).host, "delivered", 1]],
    );
  });

  test("a withdrawal before the other agrees keeps it unshared", async () => {
    const officer = await user("share-officer-2", "officer");
    const citizen = await user("share-citizen-2", "citizen");
    const share = `/v1/community/connections/${await connected(officer, citizen)}/share`;
    assert.equal((await officer.http.call("PUT", share)).body.officerAgreed, true);
    const withdrawn = await officer.http.call("DELETE", share);
    assert.equal(withdrawn.status, 200);
    assert.equal(withdrawn.body.officerAgreed, false);
    const citizenAgreed = await citizen.http.call("PUT", share);
    assert.equal(citizenAgreed.body.shared, false);
  });

  test("a webhook that fails first is retried and the connection delivered once", async () => {
    const officer = await user("share-officer-3", "officer");
    const citizen = await user("share-citizen-3", "citizen");
    const id = await connected(officer, citizen);
    const share = `/v1/community/connections/${id}/share`;
    const before = social.received.length;
    social.failNext(1, 503);
    await citizen.http.call("PUT", share);
    assert.equal((await officer.http.call("PUT", share)).body.shared, true);
    const delivered = await social.deliveries(2, 10_000);
    await settle();
    const mine = social.received.slice(before);
    assert.deepEqual(
      mine.map((post) => post.status),
      [503, 204],
    );
    assert.equal(mine[0]?.headers["x-ledgerflow-delivery"], mine[1]?.headers["x-ledgerflow-delivery"]);
    assert.equal(delivered.filter((post) => JSON.parse(post.body).connectionId === id).length, 1);
    const status = await citizen.http.get(share);
    assert.deepEqual(
      status.body.postings.map((p: Record<string, unknown>) => [p.status, p.attempts]),
      [["delivered", 2]],
    );
  });
});
