/**
 * A binary min-heap of items by expiry time, so that finding what has expired costs O(log n) per item
 * instead of a scan. Items are not removed when their expiry changes: the caller checks each popped
 * item is still current (lazy deletion) and rebuilds the heap when stale items pile up.
 */
export class ExpiryHeap<T> {
  private untils: number[] = [];
  private items: T[] = [];

  get size(): number {
    return this.items.length;
  }

  push(untilMs: number, item: T): void {
    this.untils.push(untilMs);
    this.items.push(item);
    this.siftUp(this.items.length - 1);
  }

  /** The earliest item if it expires at or before `nowMs`, removed from the heap. */
  popUntil(nowMs: number): { readonly untilMs: number; readonly item: T } | undefined {
    const untilMs = this.untils[0];
    if (untilMs === undefined || untilMs > nowMs) return undefined;
    const item = this.items[0] as T;
    const lastUntil = this.untils.pop() as number;
    const lastItem = this.items.pop() as T;
    if (this.items.length > 0) {
      this.untils[0] = lastUntil;
      this.items[0] = lastItem;
      this.siftDown(0);
    }
    return { untilMs, item };
  }

  rebuild(pairs: readonly (readonly [number, T])[]): void {
    this.untils = pairs.map(([untilMs]) => untilMs);
    this.items = pairs.map(([, item]) => item);
    for (let i = (this.items.length >> 1) - 1; i >= 0; i--) this.siftDown(i);
  }

  private swap(i: number, j: number): void {
    [this.untils[i], this.untils[j]] = [this.untils[j] as number, this.untils[i] as number];
    [this.items[i], this.items[j]] = [this.items[j] as T, this.items[i] as T];
  }

  private siftUp(start: number): void {
    let i = start;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if ((this.untils[parent] as number) <= (this.untils[i] as number)) return;
      this.swap(i, parent);
      i = parent;
    }
  }

  private siftDown(start: number): void {
    const n = this.untils.length;
    let i = start;
    for (;;) {
      const left = 2 * i + 1;
      const right = left + 1;
      let smallest = i;
      if (left < n && (this.untils[left] as number) < (this.untils[smallest] as number)) smallest = left;
      if (right < n && (this.untils[right] as number) < (this.untils[smallest] as number)) smallest = right;
      if (smallest === i) return;
      this.swap(i, smallest);
      i = smallest;
    }
  }
}
