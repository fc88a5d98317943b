/**
 * One doc's connection to the relay: a y-websocket WebsocketProvider whose reconnects this class drives
 * (backoff with jitter, close codes, token refresh), plus the relay's ack extension feeding the ledger.
 *
 * The provider's own reconnect loop is switched off (`shouldConnect = false` on every close) so that
 * exactly one policy decides. Sockets are wrapped to number the change-carrying frames they send, which is
 * what the relay's `committedMessages` counts.
 */
import * as authProtocol from 'y-protocols/auth'
import { Awareness } from 'y-protocols/awareness'
import { WebsocketProvider } from 'y-websocket'
import { type BackoffOptions, backoffDelay } from './backoff.js'
import { closeAction, problemFromClose } from './close-codes.js'
import type { PersistedDoc } from './persisted-doc.js'
import { type Ack, MESSAGE_ACK, MESSAGE_AUTH, ackParams, changeFrameKind, readAck } from './protocol.js'
import type { SyncProblem } from './status.js'

/** The part of the WebSocket API the client uses; the browser's WebSocket and `ws` both fit. */
export interface WebSocketLike {
  send(data: Uint8Array | ArrayBuffer): void
  close(code?: number, reason?: string): void
}
export type WebSocketClass = new (url: string, protocols?: string | string[]) => WebSocketLike

export interface ConnectionContext {
  /** y-websocket serverUrl: `ws(s)://host/sync`. */
  readonly syncUrl: string
  /** The relay's HTTP base (`http(s)://host`): history and the other routes beside sync. */
  readonly httpUrl: string
  readonly WebSocket: WebSocketClass
  readonly backoff: BackoffOptions
  /** Give up on a socket that has not opened after this long (then retry). */
  readonly connectTimeoutMs: number
  /** Refused by the device limit (4409): try again quietly this often (0: only when asked, `retry()`). */
  readonly deviceLimitRetryMs: number
  /** The account's current token (fetching one if there is none or it expired). */
  token(): Promise<string>
  /** A fresh token after `stale` was refused (shared by every doc of the account). */
  refreshToken(stale: string): Promise<string>
  /** A close that ends the whole session (device limit, revoked): the account stops every doc. */
  sessionEnded(problem: SyncProblem): void
  /** A connection opened: the relay is reachable (others waiting to retry may go now). */
  reachable(): void
  /** A connection the relay let in (its sync step 2 arrived): a device limit that refused the account is over. */
  admitted(): void
  /**
   * Checked before every frame goes out: false once the account is signing out (in this tab or another), so
   * that no write after a sign-out ever leaves, whatever a timer or a late event does.
   */
  mayWrite(): boolean
}

export type ConnectionPhase = 'idle' | 'connecting' | 'waiting' | 'open' | 'stopped'

export interface ConnectionTraffic {
  /** Every frame sent, in bytes. */
  bytesSent: number
  /** Sync step 2 and update frames (the changes themselves), in bytes. */
  changeBytesSent: number
  framesSent: number
}

export class DocConnection {
  phase: ConnectionPhase = 'idle'
  /** The relay's sync step 2 arrived on the current connection. */
  synced = false
  /** The relay's first ack arrived on the current connection. */
  acked = false
  problem: SyncProblem | null = null
  /** The relay refused this client's changes (viewer): why. */
  readOnly: string | null = null
  retryAt: number | null = null
  readonly traffic: ConnectionTraffic = { bytesSent: 0, changeBytesSent: 0, framesSent: 0 }
  onChange: () => void = () => {}
  /** The relay acked actions (their ids) and stored up to `acked` (encoded state vector). */
  onAcked: (ids: string[], acked: Uint8Array) => void = () => {}

  private readonly provider: WebsocketProvider
  private readonly awareness: Awareness
  private generation = 0
  private attempt = 0
  private serials = 0
  private timer: ReturnType<typeof setTimeout> | undefined
  private usedToken: string | null = null
  /** A 4401 led to a fresh token and no connection has synced since: a second 4401 is final. */
  private refreshedWithoutSync = false
  private destroyed = false
  private halting = false

  constructor(
    private readonly persisted: PersistedDoc,
    readonly name: string,
    private readonly ctx: ConnectionContext,
  ) {
    const doc = persisted.doc
    this.awareness = new Awareness(doc)
    this.provider = new WebsocketProvider(ctx.syncUrl, name, doc, {
      connect: false,
      awareness: this.awareness,
      WebSocketPolyfill: this.socketClass() as unknown as typeof WebSocket,
      disableBc: true,
      shouldReconnect: () => false,
    })
    persisted.addRemoteOrigin(this.provider)
    // Registered after the provider's own update handler: the frame it sent for a transaction is out.
    doc.on('update', this.afterProviderUpdate)
    this.provider.messageHandlers[MESSAGE_ACK] = (_encoder, decoder, provider) => {
      let ack: Ack
      try {
        ack = readAck(decoder)
      } catch {
        return // a malformed ack confirms nothing; the next one will
      }
      this.receiveAck(provider, ack)
    }
    this.provider.messageHandlers[MESSAGE_AUTH] = (_encoder, decoder) =>
      authProtocol.readAuthMessage(decoder, doc, (_doc, reason) => {
        this.readOnly = reason
        this.onChange()
      })
    this.provider.on('status', this.onStatus)
    this.provider.on('sync', this.onSync)
    this.provider.on('connection-close', this.onClose)
  }

  /** Waiting to retry after a failure: try now (another connection of the account just got through). */
  hurry(): void {
    if (this.phase === 'waiting' && !this.destroyed) {
      clearTimeout(this.timer)
      void this.connect()
    }
  }

  /** Starts connecting, unless already trying or stopped by a problem. */
  start(): void {
    if (this.destroyed || this.phase !== 'idle') return
    void this.connect()
  }

  /** Disconnects and stays idle (offline) until `start()`. */
  stop(): void {
    this.halt()
    this.phase = 'idle'
    this.onChange()
  }

  /** Stops with a problem (status `error`) until `retry()`. */
  fail(problem: SyncProblem): void {
    this.halt()
    this.phase = 'stopped'
    this.problem = problem
    this.onChange()
  }

  /**
   * Refused by the device limit: tries once more, quietly. The problem stays (status `error`) until the relay
   * lets this connection in; refused again, it is where it was (the space tries again later).
   */
  probe(): void {
    if (this.destroyed || this.phase !== 'stopped' || this.problem?.reason !== 'device-limit') return
    this.halt()
    this.readOnly = null
    this.attempt = 0
    this.refreshedWithoutSync = false
    this.phase = 'idle'
    this.start() // with the problem kept: the status stays `error` while it tries
  }

  /** Clears a problem and the backoff, and connects now (the person asked to retry, or came online). */
  retry(): void {
    if (this.destroyed) return
    this.halt()
    this.problem = null
    this.readOnly = null
    this.attempt = 0
    this.refreshedWithoutSync = false
    this.phase = 'idle'
    this.start()
  }

  destroy(): void {
    if (this.destroyed) return
    this.halt()
    this.destroyed = true
    this.phase = 'idle'
    this.persisted.doc.off('update', this.afterProviderUpdate)
    this.provider.destroy()
    this.awareness.destroy()
  }

  // ------------------------------------------------------------------------------------------ lifecycle

  private halt(): void {
    this.generation++
    clearTimeout(this.timer)
    this.timer = undefined
    this.retryAt = null
    this.synced = false
    this.acked = false
    this.halting = true
    try {
      this.provider.disconnect() // emits connection-close synchronously: ignored while halting
    } finally {
      this.halting = false
    }
  }

  private async connect(): Promise<void> {
    const generation = ++this.generation
    this.phase = 'connecting'
    this.retryAt = null
    this.onChange()
    let token: string
    try {
      token = await this.ctx.token()
    } catch (err) {
      if (generation !== this.generation) return
      // The host could not give a token (offline, its auth server down): try again later, unless it says
      // the account is gone, which getToken signals by throwing a SyncClientError INVALID_TOKEN.
      if ((err as { code?: string }).code === 'INVALID_TOKEN')
        return this.fail({ reason: 'unauthorized', message: (err as Error).message, closeCode: null })
      return this.scheduleRetry()
    }
    if (generation !== this.generation || this.destroyed) return
    if (!this.ctx.mayWrite()) return this.fail({ reason: 'signed-out', message: 'this account signed out on this device', closeCode: null })
    this.usedToken = token
    this.provider.params = ackParams(token)
    this.provider.connect()
    this.timer = setTimeout(() => {
      if (generation === this.generation && this.phase === 'connecting') this.provider.disconnect()
    }, this.ctx.connectTimeoutMs)
  }

  private scheduleRetry(): void {
    const delay = backoffDelay(++this.attempt, this.ctx.backoff)
    const generation = ++this.generation
    this.phase = 'waiting'
    this.retryAt = Date.now() + delay
    this.timer = setTimeout(() => {
      if (generation === this.generation) void this.connect()
    }, delay)
    this.onChange()
  }

  private readonly onStatus = ({ status }: { status: string }): void => {
    if (status !== 'connected') return
    clearTimeout(this.timer)
    this.phase = 'open'
    this.onChange()
    this.ctx.reachable()
  }

  private readonly onSync = (synced: boolean): void => {
    this.synced = synced
    // Let in while probing past a device limit: the limit no longer holds.
    const admitted = synced && this.problem?.reason === 'device-limit'
    if (admitted) this.problem = null
    this.settled()
    this.onChange()
    if (synced) this.ctx.admitted()
  }

  private readonly onClose = (event: CloseEvent | null): void => {
    // This class decides about reconnecting, not the provider.
    this.provider.shouldConnect = false
    if (this.halting || this.phase === 'idle' || this.phase === 'stopped' || this.destroyed) return
    const generation = this.generation
    clearTimeout(this.timer)
    this.synced = false
    this.acked = false
    if (event === null) return this.scheduleRetry() // connect timeout or the provider's silence watchdog
    const problem = problemFromClose(event.code, event.reason)
    switch (closeAction(event.code)) {
      case 'retry':
        return this.scheduleRetry()
      case 'stop-doc':
        return this.fail(problem)
      case 'stop-session':
        this.fail(problem)
        return this.ctx.sessionEnded(problem)
      case 'refresh-token': {
        if (this.refreshedWithoutSync || this.usedToken === null) return this.fail(problem)
        this.refreshedWithoutSync = true
        this.phase = 'connecting'
        this.onChange()
        this.ctx.refreshToken(this.usedToken).then(
          () => {
            if (generation === this.generation) void this.connect()
          },
          (err: unknown) => {
            if (generation !== this.generation) return
            if ((err as { code?: string }).code === 'INVALID_TOKEN')
              return this.fail({ reason: 'unauthorized', message: (err as Error).message, closeCode: 4401 })
            // getToken() is unreachable for now: keep the one refresh for the next attempt.
            this.refreshedWithoutSync = false
            this.scheduleRetry()
          },
        )
      }
    }
  }

  /** A connection that synced and got its first ack did useful work: reset the backoff and the 4401 rule. */
  private settled(): void {
    if (!this.synced || !this.acked) return
    this.attempt = 0
    this.refreshedWithoutSync = false
  }

  // ---------------------------------------------------------------------------------------- acks, frames

  private receiveAck(provider: WebsocketProvider, ack: Ack): void {
    const socket = provider.ws as unknown as CountingSocket | null
    if (!socket) return
    const ids = this.persisted.ledger.ack(socket.serial, ack.stateVector, ack.committedMessages, ack.encodedStateVector)
    this.persisted.saveLedger()
    this.acked = true
    this.settled()
    this.onChange()
    this.onAcked(ids, ack.encodedStateVector)
  }

  private readonly afterProviderUpdate = (): void => this.persisted.ledger.clearLatest()

  private socketClass(): WebSocketClass {
    const connection = this
    const Base = this.ctx.WebSocket
    return class extends Base implements CountingSocket {
      readonly serial = ++connection.serials
      frames = 0
      override send(data: Uint8Array | ArrayBuffer): void {
        if (!connection.ctx.mayWrite()) {
          // Signed out meanwhile: nothing more leaves this device for the account.
          super.close(1000, 'signed out')
          return
        }
        const frame = data instanceof Uint8Array ? data : new Uint8Array(data)
        connection.sent(this, frame)
        super.send(data)
      }
    }
  }

  private sent(socket: CountingSocket, frame: Uint8Array): void {
    this.traffic.bytesSent += frame.byteLength
    this.traffic.framesSent++
    const kind = changeFrameKind(frame)
    if (!kind) return
    this.traffic.changeBytesSent += frame.byteLength
    const number = ++socket.frames
    if (kind === 'step2') this.persisted.ledger.sentAll(socket.serial, number)
    else this.persisted.ledger.sentLatest(socket.serial, number)
  }
}

interface CountingSocket extends WebSocketLike {
  readonly serial: number
  frames: number
}
