/**
 * Identity's profile projection of `community.events`, end to end: records written to the real log
 * (embedded PostgreSQL log) with the community context's own typed events and codec, read back on
 * `GET /v1/me/profile`; redelivery changes nothing; bad records go to `community.events.dlq` and the
 * consumer goes on.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import {
  apiClient,
  startTestPlatform,
  type TestPlatform,
  testAdmin,
} from "../../../test/support/platform.ts";
import {
  type CommunityEvent,
  type ConnectionEstablished,
  communityTopics,
  type TrophyAwarded,
} from "../../community/index.ts";
import { createTopicCodec, type TopicCodec } from "../../platform/log/topic-codecs.ts";
import { communityFactsOf } from "./community-facts.ts";
import { communityFeedLag } from "./community-feed.ts";
import { createPostgresCommunityStats } from "./community-store.ts";

const topic = communityTopics.communityEvents.spec.name;
const atMs = Date.UTC(2026, 11, 1, 12);

/** The flat Avro record of a community event (fields another type does not use are empty). */
function avroOf(event: CommunityEvent) {
  return {
    ...{ officerId: "", citizenId: "", kind: "", rewarded: false, pointsEach: "0", cell: "" },
    ...{ userId: "", trophy: "" },
    ...event,
    atMs: BigInt(event.atMs),
  };
}

describe("profiles: connection counts, points and trophies from community.events", () => {
  let running: TestPlatform;
  let api: ReturnType<typeof apiClient>;
  let codec: TopicCodec;
  let admin: string;
  let serial = 0;

  before(async () => {
    running = await startTestPlatform();
    api = apiClient(running.url);
    admin = await api.signIn(testAdmin.username, testAdmin.password);
    codec = await createTopicCodec(running.platform.registry, communityTopics.communityEvents);
  });
  after(() => running?.stop());

  const publish = async (...values: (CommunityEvent | Uint8Array)[]) => {
    const records = values.map((value) => ({
      topic,
      key: value instanceof Uint8Array ? "raw" : value.connectionId,
      value: value instanceof Uint8Array ? value : codec.encode(avroOf(value)),
    }));
    return running.platform.log.producer().send(records);
  };

  /** A signed-in user and their id. */
  const user = async (prefix: string) => {
    const token = await api.signUp(`${prefix}${++serial}`);
    const me = api.as(token);
    const id = (await me.get("/v1/me/profile")).body.userId as string;
    return { id, me };
  };

  const connection = (
    officerId: string,
    citizenId: string,
    connectionId: string,
    more: Partial<ConnectionEstablished> = {},
  ): ConnectionEstablished => ({
    ...{ type: "ConnectionEstablished", connectionId, officerId, citizenId, kind: "in_person" },
    ...{ rewarded: true, pointsEach: "25", cell: "872a1072bffffff", atMs },
    ...more,
  });
  const trophy = (userId: string, code: string, connectionId: string, at = atMs): TrophyAwarded => ({
    ...{ type: "TrophyAwarded", userId, trophy: code, connectionId, atMs: at },
  });

  /**
   * Waits until the `identity-profiles` group has committed every record on the log: each one is
   * then applied or dead-lettered (both happen before the commit), in every partition.
   */
  async function caughtUp() {
    const deadline = Date.now() + 20_000;
    for (;;) {
      const lag = await communityFeedLag(running.platform.log, topic);
      if (lag === 0n) return;
      if (Date.now() > deadline) assert.fail(`the profile projection stays ${lag} records behind`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  const communityOf = async (me: Awaited<ReturnType<typeof user>>["me"]) => {
    const answer = await me.get("/v1/me/profile");
    assert.equal(answer.status, 200, JSON.stringify(answer.body));
    return answer.body.community;
  };

  test("a new profile has no connections, no points and no trophies", async () => {
    const { me } = await user("fresh");
    const profile = await me.get("/v1/me/profile");
    assert.deepEqual(profile.body.community, {
      connectionsCount: 0,
      pointsEarned: "0",
      trophies: [],
      lastConnectionAt: null,
    });
  });

  test("connections count for both participants, points only when rewarded, trophies with their first time", async () => {
    const officer = await user("officer");
    const citizen = await user("citizen");
    await publish(
      connection(officer.id, citizen.id, "conn-a"),
      trophy(citizen.id, "first_connection", "conn-a"),
      connection(officer.id, citizen.id, "conn-b", { rewarded: false, pointsEach: "0", atMs: atMs + 60_000 }),
    );
    const expected = {
      connectionsCount: 2,
      pointsEarned: "25",
      lastConnectionAt: new Date(atMs + 60_000).toISOString(),
    };
    await caughtUp();
    assert.deepEqual(await communityOf(citizen.me), {
      ...expected,
      trophies: [{ code: "first_connection", firstAwardedAt: new Date(atMs).toISOString() }],
    });
    assert.deepEqual(await communityOf(officer.me), {
      ...expected,
      trophies: [],
    });
    // Only the community context's events set them: the owner cannot.
    const forged = await citizen.me.call("PATCH", "/v1/me/profile", {
      community: { connectionsCount: 1000, pointsEarned: "1000000", trophies: [], lastConnectionAt: null },
    });
    assert.equal(forged.status, 400);
    assert.equal(forged.body.field, "community");
    assert.equal((await communityOf(citizen.me)).pointsEarned, "25");
  });

  test("redelivery changes nothing: the same records published again, or delivered again from the log", async () => {
    const officer = await user("officer");
    const citizen = await user("citizen");
    const sent = await publish(
      connection(officer.id, citizen.id, "conn-c", { pointsEach: "40" }),
      trophy(officer.id, "connections_10", "conn-c"),
    );
    await caughtUp();
    assert.equal((await communityOf(officer.me)).pointsEarned, "40");
    // A duplicate on the log (an outbox relay resends), the trophy again later, then a marker.
    await publish(
      connection(officer.id, citizen.id, "conn-c", { pointsEach: "40" }),
      trophy(officer.id, "connections_10", "conn-c", atMs + 3_600_000),
      connection(officer.id, citizen.id, "conn-d", { pointsEach: "2", atMs: atMs + 1 }),
    );
    await caughtUp();
    const seen = await communityOf(officer.me);
    assert.deepEqual(seen, {
      connectionsCount: 2,
      pointsEarned: "42",
      trophies: [{ code: "connections_10", firstAwardedAt: new Date(atMs).toISOString() }],
      lastConnectionAt: new Date(atMs + 1).toISOString(),
    });
    // The consumer's own redelivery (a batch applied, then the process died before committing):
    // the very records read back from the log, applied again as the consumer would.
    const stats = createPostgresCommunityStats(running.platform.pool);
    for (const { partition, offset } of sent) {
      const [record] = await running.platform.log.read(topic, partition, offset, 1);
      assert.ok(record);
      await stats.apply(communityFactsOf(codec.decode(record.value)));
    }
    assert.deepEqual(await communityOf(citizen.me), { ...seen, trophies: [] });
    assert.deepEqual(await communityOf(officer.me), seen);
  });

  test("bad records go to community.events.dlq with their error; the consumer goes on", async () => {
    const officer = await user("officer");
    const citizen = await user("citizen");
    const stranger = "6f1d2c3b-4a59-4e8d-9c7b-0a1b2c3d4e5f";
    await publish(
      new Uint8Array([1, 2, 3, 4]),
      connection(officer.id, citizen.id, "conn-bad-points", { pointsEach: "2.5" }),
      connection(officer.id, stranger, "conn-stranger"),
      connection(officer.id, citizen.id, "conn-after", { pointsEach: "7" }),
    );
    await caughtUp();
    assert.deepEqual(await communityOf(citizen.me), {
      connectionsCount: 1,
      pointsEarned: "7",
      trophies: [],
      lastConnectionAt: new Date(atMs).toISOString(),
    });
    const listed = await api.as(admin).get("/v1/admin/dlq");
    assert.equal(listed.status, 200);
    const ours = (
      listed.body.items as { original: { topic: string } | null; errorCode: string; error: string }[]
    )
      .filter((item) => item.original?.topic === topic)
      .map((item) => [item.errorCode, item.error]);
    assert.deepEqual(ours.sort(), [
      ["poison_message", "community event names unknown user 6f1d2c3b-4a59-4e8d-9c7b-0a1b2c3d4e5f"],
      ["poison_message", "community event: pointsEach: minor units as a decimal string"],
      ["poison_message", "record is not in Confluent wire format"],
    ]);
    // Nothing of the bad records was applied (the stranger's connection not even for the officer).
    const officerCommunity = await communityOf(officer.me);
    assert.equal(officerCommunity.connectionsCount, 1);
    assert.equal(officerCommunity.pointsEarned, "7");
    const metrics = await running.platform.metrics.registry.metrics();
    assert.match(metrics, /^ledgerflow_identity_profiles_lag_records 0$/m);
    assert.match(metrics, /^ledgerflow_identity_profiles_dead_letters_total 3$/m);
  });
});
