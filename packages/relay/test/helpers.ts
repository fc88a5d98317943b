/** Test helpers: a relay on loopback in a temp dir, tokens, and a bare protocol client over `ws`. */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import pg from 'pg'
import * as decoding from 'lib0/decoding'
import * as encoding from 'lib0/encoding'
import * as awarenessProtocol from 'y-protocols/awareness'
import * as syncProtocol from 'y-protocols/sync'
import WebSocket from 'ws'
import * as Y from 'yjs'
import {
  createJsonLogger,
  readAck,
  signToken,
  startRelay,
  type Ack,
  type RunningRelay,
  type SignOptions,
  type StartRelayOptions,
  type TokenClaims,
} from '@apisync/relay'
import { testDatabase } from './services.js'

export const SECRET = 'test-secret-that-is-long-enough-for-hs256!'

/** Where a test relay keeps its data: SQLite in a temp dir (the default), or a database of its own on Postgres. */
export type TestBackend = 'sqlite' | 'postgres'

export interface TestRelay {
  running: RunningRelay
  backend: TestBackend
  /** The SQLite data dir (also made for a Postgres relay, unused). */
  dir: string
  /** The Postgres database URL, for a Postgres relay. */
  postgresUrl: string | null
  /** Every log line the relay wrote. */
  logs: string[]
  token(claims?: Partial<TokenClaims>, options?: SignOptions): Promise<string>
  syncUrl(docName: string, token: string, extra?: string): string
  /** Rows stored for `docName` (log entries + snapshot), after committing whatever is queued. */
  storedRows(docName: string): Promise<number>
  /** The doc as storage holds it, after committing whatever is queued. */
  storedDoc(docName: string): Promise<Y.Doc>
  close(): Promise<void>
}

export async function tempDir(prefix = 'apisync-relay-'): Promise<string> {
  return mkdtemp(join(tmpdir(), prefix))
}

export async function startTestRelay(options: Partial<StartRelayOptions> & { backend?: TestBackend } = {}): Promise<TestRelay> {
  const { backend = 'sqlite', ...rest } = options
  const dir = options.dataDir ?? (await tempDir())
  const database = backend === 'postgres' ? await testDatabase() : null
  const logs: string[] = []
  const running = await startRelay({
    auth: { secret: SECRET },
    logger: createJsonLogger({ level: 'debug', write: (line) => void logs.push(line) }),
    ...(database ? { store: database.url } : {}),
    ...rest,
    dataDir: dir,
  })
  const postgresUrl = database?.url ?? null
  const relay: TestRelay = {
    running,
    backend,
    dir,
    postgresUrl,
    logs,
    token: (claims = {}, signOptions = {}) => signToken({ sub: 'alice', sid: 'alice-laptop', ws: { w1: 'owner' }, ...claims }, { secret: SECRET }, signOptions),
    syncUrl: (docName, token, extra = '') => `${running.wsUrl}/sync/${docName}?token=${encodeURIComponent(token)}${extra}`,
    storedRows: async (docName) => {
      await running.relay.flush()
      return postgresUrl ? countPostgresRows(postgresUrl, docName) : countRows(dir, docName)
    },
    storedDoc: async (docName) => {
      await running.relay.flush()
      return postgresUrl ? readPostgresDoc(postgresUrl, docName) : readStoredDoc(dir, docName)
    },
    close: async () => {
      await running.close()
      await rm(dir, { recursive: true, force: true })
      await database?.drop()
    },
  }
  return relay
}

export function countRows(dir: string, docName: string): number {
  const db = new Database(join(dir, 'apisync.sqlite'), { readonly: true, fileMustExist: true })
  try {
    const logRows = db.prepare('SELECT COUNT(*) AS n FROM doc_updates WHERE doc = ?').get(docName) as { n: number }
    const snapshots = db.prepare('SELECT COUNT(*) AS n FROM doc_snapshots WHERE doc = ?').get(docName) as { n: number }
    return logRows.n + snapshots.n
  } finally {
    db.close()
  }
}

export function readStoredDoc(dir: string, docName: string): Y.Doc {
  const db = new Database(join(dir, 'apisync.sqlite'), { readonly: true, fileMustExist: true })
  try {
    const doc = new Y.Doc()
    const snapshot = db.prepare('SELECT snapshot FROM doc_snapshots WHERE doc = ?').get(docName) as { snapshot: Buffer } | undefined
    if (snapshot) Y.applyUpdate(doc, snapshot.snapshot)
    for (const row of db.prepare('SELECT data FROM doc_updates WHERE doc = ? ORDER BY seq').all(docName) as { data: Buffer }[]) {
      Y.applyUpdate(doc, row.data)
    }
    return doc
  } finally {
    db.close()
  }
}

/** Rows stored for a doc in Postgres: logged updates plus the snapshot, if any. */
export async function countPostgresRows(url: string, docName: string): Promise<number> {
  const client = new pg.Client({ connectionString: url })
  await client.connect()
  try {
    const { rows } = await client.query(
      `SELECT (SELECT count(*) FROM apisync_updates WHERE doc = $1) + (SELECT count(*) FROM apisync_docs WHERE doc = $1 AND snapshot IS NOT NULL) AS n`,
      [docName],
    )
    return Number(rows[0].n)
  } finally {
    await client.end()
  }
}

/** The doc as Postgres holds it (snapshot, then the log in sequence order), read with a connection of our own. */
export async function readPostgresDoc(url: string, docName: string): Promise<Y.Doc> {
  const client = new pg.Client({ connectionString: url })
  await client.connect()
  try {
    const doc = new Y.Doc()
    const snapshot = await client.query('SELECT snapshot FROM apisync_docs WHERE doc = $1 AND snapshot IS NOT NULL', [docName])
    if (snapshot.rows[0]) Y.applyUpdate(doc, snapshot.rows[0].snapshot)
    const log = await client.query('SELECT data FROM apisync_updates WHERE doc = $1 ORDER BY seq', [docName])
    for (const row of log.rows) Y.applyUpdate(doc, row.data)
    return doc
  } finally {
    await client.end()
  }
}

export interface Closed {
  code: number
  reason: string
}

/** A bare WebSocket client that records frames and the close. */
export class RawClient {
  readonly frames: Uint8Array[] = []
  readonly closed: Promise<Closed>
  private waiters: Array<() => void> = []

  private constructor(readonly socket: WebSocket) {
    socket.binaryType = 'nodebuffer'
    socket.on('message', (data: Buffer) => {
      this.frames.push(new Uint8Array(data))
      for (const w of this.waiters.splice(0)) w()
    })
    this.closed = new Promise((resolve) => {
      socket.on('close', (code, reason) => {
        resolve({ code, reason: reason.toString() })
        for (const w of this.waiters.splice(0)) w()
      })
    })
    socket.on('error', () => {})
  }

  /** Resolves once the socket is open (the relay always accepts the upgrade, then may close with a code). */
  static connect(url: string, options?: WebSocket.ClientOptions): Promise<RawClient> {
    const socket = new WebSocket(url, options)
    const client = new RawClient(socket)
    return new Promise((resolve, reject) => {
      socket.once('open', () => resolve(client))
      socket.once('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)))
      socket.once('error', reject)
    })
  }

  send(frame: Uint8Array | string): void {
    if (this.socket.readyState === WebSocket.OPEN) this.socket.send(frame)
  }

  /** The first frame (from index `from`) matching `predicate`, waiting up to `timeoutMs`. */
  async next(predicate: (frame: Uint8Array) => boolean, timeoutMs = 5000, from = 0): Promise<Uint8Array> {
    const deadline = Date.now() + timeoutMs
    for (;;) {
      const found = this.frames.slice(from).find(predicate)
      if (found) return found
      if (this.socket.readyState === WebSocket.CLOSED) throw new Error(`closed while waiting (${JSON.stringify(await this.closed)})`)
      const left = deadline - Date.now()
      if (left <= 0) throw new Error('timed out waiting for a frame')
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left)
        this.waiters.push(() => {
          clearTimeout(t)
          resolve()
        })
      })
    }
  }

  close(): void {
    this.socket.close()
  }

  terminate(): void {
    this.socket.terminate()
  }
}

export const messageType = (frame: Uint8Array): number => decoding.readVarUint(decoding.createDecoder(frame))
export const isAck = (frame: Uint8Array) => messageType(frame) === 100
export const isPermissionDenied = (frame: Uint8Array) => messageType(frame) === 2

/**
 * A minimal protocol client around a Y.Doc over RawClient: answers the relay's sync step 1, applies what
 * it receives, sends its own changes as updates, and records acks.
 */
export class SyncClient {
  readonly acks: Ack[] = []
  private synced: Promise<void>

  private constructor(
    readonly raw: RawClient,
    readonly doc: Y.Doc,
  ) {
    let markSynced!: () => void
    this.synced = new Promise((resolve) => (markSynced = resolve))
    const seen = { count: 0 }
    const handle = () => {
      for (; seen.count < raw.frames.length; seen.count++) {
        const frame = raw.frames[seen.count]
        const ack = readAck(frame)
        if (ack) {
          this.acks.push(ack)
          continue
        }
        const decoder = decoding.createDecoder(frame)
        const type = decoding.readVarUint(decoder)
        if (type !== 0) continue
        const encoder = encoding.createEncoder()
        encoding.writeVarUint(encoder, 0)
        const syncType = syncProtocol.readSyncMessage(decoder, encoder, doc, this)
        if (syncType === syncProtocol.messageYjsSyncStep2) markSynced()
        if (encoding.length(encoder) > 1) raw.send(encoding.toUint8Array(encoder))
      }
    }
    raw.socket.on('message', () => queueMicrotask(handle))
    handle()
    doc.on('update', (update: Uint8Array, origin: unknown) => {
      if (origin === this) return
      const encoder = encoding.createEncoder()
      encoding.writeVarUint(encoder, 0)
      syncProtocol.writeUpdate(encoder, update)
      raw.send(encoding.toUint8Array(encoder))
    })
    const encoder = encoding.createEncoder()
    encoding.writeVarUint(encoder, 0)
    syncProtocol.writeSyncStep1(encoder, doc)
    raw.send(encoding.toUint8Array(encoder))
  }

  static async connect(url: string, doc = new Y.Doc()): Promise<SyncClient> {
    return new SyncClient(await RawClient.connect(url), doc)
  }

  /** Resolves once the relay's sync step 2 has been applied. */
  whenSynced(timeoutMs = 5000): Promise<void> {
    return withTimeout(this.synced, timeoutMs, 'sync')
  }

  /** Wait for an ack whose state vector covers the doc's current state. */
  async waitForAckCovering(timeoutMs = 5000): Promise<Ack> {
    const target = Y.decodeStateVector(Y.encodeStateVector(this.doc))
    const covers = (ack: Ack) => {
      const sv = Y.decodeStateVector(ack.stateVector)
      for (const [client, clock] of target) if ((sv.get(client) ?? 0) < clock) return false
      return true
    }
    const deadline = Date.now() + timeoutMs
    for (;;) {
      const ack = this.acks.find(covers)
      if (ack) return ack
      if (Date.now() > deadline) throw new Error('no covering ack')
      await sleep(5)
    }
  }

  sendAwareness(awareness: awarenessProtocol.Awareness): void {
    const encoder = encoding.createEncoder()
    encoding.writeVarUint(encoder, 1)
    encoding.writeVarUint8Array(encoder, awarenessProtocol.encodeAwarenessUpdate(awareness, [awareness.clientID]))
    this.raw.send(encoding.toUint8Array(encoder))
  }

  close(): void {
    this.raw.close()
  }
}

export function encodeSyncMessage(syncType: number, payload: Uint8Array): Uint8Array {
  const encoder = encoding.createEncoder()
  encoding.writeVarUint(encoder, 0)
  encoding.writeVarUint(encoder, syncType)
  encoding.writeVarUint8Array(encoder, payload)
  return encoding.toUint8Array(encoder)
}

/** A small non-empty update from a fresh doc. */
export function someUpdate(text = 'hello'): Uint8Array {
  const doc = new Y.Doc()
  doc.getText('t').insert(0, text)
  return Y.encodeStateAsUpdate(doc)
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))

export async function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`timed out: ${what}`)), ms)
      }),
    ])
  } finally {
    clearTimeout(timer)
  }
}

/** Poll `check` until it returns true. */
export async function eventually(check: () => boolean | Promise<boolean>, timeoutMs = 5000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await sleep(10)
  }
}
