import { expect, test } from 'vitest'
import { backoffDelay } from '../src/backoff.js'

test('delays double from initialMs up to maxMs, each within the upper half of its plan (jitter)', () => {
  const o = { initialMs: 100, maxMs: 1_000 }
  const plans = [100, 200, 400, 800, 1_000, 1_000]
  plans.forEach((plan, i) => {
    expect(backoffDelay(i + 1, o, () => 0)).toBe(plan / 2)
    expect(backoffDelay(i + 1, o, () => 1)).toBe(plan)
  })
})

test('jitter spreads clients that failed together', () => {
  const delays = new Set(Array.from({ length: 50 }, () => backoffDelay(4, { initialMs: 250, maxMs: 15_000 })))
  expect(delays.size).toBeGreaterThan(10)
  for (const d of delays) {
    expect(d).toBeGreaterThanOrEqual(1_000)
    expect(d).toBeLessThanOrEqual(2_000)
  }
})
