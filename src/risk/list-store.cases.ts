/**
 * The list store contract, run against each adapter (PostgreSQL for embedded mode, Redis for
 * distributed mode) by adapters/list-stores.int.test.ts: the same cases, the same answers.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { diffList, keyed } from "./domain/diff.ts";
import { entryKey, entryOfLine, type ListEntry } from "./domain/entries.ts";
import { ConcurrentLoadError, type ListStore } from "./lists.ts";
import { ScreeningIndex } from "./screening-index.ts";

const meta = { source: "s3://lists/fraud.txt", format: "lines", atMs: 1_700_000_000_000 };
const entries = (...lines: string[]) => keyed(lines.map((line) => entryOfLine(line) as ListEntry));
const iban = "NL91ABNA0417164300";
const user = "3f2504e0-4f89-41d3-9a0c-0305e82c3301";

/** Loads `next` as the next version of `list`, as the feeder does. */
async function load(store: ListStore, list: string, next: Map<string, ListEntry>, atMs = meta.atMs) {
  const current = await store.currentKeys(list);
  return store.saveVersion(list, current.version, diffList(current.keys, next), { ...meta, atMs });
}

const sortedKeys = (items: readonly Pick<ListEntry, "kind" | "value">[]) => items.map(entryKey).sort();

export function describeListStoreContract(store: () => ListStore): void {
  let lists = 0;
  const fresh = () => `contract-${++lists}`;

  test("a load is the next version: keys, counts and last load time read back", async () => {
    const list = fresh();
    assert.equal(await load(store(), list, entries(iban, "Jan de Vries", user)), 1);
    assert.equal(await load(store(), list, entries("Jan de Vries", "Piet Jansen"), meta.atMs + 60_000), 2);
    const current = await store().currentKeys(list);
    assert.equal(current.version, 2);
    assert.deepEqual([...current.keys].sort(), ["name:de jan vries", "name:jansen piet"]);
    assert.equal((await store().currentVersions()).get(list), 2);
    const info = (await store().versions()).find((v) => v.list === list);
    assert.deepEqual(info, {
      list,
      version: 2,
      loadedAtMs: meta.atMs + 60_000,
      source: meta.source,
      format: "lines",
      entries: 2,
      added: 1,
      removed: 2,
      unchanged: 1,
    });
  });

  test("changes between versions: from nothing, across several versions, removed then listed again", async () => {
    const list = fresh();
    await load(store(), list, entries(iban, "Jan de Vries"));
    await load(store(), list, entries("Jan de Vries"));
    await load(store(), list, entries("Jan de Vries", iban, "Piet Jansen"));
    const whole = await store().changesBetween(list, 0, 3);
    assert.deepEqual(sortedKeys(whole.added), [`iban:${iban}`, "name:de jan vries", "name:jansen piet"]);
    assert.deepEqual(whole.removed, []);
    assert.equal(
      whole.added.find((e) => e.kind === "name" && e.value === "de jan vries")?.display,
      "Jan de Vries",
    );
    const oneToThree = await store().changesBetween(list, 1, 3);
    assert.deepEqual(sortedKeys(oneToThree.added), [`iban:${iban}`, "name:jansen piet"]);
    assert.deepEqual(sortedKeys(oneToThree.removed), [`iban:${iban}`]);
    const oneToTwo = await store().changesBetween(list, 1, 2);
    assert.deepEqual([sortedKeys(oneToTwo.added), sortedKeys(oneToTwo.removed)], [[], [`iban:${iban}`]]);
  });

  test("a load that expected an older version is refused and writes nothing", async () => {
    const list = fresh();
    await load(store(), list, entries(iban));
    const stale = await store().currentKeys(list);
    await load(store(), list, entries("Piet Jansen"));
    await assert.rejects(
      store().saveVersion(list, stale.version, diffList(stale.keys, entries("Someone Else")), meta),
      ConcurrentLoadError,
    );
    const current = await store().currentKeys(list);
    assert.deepEqual([current.version, [...current.keys]], [2, ["name:jansen piet"]]);
  });

  test("two loads racing from the same version: one wins, the other is refused", async () => {
    const list = fresh();
    await load(store(), list, entries(iban));
    const read = await store().currentKeys(list);
    const results = await Promise.allSettled(
      [entries("Piet Jansen"), entries("Jan de Vries")].map((next) =>
        store().saveVersion(list, read.version, diffList(read.keys, next), meta),
      ),
    );
    assert.equal(results.filter((r) => r.status === "fulfilled").length, 1);
    const refused = results.find((r) => r.status === "rejected");
    assert.ok(refused?.reason instanceof ConcurrentLoadError);
    const current = await store().currentKeys(list);
    assert.equal(current.version, 2);
    assert.equal(current.keys.size, 1);
  });

  test("every screening index refreshing from the store screens against the same version", async () => {
    const list = fresh();
    const first = new ScreeningIndex();
    const second = new ScreeningIndex();
    await load(store(), list, entries(iban, "Jan de Vries"));
    await first.refresh(store());
    await load(store(), list, entries(iban, "Piet Jansen", user));
    await Promise.all([first.refresh(store()), second.refresh(store())]);
    const snapshotOf = (index: ScreeningIndex) => {
      const snapshot = index.snapshots().find((s) => s.list === list);
      return [
        snapshot?.version,
        [...(snapshot?.ibans.keys() ?? [])],
        [...(snapshot?.users.keys() ?? [])],
        [...(snapshot?.names.keys() ?? [])].sort(),
      ];
    };
    assert.deepEqual(snapshotOf(first), [2, [iban], [user], ["jansen piet"]]);
    assert.deepEqual(snapshotOf(second), snapshotOf(first), "caught up by differences = loaded whole");
  });

  test("a reader many versions behind (40) ends with exactly the list in force", async () => {
    const list = fresh();
    const index = new ScreeningIndex();
    await load(store(), list, entries(iban, "Piet Jansen"));
    await index.refresh(store());
    for (let version = 2; version <= 41; version++)
      await load(store(), list, entries(`Jan${"x".repeat(version)} Smith`, "Piet Jansen"));
    await index.refresh(store());
    const snapshot = index.snapshots().find((s) => s.list === list);
    assert.equal(snapshot?.version, 41);
    assert.deepEqual([...(snapshot?.ibans.keys() ?? [])], []);
    assert.deepEqual([...(snapshot?.names.keys() ?? [])].sort(), [
      "jansen piet",
      `jan${"x".repeat(41)} smith`,
    ]);
  });
}
