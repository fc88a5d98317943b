import { expect, test } from 'vitest'
import { type SyncStatus, Store, combineStatus, whenState } from '../src/status.js'

const s = (state: SyncStatus['state'], extra: Partial<SyncStatus> = {}): SyncStatus => ({
  state,
  pending: 0,
  stored: true,
  error: null,
  retryAt: null,
  ...extra,
})

test('an account is as far from in-sync as its worst doc, with pending summed', () => {
  expect(combineStatus([])).toMatchObject({ state: 'offline', docs: 0 })
  expect(combineStatus([s('in-sync'), s('in-sync')]).state).toBe('in-sync')
  expect(combineStatus([s('in-sync'), s('syncing', { pending: 2 }), s('syncing', { pending: 3 })])).toMatchObject({ state: 'syncing', pending: 5 })
  expect(combineStatus([s('syncing'), s('connecting', { retryAt: 9 }), s('connecting', { retryAt: 5 })])).toMatchObject({ state: 'connecting', retryAt: 5 })
  expect(combineStatus([s('connecting'), s('offline')]).state).toBe('offline')
  const error = { reason: 'revoked' as const, message: 'x', closeCode: 4410 }
  expect(combineStatus([s('offline'), s('error', { error })])).toMatchObject({ state: 'error', error })
  expect(combineStatus([s('in-sync', { stored: false }), s('in-sync')]).stored).toBe(false)
})

test('a store keeps its snapshot identity until a field changes (useSyncExternalStore relies on it)', () => {
  const store = new Store(s('syncing'))
  let calls = 0
  const unsubscribe = store.subscribe(() => calls++)
  const first = store.getSnapshot()
  store.set(s('syncing'))
  expect(store.getSnapshot()).toBe(first)
  expect(calls).toBe(0)
  store.set(s('in-sync'))
  expect(calls).toBe(1)
  unsubscribe()
  store.set(s('syncing'))
  expect(calls).toBe(1)
})

test('whenState resolves on the state, and rejects with the problem on error', async () => {
  const store = new Store(s('connecting'))
  const synced = whenState(store, 'in-sync')
  store.set(s('in-sync'))
  await expect(synced).resolves.toMatchObject({ state: 'in-sync' })
  store.set(s('syncing'))
  const failing = whenState(store, 'in-sync')
  store.set(s('error', { error: { reason: 'device-limit', message: 'full', closeCode: 4409 } }))
  await expect(failing).rejects.toMatchObject({ code: 'SYNC', problem: { reason: 'device-limit' } })
})
