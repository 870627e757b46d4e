// An indexed binary min-heap: every item remembers its slot, so a changed key is fixed in
// O(log n) (`update`) and any item can be removed without a search. The allocator keeps roles and
// frameworks in these, keyed by share, instead of sorting them for every agent.

export interface HeapItem {
  /** The item's slot in its heap, or -1 when it is in none. Owned by the heap. */
  heapIndex: number;
}

export class IndexedHeap<T extends HeapItem> {
  readonly #items: T[] = [];
  readonly #less: (a: T, b: T) => boolean;

  constructor(less: (a: T, b: T) => boolean) {
    this.#less = less;
  }

  get size(): number {
    return this.#items.length;
  }

  peek(): T | undefined {
    return this.#items[0];
  }

  contains(item: T): boolean {
    return item.heapIndex >= 0 && this.#items[item.heapIndex] === item;
  }

  push(item: T): void {
    item.heapIndex = this.#items.length;
    this.#items.push(item);
    this.#up(item.heapIndex);
  }

  pop(): T | undefined {
    const items = this.#items;
    const top = items[0];
    if (top === undefined) return undefined;
    const last = items.pop()!;
    if (last !== top) {
      items[0] = last;
      last.heapIndex = 0;
      this.#down(0);
    }
    top.heapIndex = -1;
    return top;
  }

  remove(item: T): void {
    if (!this.contains(item)) return;
    const items = this.#items;
    const i = item.heapIndex;
    const last = items.pop()!;
    item.heapIndex = -1;
    if (last === item) return;
    items[i] = last;
    last.heapIndex = i;
    this.#fix(i);
  }

  /** Restore order after `item`'s key changed. */
  update(item: T): void {
    if (this.contains(item)) this.#fix(item.heapIndex);
  }

  /** Restore order after every key changed (O(n)). */
  heapify(): void {
    for (let i = (this.#items.length >> 1) - 1; i >= 0; i--) this.#down(i);
  }

  /** The items in heap (not sorted) order. */
  items(): readonly T[] {
    return this.#items;
  }

  /** For tests: every parent is not greater than its children and every index is right. */
  isValid(): boolean {
    const items = this.#items;
    for (let i = 0; i < items.length; i++) {
      if (items[i]!.heapIndex !== i) return false;
      const p = (i - 1) >> 1;
      if (i > 0 && this.#less(items[i]!, items[p]!)) return false;
    }
    return true;
  }

  #fix(i: number): void {
    if (!this.#up(i)) this.#down(i);
  }

  #up(i: number): boolean {
    const items = this.#items;
    const item = items[i]!;
    let moved = false;
    while (i > 0) {
      const p = (i - 1) >> 1;
      const parent = items[p]!;
      if (!this.#less(item, parent)) break;
      items[i] = parent;
      parent.heapIndex = i;
      i = p;
      moved = true;
    }
    items[i] = item;
    item.heapIndex = i;
    return moved;
  }

  #down(i: number): void {
    const items = this.#items;
    const n = items.length;
    const item = items[i]!;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      const r = l + 1;
      let c = l;
      if (r < n && this.#less(items[r]!, items[l]!)) c = r;
      const child = items[c]!;
      if (!this.#less(child, item)) break;
      items[i] = child;
      child.heapIndex = i;
      i = c;
    }
    items[i] = item;
    item.heapIndex = i;
  }
}
