/**
 * The in-memory index a screening process matches against: one immutable snapshot per list,
 * replaced whole when a new version is in force (a single reference assignment, so a screening
 * running concurrently sees either the old version or the new one, never a mix). Refreshed from
 * the list store by applying only the changes between versions.
 */
import { type ListSnapshot, nextSnapshot, snapshotOf } from "./domain/match.ts";
import type { ListStore } from "./lists.ts";

export class ScreeningIndex {
  #snapshots: readonly ListSnapshot[] = [];
  #refreshing: Promise<void> | undefined;

  /** The snapshots in force (one per list). */
  snapshots(): readonly ListSnapshot[] {
    return this.#snapshots;
  }

  versions(): ReadonlyMap<string, number> {
    return new Map(this.#snapshots.map((snapshot) => [snapshot.list, snapshot.version]));
  }

  /** Brings every list to the store's version; concurrent calls share one refresh. */
  refresh(store: ListStore): Promise<void> {
    this.#refreshing ??= this.#refresh(store).finally(() => {
      this.#refreshing = undefined;
    });
    return this.#refreshing;
  }

  async #refresh(store: ListStore): Promise<void> {
    const versions = await store.currentVersions();
    const byList = new Map(this.#snapshots.map((snapshot) => [snapshot.list, snapshot]));
    let changed = false;
    for (const [list, version] of versions) {
      const current = byList.get(list);
      if (current?.version === version) continue;
      const changes = await store.changesBetween(list, current?.version ?? 0, version);
      byList.set(
        list,
        current && !changes.whole
          ? nextSnapshot(current, version, changes.added, changes.removed)
          : snapshotOf(list, version, changes.added),
      );
      changed = true;
    }
    if (changed) this.#snapshots = [...byList.values()];
  }
}
