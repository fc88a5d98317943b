/** One sync connection: a WebSocket bound to one doc, with the claims of the token that opened it. */
import type { RawData, WebSocket } from 'ws'
import type { AccessClaims, Role } from './auth.js'
import { type CloseCode, closeReason } from './close-codes.js'
import type { AckTarget } from './commit-queue.js'
import type { DocName } from './doc-name.js'
import { encodeAck } from './protocol.js'
import type { Peer, Room } from './room.js'
import type { LiveConnection } from './sessions.js'
import type { RelaySocket } from './socket.js'
import type { Attribution } from './store.js'

export interface ConnectionInit {
  socket: RelaySocket
  claims: AccessClaims
  doc: DocName
  role: Role
  /** The client opted into ack messages (`&ack=1`). */
  wantsAck: boolean
}

/** What a connection reports to its hub (one object for all connections: no closures per connection). */
export interface ConnectionHooks {
  /** A binary frame (Uint8Array) or a text frame (string) arrived. */
  connectionReceived(conn: Connection, frame: Uint8Array | string): void
  connectionSent(bytes: number): void
  /** The connection is closed (by us or by the peer); `code` is set when we closed it. */
  connectionClosed(conn: Connection, code: CloseCode | null): void
}

/** Bytes a slow reader may have queued before it is closed with 1013 (it reconnects and resyncs). */
const MAX_BUFFERED_BYTES = 64 * 1024 * 1024

let nextId = 1

export class Connection implements Peer, AckTarget, LiveConnection {
  readonly id = nextId++
  readonly socket: RelaySocket
  readonly claims: AccessClaims
  readonly doc: DocName
  readonly role: Role
  readonly wantsAck: boolean
  /** Who this connection's updates are logged as. */
  readonly author: Attribution
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

  constructor(
    init: ConnectionInit,
    private readonly hooks: ConnectionHooks,
  ) {
    this.socket = init.socket
    this.claims = init.claims
    this.doc = init.doc
    this.role = init.role
    this.wantsAck = init.wantsAck
    this.author = { account: init.claims.sub, session: init.claims.sid, device: init.claims.name ?? null }
    this.socket.connection = this
    this.socket.on('pong', onPong)
  }

  get readOnly(): boolean {
    return this.role === 'viewer'
  }

  send(message: Uint8Array): void {
    if (this.closed || this.socket.readyState !== this.socket.OPEN) return
    if (this.socket.bufferedAmount > MAX_BUFFERED_BYTES) {
      this.close(1013, 'too slow: reconnect')
      return
    }
    this.socket.send(message)
    this.hooks.connectionSent(message.byteLength)
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
    this.hooks.connectionClosed(this, code)
  }

  /** The socket closed from the other side (or after our close). */
  socketClosed(): void {
    if (this.closed) return
    this.finish()
    this.hooks.connectionClosed(this, null)
  }

  received(frame: Uint8Array | string): void {
    this.hooks.connectionReceived(this, frame)
  }

  private finish(): void {
    this.closed = true
    this.backlog = []
  }
}

/**
 * The listeners of every sync socket, shared (`this` is the socket, which knows its connection), so that an
 * idle connection holds no closures of its own.
 */
export const socketListeners = {
  message(this: WebSocket, data: RawData, isBinary: boolean): void {
    carried(this)?.received(isBinary ? frameBytes(data) : 'text')
  },
  close(this: WebSocket): void {
    carried(this)?.socketClosed()
  },
  /** ws closes the socket after an error (with the relay's codes, see socket.ts); 'close' follows. */
  error(): void {},
}

function onPong(this: WebSocket): void {
  const conn = carried(this)
  if (conn) conn.alive = true
}

/** Sync sockets are RelaySockets (socket.ts); ws types listeners' `this` as its own WebSocket. */
const carried = (socket: WebSocket): Connection | null => (socket as RelaySocket).connection

/**
 * A binary frame from ws (a Buffer, unless binaryType was changed) as a plain Uint8Array over the same bytes:
 * readClientMessage copies payloads out with Uint8Array's slice, which on a Buffer would be a view.
 */
export function frameBytes(data: RawData): Uint8Array {
  if (data instanceof ArrayBuffer) return new Uint8Array(data)
  const bytes = Array.isArray(data) ? Buffer.concat(data) : data
  return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength)
}
