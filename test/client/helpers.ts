/** Shared by the client's end-to-end tests: a real relay on loopback, tokens, clients, a TCP proxy to cut. */
import { mkdtemp, rm } from 'node:fs/promises'
import { createServer, type Server, type Socket, connect } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { type SyncClient, type SyncClientOptions, type Subscribable, type SyncStatus, createSyncClient } from '@apisync/client'
import { type DocStore, type RunningRelay, type StartRelayOptions, SqliteDocStore, signToken, silentLogger, startRelay } from '@apisync/relay'
import { IDBFactory } from 'fake-indexeddb'
import { WebSocket } from 'ws'

export const SECRET = 'client-e2e-secret-of-at-least-32-bytes!'

export interface TestRelay {
  /** The relay the clients talk to (through the proxy, if one was asked for). */
  url: string
  running: RunningRelay
  dataDir: string
  /** Stop the relay (graceful: commits what it received). */
  stop(): Promise<void>
  /** Start it again on the same port and data. */
  restart(): Promise<void>
  close(): Promise<void>
}

/** `firstStore` replaces the storage of the first run only (restarts use the plain SQLite store in dataDir). */
export async function relay(
  options: Partial<StartRelayOptions> & { firstStore?: (dataDir: string) => DocStore } = {},
): Promise<TestRelay> {
  const dataDir = await mkdtemp(join(tmpdir(), 'apisync-client-'))
  const { firstStore, ...rest } = options
  const start = (port = 0, store?: DocStore) =>
    startRelay({ auth: { secret: SECRET }, dataDir, port, host: '127.0.0.1', logger: silentLogger, ...rest, ...(store ? { store } : {}) })
  let running: RunningRelay | null = await start(0, firstStore?.(dataDir))
  const port = running.port
  const t: TestRelay = {
    url: running.url,
    running,
    dataDir,
    async stop() {
      await running?.close()
      running = null
    },
    async restart() {
      // The port was ours a moment ago; retry briefly if the OS has not released it yet.
      for (let i = 0; ; i++) {
        try {
          running = await start(port)
          t.running = running
          return
        } catch (err) {
          if (i > 20) throw err
          await sleep(50)
        }
      }
    },
    async close() {
      await running?.close()
      running = null
      await rm(dataDir, { recursive: true, force: true })
    },
  }
  return t
}

export const token = (sub: string, sid: string, ws: Record<string, 'owner' | 'editor' | 'viewer'>, expiresIn: string | number = '1h', name?: string) =>
  signToken({ sub, sid, ws, ...(name ? { name } : {}) }, { secret: SECRET }, { expiresIn })

export interface ClientSetup extends Partial<SyncClientOptions> {
  relayUrl: string
  sub: string
  sid: string
  ws: Record<string, 'owner' | 'editor' | 'viewer'>
  expiresIn?: string | number
}

/** A client as one device: its own IndexedDB, `ws` sockets, quick backoff; counts getToken calls. */
export function device(setup: ClientSetup): SyncClient & { tokenCalls: number; idb: IDBFactory } {
  const idb = (setup.indexedDB as IDBFactory | undefined) ?? new IDBFactory()
  let calls = 0
  const client = createSyncClient({
    WebSocket,
    indexedDB: idb,
    backoff: { initialMs: 20, maxMs: 200 },
    ...setup,
    getToken: async () => {
      calls++
      return token(setup.sub, setup.sid, setup.ws, setup.expiresIn ?? '1h', setup.sid)
    },
  })
  return Object.defineProperties(client, {
    tokenCalls: { get: () => calls },
    idb: { value: idb },
  }) as SyncClient & { tokenCalls: number; idb: IDBFactory }
}

/** Records every state a status passes through. */
export function trace(status: Subscribable<SyncStatus>): string[] {
  const states = [status.getSnapshot().state as string]
  status.subscribe(() => {
    const s = status.getSnapshot().state
    if (states[states.length - 1] !== s) states.push(s)
  })
  return states
}

/** Waits until `status` satisfies `predicate` (or fails after `ms`, saying what it saw). */
/**
 * Waits until `predicate` holds, checked whenever any of `statuses` changes (a predicate over several docs
 * must not be checked on one of them only: that one may change exactly when another is mid-attempt).
 */
export function untilEach(statuses: readonly Subscribable<unknown>[], predicate: () => boolean, ms = 10_000): Promise<void> {
  return new Promise((resolve, reject) => {
    const unsubscribes: (() => void)[] = []
    const stop = () => {
      clearTimeout(timer)
      for (const u of unsubscribes) u()
    }
    const check = () => {
      if (!predicate()) return
      stop()
      resolve()
    }
    const timer = setTimeout(() => {
      stop()
      reject(new Error(`timed out; last statuses ${JSON.stringify(statuses.map((s) => s.getSnapshot()))}`))
    }, ms)
    for (const s of statuses) unsubscribes.push(s.subscribe(check))
    check()
  })
}

export function until<S>(status: Subscribable<S>, predicate: (s: S) => boolean, ms = 10_000): Promise<S> {
  return new Promise((resolve, reject) => {
    const check = () => {
      const s = status.getSnapshot()
      if (!predicate(s)) return false
      clearTimeout(timer)
      unsubscribe()
      resolve(s)
      return true
    }
    const timer = setTimeout(() => {
      unsubscribe()
      reject(new Error(`timed out; last status ${JSON.stringify(status.getSnapshot())}`))
    }, ms)
    const unsubscribe = status.subscribe(() => void check())
    check()
  })
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

/**
 * A TCP proxy in front of the relay, to cut the network without stopping the relay (`cut`: drop every
 * connection and refuse new ones; `stall`: keep sockets open but forward nothing upstream).
 */
export async function proxy(targetPort: () => number) {
  const pairs = new Set<[Socket, Socket]>()
  let mode: 'open' | 'cut' | 'stall' = 'open'
  const held: Buffer[] = []
  const server: Server = createServer((client) => {
    if (mode === 'cut') return client.destroy()
    const upstream = connect(targetPort(), '127.0.0.1')
    const pair: [Socket, Socket] = [client, upstream]
    pairs.add(pair)
    client.on('data', (d) => (mode === 'stall' ? held.push(d) : upstream.write(d)))
    upstream.on('data', (d) => client.write(d))
    const end = () => {
      pairs.delete(pair)
      client.destroy()
      upstream.destroy()
    }
    client.on('close', end).on('error', end)
    upstream.on('close', end).on('error', end)
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  const port = (server.address() as { port: number }).port
  return {
    url: `http://127.0.0.1:${port}`,
    cut() {
      mode = 'cut'
      for (const [a, b] of pairs) (a.destroy(), b.destroy())
    },
    stall() {
      mode = 'stall'
    },
    open() {
      mode = 'open'
      held.length = 0
    },
    close: () =>
      new Promise<void>((r) => {
        for (const [a, b] of pairs) (a.destroy(), b.destroy())
        server.close(() => r())
      }),
  }
}

/**
 * The relay's SQLite store with a gate on commits: `hold()` makes appends wait, `fail()` makes the waiting
 * (and later) appends fail as a dead disk would, `open()` lets them through again.
 */
export function gatedStore(dataDir: string) {
  const inner = new SqliteDocStore({ dataDir })
  let mode: 'open' | 'hold' | 'fail' = 'open'
  let waiting: { resolve: () => void; reject: (e: Error) => void }[] = []
  const gate = () =>
    mode === 'open' ? Promise.resolve() : mode === 'fail' ? Promise.reject(new Error('disk gone')) : new Promise<void>((resolve, reject) => waiting.push({ resolve, reject }))
  const store: DocStore & { hold(): void; fail(): void; open(): void; held(): number } = {
    load: (name, after) => inner.load(name, after),
    async appendUpdates(entries) {
      await gate()
      return inner.appendUpdates(entries)
    },
    compact: (name, snapshot, upTo) => inner.compact(name, snapshot, upTo),
    heads: (names) => inner.heads(names),
    deleteDoc: (name) => inner.deleteDoc(name),
    deletePrefix: (prefix) => inner.deletePrefix(prefix),
    listDocs: (prefix) => inner.listDocs(prefix),
    close: () => inner.close(),
    hold: () => void (mode = 'hold'),
    fail() {
      mode = 'fail'
      for (const w of waiting.splice(0)) w.reject(new Error('disk gone'))
    },
    open() {
      mode = 'open'
      for (const w of waiting.splice(0)) w.resolve()
    },
    held: () => waiting.length,
  }
  return store
}

/**
 * Web Locks in memory (Node has none): exclusive and shared modes, FIFO, abort signals; what tabs.ts needs.
 * One instance stands for one browser profile: give it to every "tab" (client) of one device.
 */
export function memoryLocks() {
  interface Waiter {
    mode: 'exclusive' | 'shared'
    grant: () => void
  }
  const held = new Map<string, { mode: 'exclusive' | 'shared'; count: number }>()
  const queues = new Map<string, Waiter[]>()
  const pump = (name: string) => {
    const queue = queues.get(name) ?? []
    while (queue.length > 0) {
      const next = queue[0]!
      const h = held.get(name)
      if (h && (h.mode === 'exclusive' || next.mode === 'exclusive')) break
      queue.shift()
      if (h) h.count++
      else held.set(name, { mode: next.mode, count: 1 })
      next.grant()
    }
  }
  return {
    request(
      name: string,
      options: { mode?: 'exclusive' | 'shared'; signal?: AbortSignal },
      callback: (lock: unknown) => Promise<unknown> | unknown,
    ): Promise<unknown> {
      const mode = options.mode ?? 'exclusive'
      return new Promise((resolve, reject) => {
        if (options.signal?.aborted) return reject(options.signal.reason)
        const waiter: Waiter = {
          mode,
          grant: () => {
            options.signal?.removeEventListener('abort', onAbort)
            Promise.resolve()
              .then(() => callback({ name, mode }))
              .then(resolve, reject)
              .finally(() => {
                const h = held.get(name)!
                if (--h.count === 0) held.delete(name)
                pump(name)
              })
          },
        }
        const onAbort = () => {
          const queue = queues.get(name) ?? []
          const at = queue.indexOf(waiter)
          if (at >= 0) {
            queue.splice(at, 1)
            reject(options.signal!.reason)
          }
        }
        options.signal?.addEventListener('abort', onAbort)
        queues.set(name, [...(queues.get(name) ?? []), waiter])
        pump(name)
      })
    },
  }
}

/** Tabs of one device in Node: shared in-memory locks and BroadcastChannels under a prefix of their own. */
export function tabsOfOneDevice() {
  const locks = memoryLocks()
  const prefix = `device-${Math.random().toString(36).slice(2)}:`
  return { locks, channel: (name: string) => new BroadcastChannel(prefix + name) as unknown as import('@apisync/client').TabChannel }
}
