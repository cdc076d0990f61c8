// SPDX-License-Identifier: MIT
// Fixed-capacity ring buffer of entries that carry a monotonically increasing `seq`. It keeps memory
// bounded under sustained load (benchmarks send hundreds of thousands of messages).

export class Ring {
  constructor(capacity, maxBytes = Infinity) {
    this.capacity = Math.max(1, capacity | 0);
    this.maxBytes = maxBytes;
    this.items = new Array(this.capacity);
    this.start = 0;
    this.length = 0;
    this.bytes = 0;
    this.dropped = 0;
    this.onEvict = null;
  }

  push(item, size = 0) {
    item._size = size;
    if (this.length === this.capacity) this.shift();
    this.items[(this.start + this.length) % this.capacity] = item;
    this.length++;
    this.bytes += size;
    while (this.bytes > this.maxBytes && this.length > 1) this.shift();
  }

  shift() {
    const item = this.items[this.start];
    this.items[this.start] = undefined;
    this.start = (this.start + 1) % this.capacity;
    this.length--;
    this.bytes -= item._size;
    this.dropped++;
    if (this.onEvict) this.onEvict(item);
    return item;
  }

  at(i) {
    return this.items[(this.start + i) % this.capacity];
  }

  last() {
    return this.length ? this.at(this.length - 1) : undefined;
  }

  /** Entries with seq > since, oldest first, at most limit. */
  since(since, limit = Infinity) {
    // Binary search: seq grows with position.
    let lo = 0;
    let hi = this.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.at(mid).seq <= since) lo = mid + 1;
      else hi = mid;
    }
    const out = [];
    for (let i = lo; i < this.length && out.length < limit; i++) out.push(this.at(i));
    return out;
  }

  clear() {
    this.items = new Array(this.capacity);
    this.start = 0;
    this.length = 0;
    this.bytes = 0;
  }
}
