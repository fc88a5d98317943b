/**
 * Which of a doc's sequence numbers a loaded room holds. Updates reach a room out of order (its own commits,
 * other relays' through the bus, catch-up reads), so it keeps the contiguous prefix it holds (`contiguous`:
 * every seq up to it is in the doc) and the ranges it holds beyond it. `known` is the highest seq it has heard
 * of; a room with `known > contiguous` is missing something and reads it from the store.
 */
export class SeqTracker {
  /** Every seq ≤ contiguous is in the doc. */
  contiguous = 0
  /** The highest seq known to exist. */
  known = 0
  /** Disjoint ranges held beyond contiguous + 1, sorted. */
  private above: [number, number][] = []

  /** The doc was (re)loaded up to `seq`. */
  reset(seq: number): void {
    this.contiguous = seq
    this.known = Math.max(this.known, seq)
    this.above = this.above.filter(([, last]) => last > seq)
    this.merge()
  }

  /** Whether every seq in first…last is held already. */
  holds(first: number, last: number): boolean {
    if (last <= this.contiguous) return true
    return this.above.some(([a, b]) => a <= Math.max(first, this.contiguous + 1) && b >= last)
  }

  /** The doc now holds first…last. */
  add(first: number, last: number): void {
    if (last < first) return
    this.known = Math.max(this.known, last)
    if (last <= this.contiguous) return
    this.above.push([Math.max(first, this.contiguous + 1), last])
    this.above.sort((x, y) => x[0] - y[0])
    const merged: [number, number][] = []
    for (const range of this.above) {
      const prev = merged.at(-1)
      if (prev && range[0] <= prev[1] + 1) prev[1] = Math.max(prev[1], range[1])
      else merged.push([range[0], range[1]])
    }
    this.above = merged
    this.merge()
  }

  /** Something up to `seq` exists (a head read from the store). */
  note(seq: number): void {
    this.known = Math.max(this.known, seq)
  }

  /** Some seq ≤ known is not in the doc. */
  get missing(): boolean {
    return this.known > this.contiguous
  }

  private merge(): void {
    while (this.above.length > 0 && this.above[0][0] <= this.contiguous + 1) {
      this.contiguous = Math.max(this.contiguous, this.above[0][1])
      this.above.shift()
    }
  }
}
