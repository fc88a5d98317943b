/**
 * The sync hub: rooms (loaded docs) and the connections attached to them. Loads docs on demand, dispatches
 * client messages, refuses what a connection may not do, unloads idle docs and compacts their logs. What other
 * relays commit reaches its rooms through `Replication` (replication.ts).
 */
import type { AccessClaims, Role } from './auth.js'
import type { Bus } from './bus.js'
import { type CloseCode, closeReason } from './close-codes.js'
import { CommitQueue } from './commit-queue.js'
import { Connection, type ConnectionHooks } from './connection.js'
import type { DocName } from './doc-name.js'
import { ProtocolError, RelayError, StorageError } from './errors.js'
import { ExpiryTimers } from './expiry.js'
import type { Logger } from './logger.js'
import { describeError } from './logger.js'
import type { RelayMetrics } from './metrics.js'
import { encodePermissionDenied, readClientMessage } from './protocol.js'
import { Replication } from './replication.js'
import { encodeIntegratedState, Room } from './room.js'
import type { Sessions } from './sessions.js'
import type { RelaySocket } from './socket.js'
import type { DocStore } from './store.js'
import { decodeStateVector, decodeUpdate, isEmptyUpdate, validateAwarenessUpdate, wouldChange } from './updates.js'

/** What the upgrade request established before the socket opened. */
export type SyncAdmission =
  | { ok: true; claims: AccessClaims; doc: DocName; role: Role; wantsAck: boolean; userAgent: string | null }
  | { ok: false; error: RelayError }

export interface SyncHubOptions {
  store: DocStore
  bus: Bus
  /** This relay's id on the bus. */
  relayId: string
  sessions: Sessions
  metrics: RelayMetrics
  logger: Logger
  /** Grace before a doc with no connections is unloaded. */
  unloadAfterMs: number
  /** Compact a doc's update log into a snapshot once it has this many updates. */
  compactAfterUpdates: number
  /** Delay between a log crossing the threshold and its compaction, so that it happens off the hot path. */
  compactDelayMs: number
  /** Refuse connections past this many with 1013; 0 = no limit. */
  maxConnections: number
  /** Frames a connection may queue while its doc loads, in bytes. */
  maxBacklogBytes: number
  /** Interval of WebSocket pings; a connection that missed one pong is dropped. */
  pingIntervalMs: number
  /** Grace before a gap in a doc's sequence is read from the store. */
  gapRepairDelayMs: number
  /** Check loaded docs against the store's heads this often. */
  catchUpIntervalMs: number
}

export class SyncHub implements ConnectionHooks {
  readonly rooms = new Map<string, Room<Connection>>()
  readonly connections = new Set<Connection>()
  readonly commits: CommitQueue<Connection>
  readonly replication: Replication<Connection>
  /** Workspaces deleted while this relay runs (the registry keeps them all): their docs are never written back. */
  private readonly deletedWorkspaces = new Set<string>()
  private closing = false
  private readonly pingTimer: NodeJS.Timeout
  /** Closes a connection with 4401 when its token expires, so that none outlives its token. */
  private readonly expiries = new ExpiryTimers<Connection>((conn) => conn.close(4401, 'token expired'))

  constructor(private readonly o: SyncHubOptions) {
    this.commits = new CommitQueue<Connection>(
      o.store,
      {
        committed: (room, range, updates, turns) => {
          this.replication.committed(room, range, updates, turns)
          this.maybeCompact(room)
        },
        failed: (rooms) => this.dropRooms(rooms, 1011, 'storage failure'),
      },
      o.metrics,
      o.logger,
    )
    this.replication = new Replication<Connection>({
      store: o.store,
      bus: o.bus,
      relayId: o.relayId,
      metrics: o.metrics,
      logger: o.logger,
      gapRepairDelayMs: o.gapRepairDelayMs,
      catchUpIntervalMs: o.catchUpIntervalMs,
      rooms: () => this.rooms,
      reload: (room) => this.reload(room),
    })
    this.pingTimer = setInterval(() => this.ping(), o.pingIntervalMs)
    this.pingTimer.unref()
  }

  /**
   * A socket opened: admit it (the session registry's checks and the device limit, which may take a round
   * trip to the store; frames wait meanwhile), or close it with the code that says why, and join its doc.
   */
  open(socket: RelaySocket, admission: SyncAdmission): Connection | null {
    const refuse = (code: CloseCode, reason: string) => {
      socket.close(code, closeReason(reason))
      this.o.metrics.closes.inc(1, { code: String(code) })
      this.o.logger.info('sync.refused', { code, reason })
      return null
    }
    if (!admission.ok) return refuse(admission.error.code, admission.error.reason)
    if (this.closing) return refuse(1012, 'relay shutting down')
    if (this.o.maxConnections > 0 && this.connections.size >= this.o.maxConnections) return refuse(1013, 'too many connections')
    const { claims, doc, role, wantsAck, userAgent } = admission
    const conn = new Connection({ socket, claims, doc, role, wantsAck }, this)
    this.connections.add(conn)
    this.expiries.add(conn, claims.exp)
    void this.admitAndJoin(conn, userAgent)
    return conn
  }

  private async admitAndJoin(conn: Connection, userAgent: string | null): Promise<void> {
    const { claims, doc } = conn
    let refused: RelayError | null
    try {
      refused = await this.o.sessions.admit(conn, doc.workspaceId, userAgent)
    } catch (err) {
      this.o.logger.error('sync.admit-failed', { error: describeError(err) })
      refused = new RelayError(1013, err instanceof StorageError ? 'storage unavailable' : 'server busy')
    }
    if (conn.closed) return
    if (refused) {
      this.o.logger.info('sync.refused', { code: refused.code, reason: refused.reason, sub: claims.sub, sid: claims.sid })
      conn.close(refused.code, refused.reason)
      return
    }
    this.o.logger.info('sync.open', { conn: conn.id, doc: doc.name, sub: claims.sub, sid: claims.sid, role: conn.role, ack: conn.wantsAck })
    await this.join(conn)
  }

  /** A binary frame from a connection (text frames are `string`). */
  connectionReceived(conn: Connection, frame: Uint8Array | string): void {
    if (conn.closed) return
    this.o.metrics.messagesIn.inc()
    if (typeof frame === 'string') {
      conn.close(4400, 'text frames are not part of the protocol')
      return
    }
    this.o.metrics.bytesIn.inc(frame.byteLength)
    this.o.sessions.active(conn.claims.sid)
    const room = conn.room
    if (!room || room.state !== 'ready' || conn.backlog.length > 0) {
      conn.backlog.push(frame)
      conn.backlogBytes += frame.byteLength
      if (conn.backlogBytes > this.o.maxBacklogBytes) conn.close(1013, 'doc still loading')
      return
    }
    this.handle(conn, room, frame)
  }

  /** Everything queued is committed (and acked). */
  flush(): Promise<void> {
    return this.commits.flush()
  }

  /**
   * Delete every doc of these workspaces: close their connections (4403), drop them from memory, and delete
   * them from storage after every earlier write. Resolves to the number of docs deleted.
   */
  async deleteWorkspaces(workspaceIds: readonly string[]): Promise<number> {
    const ids = new Set(workspaceIds)
    for (const id of ids) this.dropWorkspace(id)
    return this.commits.exclusive(async () => {
      let deleted = 0
      for (const id of ids) deleted += await this.o.store.deletePrefix(`${id}/`)
      return deleted
    })
  }

  /**
   * A workspace (or a deleted account's own space) was deleted on another relay, seen on the bus or in the
   * re-check: drop its docs here and, if any was open, delete its storage again once what this relay queued for
   * it is committed. A commit in flight here when the other relay deleted lands after that delete: without this,
   * its rows would stay in the store, served to no one, kept against the owner's wish.
   */
  workspaceDeleted(workspaceId: string): void {
    const open = [...this.rooms.values()].some((r) => r.workspaceId === workspaceId)
    this.dropWorkspace(workspaceId)
    if (!open) return
    void this.commits
      .exclusive(() => this.o.store.deletePrefix(`${workspaceId}/`))
      .catch((err) => this.o.logger.warn('workspace.purge-failed', { workspace: workspaceId, error: describeError(err) }))
  }

  /** A workspace was deleted: close its docs' connections (4403), drop the docs. */
  dropWorkspace(workspaceId: string): void {
    this.deletedWorkspaces.add(workspaceId)
    this.dropRooms([...this.rooms.values()].filter((r) => r.workspaceId === workspaceId), 4403, 'workspace deleted')
  }

  /** Graceful stop: commit and ack what arrived, close every connection with 1012, commit again, unload. */
  async close(): Promise<void> {
    if (this.closing) return
    this.closing = true
    clearInterval(this.pingTimer)
    this.replication.close()
    this.expiries.clear()
    await this.commits.flush()
    for (const conn of [...this.connections]) conn.close(1012, 'relay restarting')
    await this.commits.flush()
    const rooms = [...this.rooms.values()]
    this.rooms.clear()
    for (const room of rooms) {
      room.destroy()
      this.replication.forget(room)
    }
  }

  private handle(conn: Connection, room: Room<Connection>, frame: Uint8Array): void {
    try {
      const message = readClientMessage(frame)
      switch (message.type) {
        case 'sync-step-1':
          conn.send(room.syncStep2(decodeStateVector(message.stateVector), message.stateVector))
          break
        case 'sync-step-2':
        case 'update':
          this.receiveUpdate(conn, room, message.update)
          break
        case 'awareness':
          validateAwarenessUpdate(message.update)
          room.applyAwareness(message.update, conn)
          break
        case 'query-awareness': {
          const states = room.awarenessMessage()
          if (states) conn.send(states)
          break
        }
      }
    } catch (err) {
      if (err instanceof RelayError) {
        this.o.logger.info('sync.bad-message', { conn: conn.id, doc: room.name, code: err.code, reason: err.reason })
        conn.close(err.code, err.reason)
      } else {
        this.o.logger.error('sync.error', { conn: conn.id, doc: room.name, error: describeError(err) })
        conn.close(1011, 'server error')
      }
    }
  }

  private receiveUpdate(conn: Connection, room: Room<Connection>, update: Uint8Array): void {
    conn.updateMessages++
    const decoded = decodeUpdate(update)
    if (conn.role === 'viewer') {
      if (wouldChange(room.doc, decoded)) {
        this.o.metrics.updatesRefused.inc()
        conn.send(encodePermissionDenied('read-only: viewers cannot change this doc'))
      }
      return
    }
    if (!isEmptyUpdate(decoded) && !room.applyUpdate(update, conn)) {
      // Yjs threw halfway: nothing was broadcast or queued, but the doc may hold part of the update.
      this.reload(room)
      throw new ProtocolError('invalid Yjs update')
    }
    this.o.metrics.updatesIn.inc()
    if (conn.wantsAck) this.commits.ackAfterCommit(room, conn, conn.updateMessages)
  }

  private async join(conn: Connection): Promise<void> {
    let room: Room<Connection>
    try {
      room = await this.acquire(conn.doc)
    } catch (err) {
      this.o.logger.error('doc.load-failed', { doc: conn.doc.name, error: describeError(err) })
      conn.close(1011, 'could not load doc')
      return
    }
    if (conn.closed) {
      this.scheduleUnload(room)
      return
    }
    if (this.deletedWorkspaces.has(room.workspaceId)) {
      conn.close(4403, 'workspace deleted')
      this.scheduleUnload(room)
      return
    }
    if (room.unloadTimer) clearTimeout(room.unloadTimer)
    room.unloadTimer = null
    conn.room = room
    room.join(conn)
    for (const message of room.greeting()) conn.send(message)
    conn.sendAck(room.committedStateVector, 0)
    this.drain(conn)
  }

  private drain(conn: Connection): void {
    const room = conn.room
    while (room && room.state === 'ready' && !conn.closed && conn.backlog.length > 0) {
      const frame = conn.backlog.shift()!
      conn.backlogBytes -= frame.byteLength
      this.handle(conn, room, frame)
    }
  }

  /** The loaded room for `doc`, loading it if needed (waiting for an unload in progress to finish first). */
  private async acquire(doc: DocName): Promise<Room<Connection>> {
    for (;;) {
      const existing = this.rooms.get(doc.name)
      if (!existing) break
      if (existing.state === 'closing') {
        await existing.closed
        continue
      }
      await existing.ready
      if (this.rooms.get(doc.name) === existing) return existing
    }
    const room = new Room<Connection>(doc, {
      changed: (r, update, author, turn) => this.commits.add(r, update, author?.author ?? null, turn),
      turnEnded: (r, turn, changes) => this.replication.turnEnded(r, turn, changes),
      integrated: (r, peers) => {
        for (const conn of peers) if (!conn.closed && conn.wantsAck) this.commits.ackAfterCommit(r, conn, conn.updateMessages)
      },
    })
    this.rooms.set(doc.name, room)
    room.ready = this.load(room)
    await room.ready
    return room
  }

  private async load(room: Room<Connection>): Promise<void> {
    room.state = 'loading'
    try {
      // Subscribed first: what other relays commit after the read below is not missed, only held until then.
      await this.replication.subscribe(room)
      const stored = await this.o.store.load(room.name)
      room.load(stored)
    } catch (err) {
      if (this.rooms.get(room.name) === room) this.rooms.delete(room.name)
      room.destroy()
      this.replication.forget(room)
      throw err
    }
    room.state = 'ready'
    this.replication.loaded(room)
    this.o.metrics.docLoads.inc()
    this.maybeCompact(room)
  }

  /** Rebuild a room's doc from storage after a failed update (connections stay; their frames wait). */
  private reload(room: Room<Connection>): void {
    if (room.state !== 'ready') return
    room.state = 'loading'
    this.replication.loading(room)
    this.o.logger.warn('doc.reload', { doc: room.name })
    room.ready = (async () => {
      await this.commits.flush()
      try {
        room.load(await this.o.store.load(room.name))
      } catch (err) {
        this.o.logger.error('doc.reload-failed', { doc: room.name, error: describeError(err) })
        this.dropRooms([room], 1011, 'could not reload doc')
        return
      }
      room.state = 'ready'
      this.replication.loaded(room)
      for (const peer of room.peers) this.drain(peer)
    })()
  }

  /** Drop rooms from memory without saving what is queued for them, closing their connections. */
  private dropRooms(rooms: Room<Connection>[], code: CloseCode, reason: string): void {
    for (const room of rooms) {
      if (this.rooms.get(room.name) !== room) continue
      this.rooms.delete(room.name)
      this.commits.discard(room)
      for (const peer of [...room.peers]) peer.close(code, reason)
      room.destroy()
      this.replication.forget(room)
    }
  }

  /** A connection closed: leave its session and room. */
  connectionClosed(conn: Connection, code: CloseCode | null): void {
    if (!this.connections.delete(conn)) return
    this.expiries.delete(conn, conn.claims.exp)
    this.o.sessions.release(conn)
    if (code !== null) this.o.metrics.closes.inc(1, { code: String(code) })
    this.o.logger.info('sync.close', { conn: conn.id, doc: conn.doc.name, code: code ?? undefined, by: code === null ? 'client' : 'relay' })
    const room = conn.room
    if (room) {
      room.leave(conn)
      this.scheduleUnload(room)
    }
  }

  private scheduleUnload(room: Room<Connection>): void {
    if (room.peers.size > 0 || room.unloadTimer || this.closing) return
    room.unloadTimer = setTimeout(() => {
      room.unloadTimer = null
      this.unload(room)
    }, this.o.unloadAfterMs)
    room.unloadTimer.unref()
  }

  /** Commit what is queued, compact if the log is long, and free the doc. */
  private unload(room: Room<Connection>): void {
    if (room.peers.size > 0 || room.state !== 'ready' || this.rooms.get(room.name) !== room) return
    room.state = 'closing'
    room.closed = this.commits
      .exclusive(async () => {
        await this.commits.commitNow()
        if (this.rooms.get(room.name) === room && room.logLength >= this.o.compactAfterUpdates) await this.compact(room)
      })
      .catch((err) => this.o.logger.error('doc.unload-failed', { doc: room.name, error: describeError(err) }))
      .finally(() => {
        if (this.rooms.get(room.name) === room) this.rooms.delete(room.name)
        room.destroy()
        this.replication.forget(room)
        this.o.metrics.docUnloads.inc()
      })
  }

  private maybeCompact(room: Room<Connection>): void {
    if (room.logLength < this.o.compactAfterUpdates || room.compactionTimer || this.closing) return
    room.compactionTimer = setTimeout(() => {
      room.compactionTimer = null
      void this.commits
        .exclusive(async () => {
          if (room.state !== 'ready' || this.rooms.get(room.name) !== room) return
          await this.commits.commitNow()
          if (room.state === 'ready' && this.rooms.get(room.name) === room) await this.compact(room)
        })
        .catch((err) => this.o.logger.error('doc.compact-failed', { doc: room.name, error: describeError(err) }))
    }, this.o.compactDelayMs)
    room.compactionTimer.unref()
  }

  /**
   * Replace the stored log up to the room's contiguous sequence number with a snapshot of its doc (which holds
   * at least that much). Run inside `exclusive`, after `commitNow`. Updates after it, including other relays'
   * appended meanwhile, stay in the log.
   */
  private async compact(room: Room<Connection>): Promise<void> {
    // A doc deleted with its workspace while it was loaded must not be written back.
    if (this.deletedWorkspaces.has(room.workspaceId)) return
    const upTo = room.seqs.contiguous
    if (upTo <= room.snapshotSeq) return
    const entries = room.logLength
    const snapshot = encodeIntegratedState(room.doc)
    const replaced = await this.o.store.compact(room.name, snapshot, upTo)
    room.snapshotSeq = Math.max(room.snapshotSeq, upTo)
    if (!replaced) return
    this.o.metrics.compactions.inc()
    this.o.logger.debug('doc.compacted', { doc: room.name, entries, upTo, bytes: snapshot.byteLength })
  }

  connectionSent(bytes: number): void {
    this.o.metrics.messagesOut.inc()
    this.o.metrics.bytesOut.inc(bytes)
  }

  private ping(): void {
    for (const conn of this.connections) {
      if (!conn.alive) {
        conn.socket.terminate()
        continue
      }
      conn.alive = false
      conn.socket.ping()
    }
  }
}
