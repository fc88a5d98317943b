/**
 * Keeping a loaded doc level with what other relays commit to the shared store. After a commit the relay
 * publishes the doc's new updates with their sequence numbers on the bus; relays holding the doc apply them
 * and relay them to their own connections. Before that, at the end of the turn in which its clients' changes
 * arrived, it publishes them as a preview, which other relays only forward to their peers (without applying
 * it), so that a reader on another relay gets a change as soon as a reader on the same relay does, not a
 * commit later. The store stays the truth:
 *
 * - a room that holds seq n and receives n + 2 (or learns that the doc is at n + 2) is missing n + 1: after a
 *   short grace (`gapRepairDelayMs`: the message may only be late) it reads everything after n from the store;
 * - every `catchUpIntervalMs` the relay reads the heads of its loaded docs (one query) and repairs those
 *   behind, which bounds the delay of a lost last message;
 * - after a reconnect to the bus it does that at once.
 *
 * A relay subscribes to a doc before loading it (messages that arrive during the load are kept and applied
 * after it), so nothing published after its read is missed silently. With one relay and no bus this only
 * numbers the room's updates.
 */
import * as Y from 'yjs'
import type { Bus, DocMessage } from './bus.js'
import { isPreview, noBus } from './bus.js'
import type { Logger } from './logger.js'
import { describeError } from './logger.js'
import type { RelayMetrics } from './metrics.js'
import type { Peer, Room } from './room.js'
import type { AppendedRange, DocStore } from './store.js'

/** A turn with more changes than this is not previewed (see `turnEnded`). */
const MAX_PREVIEW_CHANGES = 16

export interface ReplicationOptions<P extends Peer> {
  store: DocStore
  bus: Bus
  relayId: string
  metrics: RelayMetrics
  logger: Logger
  /** Grace before a gap in a doc's sequence is read from the store. */
  gapRepairDelayMs: number
  /** Check the loaded docs' heads in the store this often (0: never). */
  catchUpIntervalMs: number
  /** The loaded rooms. */
  rooms(): ReadonlyMap<string, Room<P>>
  /** Yjs threw on committed updates: rebuild the room from the store. */
  reload(room: Room<P>): void
}

export class Replication<P extends Peer> {
  /** Messages for rooms that are loading, applied once they are. */
  private readonly inbox = new Map<Room<P>, DocMessage[]>()
  private readonly timer: NodeJS.Timeout | null
  private catchingUp = false
  /** Recent pub/sub lag (ms, moving average): a gap waits at least twice this for a late message. */
  private lagMs = 0

  constructor(private readonly o: ReplicationOptions<P>) {
    this.timer = o.catchUpIntervalMs > 0 ? setInterval(() => void this.catchUp(), o.catchUpIntervalMs) : null
    this.timer?.unref()
  }

  /** Before loading a room: start receiving its doc's messages. */
  async subscribe(room: Room<P>): Promise<void> {
    this.inbox.set(room, [])
    await this.o.bus.subscribe(room.name)
  }

  /** The room was (re)loaded from the store: apply what arrived meanwhile. */
  loaded(room: Room<P>): void {
    const messages = this.inbox.get(room) ?? []
    this.inbox.delete(room)
    for (const message of messages) this.apply(room, message)
  }

  /** The room is being (re)loaded: hold its messages until `loaded`. */
  loading(room: Room<P>): void {
    if (!this.inbox.has(room)) this.inbox.set(room, [])
  }

  /** The room is gone from memory. */
  forget(room: Room<P>): void {
    this.inbox.delete(room)
    if (room.repairTimer) clearTimeout(room.repairTimer)
    room.repairTimer = null
    // A newer room of the same doc keeps the subscription.
    if (this.o.rooms().get(room.name) === undefined) this.o.bus.unsubscribe(room.name)
  }

  /** This relay committed `updates` (made in `turns`) to the room's doc as `range`: number them, and tell the other relays. */
  committed(room: Room<P>, range: AppendedRange, updates: Uint8Array[], turns: number[]): void {
    room.seqs.add(range.first, range.last)
    if (this.o.bus !== noBus) {
      const update = updates.length === 1 ? updates[0] : Y.mergeUpdates(updates)
      this.o.bus.publish({ docName: room.name, from: this.o.relayId, first: range.first, last: range.last, sentAt: Date.now(), update, previews: turns })
      this.o.metrics.busPublished.inc()
    }
    this.checkGap(room)
  }

  /**
   * A turn's changes from this relay's peers, not committed yet: other relays' peers get them now. Only for a
   * turn of a few changes (steady editing, where latency matters): merging a burst's thousands of updates
   * costs more than it saves, and the burst's commit, merged once, follows within a commit's time.
   */
  turnEnded(room: Room<P>, turn: number, changes: Uint8Array[]): void {
    if (this.o.bus === noBus || changes.length > MAX_PREVIEW_CHANGES) return
    const update = changes.length === 1 ? changes[0] : Y.mergeUpdates(changes)
    this.o.bus.publish({ docName: room.name, from: this.o.relayId, first: 0, last: 0, sentAt: Date.now(), update, previews: [turn] })
    this.o.metrics.busPreviewsPublished.inc()
  }

  /** A message from the bus. */
  received(message: DocMessage): void {
    const lag = Math.max(0, Date.now() - message.sentAt)
    const room = this.o.rooms().get(message.docName)
    if (isPreview(message)) {
      this.o.metrics.busPreviewsReceived.inc()
      // Only to peers of a loaded doc; a loading one gets the content with the commit.
      if (room?.state === 'ready' && !this.inbox.has(room)) room.forward(message.update, `${message.from}:${message.previews[0]}`)
      return
    }
    this.o.metrics.busReceived.inc()
    this.o.metrics.busLagSeconds.observe(lag / 1000)
    this.lagMs = 0.9 * this.lagMs + 0.1 * Math.min(lag, 10_000)
    if (!room) return
    const held = this.inbox.get(room)
    if (held) held.push(message)
    else if (room.state === 'ready') this.apply(room, message)
  }

  /** The bus reconnected: whatever was published meanwhile is only in the store. */
  reconnected(): void {
    void this.catchUp(true)
  }

  /** Read the heads of the loaded docs and repair those behind (`now`: without the grace). */
  async catchUp(now = false): Promise<void> {
    if (this.catchingUp) return
    this.catchingUp = true
    try {
      const rooms = [...this.o.rooms().values()].filter((r) => r.state === 'ready')
      if (rooms.length === 0) return
      const heads = await this.o.store.heads(rooms.map((r) => r.name))
      for (const room of rooms) {
        const head = heads.get(room.name)
        if (head === undefined) continue
        room.seqs.note(head)
        if (now && room.seqs.missing) void this.repair(room)
        else this.checkGap(room)
      }
    } catch (err) {
      this.o.logger.warn('replication.catch-up-failed', { error: describeError(err) })
    } finally {
      this.catchingUp = false
    }
  }

  close(): void {
    if (this.timer) clearInterval(this.timer)
    for (const room of this.o.rooms().values()) {
      if (room.repairTimer) clearTimeout(room.repairTimer)
      room.repairTimer = null
    }
  }

  private apply(room: Room<P>, message: DocMessage): void {
    if (room.seqs.holds(message.first, message.last)) return
    // Peers that had every preview of this content need not get it again.
    const previewed = room.previewed(message.previews.map((id) => `${message.from}:${id}`))
    if (!room.applyCommitted([message.update], !previewed)) {
      this.o.logger.error('replication.apply-failed', { doc: room.name, first: message.first, last: message.last })
      this.o.reload(room)
      return
    }
    room.seqs.add(message.first, message.last)
    this.checkGap(room)
  }

  /**
   * Schedule a repair if the room is missing something. The grace is `gapRepairDelayMs`, or twice the recent
   * bus lag when that is longer (a loaded bus delivers late rather than never: reading the store for every
   * late message would add load where there is too much already), and never more than the catch-up interval.
   */
  private checkGap(room: Room<P>): void {
    if (!room.seqs.missing || room.repairTimer) return
    const grace = Math.min(Math.max(this.o.gapRepairDelayMs, 2 * this.lagMs), Math.max(this.o.catchUpIntervalMs, this.o.gapRepairDelayMs))
    room.repairTimer = setTimeout(() => {
      room.repairTimer = null
      void this.repair(room)
    }, grace)
    room.repairTimer.unref()
  }

  /** Read what the room is missing from the store and apply it. */
  private async repair(room: Room<P>): Promise<void> {
    const current = () => room.state === 'ready' && this.o.rooms().get(room.name) === room
    if (!current() || !room.seqs.missing) return
    const after = room.seqs.contiguous
    try {
      const stored = await this.o.store.load(room.name, after)
      if (!current()) return
      if (stored.updates.length > 0 && !room.applyCommitted(stored.updates)) {
        this.o.logger.error('replication.repair-apply-failed', { doc: room.name })
        this.o.reload(room)
        return
      }
      room.seqs.add(after + 1, stored.seq)
      room.snapshotSeq = Math.max(room.snapshotSeq, stored.snapshotSeq)
      // A doc deleted and recreated under us has a lower head: what we heard of is gone.
      if (room.seqs.known > stored.seq) room.seqs.known = Math.max(room.seqs.contiguous, stored.seq)
      this.o.metrics.gapRepairs.inc()
      this.o.logger.debug('replication.repaired', { doc: room.name, after, seq: stored.seq })
    } catch (err) {
      this.o.logger.warn('replication.repair-failed', { doc: room.name, error: describeError(err) })
      // The store is unreachable: try again later rather than every few milliseconds.
      if (!room.repairTimer && current()) {
        room.repairTimer = setTimeout(() => {
          room.repairTimer = null
          void this.repair(room)
        }, Math.max(1000, this.o.gapRepairDelayMs))
        room.repairTimer.unref()
      }
      return
    }
    this.checkGap(room)
  }
}
