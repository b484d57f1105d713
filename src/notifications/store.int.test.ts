/** The inbox table: a notification marked read from its live push before the projection stored it. */
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { after, before, describe, test } from "node:test";
import { startTestDatabase, type TestDatabase } from "../../test/support/postgres.ts";
import { moduleMigrations } from "../app/modules.ts";
import { migrate } from "../platform/db/migrate.ts";
import type { InboxEntry } from "./domain/entries.ts";
import { createInboxStore } from "./store.ts";

let db: TestDatabase;
before(async () => {
  db = await startTestDatabase();
  await migrate(db.pool, moduleMigrations);
});
after(async () => {
  await db?.close();
});

function entry(userId: string): InboxEntry {
  return {
    id: randomUUID(),
    userId,
    kind: "received",
    iban: "NL91ABNA0417164300",
    counterparty: "NL20INGB0001234567",
    amount: 1250n,
    asset: "EUR",
    description: "lunch",
    transferId: randomUUID(),
    commandId: randomUUID(),
    atMs: 1_700_000_000_000,
  };
}

describe("inbox store", () => {
  test("a mark that arrives before its notification is applied when the notification is stored", async () => {
    const store = createInboxStore(db.pool);
    const early = entry("ann");
    const other = entry("ann");
    assert.equal(await store.markRead("ann", { ids: [early.id] }), 0, "nothing stored yet");
    assert.equal(await store.add([early, other]), 2);
    const page = await store.page("ann", undefined, 10);
    assert.deepEqual(
      page.map((n) => [n.id, n.read]).sort(),
      [
        [early.id, true],
        [other.id, false],
      ].sort(),
    );
    assert.equal(await store.unreadCount("ann"), 1);
  });

  test("another user's early mark does not apply to my notification", async () => {
    const store = createInboxStore(db.pool);
    const mine = entry("bob");
    await store.markRead("mallory", { ids: [mine.id] });
    await store.add([mine]);
    assert.equal(await store.unreadCount("bob"), 1);
  });
});
