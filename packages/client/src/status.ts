/**
 * Sync status: what a doc (or a whole account) tells the person, as immutable snapshots behind a
 * `subscribe`/`getSnapshot` pair (the shape React's useSyncExternalStore takes).
 */
import { SyncStoppedError } from './errors.js'

/**
 * - `offline`: not trying (scratch pad, no network, or closed)
 * - `connecting`: opening a connection, or waiting to retry one (`retryAt`)
 * - `syncing`: connected; the initial sync is not finished, or local changes are not acked yet
 * - `in-sync`: connected, and the relay has stored every local change
 * - `error`: stopped for a reason retrying cannot fix (`error.reason`); local data is kept
 */
export type SyncState = 'offline' | 'connecting' | 'syncing' | 'in-sync' | 'error'

export type SyncErrorReason =
  | 'revoked' // 4410: this session was signed out remotely or evicted by the device limit
  | 'device-limit' // 4409: the account has its maximum of devices connected (see `sessions`)
  | 'forbidden' // 4403: the token does not grant this workspace, or it was deleted
  | 'unauthorized' // 4401 again with a fresh token, or getToken() failed
  | 'bad-request' // 4400: the relay could not parse what this client sent
  | 'too-large' // 4413: a change exceeded the relay's message size limit
  | 'rejected' // another 44xx close code
  | 'read-only' // the relay refused this client's changes (viewer role); they stay local
  | 'storage' // local storage (IndexedDB) refused a write
  | 'signed-out' // the account signed out on this device (in this tab or another): nothing more is sent

/** A session (one signed-in app on one device) as the relay lists it. Fields past `sid` may be absent. */
export interface DeviceSession {
  readonly sid: string
  readonly device?: string | null
  readonly userAgent?: string | null
  /** Epoch milliseconds. */
  readonly firstSeen?: number
  readonly lastSeen?: number
  readonly connections?: number
  /** True for the session of this client. */
  readonly current?: boolean
}

export interface SyncProblem {
  readonly reason: SyncErrorReason
  /** The relay's words (close reason), or ours. */
  readonly message: string
  /** The WebSocket close code that stopped syncing, if one did. */
  readonly closeCode: number | null
  /** With `device-limit`: the account's connected sessions, so one can be revoked. */
  readonly sessions?: readonly DeviceSession[]
}

export interface SyncStatus {
  readonly state: SyncState
  /** Local changes the relay has not acked (stored) yet. */
  readonly pending: number
  /** True when every local change is in local storage. */
  readonly stored: boolean
  readonly error: SyncProblem | null
  /** While `connecting` after a failure: when the next attempt starts (epoch ms). */
  readonly retryAt: number | null
}

export interface AccountStatus extends SyncStatus {
  /** Open docs the status covers. */
  readonly docs: number
}

/** A value that changes over time: `subscribe` returns the unsubscribe function. */
export interface Subscribable<T> {
  readonly subscribe: (listener: () => void) => () => void
  readonly getSnapshot: () => T
}

/** Holds a snapshot; replaces it (and notifies) only when a field changed, so identities stay stable. */
export class Store<T extends object> implements Subscribable<T> {
  private value: T
  private readonly listeners = new Set<() => void>()
  constructor(initial: T) {
    this.value = initial
  }
  readonly subscribe = (listener: () => void): (() => void) => {
    this.listeners.add(listener)
    return () => {
      this.listeners.delete(listener)
    }
  }
  readonly getSnapshot = (): T => this.value
  set(next: T): void {
    if (shallowEqual(next, this.value)) return
    this.value = next
    for (const listener of [...this.listeners]) listener()
  }
}

const shallowEqual = (a: object, b: object): boolean => {
  const ka = Object.keys(a)
  if (ka.length !== Object.keys(b).length) return false
  return ka.every((k) => Object.is((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]))
}

export const OFFLINE: SyncStatus = Object.freeze({ state: 'offline', pending: 0, stored: true, error: null, retryAt: null })

const RANK: Record<SyncState, number> = { 'in-sync': 0, syncing: 1, connecting: 2, offline: 3, error: 4 }

/**
 * One status for many docs: the worst state (error > offline > connecting > syncing > in-sync), the first
 * error, the earliest retry, pending summed. No docs open: offline.
 */
export const combineStatus = (docs: readonly SyncStatus[]): AccountStatus => {
  if (docs.length === 0) return { ...OFFLINE, docs: 0 }
  let worst = docs[0]!
  let pending = 0
  let stored = true
  let error: SyncProblem | null = null
  let retryAt: number | null = null
  for (const s of docs) {
    if (RANK[s.state] > RANK[worst.state]) worst = s
    pending += s.pending
    stored &&= s.stored
    error ??= s.error
    if (s.retryAt !== null && (retryAt === null || s.retryAt < retryAt)) retryAt = s.retryAt
  }
  return { state: worst.state, pending, stored, error, retryAt: worst.state === 'connecting' ? retryAt : null, docs: docs.length }
}

/** Resolves when `status` reaches `state`; rejects with the problem if it reaches `error` first. */
export const whenState = <S extends SyncStatus>(status: Subscribable<S>, state: SyncState, signal?: AbortSignal): Promise<S> =>
  new Promise<S>((resolve, reject) => {
    const check = (): boolean => {
      const s = status.getSnapshot()
      if (s.state === state) {
        resolve(s)
        return true
      }
      if (s.state === 'error' && state !== 'error') {
        reject(new SyncStoppedError(s.error ?? { reason: 'rejected', message: 'unknown', closeCode: null }))
        return true
      }
      return false
    }
    if (check()) return
    const unsubscribe = status.subscribe(() => {
      if (check()) unsubscribe()
    })
    signal?.addEventListener('abort', () => {
      unsubscribe()
      reject(signal.reason)
    })
  })
