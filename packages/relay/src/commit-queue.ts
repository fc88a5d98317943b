/**
 * Group commit. Doc changes are queued as they happen and written in one storage transaction per batch:
 * everything queued within one turn of the event loop, and everything queued while the previous commit
 * runs (the store commits off the main thread, see worker-store.ts, so the relay keeps working meanwhile).
 * After a batch is durable, each connection that sent updates in it gets an ack with its doc's state vector
 * as of the batch, and each doc's new sequence numbers go to `committed` (which tells the other relays). All
 * storage writes (commits, compactions, deletions) run one at a time through `exclusive`.
 */
import * as Y from 'yjs'
import type { Logger } from './logger.js'
import { describeError } from './logger.js'
import type { RelayMetrics } from './metrics.js'
import type { Peer, Room } from './room.js'
import type { AppendedRange, Attribution, DocStore, UpdateEntry } from './store.js'

/** Whoever is waiting for an ack: a connection that asked for acks. */
export interface AckTarget {
  sendAck(stateVector: Uint8Array, committedMessages: number): void
}

interface PendingDoc {
  updates: Uint8Array[]
  authors: (Attribution | null)[]
  /** The turns the updates were made in (room.ts): the previews whose content this batch commits. */
  turns: Set<number>
  /** Per target: its message count to acknowledge and when the oldest unacked one arrived (ms). */
  acks: Map<AckTarget, { count: number; since: number }>
}

export interface CommitHooks<P extends Peer> {
  /** A batch with changes to `room` is durable: `updates`, numbered `range.first` … `range.last`, made in `turns`. */
  committed(room: Room<P>, range: AppendedRange, updates: Uint8Array[], turns: number[]): void
  /** A batch failed: these rooms' in-memory docs are ahead of storage and must be dropped. */
  failed(rooms: Room<P>[], error: unknown): void
}

export class CommitQueue<P extends Peer = Peer> {
  private pending = new Map<Room<P>, PendingDoc>()
  private tail: Promise<unknown> = Promise.resolve()
  /** A commit is queued that has not taken its batch yet: what arrives now joins it. */
  private scheduled = false

  constructor(
    private readonly store: DocStore,
    private readonly hooks: CommitHooks<P>,
    private readonly metrics: RelayMetrics,
    private readonly logger: Logger,
  ) {}

  /** Queue a doc change for the next commit. */
  add(room: Room<P>, update: Uint8Array, author: Attribution | null, turn: number): void {
    const entry = this.entry(room)
    entry.updates.push(update)
    entry.authors.push(author)
    entry.turns.add(turn)
    this.schedule()
  }

  /** Ack `target` after the next commit of `room`, covering its first `count` update messages. */
  ackAfterCommit(room: Room<P>, target: AckTarget, count: number): void {
    const acks = this.entry(room).acks
    const since = acks.get(target)?.since ?? performance.now()
    acks.set(target, { count, since })
    this.schedule()
  }

  hasPending(room: Room<P>): boolean {
    return (this.pending.get(room)?.updates.length ?? 0) > 0
  }

  /** Forget what is queued for `room` (its doc is being dropped). */
  discard(room: Room<P>): void {
    this.pending.delete(room)
  }

  /** Commit everything queued so far; resolves when it is durable (or has failed and been reported). */
  flush(): Promise<void> {
    return this.exclusive(() => this.commitNow())
  }

  /** Run a storage operation after every earlier one has finished, and before any later one starts. */
  exclusive<T>(op: () => Promise<T>): Promise<T> {
    const run = this.tail.then(op)
    this.tail = run.catch(() => {})
    return run
  }

  /** Commit what is queued now. Call only from inside `exclusive` (or through `flush`). */
  async commitNow(): Promise<void> {
    this.scheduled = false
    if (this.pending.size === 0) return
    const batch = this.pending
    this.pending = new Map()
    const entries: UpdateEntry[] = []
    // Every change applied so far is in this batch or an earlier one, so the doc's state vector now is
    // exactly what storage holds once this batch is durable.
    const stateVectors = new Map<Room<P>, Uint8Array>()
    for (const [room, { updates, authors }] of batch) {
      updates.forEach((update, i) => entries.push({ docName: room.name, update, author: authors[i] }))
      stateVectors.set(room, Y.encodeStateVector(room.doc))
    }
    const started = performance.now()
    let ranges: AppendedRange[]
    try {
      ranges = await this.store.appendUpdates(entries)
    } catch (error) {
      this.metrics.commitFailures.inc()
      this.logger.error('commit.failed', { docs: batch.size, updates: entries.length, error: describeError(error) })
      for (const room of batch.keys()) this.pending.delete(room)
      this.hooks.failed([...batch.keys()], error)
      return
    }
    const now = performance.now()
    if (entries.length > 0) {
      this.metrics.commits.inc()
      this.metrics.updatesCommitted.inc(entries.length)
      this.metrics.commitSeconds.observe((now - started) / 1000)
    }
    const rangeOf = new Map(ranges.map((r) => [r.docName, r]))
    for (const [room, { updates, acks, turns }] of batch) {
      const stateVector = stateVectors.get(room)!
      room.committedStateVector = stateVector
      for (const [target, { count, since }] of acks) {
        target.sendAck(stateVector, count)
        this.metrics.acks.inc()
        this.metrics.ackSeconds.observe((now - since) / 1000)
      }
      const range = rangeOf.get(room.name)
      if (updates.length > 0 && range) this.hooks.committed(room, range, updates, [...turns])
    }
  }

  private entry(room: Room<P>): PendingDoc {
    let entry = this.pending.get(room)
    if (!entry) this.pending.set(room, (entry = { updates: [], authors: [], turns: new Set(), acks: new Map() }))
    return entry
  }

  private schedule(): void {
    if (this.scheduled) return
    this.scheduled = true
    setImmediate(() => void this.flush())
  }
}
