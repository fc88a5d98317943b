/**
 * The bus on Redis pub/sub (node-redis, `redis` 6): one channel per doc, `{prefix}doc:{docName}`, to which only
 * the relays holding the doc subscribe, and one control channel, `{prefix}control`, for revocations and
 * deletions. Two connections: a subscriber (in subscriber mode it can do nothing else) and a publisher.
 *
 * Redis pub/sub delivers at most once: a message sent while a relay is disconnected, or dropped with a slow
 * subscriber, is gone. So every reconnect is reported (`reconnected`: the relay reads from the store what its
 * docs missed), commands are never queued while offline (a publish fails at once and the store repairs it),
 * and the subscriptions are this module's own list, sent again on every reconnect.
 *
 * Why node-redis rather than ioredis: it is the client Redis itself maintains, its pub/sub API takes a listener
 * per channel with Buffer payloads (`subscribe(channel, listener, true)`), which is exactly the per-doc shape
 * here, and `disableOfflineQueue` gives the fail-fast publishing this design wants. (Hocuspocus' extension,
 * benchmarked against, brings ioredis as its own dependency.)
 */
import { createClient } from 'redis'
import type { Bus, BusHandlers, ControlEvent, DocMessage } from './bus.js'
import { decodeControlEvent, decodeDocMessage, encodeControlEvent, encodeDocMessage } from './bus.js'
import type { Logger } from './logger.js'
import { describeError } from './logger.js'

export interface RedisBusOptions {
  /** redis://[user:password@]host:port[/db] or rediss://… */
  url: string
  /** Prefix of every channel, so that several deployments (or tests) can share one Redis. Default 'apisync:'. */
  prefix?: string
  /** This relay's id: its own messages come back to it and are skipped by it. */
  relayId: string
  logger: Logger
  /** How long `start` waits for a first connection before going on without (it keeps trying). Default 3 s. */
  connectWaitMs?: number
  /** A publish failed (the message is lost; the store repairs it). */
  onPublishError?: () => void
}

type Client = ReturnType<typeof createClient>

export class RedisBus implements Bus {
  readonly kind = 'redis'
  private readonly prefix: string
  private readonly publisher: Client
  private readonly subscriber: Client
  private readonly channels = new Set<string>()
  private handlers: BusHandlers | null = null
  private wasReady = false
  private lastErrorLog = 0
  private closed = false

  constructor(private readonly o: RedisBusOptions) {
    this.prefix = o.prefix ?? 'apisync:'
    const options = {
      url: o.url,
      disableOfflineQueue: true,
      socket: { connectTimeout: 2000, reconnectStrategy: (retries: number) => Math.min(50 * 2 ** retries, 1000) },
    }
    this.publisher = createClient(options)
    this.subscriber = createClient(options)
    for (const client of [this.publisher, this.subscriber]) client.on('error', this.onError)
    this.subscriber.on('ready', () => void this.onSubscriberReady())
  }

  get connected(): boolean {
    return this.subscriber.isReady && this.publisher.isReady
  }

  async start(handlers: BusHandlers): Promise<void> {
    this.handlers = handlers
    const connecting = Promise.all([this.publisher.connect(), this.subscriber.connect()])
    connecting.catch(() => {})
    let timer: NodeJS.Timeout | undefined
    const waited = await Promise.race([
      connecting.then(() => true),
      new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), this.o.connectWaitMs ?? 3000))),
    ])
    clearTimeout(timer)
    if (!waited) this.o.logger.warn('bus.unavailable', { msg: 'Redis not reachable yet; relaying through the store until it is' })
  }

  publish(message: DocMessage): void {
    if (!this.publisher.isReady) {
      this.o.onPublishError?.()
      return
    }
    const bytes = encodeDocMessage(message)
    this.publisher.publish(this.docChannel(message.docName), Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)).catch(() => this.o.onPublishError?.())
  }

  async subscribe(docName: string): Promise<void> {
    const channel = this.docChannel(docName)
    this.channels.add(channel)
    if (!this.subscriber.isReady) return
    try {
      await this.subscriber.subscribe(channel, this.onDocMessage, true)
    } catch (err) {
      // Subscribed again on reconnect; meanwhile the catch-up reads cover this doc.
      this.logError(err)
    }
  }

  unsubscribe(docName: string): void {
    const channel = this.docChannel(docName)
    if (!this.channels.delete(channel) || !this.subscriber.isReady) return
    this.subscriber.unsubscribe(channel, this.onDocMessage, true).catch(() => {})
  }

  announce(event: ControlEvent): void {
    if (!this.publisher.isReady) return
    this.publisher.publish(this.controlChannel(), encodeControlEvent(this.o.relayId, event)).catch((err: unknown) => this.logError(err))
  }

  async ping(): Promise<void> {
    if (!this.publisher.isReady) throw new Error('Redis not connected')
    await this.publisher.ping()
  }

  async close(): Promise<void> {
    if (this.closed) return
    this.closed = true
    for (const client of [this.subscriber, this.publisher]) {
      try {
        if (client.isOpen) await client.close()
      } catch {
        client.destroy()
      }
    }
  }

  private docChannel(docName: string): string {
    return `${this.prefix}doc:${docName}`
  }

  private controlChannel(): string {
    return `${this.prefix}control`
  }

  private async onSubscriberReady(): Promise<void> {
    const reconnect = this.wasReady
    this.wasReady = true
    try {
      await this.subscriber.subscribe(this.controlChannel(), this.onControlMessage)
      if (this.channels.size > 0) await this.subscriber.subscribe([...this.channels], this.onDocMessage, true)
    } catch (err) {
      this.logError(err)
    }
    this.o.logger.info(reconnect ? 'bus.reconnected' : 'bus.connected', { channels: this.channels.size })
    // Whatever was published while we were away is in the store; a first connection after a slow start too.
    this.handlers?.reconnected()
  }

  private readonly onDocMessage = (message: Buffer, channel: Buffer): void => {
    const name = channel.toString()
    if (!name.startsWith(this.prefix)) return
    const decoded = decodeDocMessage(name.slice(this.prefix.length + 'doc:'.length), new Uint8Array(message.buffer, message.byteOffset, message.byteLength))
    if (decoded && decoded.from !== this.o.relayId) this.handlers?.doc(decoded)
  }

  private readonly onControlMessage = (message: string): void => {
    const event = decodeControlEvent(message)
    if (event && event.from !== this.o.relayId) {
      const { from: _from, ...rest } = event
      this.handlers?.control(rest as ControlEvent)
    }
  }

  private readonly onError = (err: unknown): void => this.logError(err)

  /** Connection errors repeat on every retry: log one a second at most. */
  private logError(err: unknown): void {
    const now = Date.now()
    if (now - this.lastErrorLog < 1000 || this.closed) return
    this.lastErrorLog = now
    this.o.logger.warn('bus.error', { error: describeError(err) })
  }
}
