/** ExpiryTimers: each item expires at its `exp`, items sharing an `exp` share one timer. */
import { afterEach, beforeEach, expect, it, vi } from 'vitest'
import { ExpiryTimers } from '../src/expiry.js'

beforeEach(() => {
  vi.useFakeTimers()
  vi.setSystemTime(1_700_000_000_000)
})
afterEach(() => {
  vi.useRealTimers()
})

const now = () => Math.floor(Date.now() / 1000)

it('expires each item at its exp, with one timer per distinct exp; deleted items never expire', () => {
  const expired: string[] = []
  const timers = new ExpiryTimers<string>((item) => expired.push(item))
  const exp = now() + 2
  timers.add('a', exp)
  timers.add('b', exp)
  timers.add('c', exp)
  timers.add('later', exp + 3)
  expect(vi.getTimerCount()).toBe(2)
  timers.delete('b', exp)
  vi.advanceTimersByTime(1999)
  expect(expired).toEqual([])
  vi.advanceTimersByTime(1)
  expect(expired).toEqual(['a', 'c'])
  expect(vi.getTimerCount()).toBe(1)
  timers.delete('later', exp + 3)
  expect(vi.getTimerCount()).toBe(0)
  vi.advanceTimersByTime(10_000)
  expect(expired).toEqual(['a', 'c'])
})

it('re-arms deadlines beyond setTimeout’s range, and clear() cancels everything', () => {
  const expired: number[] = []
  const timers = new ExpiryTimers<number>((item) => expired.push(item))
  const farExp = now() + 40 * 86_400 // 40 days: past the 24.8-day limit of one timer
  timers.add(1, farExp)
  vi.advanceTimersByTime(2 ** 31 - 1)
  expect(expired).toEqual([])
  expect(vi.getTimerCount()).toBe(1)
  vi.advanceTimersByTime(40 * 86_400_000 - (2 ** 31 - 1))
  expect(expired).toEqual([1])

  timers.add(2, now() + 1)
  timers.clear()
  vi.advanceTimersByTime(5000)
  expect(expired).toEqual([1])
})

it('an exp already past fires on the next timer tick', () => {
  const expired: string[] = []
  const timers = new ExpiryTimers<string>((item) => expired.push(item))
  timers.add('stale', now() - 5)
  expect(expired).toEqual([])
  vi.advanceTimersByTime(0)
  expect(expired).toEqual(['stale'])
})
