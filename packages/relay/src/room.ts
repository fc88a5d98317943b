/**
 * A loaded doc: its Y.Doc, the awareness of the people in it, and the peers (connections) attached to it.
 * Every change goes through `applyUpdate`, which captures the doc's own update events so that an update that
 * fails halfway is neither broadcast nor stored. Changes are queued for storage at once; peers get a turn's
 * first change at once and the rest merged at the end of the turn, not one message per update.
 */
import * as awarenessProtocol from 'y-protocols/awareness'
import * as Y from 'yjs'
import type { DocName } from './doc-name.js'
import { encodeAwareness, encodeSyncStep1, encodeSyncStep2, encodeUpdate } from './protocol.js'
import { SeqTracker } from './seq-tracker.js'
import type { StoredDoc } from './store.js'

/** A connection as a room sees it. */
export interface Peer {
  send(message: Uint8Array): void
  /** A read-only peer (a viewer): never asked for content, its writes are refused anyway. */
  readonly readOnly?: boolean
  /** Awareness client ids this peer has announced, removed from the room when it leaves. */
  awarenessIds: Set<number> | null
}

export type RoomState = 'loading' | 'ready' | 'closing'

export interface RoomHooks<P extends Peer> {
  /**
   * The doc changed: queue `update` for storage, written by `author` (null: not by one of this relay's peers),
   * in turn `turn` (see `turnEnded`).
   */
  changed(room: Room<P>, update: Uint8Array, author: P | null, turn: number): void
  /** A turn that changed the doc ended: `changes` are what it changed, for other relays' peers (a preview). */
  turnEnded?(room: Room<P>, turn: number, changes: Uint8Array[]): void
  /**
   * Content these peers sent that Yjs held back as pending has now integrated (nothing is pending any more):
   * it is queued for storage, and they are owed an ack after that commit.
   */
  integrated?(room: Room<P>, peers: P[]): void
}

const hasPending = (doc: Y.Doc): boolean => doc.store.pendingStructs !== null || doc.store.pendingDs !== null

/** Content pending this long makes the room ask its peers for what it lacks; then twice as long, up to the max. */
const ASK_FIRST_MS = 1_000
const ASK_MAX_MS = 30_000

const loadOrigin = Symbol('load')
/** Turns are numbered across all rooms of the process, so that a preview id is never reused (a reloaded room). */
let nextTurn = 1
/** Committed updates from another relay (through the bus or read from the store). */
const remoteOrigin = Symbol('remote')

/**
 * The doc's state as an update (what `targetStateVector` lacks), leaving out what Yjs holds back as pending:
 * structs and deletions whose dependencies it has not seen. Y.encodeStateAsUpdate merges those in, and a
 * client can send pending structs that reuse ids the doc already has with other content (found by fuzzing):
 * merged, they hide real content from whoever applies the result. Peers and storage get what the doc
 * integrated, which is also all that acks cover; the pending rest follows in an update once it integrates.
 */
export function encodeIntegratedState(doc: Y.Doc, targetStateVector?: Uint8Array): Uint8Array {
  const store = doc.store
  const { pendingStructs, pendingDs } = store
  if (pendingStructs === null && pendingDs === null) return Y.encodeStateAsUpdate(doc, targetStateVector)
  store.pendingStructs = null
  store.pendingDs = null
  try {
    return Y.encodeStateAsUpdate(doc, targetStateVector)
  } finally {
    store.pendingStructs = pendingStructs
    store.pendingDs = pendingDs
  }
}

export class Room<P extends Peer = Peer> {
  readonly name: string
  readonly workspaceId: string
  doc: Y.Doc
  /** Awareness is bound to a small placeholder doc so that the content doc can be rebuilt under it. */
  readonly awareness: awarenessProtocol.Awareness
  readonly peers = new Set<P>()
  state: RoomState = 'loading'
  /** Settles when the doc is loaded (or reloaded); rejects if loading failed. */
  ready: Promise<void> = Promise.resolve()
  /** Settles when an unload that started has finished. */
  closed: Promise<void> = Promise.resolve()
  /** The state vector of what storage holds, as of the last commit. */
  committedStateVector: Uint8Array = Y.encodeStateVector(new Y.Doc())
  /** Which of the doc's sequence numbers the doc holds. */
  readonly seqs = new SeqTracker()
  /** The sequence number the stored snapshot covers, as far as this relay knows. */
  snapshotSeq = 0
  unloadTimer: NodeJS.Timeout | null = null
  compactionTimer: NodeJS.Timeout | null = null
  /** A read of missing sequence numbers is scheduled (replication.ts). */
  repairTimer: NodeJS.Timeout | null = null
  private capture: Uint8Array[] | null = null
  /** A change was sent to peers in this turn of the event loop: later ones wait in the outbox for its end. */
  private turnOpen = false
  /** This turn's number (the id of its preview, see RoomHooks.turnEnded). */
  private turn = 0
  /** This turn's changes to the doc (not those of other relays, which they preview themselves). */
  private turnChanges: Uint8Array[] = []
  /** Counts joins: a peer that joined after a preview was forwarded did not get it. */
  joins = 0
  /** Peers whose updates left the doc with pending content: owed an ack once it integrates. */
  private readonly awaiting = new Set<P>()
  /** While content stays pending, the peers are asked (sync step 1) for what the doc lacks, with backoff. */
  private askTimer: NodeJS.Timeout | null = null
  private askDelayMs = ASK_FIRST_MS
  /** Previews of other relays forwarded to the peers, by `{relay}:{turn}`, with `joins` when forwarded. */
  readonly forwarded = new Map<string, { joins: number; at: number }>()
  /** Changes held back until the end of the turn, each with the peer it came from (null: send to all). */
  private outbox: { update: Uint8Array; origin: P | null }[] = []
  /** Sync step 2 for a client that has nothing yet (most joins), until the doc changes. */
  private fullStateMessage: Uint8Array | null = null
  private destroyed = false

  constructor(
    doc: DocName,
    private readonly hooks: RoomHooks<P>,
  ) {
    this.name = doc.name
    this.workspaceId = doc.workspaceId
    this.doc = this.createDoc()
    this.awareness = new awarenessProtocol.Awareness(new Y.Doc())
    this.awareness.setLocalState(null)
    this.awareness.on('update', this.onAwarenessUpdate)
  }

  /** Replace the doc's content with what storage holds. */
  load(stored: StoredDoc): void {
    const doc = this.createDoc()
    Y.transact(doc, () => {
      for (const update of stored.updates) Y.applyUpdate(doc, update)
    }, loadOrigin)
    this.doc.destroy()
    this.doc = doc
    this.fullStateMessage = null
    this.seqs.reset(stored.seq)
    this.snapshotSeq = stored.snapshotSeq
    this.committedStateVector = Y.encodeStateVector(doc)
  }

  /** Updates logged after the snapshot that this relay knows of. */
  get logLength(): number {
    return this.seqs.contiguous - this.snapshotSeq
  }

  /**
   * Apply a validated update from `origin`. Returns false if Yjs threw while integrating it: the doc may then
   * hold part of it and must be rebuilt from storage (nothing of it was broadcast or queued).
   *
   * The resulting changes go to every other peer, and back to `origin` too when they may hold more than it
   * sent: when the doc had pending structs or deletions (from others) that this update completed, or when a
   * nested transaction (e.g. Y.Text formatting cleanup) ran.
   */
  applyUpdate(update: Uint8Array, origin: P): boolean {
    const hadPending = hasPending(this.doc)
    const captured: Uint8Array[] = (this.capture = [])
    try {
      Y.applyUpdate(this.doc, update, origin)
    } catch {
      return false
    } finally {
      this.capture = null
    }
    const echo = hadPending || captured.length > 1
    for (const change of captured) this.publish(change, echo ? null : origin, origin)
    if (hasPending(this.doc)) {
      this.awaiting.add(origin)
      this.scheduleAsk()
    } else this.settleAwaiting(origin)
    return true
  }

  /**
   * Content a peer sent depends on something the doc lacks. Usually it arrives soon (another relay's commit
   * of something the peer saw in a preview, or another peer's update); if not (its writer's relay died before
   * committing it, and the writer is gone), a peer that has it must send it: a sync step 1 to every peer that
   * may write asks each for what the doc lacks (stock y-websocket clients answer with a sync step 2).
   */
  private scheduleAsk(): void {
    if (this.askTimer || this.destroyed) return
    this.askTimer = setTimeout(() => {
      this.askTimer = null
      if (this.destroyed || !hasPending(this.doc)) {
        this.askDelayMs = ASK_FIRST_MS
        return
      }
      const step1 = encodeSyncStep1(Y.encodeStateVector(this.doc))
      for (const peer of this.peers) if (!peer.readOnly) peer.send(step1)
      this.askDelayMs = Math.min(2 * this.askDelayMs, ASK_MAX_MS)
      this.scheduleAsk()
    }, this.askDelayMs)
    this.askTimer.unref()
  }

  /** Nothing is pending: the peers whose content was, other than `except` (acked anyway), are owed an ack. */
  private settleAwaiting(except?: P): void {
    if (this.awaiting.size === 0) return
    const owed = [...this.awaiting].filter((p) => p !== except && this.peers.has(p))
    this.awaiting.clear()
    this.askDelayMs = ASK_FIRST_MS
    if (owed.length > 0) this.hooks.integrated?.(this, owed)
  }

  /**
   * Apply updates that are committed already (another relay's, through the bus or read from the store): they
   * go to every peer, and to storage only if they completed content a peer of this relay had sent and Yjs
   * held back as pending (that content is not stored anywhere yet). Returns false if Yjs threw: the doc must
   * be rebuilt from storage.
   */
  applyCommitted(updates: readonly Uint8Array[], deliver = true): boolean {
    const hadPending = this.doc.store.pendingStructs !== null || this.doc.store.pendingDs !== null
    const captured: Uint8Array[] = (this.capture = [])
    try {
      Y.transact(this.doc, () => {
        for (const update of updates) Y.applyUpdate(this.doc, update, remoteOrigin)
      }, remoteOrigin)
    } catch {
      return false
    } finally {
      this.capture = null
    }
    for (const change of captured) {
      if (hadPending) this.publish(change, null, null)
      else if (deliver) this.deliverSoon(change)
    }
    if (hadPending && !hasPending(this.doc)) this.settleAwaiting()
    return true
  }

  /**
   * Send another relay's change that is not committed yet (a preview) to every peer, without applying it to
   * this doc: this doc holds only what is committed or was sent by its own peers, which is what acks rely on.
   * The committed change follows through `applyCommitted`.
   */
  forward(update: Uint8Array, id: string): void {
    this.deliverSoon(update)
    const now = Date.now()
    this.forwarded.set(id, { joins: this.joins, at: now })
    // Previews whose commit never came (their relay died) are forgotten after a while.
    for (const [key, { at }] of this.forwarded) {
      if (this.forwarded.size <= 1000 && now - at < 30_000) break
      this.forwarded.delete(key)
    }
  }

  /** Whether every peer has had these previews already (each forwarded, and nobody joined since). */
  previewed(ids: readonly string[]): boolean {
    if (ids.length === 0) return false
    for (const id of ids) {
      const f = this.forwarded.get(id)
      if (!f || f.joins !== this.joins) return false
    }
    return true
  }

  /** The reply to a client's sync step 1: what the doc has that the client's state vector lacks. */
  syncStep2(stateVector: Map<number, number>, encodedStateVector: Uint8Array): Uint8Array {
    if (stateVector.size > 0) return encodeSyncStep2(encodeIntegratedState(this.doc, encodedStateVector))
    return (this.fullStateMessage ??= encodeSyncStep2(encodeIntegratedState(this.doc)))
  }

  /** Messages a peer gets when it joins: sync step 1, then the awareness states if there are any. */
  greeting(): Uint8Array[] {
    const messages = [encodeSyncStep1(Y.encodeStateVector(this.doc))]
    const awareness = this.awarenessMessage()
    if (awareness) messages.push(awareness)
    return messages
  }

  /** All awareness states, or null if nobody announced any. */
  awarenessMessage(): Uint8Array | null {
    const states = this.awareness.getStates()
    if (states.size === 0) return null
    return encodeAwareness(awarenessProtocol.encodeAwarenessUpdate(this.awareness, [...states.keys()]))
  }

  applyAwareness(update: Uint8Array, origin: P): void {
    awarenessProtocol.applyAwarenessUpdate(this.awareness, update, origin)
  }

  join(peer: P): void {
    this.joins++
    this.peers.add(peer)
  }

  leave(peer: P): void {
    this.awaiting.delete(peer)
    if (!this.peers.delete(peer)) return
    if (peer.awarenessIds && peer.awarenessIds.size > 0) {
      awarenessProtocol.removeAwarenessStates(this.awareness, [...peer.awarenessIds], null)
    }
  }

  destroy(): void {
    if (this.destroyed) return
    this.destroyed = true
    if (this.unloadTimer) clearTimeout(this.unloadTimer)
    if (this.compactionTimer) clearTimeout(this.compactionTimer)
    if (this.repairTimer) clearTimeout(this.repairTimer)
    if (this.askTimer) clearTimeout(this.askTimer)
    this.awareness.off('update', this.onAwarenessUpdate)
    this.awareness.destroy()
    this.doc.destroy()
  }

  private createDoc(): Y.Doc {
    const doc = new Y.Doc({ gc: true })
    doc.on('update', (update: Uint8Array, origin: unknown) => {
      this.fullStateMessage = null
      if (origin === loadOrigin) return
      if (this.capture) this.capture.push(update)
      else this.publish(update, null, null)
    })
    return doc
  }

  /**
   * Queue a change for storage (written by `author`), and send it to every peer but `origin`: at once if it
   * is the turn's first, else at the end of the turn together with the others (a burst read from the sockets
   * in one turn becomes two messages per peer, not one per change, and a lone change waits for nothing).
   */
  private publish(update: Uint8Array, origin: P | null, author: P | null): void {
    this.deliverSoon(update, origin)
    this.turnChanges.push(update)
    this.hooks.changed(this, update, author, this.turn)
  }

  /** Send a change to every peer but `origin`, batched per turn (see publish). */
  private deliverSoon(update: Uint8Array, origin: P | null = null): void {
    if (this.turnOpen) this.outbox.push({ update, origin })
    else {
      this.turnOpen = true
      this.turn = nextTurn++
      setImmediate(this.endTurn)
      this.deliver([{ update, origin }])
    }
  }

  private readonly endTurn = (): void => {
    this.turnOpen = false
    const outbox = this.outbox
    this.outbox = []
    if (outbox.length > 0) this.deliver(outbox)
    const changes = this.turnChanges
    this.turnChanges = []
    if (changes.length > 0 && !this.destroyed) this.hooks.turnEnded?.(this, this.turn, changes)
  }

  /**
   * One message to each peer, holding every change it did not send itself (merged when there are several).
   * Peers that joined since the changes were made got them in their sync step 2 too; Yjs ignores repeats.
   */
  private deliver(changes: { update: Uint8Array; origin: P | null }[]): void {
    if (this.destroyed || this.peers.size === 0) return
    const origins = new Set<P>()
    for (const { origin } of changes) if (origin !== null && this.peers.has(origin)) origins.add(origin)
    if (this.peers.size > origins.size) {
      const everything = encodeUpdate(changes.length === 1 ? changes[0].update : Y.mergeUpdates(changes.map((c) => c.update)))
      for (const peer of this.peers) if (!origins.has(peer)) peer.send(everything)
    }
    for (const origin of origins) {
      const others = changes.filter((c) => c.origin !== origin).map((c) => c.update)
      if (others.length > 0) origin.send(encodeUpdate(others.length === 1 ? others[0] : Y.mergeUpdates(others)))
    }
  }

  private readonly onAwarenessUpdate = (
    { added, updated, removed }: { added: number[]; updated: number[]; removed: number[] },
    origin: unknown,
  ): void => {
    const peer = this.peers.has(origin as P) ? (origin as P) : null
    if (peer) {
      peer.awarenessIds ??= new Set()
      for (const id of added) peer.awarenessIds.add(id)
      for (const id of removed) peer.awarenessIds.delete(id)
    }
    const changed = [...added, ...updated, ...removed]
    // Like the reference server, echo to everyone including the sender: a lone client's y-websocket provider
    // treats 30 s without any message as a dead connection, and its own awareness renewals keep it alive.
    const message = encodeAwareness(awarenessProtocol.encodeAwarenessUpdate(this.awareness, changed))
    for (const p of this.peers) p.send(message)
  }
}
