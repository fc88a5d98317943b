/**
 * WorkerDocStore: the relay's default DocStore. A SqliteDocStore on a worker thread (sqlite-worker.ts), so
 * that each commit's fsync (synchronous=FULL) runs while the main thread keeps relaying: broadcasts never
 * wait behind a commit, and changes arriving while one is in flight are grouped into the next.
 * `appendUpdates` resolves once the worker's transaction has committed, so acks still follow durability.
 */
import { Worker } from 'node:worker_threads'
import { StorageError } from './errors.js'
import { type ActivityQuery, type HistoryBounds, type HistoryOption, type HistoryState, resolveHistory, type VersionRecord } from './history.js'
import type { AppendedRange, DocStore, HistoryMaintenance, StoredDoc, UpdateEntry } from './store.js'
import { packUpdates, type StoreCall, type StoreReply, type StoreResults } from './store-messages.js'

export interface WorkerDocStoreOptions {
  /** Directory holding apisync.sqlite (created if missing), or ':memory:' (private to the worker). */
  dataDir: string
  /** History and its retention (history.ts). Default on; false: none. */
  history?: HistoryOption
  /** The clock commits are stamped with (ms), read on this thread. Default Date.now. */
  now?: () => number
}

interface Pending {
  resolve(value: unknown): void
  reject(error: Error): void
}

export class WorkerDocStore implements DocStore {
  readonly dataDir: string
  readonly historyEnabled: boolean
  private readonly history: HistoryOption
  private readonly now: () => number
  private worker: Worker | null = null
  private readonly pending = new Map<number, Pending>()
  private nextId = 1
  private closed = false

  constructor(options: WorkerDocStoreOptions) {
    this.dataDir = options.dataDir
    this.history = options.history ?? {}
    this.historyEnabled = resolveHistory(this.history) !== null
    this.now = options.now ?? Date.now
    this.start()
  }

  /** Resolves once the database is open and its tables exist; rejects with a StorageError if it cannot be. */
  opened(): Promise<void> {
    return this.call({ op: 'open' })
  }

  load(docName: string, after = 0): Promise<StoredDoc> {
    return this.call({ op: 'load', docName, after })
  }

  async appendUpdates(entries: readonly UpdateEntry[]): Promise<AppendedRange[]> {
    if (entries.length === 0) return []
    const packed = packUpdates(entries)
    return this.call({ op: 'appendUpdates', packed, at: this.now() }, [packed.bytes.buffer as ArrayBuffer, packed.ends.buffer as ArrayBuffer, packed.authorOf.buffer as ArrayBuffer])
  }

  historyBounds(docName: string): Promise<HistoryBounds | null> {
    return this.call({ op: 'historyBounds', docName })
  }

  versions(docName: string, before: number | null, limit: number): Promise<VersionRecord[]> {
    return this.call({ op: 'versions', docName, before, limit })
  }

  historyState(docName: string, at: number, after?: number): Promise<HistoryState> {
    return this.call({ op: 'historyState', docName, at, after })
  }

  activity(query: ActivityQuery): Promise<VersionRecord[]> {
    return this.call({ op: 'activity', query })
  }

  maintainHistory(docName: string, now: number): Promise<HistoryMaintenance> {
    return this.call({ op: 'maintainHistory', docName, now })
  }

  compact(docName: string, snapshot: Uint8Array, upTo: number): Promise<boolean> {
    return this.call({ op: 'compact', docName, snapshot, upTo })
  }

  heads(docNames: readonly string[]): Promise<Map<string, number>> {
    return this.call({ op: 'heads', docNames })
  }

  ping(): Promise<void> {
    return this.call({ op: 'ping' })
  }

  deleteDoc(docName: string): Promise<void> {
    return this.call({ op: 'deleteDoc', docName })
  }

  deletePrefix(prefix: string): Promise<number> {
    return this.call({ op: 'deletePrefix', prefix })
  }

  listDocs(prefix?: string): Promise<string[]> {
    return this.call({ op: 'listDocs', prefix })
  }

  /** Close the database (after every request sent before) and stop the worker. */
  async close(): Promise<void> {
    if (this.closed) return
    const worker = this.worker
    try {
      if (worker) await this.call({ op: 'close' })
    } finally {
      this.closed = true
      await worker?.terminate()
    }
  }

  private call<Op extends StoreCall['op']>(call: Extract<StoreCall, { op: Op }>, transfer: ArrayBuffer[] = []): Promise<StoreResults[Op]> {
    if (this.closed) return Promise.reject(new StorageError('store is closed'))
    // A worker that died (it should not) is replaced: each commit is one transaction, so storage is intact.
    const worker = this.worker ?? this.start()
    const id = this.nextId++
    return new Promise<StoreResults[Op]>((resolve, reject) => {
      if (this.pending.size === 0) worker.ref()
      this.pending.set(id, { resolve: resolve as (value: unknown) => void, reject })
      worker.postMessage({ ...call, id }, transfer)
    })
  }

  private start(): Worker {
    const worker = spawnWorker({ dataDir: this.dataDir, history: this.history })
    this.worker = worker
    // Keeps the process alive only while a request is in flight, like the synchronous store it replaces.
    worker.unref()
    worker.on('message', (reply: StoreReply) => {
      const waiter = this.pending.get(reply.id)
      if (!waiter) return
      this.pending.delete(reply.id)
      if (this.pending.size === 0) worker.unref()
      if (reply.ok) waiter.resolve(reply.value)
      else waiter.reject(new StorageError(`${reply.error.name}: ${reply.error.message}`, reply.error.code))
    })
    const fail = (error: Error) => {
      if (this.worker !== worker) return
      this.worker = null
      const waiters = [...this.pending.values()]
      this.pending.clear()
      for (const waiter of waiters) waiter.reject(error)
    }
    worker.on('error', (err) => fail(new StorageError(`storage worker failed: ${err.message}`)))
    worker.on('exit', (code) => fail(new StorageError(`storage worker exited (${code})`)))
    return worker
  }
}

/**
 * Start the worker from the built `.js` next to this module. When this module runs from its TypeScript
 * source (vitest, tsx), the worker gets tsx's hooks first: Node 20 does not pass module hooks on to workers.
 */
function spawnWorker(workerData: { dataDir: string; history: HistoryOption }): Worker {
  const fromSource = import.meta.url.endsWith('.ts')
  const entry = new URL(fromSource ? './sqlite-worker.ts' : './sqlite-worker.js', import.meta.url)
  if (!fromSource) return new Worker(entry, { workerData })
  const tsx = import.meta.resolve('tsx/esm/api')
  const boot = `import(${JSON.stringify(tsx)}).then((tsx) => { tsx.register(); return import(${JSON.stringify(entry.href)}) })`
  return new Worker(boot, { eval: true, workerData })
}
