/** createRelay: the relay as a Hono app plus its WebSocket server, ready to embed in a Node HTTP server. */
import { upgradeWebSocket } from '@hono/node-server'
import { Hono, type Context } from 'hono'
import { cors } from 'hono/cors'
import type { WebSocketServer } from 'ws'
import { grantedRole } from './account-space.js'
import { createTokenVerifier, type AuthConfig, type TokenVerifier } from './auth.js'
import { socketListeners } from './connection.js'
import { DevAuth } from './dev-auth.js'
import { docNameFromPath } from './doc-name.js'
import { ConfigError, RelayError, TokenError } from './errors.js'
import { bearerToken, registerHttpApi } from './http-api.js'
import { KeyBackups } from './key-backups.js'
import { createJsonLogger, describeError, type Logger } from './logger.js'
import { RelayMetrics } from './metrics.js'
import { Sessions, type DevicePolicy } from './sessions.js'
import { createWebSocketServer, type RelaySocket } from './socket.js'
import { openDatabase, type SqliteDatabase } from './sqlite.js'
import { SqliteDocStore } from './sqlite-store.js'
import type { DocStore } from './store.js'
import { SyncHub, type SyncAdmission } from './sync.js'
import { WorkerDocStore } from './worker-store.js'

export interface RelayOptions {
  auth: AuthConfig
  /** Directory holding apisync.sqlite (created if missing). Default './data'. */
  dataDir?: string
  /**
   * Where docs are stored; overrides dataDir. Default: a WorkerDocStore on `{dataDir}/apisync.sqlite`.
   * Sessions live in the same database file when it is a SqliteDocStore or a WorkerDocStore, else in
   * memory. The relay does not close a store it was given.
   */
  store?: DocStore
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
  /** WebSocket ping interval; a connection that misses a pong is dropped. Default 30 s. */
  pingIntervalMs?: number
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
  /** Resolves once storage is open (the default store opens on a worker thread); rejects if it cannot be. */
  readonly ready: Promise<void>
  /** Commit (and ack) everything received so far. */
  flush(): Promise<void>
  stats(): RelayStats
  /** Graceful: commit, close every connection with 1012, commit again, release storage. */
  close(): Promise<void>
}

export const DEFAULT_MAX_MESSAGE_BYTES = 16 * 1024 * 1024

export function createRelay(options: RelayOptions): Relay {
  const logger = options.logger ?? createJsonLogger({ level: 'warn' })
  const maxMessageBytes = options.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES
  if (!(maxMessageBytes > 0)) throw new ConfigError('maxMessageBytes must be positive')

  const dataDir = options.dataDir ?? './data'
  // Opened first, so that a data dir that cannot be used fails here, before a worker starts.
  const { db, ownsDb } = registryDatabase(options.store, dataDir)
  const store = options.store ?? new WorkerDocStore({ dataDir })
  const ownsStore = options.store === undefined
  const ready = store instanceof WorkerDocStore ? store.opened() : Promise.resolve()
  ready.catch(() => {}) // reported to whoever awaits it (startRelay does), not as an unhandled rejection

  const sessions = new Sessions(db, {
    maxDevices: options.maxDevices ?? 3,
    devicePolicy: options.devicePolicy ?? 'refuse',
  })
  const devAuth = options.devAuth ? new DevAuth(db, options.auth) : null
  let verify: TokenVerifier
  try {
    verify = createTokenVerifier(devAuth ? { ...options.auth, secret: devAuth.secret } : options.auth)
  } catch (err) {
    if (ownsStore) void store.close()
    if (ownsDb) db.close()
    throw err
  }

  const metrics = new RelayMetrics({
    connections: () => hub.connections.size,
    docs: () => hub.rooms.size,
    sessions: () => sessions.liveSessions,
  })
  const hub = new SyncHub({
    store,
    sessions,
    metrics,
    logger,
    unloadAfterMs: options.unloadAfterMs ?? 30_000,
    compactAfterUpdates: options.compactAfterUpdates ?? 500,
    compactDelayMs: options.compactDelayMs ?? 1_000,
    maxConnections: options.maxConnections ?? 0,
    maxBacklogBytes: Math.max(4 * maxMessageBytes, 64 * 1024 * 1024),
    pingIntervalMs: options.pingIntervalMs ?? 30_000,
  })
  const wss = createWebSocketServer(maxMessageBytes)
  let closing: Promise<void> | null = null

  const app = new Hono()
  const allowCors = cors({ origin: '*', allowHeaders: ['Authorization', 'Content-Type'], allowMethods: ['GET', 'POST', 'PUT', 'DELETE'] })
  app.use('*', async (c, next) => (c.req.path.startsWith('/sync/') ? next() : allowCors(c, next)))
  app.use('*', async (c, next) => {
    const started = performance.now()
    await next()
    // The path only: a query string may carry a token.
    logger.debug('http', { method: c.req.method, path: c.req.path, status: c.res.status, ms: Math.round(performance.now() - started) })
  })

  const keyBackups = new KeyBackups(db)
  registerHttpApi(app, { verify, sessions, hub, metrics, devAuth, keyBackups, logger, isClosing: () => closing !== null })

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
    ready,
    flush: () => hub.flush(),
    stats: () => ({ connections: hub.connections.size, docs: hub.rooms.size, sessions: sessions.liveSessions }),
    close: () =>
      (closing ??= (async () => {
        await hub.close()
        sessions.flush()
        wss.close()
        if (ownsStore) await store.close()
        if (ownsDb) db.close()
      })()),
  }
}

/**
 * The database of sessions, key backups and tombstones, used on the main thread: they are read on every
 * connection (revocation, device limit) and must see their own writes at once. With the default
 * WorkerDocStore this is a second connection to the same file. WAL lets it read while the worker commits;
 * its few writes (session records batched every 100 ms, revocations, key backups) wait for the worker's
 * write lock through busy_timeout, at most one commit, since the worker only writes what this thread hands
 * it. It leaves WAL checkpoints to the worker, so that none runs on the event loop.
 */
function registryDatabase(store: DocStore | undefined, dataDir: string): { db: SqliteDatabase; ownsDb: boolean } {
  if (store instanceof SqliteDocStore) return { db: store.database, ownsDb: false }
  const file = store === undefined ? dataDir : store instanceof WorkerDocStore ? store.dataDir : ':memory:'
  const db = openDatabase(file)
  if (file !== ':memory:') db.pragma('wal_autocheckpoint = 0')
  return { db, ownsDb: true }
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
