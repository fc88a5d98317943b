/** SeqTracker: which of a doc's sequence numbers a room holds, whatever order they arrive in. */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { SeqTracker } from '../src/seq-tracker.js'

describe('SeqTracker', () => {
  it('advances over ranges in order, holds what it has, and knows a gap from a late arrival', () => {
    const t = new SeqTracker()
    t.reset(3)
    expect(t.holds(1, 3)).toBe(true)
    t.add(6, 7) // 4 and 5 are missing
    expect([t.contiguous, t.known, t.missing]).toEqual([3, 7, true])
    expect(t.holds(6, 7)).toBe(true)
    expect(t.holds(5, 6)).toBe(false)
    t.add(4, 5)
    expect([t.contiguous, t.missing]).toEqual([7, false])
    t.note(9) // the store says 9 exists
    expect(t.missing).toBe(true)
    t.add(8, 9)
    expect([t.contiguous, t.missing]).toEqual([9, false])
  })

  it('reaches the same state for any arrival order of any split of 1…n (property)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 1, max: 4 }), { minLength: 1, maxLength: 30 }),
        fc.array(fc.nat(), { maxLength: 30 }),
        fc.nat({ max: 3 }),
        (sizes, shuffle, overlap) => {
          const ranges: [number, number][] = []
          let next = 1
          for (const size of sizes) {
            ranges.push([Math.max(1, next - overlap), next + size - 1]) // overlapping re-deliveries too
            next += size
          }
          const order = ranges.map((r, i) => ({ r, k: shuffle[i] ?? i })).sort((a, b) => a.k - b.k)
          const t = new SeqTracker()
          for (const { r } of order) {
            t.add(r[0], r[1])
            expect(t.contiguous).toBeLessThanOrEqual(next - 1)
          }
          expect([t.contiguous, t.known, t.missing]).toEqual([next - 1, next - 1, false])
        },
      ),
      { numRuns: 300 },
    )
  })
})
