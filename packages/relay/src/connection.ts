/** One sync connection: a WebSocket bound to one doc, with the claims of the token that opened it. */
import type { WebSocket } from 'ws'
import type { AccessClaims, Role } from './auth.js'
import { type CloseCode, closeReason } from './close-codes.js'
import type { AckTarget } from './commit-queue.js'
import type { DocName } from './doc-name.js'
import { encodeAck } from './protocol.js'
import type { Peer, Room } from './room.js'
import type { LiveConnection } from './sessions.js'

export interface ConnectionInit {
  socket: WebSocket
  claims: AccessClaims
  doc: DocName
  role: Role
  /** The client opted into ack messages (`&ack=1`). */
  wantsAck: boolean
}

export interface ConnectionHooks {
  sent(bytes: number): void
  /** The connection is closed (by us or by the peer); `code` is set when we closed it. */
  closed(conn: Connection, code: CloseCode | null): void
}

/** Bytes a slow reader may have queued before it is closed with 1013 (it reconnects and resyncs). */
const MAX_BUFFERED_BYTES = 64 * 1024 * 1024
/** setTimeout's limit; tokens that expire later are re-checked then. */
const MAX_TIMER_MS = 2 ** 31 - 1

let nextId = 1

export class Connection implements Peer, AckTarget, LiveConnection {
  readonly id = nextId++
  readonly socket: WebSocket
  readonly claims: AccessClaims
  readonly doc: DocName
  readonly role: Role
  readonly wantsAck: boolean
  room: Room<Connection> | null = null
  /** Frames that arrived while the room was (re)loading, handled in order once it is ready. */
  backlog: Uint8Array[] = []
  backlogBytes = 0
  /** Sync step 2 / update messages received so far (the ack's count refers to these). */
  updateMessages = 0
  awarenessIds: Set<number> | null = null
  /** Answered the last ping. */
  alive = true
  closed = false
  private expiryTimer: NodeJS.Timeout | null = null

  constructor(
    init: ConnectionInit,
    private readonly hooks: ConnectionHooks,
  ) {
    this.socket = init.socket
    this.claims = init.claims
    this.doc = init.doc
    this.role = init.role
    this.wantsAck = init.wantsAck
    this.socket.on('pong', () => {
      this.alive = true
    })
    this.scheduleExpiry()
  }

  send(message: Uint8Array): void {
    if (this.closed || this.socket.readyState !== this.socket.OPEN) return
    if (this.socket.bufferedAmount > MAX_BUFFERED_BYTES) {
      this.close(1013, 'too slow: reconnect')
      return
    }
    this.socket.send(message)
    this.hooks.sent(message.byteLength)
  }

  sendAck(stateVector: Uint8Array, committedMessages: number): void {
    if (this.wantsAck) this.send(encodeAck(stateVector, committedMessages))
  }

  /** Close with `code`; idempotent. */
  close(code: CloseCode, reason: string): void {
    if (this.closed) return
    this.finish()
    try {
      this.socket.close(code, closeReason(reason))
    } catch {
      this.socket.terminate()
    }
    this.hooks.closed(this, code)
  }

  /** The socket closed from the other side (or after our close). */
  socketClosed(): void {
    if (this.closed) return
    this.finish()
    this.hooks.closed(this, null)
  }

  private finish(): void {
    this.closed = true
    this.backlog = []
    if (this.expiryTimer) clearTimeout(this.expiryTimer)
  }

  /** Close with 4401 when the token expires, so a connection never outlives its token. */
  private scheduleExpiry(): void {
    const left = this.claims.exp * 1000 - Date.now()
    if (left <= 0) {
      queueMicrotask(() => this.close(4401, 'token expired'))
      return
    }
    this.expiryTimer = setTimeout(() => {
      if (this.claims.exp * 1000 <= Date.now()) this.close(4401, 'token expired')
      else this.scheduleExpiry()
    }, Math.min(left, MAX_TIMER_MS))
    this.expiryTimer.unref()
  }
}
