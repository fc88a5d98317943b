/**
 * Several relay processes as one, for tests and the load test: the CLI in child processes on one Postgres and
 * one Redis, a round-robin TCP balancer in front of them (no sticky sessions: each new connection goes to the
 * next live relay), and a protocol client that reconnects through the balancer and records exactly which of
 * its writes an ack covered.
 */
import { connect as tcpConnect, createServer, type Server, type Socket } from 'node:net'
import * as decoding from 'lib0/decoding'
import * as encoding from 'lib0/encoding'
import * as syncProtocol from 'y-protocols/sync'
import WebSocket from 'ws'
import * as Y from 'yjs'
import { readAck } from '@apisync/relay'
import { spawnRelay, type RelayProcess } from './spawn-relay.js'

export interface ClusterOptions {
  postgres: string
  redis: string | null
  prefix: string
  secret: string
  extraArgs?: string[]
  env?: NodeJS.ProcessEnv
}

export interface RelayCluster {
  relays: (RelayProcess | null)[]
  start(i: number): Promise<RelayProcess>
  /** kill -9: no chance to commit, close sockets or leave the registry. */
  kill(i: number): Promise<void>
  stopAll(): Promise<void>
}

export async function relayCluster(n: number, o: ClusterOptions): Promise<RelayCluster> {
  const relays: (RelayProcess | null)[] = Array.from({ length: n }, () => null)
  const start = async (i: number) => {
    const args = ['--port', '0', '--store', o.postgres, '--redis-prefix', o.prefix, '--log-level', 'info', ...(o.redis ? ['--redis', o.redis] : []), ...(o.extraArgs ?? [])]
    const p = await spawnRelay(args, { APISYNC_JWT_SECRET: o.secret, ...o.env })
    relays[i] = p
    return p
  }
  await Promise.all(relays.map((_, i) => start(i)))
  return {
    relays,
    start,
    async kill(i) {
      const p = relays[i]
      if (!p) return
      p.child.kill('SIGKILL')
      await p.exited
      relays[i] = null
    },
    async stopAll() {
      await Promise.all(
        relays.map(async (p, i) => {
          if (!p || p.child.exitCode !== null || p.child.signalCode !== null) return
          p.child.kill('SIGTERM')
          const timer = setTimeout(() => p.child.kill('SIGKILL'), 10_000)
          await p.exited
          clearTimeout(timer)
          relays[i] = null
        }),
      )
    },
  }
}

/** A TCP load balancer on loopback: round robin over the ports `targets()` gives, skipping those that refuse. */
export async function balancer(targets: () => number[]): Promise<{ url: string; wsUrl: string; close(): Promise<void> }> {
  const pairs = new Set<Socket>()
  let next = 0
  const server: Server = createServer((client) => {
    pairs.add(client)
    client.pause()
    const ports = targets()
    const attempt = (tries: number) => {
      if (tries >= ports.length || client.destroyed) return void client.destroy()
      const port = ports[next++ % ports.length]
      const upstream = tcpConnect(port, '127.0.0.1')
      upstream.once('error', () => {
        upstream.destroy()
        attempt(tries + 1)
      })
      upstream.once('connect', () => {
        upstream.removeAllListeners('error')
        pairs.add(upstream)
        client.pipe(upstream)
        upstream.pipe(client)
        client.resume()
        const end = () => {
          pairs.delete(client)
          pairs.delete(upstream)
          client.destroy()
          upstream.destroy()
        }
        client.on('close', end).on('error', end)
        upstream.on('close', end).on('error', end)
      })
    }
    attempt(0)
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  const port = (server.address() as { port: number }).port
  return {
    url: `http://127.0.0.1:${port}`,
    wsUrl: `ws://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((r) => {
        for (const s of pairs) s.destroy()
        server.close(() => r())
      }),
  }
}

/**
 * A y-protocols sync client with acks (`&ack=1`) that reconnects (to `url()`, e.g. through the balancer) when
 * its socket closes, and knows which of its writes were acked: a write is acked once an ack's state vector
 * covers its clock. `ackedIds` only grows, so whatever is in it at any moment must survive anything.
 */
export class BurstClient {
  readonly doc = new Y.Doc()
  readonly ackedIds = new Set<string>()
  ws: WebSocket | null = null
  /** Closes seen, by code. */
  readonly closes: number[] = []
  acks = 0
  /** performance.now() of every ack received. */
  readonly ackTimes: number[] = []
  /** From each write to the ack that covered it, ms, with when the write was made (performance.now()). */
  readonly ackLatencies: number[] = []
  readonly ackLatencyAt: number[] = []
  /** Resolves once the first connection has synced (the relay's sync step 1 arrived). */
  readonly firstSync: Promise<void>
  private markSynced!: () => void
  private readonly writes: { id: string; clock: number; at: number }[] = []
  private firstUnacked = 0
  private stopped = false
  private synced = false

  constructor(
    private readonly url: () => string,
    private readonly retryMs = 100,
  ) {
    this.firstSync = new Promise((resolve) => (this.markSynced = resolve))
    this.doc.on('update', (update: Uint8Array, origin: unknown) => {
      if (origin === this || !this.synced) return
      this.send(encodeSync((e) => syncProtocol.writeUpdate(e, update)))
    })
    this.open()
  }

  /** Append `id` to the doc's log. */
  write(id: string): void {
    this.doc.getArray<string>('log').push([id])
    this.writes.push({ id, clock: Y.getState(this.doc.store, this.doc.clientID), at: performance.now() })
  }

  get written(): number {
    return this.writes.length
  }

  get allAcked(): boolean {
    return this.firstUnacked === this.writes.length
  }

  ids(): string[] {
    return this.doc.getArray<string>('log').toArray()
  }

  close(): void {
    this.stopped = true
    this.ws?.terminate()
  }

  private send(message: Uint8Array): void {
    if (this.ws?.readyState === WebSocket.OPEN) this.ws.send(message)
  }

  private open(): void {
    if (this.stopped) return
    this.synced = false
    const ws = new WebSocket(this.url())
    this.ws = ws
    ws.binaryType = 'nodebuffer'
    ws.on('open', () => this.send(encodeSync((e) => syncProtocol.writeSyncStep1(e, this.doc))))
    ws.on('message', (data: Buffer) => this.received(new Uint8Array(data)))
    ws.on('error', () => {})
    ws.on('close', (code) => {
      this.closes.push(code)
      if (this.ws === ws && !this.stopped) setTimeout(() => this.open(), this.retryMs)
    })
  }

  private received(frame: Uint8Array): void {
    const ack = readAck(frame)
    if (ack) {
      const now = performance.now()
      this.acks++
      this.ackTimes.push(now)
      const acked = Y.decodeStateVector(ack.stateVector).get(this.doc.clientID) ?? 0
      while (this.firstUnacked < this.writes.length && this.writes[this.firstUnacked].clock <= acked) {
        const write = this.writes[this.firstUnacked]
        this.ackedIds.add(write.id)
        this.ackLatencies.push(now - write.at)
        this.ackLatencyAt.push(write.at)
        this.firstUnacked++
      }
      return
    }
    const decoder = decoding.createDecoder(frame)
    if (decoding.readVarUint(decoder) !== 0) return
    const encoder = encoding.createEncoder()
    encoding.writeVarUint(encoder, 0)
    const type = syncProtocol.readSyncMessage(decoder, encoder, this.doc, this)
    // Our own changes go out as updates only once the relay has our state (its step 1 answered below).
    if (type === syncProtocol.messageYjsSyncStep1) {
      this.synced = true
      this.markSynced()
    }
    if (encoding.length(encoder) > 1) this.send(encoding.toUint8Array(encoder))
  }
}

function encodeSync(write: (e: encoding.Encoder) => void): Uint8Array {
  const e = encoding.createEncoder()
  encoding.writeVarUint(e, 0)
  write(e)
  return encoding.toUint8Array(e)
}
