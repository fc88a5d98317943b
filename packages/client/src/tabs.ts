/**
 * Tabs of one device: one replica in spirit. Per account (and per scratch pad), the tabs of a browser elect
 * one **leader** with a Web Lock; only the leader talks to the relay, and the others talk to it over a
 * BroadcastChannel. See docs/architecture.md ("Tabs") for why this design and not one connection per tab.
 *
 * - Every tab applies every other tab's edits at once (the channel carries Yjs updates), online or offline,
 *   and stores them too, so a tab closed mid-write loses nothing another tab saw.
 * - The leader opens every doc any tab has open, sends every tab's edits to the relay (each once), tracks
 *   every tab's pending actions, and tells the tabs each doc's status: one number and one state everywhere.
 * - When the leader's tab closes (or the browser freezes it: it steps down first), the lock passes to the
 *   next tab, which reads every tab's stored actions and connects.
 * - An account that signs out (or is revoked, or deleted) in one tab stops every tab at once: see DocSpace.end.
 *
 * This module is the mechanism (locks, channel, presence); doc-space.ts decides what the messages mean.
 */
import type { ActionInfo } from './ledger.js'
import type { SyncProblem, SyncState } from './status.js'

/** The part of the Web Locks API used here (navigator.locks). */
export interface LockManagerLike {
  request(name: string, options: { mode?: 'exclusive' | 'shared'; signal?: AbortSignal; ifAvailable?: boolean; steal?: boolean }, callback: (lock: unknown) => Promise<unknown> | unknown): Promise<unknown>
}

/** The part of BroadcastChannel used here. */
export interface TabChannel {
  postMessage(message: unknown): void
  addEventListener(type: 'message', listener: (event: { readonly data: unknown }) => void): void
  close(): void
}

/** How tabs of this device find each other: the browser's Web Locks and BroadcastChannel, or stand-ins. */
export interface TabCoordination {
  readonly locks: LockManagerLike
  channel(name: string): TabChannel
}

/** The browser's, where both exist (in a Node process, or a browser without them: null, one tab alone). */
export const browserTabs = (): TabCoordination | null => {
  const g = globalThis as { navigator?: { locks?: LockManagerLike }; BroadcastChannel?: new (name: string) => TabChannel; document?: unknown }
  const locks = g.navigator?.locks
  const Channel = g.BroadcastChannel
  if (!locks || !Channel || g.document === undefined) return null
  return { locks, channel: (name) => new Channel(name) }
}

/** A doc's status as the leader computes it, sent to the other tabs. */
export interface RemoteStatus {
  readonly state: SyncState
  readonly pending: number
  readonly error: SyncProblem | null
  readonly retryAt: number | null
}

/** Why an account ended on this device. */
export type EndReason = 'signed-out' | 'revoked' | 'deleted'

export type TabMessage =
  | { readonly t: 'u'; readonly doc: string; readonly update: Uint8Array; readonly action: ActionInfo | null }
  | { readonly t: 'open' | 'close'; readonly doc: string }
  | { readonly t: 'status'; readonly doc: string; readonly status: RemoteStatus }
  | { readonly t: 'acked'; readonly doc: string; readonly ids: readonly string[]; readonly acked: Uint8Array }
  | { readonly t: 'actions'; readonly doc: string; readonly actions: readonly ActionInfo[] }
  | { readonly t: 'leader' | 'retry' }
  | { readonly t: 'end'; readonly reason: EndReason; readonly problem: SyncProblem | null }
  | { readonly t: 'ended'; readonly reason: EndReason; readonly backupId: string | null; readonly pending: number }

interface Envelope {
  readonly from: string
  readonly m: TabMessage
}

export interface TabGroupHandlers {
  message(message: TabMessage, from: string): void
  /** This tab now talks to the relay. */
  lead(): void
  /** It no longer does (closing, frozen). */
  follow(): void
  /** A tab closed (its presence lock was released). */
  gone(tab: string): void
}

const newTabId = (): string =>
  typeof crypto !== 'undefined' && 'randomUUID' in crypto ? crypto.randomUUID() : `${Date.now().toString(36)}-${Math.random().toString(36).slice(2)}`

/**
 * One tab's membership in a group (an account's tabs, or the scratch pad's): presence, leadership, messages.
 * Without coordination (Node, old browsers) the tab is alone and always leads.
 */
export class TabGroup {
  readonly tab = newTabId()
  leader = false
  private readonly channel: TabChannel | null
  private stepDown: (() => void) | null = null
  private readonly aborts = new Set<AbortController>()
  private releaseAlive: (() => void) | null = null
  private releaseTab: (() => void) | null = null
  private closed = false
  private readonly watched = new Set<string>()

  constructor(
    private readonly coord: TabCoordination | null,
    /** The group's name (the space's database prefix). */
    readonly name: string,
    private readonly handlers: TabGroupHandlers,
  ) {
    this.channel = coord ? coord.channel(`apisync:${name}`) : null
    this.channel?.addEventListener('message', (event) => {
      const e = event.data as Envelope
      if (!this.closed && e && typeof e === 'object' && typeof e.from === 'string' && e.from !== this.tab) this.handlers.message(e.m, e.from)
    })
  }

  get alone(): boolean {
    return this.coord === null
  }

  /** Joins: presence, then a place in the queue for leadership (granted at once to the first tab). */
  start(): void {
    if (!this.coord) {
      this.leader = true
      this.handlers.lead()
      return
    }
    this.releaseTab = this.hold(`apisync-tab:${this.name}:${this.tab}`, 'exclusive')
    this.releaseAlive = this.hold(`apisync-alive:${this.name}`, 'shared')
    this.requestLead()
    // A page being frozen (Page Lifecycle) or put in the back/forward cache lets another tab lead meanwhile.
    const doc = (globalThis as { document?: EventTarget }).document
    if (doc && typeof doc.addEventListener === 'function') {
      doc.addEventListener('freeze', this.pause)
      doc.addEventListener('resume', this.resume)
      const win = globalThis as unknown as EventTarget
      win.addEventListener('pagehide', (e) => (e as { persisted?: boolean }).persisted && this.pause())
      win.addEventListener('pageshow', (e) => (e as { persisted?: boolean }).persisted && this.resume())
    }
  }

  post(message: TabMessage): void {
    if (this.closed || !this.channel) return
    try {
      this.channel.postMessage({ from: this.tab, m: message } satisfies Envelope)
    } catch {
      // A closed channel (the page is going away): nothing to tell.
    }
  }

  /** The leader watches a follower: `gone(tab)` when its tab closes. */
  watch(tab: string): void {
    if (!this.coord || this.watched.has(tab)) return
    this.watched.add(tab)
    const abort = new AbortController()
    this.aborts.add(abort)
    this.coord.locks
      .request(`apisync-tab:${this.name}:${tab}`, { signal: abort.signal }, () => {
        this.watched.delete(tab)
        if (!this.closed) this.handlers.gone(tab)
      })
      .catch(() => this.watched.delete(tab))
      .finally(() => this.aborts.delete(abort))
  }

  /** Gives up leadership for a while (the page is being frozen) and queues again after `resume()`. */
  readonly pause = (): void => {
    this.stepDown?.()
  }

  readonly resume = (): void => {
    if (!this.closed && !this.leader && !this.stepDown) this.requestLead()
  }

  /**
   * Waits until every other tab of the group let go of the group (they stopped and stored what they had),
   * or `timeoutMs` passed (a frozen tab): true if they all did.
   */
  async othersStopped(timeoutMs: number): Promise<boolean> {
    if (!this.coord) return true
    this.releaseAlive?.()
    this.releaseAlive = null
    const abort = new AbortController()
    const timer = setTimeout(() => abort.abort(), timeoutMs)
    try {
      await this.coord.locks.request(`apisync-alive:${this.name}`, { mode: 'exclusive', signal: abort.signal }, () => undefined)
      return true
    } catch {
      return false
    } finally {
      clearTimeout(timer)
    }
  }

  /** This tab stops being part of the group (other tabs waiting in othersStopped go on). */
  leave(): void {
    this.releaseAlive?.()
    this.releaseAlive = null
    this.stepDown?.()
  }

  close(): void {
    if (this.closed) return
    this.leave()
    this.releaseTab?.()
    this.closed = true
    for (const a of this.aborts) a.abort()
    this.channel?.close()
  }

  private requestLead(): void {
    if (!this.coord) return
    const abort = new AbortController()
    this.aborts.add(abort)
    let resolveHeld!: () => void
    const held = new Promise<void>((r) => (resolveHeld = r))
    this.stepDown = () => {
      abort.abort()
      resolveHeld()
    }
    this.coord.locks
      .request(`apisync-leader:${this.name}`, { signal: abort.signal }, async () => {
        if (this.closed || abort.signal.aborted) return
        this.leader = true
        this.handlers.lead()
        this.post({ t: 'leader' })
        await held
        this.leader = false
        if (!this.closed) this.handlers.follow()
      })
      .catch(() => {})
      .finally(() => {
        this.aborts.delete(abort)
        this.stepDown = null
      })
  }

  /** Holds a lock until the returned function is called (or the tab closes). */
  private hold(name: string, mode: 'exclusive' | 'shared'): () => void {
    let release!: () => void
    const released = new Promise<void>((r) => (release = r))
    void this.coord!.locks.request(name, { mode }, () => released).catch(() => {})
    return release
  }
}
