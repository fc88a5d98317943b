/** createRelay: the relay as a Hono app plus its WebSocket server, ready to embed in a Node HTTP server. */
import { upgradeWebSocket } from '@hono/node-server'
import { Hono, type Context } from 'hono'
import { cors } from 'hono/cors'
import type { WebSocketServer } from 'ws'
import { grantedRole } from './account-space.js'
import { createTokenVerifier, type AuthConfig, type TokenVerifier } from './auth.js'
import { newRelayId, openBackend, type Backend } from './backend.js'
import type { Bus } from './bus.js'
import { socketListeners } from './connection.js'
import { DevAuth } from './dev-auth.js'
import { docNameFromPath } from './doc-name.js'
import { ConfigError, RelayError, TokenError } from './errors.js'
import { registerHistoryApi } from './history-api.js'
import type { HistoryOption } from './history.js'
import { bearerToken, registerHttpApi, type HealthReport } from './http-api.js'
import { createJsonLogger, describeError, type Logger } from './logger.js'
import { RelayMetrics } from './metrics.js'
import type { Registry } from './registry.js'
import { Sessions, type DevicePolicy } from './sessions.js'
import { createWebSocketServer, type RelaySocket } from './socket.js'
import type { DocStore, HistoryMaintenance } from './store.js'
import { SyncHub, type SyncAdmission } from './sync.js'

export interface RelayOptions {
  auth: AuthConfig
  /** Directory holding apisync.sqlite (created if missing), for the default store. Default './data'. */
  dataDir?: string
  /**
   * Where docs are stored. Default: SQLite in `dataDir` (a WorkerDocStore). A `postgres://…` URL: Postgres,
   * for several relays sharing it (sessions and key backups go there too; the relay owns and closes it). Or a
   * DocStore: the relay does not close a store it was given; sessions live in the same database when it is a
   * SQLite or Postgres store, else in memory (see `registry`).
   */
  store?: DocStore | string
  /** Sessions, key backups and dev accounts, if not where `store` puts them. Not closed by the relay. */
  registry?: Registry
  /**
   * The bus to the other relays: a `redis://…` URL, or a Bus. Default: none (one relay). With several relays
   * on one Postgres and no bus, each still converges, through `catchUpIntervalMs` reads of the store.
   */
  bus?: Bus | string
  /** Prefix of the bus's Redis channels (several deployments or tests on one Redis). Default 'apisync:'. */
  busPrefix?: string
  /** This relay's id among relays (bus, presence). Default: random. */
  relayId?: string
  /** Adds POST /dev/token (see dev-auth.ts). Never in production. */
  devAuth?: boolean
  /** Sessions of one account connected at once. Default 3; 0 = no limit. */
  maxDevices?: number
  /** What happens to the session that would exceed maxDevices. Default 'refuse' (close 4409). */
  devicePolicy?: DevicePolicy
  /** Largest message accepted; a bigger one closes the connection with 4413. Default 16 MiB. */
  maxMessageBytes?: number
  /** Grace before a doc with no connections is unloaded from memory. Default 30 s. */
  unloadAfterMs?: number
  /** JSON-lines logger; tokens are never logged. Default: JSON lines on stdout, level 'warn'. */
  logger?: Logger
  /** Compact a doc's update log into a snapshot once it holds this many updates. Default 500. */
  compactAfterUpdates?: number
  /** Delay between a log reaching compactAfterUpdates and its (background) compaction. Default 1 s. */
  compactDelayMs?: number
  /** Refuse sync connections past this many with 1013. Default 0 (no limit). */
  maxConnections?: number
  /** WebSocket ping interval; a connection that missed a pong is dropped. Default 30 s. */
  pingIntervalMs?: number
  /** Grace before a gap in a doc's sequence (a bus message missing) is read from the store. Default 100 ms. */
  gapRepairDelayMs?: number
  /** Compare loaded docs with the store's heads this often (bounds the delay of a lost bus message). Default 2 s. */
  catchUpIntervalMs?: number
  /** Re-check live sessions for revocations and deletions this often (bounds a lost revocation message). Default 2 s. */
  recheckIntervalMs?: number
  /**
   * History kept by the stores the relay opens (history.ts; docs/operations.md): every version for
   * `keepAllDays` (30), then one per day for `dailyDays` more (365), a checkpoint every `checkpointEvery`
   * updates (500). `false`: no history (compaction drops the log). A DocStore given in `store` has its own.
   */
  history?: HistoryOption
  /** Apply the retention policy to every stored doc this often. Default 1 h; 0 = only on `maintainHistory()`. */
  historySweepIntervalMs?: number
  /** The relay's clock in ms (commit times, retention). Default Date.now; tests inject one to jump days. */
  now?: () => number
}

export interface RelayStats {
  connections: number
  docs: number
  sessions: number
}

export interface Relay {
  /** The Hono app: /sync/*, /healthz, /metrics, /sessions, /account, /dev/token. */
  readonly app: Hono
  /** Give this to @hono/node-server: `serve({ fetch: relay.app.fetch, websocket: relay.websocket })`. */
  readonly websocket: { server: WebSocketServer }
  readonly metrics: RelayMetrics
  /** This relay's id among relays. */
  readonly id: string
  /** Resolves once storage is open (and migrated) and the bus started; rejects if storage cannot be opened. */
  readonly ready: Promise<void>
  /** Commit (and ack) everything received so far. */
  flush(): Promise<void>
  stats(): RelayStats
  /** Whether the store and the bus answer now. */
  health(): Promise<HealthReport>
  /** Apply the history retention policy to every stored doc now (the sweep does it every historySweepIntervalMs). */
  maintainHistory(): Promise<HistoryMaintenance>
  /** Graceful: commit, close every connection with 1012, commit again, release storage. */
  close(): Promise<void>
}

export const DEFAULT_MAX_MESSAGE_BYTES = 16 * 1024 * 1024

export function createRelay(options: RelayOptions): Relay {
  const logger = options.logger ?? createJsonLogger({ level: 'warn' })
  const maxMessageBytes = options.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES
  if (!(maxMessageBytes > 0)) throw new ConfigError('maxMessageBytes must be positive')
  const relayId = options.relayId ?? newRelayId()
  const recheckIntervalMs = options.recheckIntervalMs ?? 2_000
  const now = options.now ?? Date.now

  let storeUp = 1
  const metrics = new RelayMetrics({
    connections: () => hub.connections.size,
    docs: () => hub.rooms.size,
    sessions: () => sessions.liveSessions,
    storeUp: () => storeUp,
    busUp: () => (backend.bus.connected ? 1 : 0),
  })
  // Opened first, so that a data dir or URL that cannot be used fails here, before a worker or a pool starts.
  const backend: Backend = openBackend({
    store: options.store,
    registry: options.registry,
    bus: options.bus,
    busPrefix: options.busPrefix,
    dataDir: options.dataDir ?? './data',
    relayId,
    logger,
    metrics,
    aliveForMs: Math.max(3 * recheckIntervalMs, 5_000) + 5_000,
    history: options.history,
    now,
  })

  const devAuth = options.devAuth ? backend.ready.then(() => DevAuth.open(backend.registry.devAccounts, options.auth)) : null
  devAuth?.catch(() => {})
  let verify: TokenVerifier
  try {
    if (devAuth && !options.auth.secret) {
      // The secret is kept in the store: verify once it is read.
      const verifier = devAuth.then((d) => createTokenVerifier({ ...options.auth, secret: d.secret }))
      verifier.catch(() => {})
      verify = async (token) => (await verifier)(token)
    } else verify = createTokenVerifier(options.auth)
  } catch (err) {
    void backend.close()
    throw err
  }

  const wss = createWebSocketServer(maxMessageBytes)
  let closing: Promise<void> | null = null
  const sessions: Sessions = new Sessions(
    backend.registry.sessions,
    { maxDevices: options.maxDevices ?? 3, devicePolicy: options.devicePolicy ?? 'refuse', recheckIntervalMs },
    (event) => backend.bus.announce(event),
    logger,
    () => [...hub.rooms.values()].map((r) => r.workspaceId),
    (workspaceId) => hub.workspaceDeleted(workspaceId),
  )
  const hub: SyncHub = new SyncHub({
    store: backend.store,
    bus: backend.bus,
    relayId,
    sessions,
    metrics,
    logger,
    unloadAfterMs: options.unloadAfterMs ?? 30_000,
    compactAfterUpdates: options.compactAfterUpdates ?? 500,
    compactDelayMs: options.compactDelayMs ?? 1_000,
    maxConnections: options.maxConnections ?? 0,
    maxBacklogBytes: Math.max(4 * maxMessageBytes, 64 * 1024 * 1024),
    pingIntervalMs: options.pingIntervalMs ?? 30_000,
    gapRepairDelayMs: options.gapRepairDelayMs ?? 100,
    catchUpIntervalMs: options.catchUpIntervalMs ?? 2_000,
  })
  const ready = backend.ready.then(() =>
    backend.bus.start({
      doc: (message) => hub.replication.received(message),
      control: (event) => sessions.controlEvent(event),
      reconnected: () => {
        void hub.replication.catchUp(true)
        void sessions.recheck()
      },
    }),
  )
  ready.catch(() => {}) // reported to whoever awaits it (startRelay does), not as an unhandled rejection

  const health = async (): Promise<HealthReport> => {
    const probe = async (ping: (() => Promise<void>) | undefined) => {
      let timer: NodeJS.Timeout | undefined
      try {
        await Promise.race([
          ping?.() ?? Promise.resolve(),
          new Promise((_, reject) => (timer = setTimeout(() => reject(new Error('no answer within 2 s')), 2_000))),
        ])
        return { ok: true }
      } catch (err) {
        return { ok: false, error: err instanceof Error ? err.message : String(err) }
      } finally {
        clearTimeout(timer)
      }
    }
    const [store, bus] = await Promise.all([probe(backend.store.ping?.bind(backend.store)), probe(() => backend.bus.ping())])
    storeUp = store.ok ? 1 : 0
    return { store: { kind: backend.kind, ...store }, bus: { kind: backend.bus.kind, ...bus } }
  }

  const app = new Hono()
  const allowCors = cors({ origin: '*', allowHeaders: ['Authorization', 'Content-Type'], allowMethods: ['GET', 'POST', 'PUT', 'DELETE'] })
  app.use('*', async (c, next) => (c.req.path.startsWith('/sync/') ? next() : allowCors(c, next)))
  app.use('*', async (c, next) => {
    const started = performance.now()
    await next()
    // The path only: a query string may carry a token.
    logger.debug('http', { method: c.req.method, path: c.req.path, status: c.res.status, ms: Math.round(performance.now() - started) })
  })

  registerHttpApi(app, {
    verify,
    sessions,
    registry: backend.registry.sessions,
    hub,
    metrics,
    devAuth,
    keyBackups: backend.registry.keyBackups,
    logger,
    health,
    isClosing: () => closing !== null,
  })

  registerHistoryApi(app, { verify, registry: backend.registry.sessions, store: backend.store })

  // Retention runs doc by doc in the background; one sweep at a time.
  let sweeping: Promise<HistoryMaintenance> | null = null
  const maintainHistory = (): Promise<HistoryMaintenance> =>
    (sweeping ??= (async () => {
      const total = { dropped: 0, merged: 0 }
      const store = backend.store
      if (!store.historyEnabled || !store.maintainHistory) return total
      await ready
      for (const doc of await store.listDocs()) {
        if (closing) break
        const done = await store.maintainHistory(doc, now())
        total.dropped += done.dropped
        total.merged += done.merged
      }
      if (total.dropped + total.merged > 0) logger.info('history.maintained', { ...total })
      return total
    })().finally(() => (sweeping = null)))
  const sweepEvery = options.historySweepIntervalMs ?? 60 * 60 * 1000
  const sweepTimer =
    sweepEvery > 0
      ? setInterval(() => void maintainHistory().catch((err) => logger.warn('history.sweep-failed', { error: describeError(err) })), sweepEvery)
      : null
  sweepTimer?.unref()

  app.get(
    '/sync/*',
    upgradeWebSocket(
      async (c) => {
        const admission = await admit(c)
        let conn: ReturnType<SyncHub['open']> = null
        let adopted = false
        return {
          onOpen: (_event, ws) => {
            // We created the server, so the raw socket is ws's WebSocket (our RelaySocket).
            const socket = ws.raw as unknown as RelaySocket
            conn = hub.open(socket, admission)
            const adopt = listenersAddedAfter(socket)
            // @hono/node-server adds its message/close/error listeners right after onOpen returns. They hold the
            // whole request (Context, Request, IncomingMessage, headers, URLs) for the socket's lifetime and copy
            // every frame into a MessageEvent; once they are in place, swap them for listeners that hold the
            // connection only. Frames that arrived before go through onMessage below (hono delivers them first).
            queueMicrotask(() => {
              adopted = true
              adopt(socketListeners)
            })
          },
          onMessage: (event) => {
            if (conn && !adopted) conn.received(typeof event.data === 'string' ? event.data : toBytes(event.data))
          },
          onClose: () => conn?.socketClosed(),
        }
      },
      { onError: (err) => logger.error('sync.handler-error', { error: describeError(err) }) },
    ),
    (c) => c.json({ error: 'UpgradeRequired', message: 'connect with a WebSocket' }, 426),
  )

  /** Authenticate and authorise the upgrade request before the socket opens; failures close it with a code. */
  async function admit(c: Context): Promise<SyncAdmission> {
    try {
      const token = c.req.query('token') ?? bearerToken(c.req.header('authorization'))
      if (!token) throw new TokenError('token missing')
      const claims = await verify(token)
      const doc = docNameFromPath(new URL(c.req.url).pathname)
      const role = grantedRole(claims, doc.workspaceId)
      if (!role) throw new RelayError(4403, 'workspace not granted')
      return { ok: true, claims, doc, role, wantsAck: c.req.query('ack') === '1', userAgent: c.req.header('user-agent') ?? null }
    } catch (err) {
      if (err instanceof RelayError) return { ok: false, error: err }
      logger.error('sync.admit-error', { error: describeError(err) })
      return { ok: false, error: new RelayError(1011, 'server error') }
    }
  }

  return {
    app,
    websocket: { server: wss },
    metrics,
    id: relayId,
    ready,
    flush: () => hub.flush(),
    stats: () => ({ connections: hub.connections.size, docs: hub.rooms.size, sessions: sessions.liveSessions }),
    health,
    maintainHistory,
    close: () =>
      (closing ??= (async () => {
        if (sweepTimer) clearInterval(sweepTimer)
        await sweeping?.catch(() => {})
        sessions.close()
        await hub.close()
        await backend.registry.sessions.flush().catch(() => {})
        wss.close()
        await backend.close()
      })()),
  }
}

/** Remember the socket's listeners now; the returned function replaces those added since with `ours`. */
function listenersAddedAfter(socket: RelaySocket): (ours: typeof socketListeners) => void {
  const events = ['message', 'close', 'error'] as const
  const before = new Map(events.map((e) => [e, new Set(socket.listeners(e))]))
  return (ours) => {
    for (const e of events) {
      for (const listener of socket.listeners(e)) if (!before.get(e)!.has(listener)) socket.off(e, listener as () => void)
      socket.on(e, ours[e])
    }
  }
}

/** Hono hands binary frames over as an ArrayBuffer. */
function toBytes(data: ArrayBufferLike | ArrayBufferView | Blob): Uint8Array | string {
  if (data instanceof Blob) return '' // never produced by the Node adapter; treated like a text frame
  if (ArrayBuffer.isView(data)) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength)
  return new Uint8Array(data)
}
