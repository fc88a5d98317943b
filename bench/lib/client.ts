/**
 * A minimal sync client that speaks both the y-websocket protocol (the apisync relay and
 * @y/websocket-server) and Hocuspocus' framing (each message prefixed with the document name,
 * an Auth message first), built on y-protocols' encoders, so that every server is loaded by the
 * same client code. It opts into the relay's ack message with `ack: true`.
 *
 * Incoming document updates are time-stamped when their frame arrives and applied in a batch
 * right after the current poll phase (setImmediate): with 50 clients in one process, the
 * 50th reader's receipt time then does not include 49 other readers' Yjs work.
 */
import { performance } from 'node:perf_hooks'
import * as decoding from 'lib0/decoding'
import * as encoding from 'lib0/encoding'
import * as syncProtocol from 'y-protocols/sync'
import WebSocket from 'ws'
import * as Y from 'yjs'
import type { Target } from './servers.js'

const messageSync = 0
const messageAwareness = 1
const messageAuth = 2
const messageHocuspocusSyncReply = 4
const messageHocuspocusClose = 7
const messageAck = 100
const hocuspocusAuthToken = 0
const hocuspocusPermissionDenied = 1
const hocuspocusAuthenticated = 2

export type StateVector = Map<number, number>

export interface ClientOptions {
  readonly target: Target
  readonly docName: string
  /** distinct per client: the relay token's `sub` and `sid` are derived from it */
  readonly id: string
  readonly doc?: Y.Doc
  /** ask the relay for ack messages (`&ack=1`) */
  readonly ack?: boolean
  /** false: keep received updates in `received` instead of applying them (initial-sync timing) */
  readonly apply?: boolean
  /** a relay token signed beforehand (see `relayToken`), to keep signing out of timed phases */
  readonly token?: string
}

export class SyncError extends Error {
  constructor(
    message: string,
    readonly code?: number,
  ) {
    super(message)
    this.name = 'SyncError'
  }
}

let relayModule: Promise<typeof import('@apisync/relay')> | undefined

/** A relay token for one client: its own account and session, editor of the doc's workspace. */
export const relayToken = async (target: Target, docName: string, id: string): Promise<string> => {
  if (target.secret === undefined) throw new Error('the relay target has no secret')
  relayModule ??= import('@apisync/relay')
  const { signToken } = await relayModule
  const workspaceId = docName.slice(0, docName.indexOf('/'))
  return signToken(
    { sub: `account-${id}`, sid: `session-${id}`, ws: { [workspaceId]: 'editor' } },
    { secret: target.secret },
    { expiresIn: '1h' },
  )
}

/** Clients with received-but-not-yet-applied updates, drained once per event-loop turn. */
const toApply = new Set<SyncClient>()
let drainScheduled = false
const drain = (): void => {
  drainScheduled = false
  for (const client of toApply) client.applyPending()
  toApply.clear()
}

export class SyncClient {
  readonly doc: Y.Doc
  readonly ws: WebSocket
  /** resolves once the first sync step 2 from the server has arrived (and been applied, if applying) */
  readonly synced: Promise<void>
  /** performance.now() when the first sync step 2 arrived */
  syncedAt = Number.NaN
  /** receipt time of the update being applied now (read it in Y.Doc observers) */
  receiptTime = Number.NaN
  /** with `apply: false`: the payloads of every received sync step 2 and update */
  readonly received: Uint8Array[] = []
  /** the last state vector the relay acked */
  acked: StateVector = new Map()

  private readonly framing: Target['framing']
  private readonly docName: string
  private readonly apply: boolean
  private readonly pending: { time: number; update: Uint8Array; step2: boolean }[] = []
  private resolveSynced!: () => void
  private rejectSynced!: (error: Error) => void
  private ackWaiters: { sv: StateVector; resolve: () => void; reject: (error: Error) => void }[] = []
  private step2Waiters: { resolve: () => void; reject: (error: Error) => void }[] = []
  private closedError: SyncError | undefined
  private readonly onDocUpdate: (update: Uint8Array, origin: unknown) => void

  constructor(options: ClientOptions, url: string, token: string | undefined) {
    this.doc = options.doc ?? new Y.Doc()
    this.framing = options.target.framing
    this.docName = options.docName
    this.apply = options.apply ?? true
    this.synced = new Promise<void>((resolve, reject) => {
      this.resolveSynced = resolve
      this.rejectSynced = reject
    })
    this.synced.catch(() => undefined) // observed through `synced` by whoever awaits it
    this.ws = new WebSocket(url)
    this.ws.binaryType = 'nodebuffer'
    this.ws.on('open', () => {
      if (this.framing === 'hocuspocus') {
        // Hocuspocus answers nothing until the document's Auth message; sync starts once authenticated.
        this.send((e) => {
          encoding.writeVarUint(e, messageAuth)
          encoding.writeVarUint(e, hocuspocusAuthToken)
          encoding.writeVarString(e, token ?? '')
        })
      } else {
        this.sendSyncStep1()
      }
    })
    this.ws.on('message', (data: Buffer) => this.onMessage(data))
    this.ws.on('error', (error) => this.fail(new SyncError(`${options.target.kind}: ${error.message}`)))
    this.ws.on('close', (code, reason) =>
      this.fail(new SyncError(`${options.target.kind}: closed ${code} ${reason.toString()}`, code)),
    )
    this.onDocUpdate = (update, origin) => {
      if (origin === this) return
      this.send((e) => {
        encoding.writeVarUint(e, messageSync)
        syncProtocol.writeUpdate(e, update)
      })
    }
    this.doc.on('update', this.onDocUpdate)
  }

  /** Send sync step 1 and wait for the server's step 2 reply: everything sent before it has been applied. */
  roundtrip(): Promise<void> {
    const reply = new Promise<void>((resolve, reject) => this.step2Waiters.push({ resolve, reject }))
    this.sendSyncStep1()
    return reply
  }

  /** Wait for a relay ack whose state vector covers `sv` (default: this client's whole state). */
  whenAcked(sv: StateVector = Y.decodeStateVector(Y.encodeStateVector(this.doc))): Promise<void> {
    if (covers(this.acked, sv)) return Promise.resolve()
    if (this.closedError !== undefined) return Promise.reject(this.closedError)
    return new Promise((resolve, reject) => this.ackWaiters.push({ sv, resolve, reject }))
  }

  /** Close the socket; the doc stays usable (and may be given to another client). */
  close(): Promise<void> {
    this.doc.off('update', this.onDocUpdate)
    if (this.ws.readyState === WebSocket.CLOSED) return Promise.resolve()
    return new Promise((resolve) => {
      this.ws.once('close', () => resolve())
      this.ws.close()
    })
  }

  /** Apply the updates received since the last turn, each with its receipt time. */
  applyPending(): void {
    for (const { time, update, step2 } of this.pending) {
      this.receiptTime = time
      Y.applyUpdate(this.doc, update, this)
      if (step2) this.step2Arrived(time)
    }
    this.pending.length = 0
  }

  private send(write: (encoder: encoding.Encoder) => void): void {
    if (this.ws.readyState !== WebSocket.OPEN) return
    const encoder = encoding.createEncoder()
    if (this.framing === 'hocuspocus') encoding.writeVarString(encoder, this.docName)
    write(encoder)
    this.ws.send(encoding.toUint8Array(encoder))
  }

  private sendSyncStep1(): void {
    this.send((e) => {
      encoding.writeVarUint(e, messageSync)
      syncProtocol.writeSyncStep1(e, this.doc)
    })
  }

  private onMessage(data: Buffer): void {
    const time = performance.now()
    const decoder = decoding.createDecoder(data)
    if (this.framing === 'hocuspocus') decoding.readVarString(decoder)
    const type = decoding.readVarUint(decoder)
    switch (type) {
      case messageSync:
      case messageHocuspocusSyncReply:
        this.onSync(decoder, time)
        break
      case messageAuth:
        if (this.framing === 'hocuspocus') {
          const authType = decoding.readVarUint(decoder)
          if (authType === hocuspocusAuthenticated) this.sendSyncStep1()
          else if (authType === hocuspocusPermissionDenied) this.fail(new SyncError(`permission denied: ${decoding.readVarString(decoder)}`))
        } else {
          this.fail(new SyncError('permission denied'))
        }
        break
      case messageAck:
        this.onAck(Y.decodeStateVector(decoding.readVarUint8Array(decoder)))
        break
      case messageHocuspocusClose:
        if (this.framing === 'hocuspocus') this.fail(new SyncError(`closed by server: ${decoding.readVarString(decoder)}`))
        break
      case messageAwareness:
      default:
        break // awareness, Hocuspocus' sync status and pings: not needed here
    }
  }

  private onSync(decoder: decoding.Decoder, time: number): void {
    const syncType = decoding.readVarUint(decoder)
    switch (syncType) {
      case syncProtocol.messageYjsSyncStep1: {
        const sv = decoding.readVarUint8Array(decoder)
        this.send((e) => {
          encoding.writeVarUint(e, messageSync)
          syncProtocol.writeSyncStep2(e, this.doc, sv)
        })
        break
      }
      case syncProtocol.messageYjsSyncStep2:
      case syncProtocol.messageYjsUpdate: {
        const update = decoding.readVarUint8Array(decoder)
        const step2 = syncType === syncProtocol.messageYjsSyncStep2
        if (!this.apply) {
          this.received.push(update)
          if (step2) this.step2Arrived(time)
          break
        }
        this.pending.push({ time, update, step2 })
        toApply.add(this)
        if (!drainScheduled) {
          drainScheduled = true
          setImmediate(drain)
        }
        break
      }
      default:
        this.fail(new SyncError(`unknown sync message type ${syncType}`))
    }
  }

  private step2Arrived(time: number): void {
    if (Number.isNaN(this.syncedAt)) {
      this.syncedAt = time
      this.resolveSynced()
    }
    this.step2Waiters.shift()?.resolve()
  }

  private onAck(sv: StateVector): void {
    this.acked = sv
    this.ackWaiters = this.ackWaiters.filter((w) => {
      if (!covers(sv, w.sv)) return true
      w.resolve()
      return false
    })
  }

  private fail(error: SyncError): void {
    this.closedError ??= error
    this.rejectSynced(error)
    for (const w of [...this.ackWaiters, ...this.step2Waiters]) w.reject(error)
    this.ackWaiters = []
    this.step2Waiters = []
  }
}

export const covers = (have: StateVector, want: StateVector): boolean => {
  for (const [client, clock] of want) if ((have.get(client) ?? 0) < clock) return false
  return true
}

/** Open a client; it syncs in the background (await `client.synced`). */
export const openClient = async (options: ClientOptions): Promise<SyncClient> => {
  const { target, docName, id } = options
  const token = options.token ?? (target.kind === 'apisync' ? await relayToken(target, docName, id) : undefined)
  return new SyncClient(options, target.url(docName, { token, ack: options.ack }), token)
}

/** Open a client and wait until its initial sync is done. */
export const connect = async (options: ClientOptions): Promise<SyncClient> => {
  const client = await openClient(options)
  await client.synced
  return client
}
