/**
 * A Y.Doc kept in local storage: loaded from it first, every later change written to it (batched per tick,
 * each batch awaited to commit), and every local change noted in the pending ledger until the relay acks it.
 */
import * as Y from 'yjs'
import { SyncClientError } from './errors.js'
import { Ledger } from './ledger.js'
import { type LedgerWrite, LocalDocStore, ledgerKey } from './local-store.js'

/** Origin of transactions that apply stored data: neither written back nor counted as local changes. */
export const LOAD_ORIGIN: unique symbol = Symbol('apisync-load')

/** Compact the stored log when a doc opens with more rows than this, or after this many writes. */
const COMPACT_ON_OPEN = 32
const COMPACT_EVERY = 256

export class PersistedDoc {
  readonly ledger = new Ledger()
  /** The last storage failure; writes are retried with the next change. */
  storageError: SyncClientError | null = null
  /** Called when `stored`, `pending` or `storageError` may have changed. */
  onChange: () => void = () => {}

  private readonly remoteOrigins = new Set<unknown>()
  /**
   * Changes not yet written: how many, the first one's update, and the state vector before it. One change
   * is written as its update; several as the doc's diff since that state vector (much cheaper than merging
   * the updates, and it holds exactly them, plus the delete set).
   */
  private buffered = 0
  private bufferedFirst: Uint8Array | null = null
  private bufferedSince: Uint8Array | null = null
  private chain: Promise<void> = Promise.resolve()
  private scheduled = false
  private writing = false
  private writesSinceCompact = 0
  private droppedLedgers: string[] = []
  private readonly key: string
  private closed = false

  private constructor(
    readonly doc: Y.Doc,
    private readonly store: LocalDocStore,
  ) {
    this.key = ledgerKey(doc.clientID)
    doc.on('update', this.onUpdate)
  }

  /** Opens `name` in `factory` and loads it into `doc` (a new doc by default) before resolving. */
  static async open(factory: IDBFactory, name: string, doc: Y.Doc = new Y.Doc()): Promise<PersistedDoc> {
    let persisted: PersistedDoc | undefined
    const store = await LocalDocStore.open(factory, name, () => persisted?.lostStorage())
    const loaded = await store.load()
    Y.transact(doc, () => loaded.updates.forEach((u) => Y.applyUpdate(doc, u)), LOAD_ORIGIN)
    persisted = new PersistedDoc(doc, store)
    for (const [key, record] of loaded.ledgers) {
      persisted.ledger.restore(record)
      persisted.droppedLedgers.push(key)
    }
    persisted.ledger.dirty = false
    if (loaded.updates.length > COMPACT_ON_OPEN) persisted.chain = persisted.chain.then(() => persisted.compact())
    return persisted
  }

  get name(): string {
    return this.store.name
  }

  /** True when every change so far is committed to local storage. */
  get stored(): boolean {
    return !this.scheduled && !this.writing && this.storageError === null
  }

  /** Transactions with this origin come from the relay: stored, but not local changes. */
  addRemoteOrigin(origin: unknown): void {
    this.remoteOrigins.add(origin)
  }

  /** Resolves once every change made so far is committed to local storage; rejects if storing failed. */
  async whenStored(): Promise<void> {
    await this.chain
    if (this.storageError) throw this.storageError
  }

  /** Writes the ledger (after acks changed it). */
  saveLedger(): void {
    if (this.ledger.dirty) this.schedule()
  }

  /** Rows in the stored log (for measurements and tests). */
  rowCount(): Promise<number> {
    return this.store.rowCount()
  }

  /** Stores what is buffered, then closes the database (the doc stays usable in memory). */
  async close(): Promise<void> {
    if (this.closed) return
    this.doc.off('update', this.onUpdate)
    await this.whenStored().catch(() => {})
    this.closed = true
    if (!this.store.isClosed) this.store.close()
  }

  private readonly onUpdate = (update: Uint8Array, origin: unknown, _doc: Y.Doc, tr: Y.Transaction): void => {
    if (origin === LOAD_ORIGIN || this.closed) return
    const local = !this.remoteOrigins.has(origin) && this.ledger.add(tr.beforeState, tr.afterState, tr.deleteSet.clients.size > 0)
    if (this.buffered++ === 0) {
      this.bufferedFirst = update
      this.bufferedSince = Y.encodeStateVector(tr.beforeState)
    }
    this.schedule()
    if (local) this.onChange()
  }

  private schedule(): void {
    if (this.scheduled || this.closed) return
    const wasStored = this.stored
    this.scheduled = true
    // Chained: one write in flight per doc, and every change made meanwhile goes into the next one.
    this.chain = this.chain.then(() => this.flush())
    if (wasStored) this.onChange()
  }

  private async flush(): Promise<void> {
    this.scheduled = false
    const [count, first, since] = [this.buffered, this.bufferedFirst, this.bufferedSince]
    this.buffered = 0
    this.bufferedFirst = this.bufferedSince = null
    const update = count === 0 ? null : count === 1 ? first : Y.encodeStateAsUpdate(this.doc, since!)
    const ledger: LedgerWrite | null = this.ledger.dirty ? { key: this.key, record: this.ledger.record(), drop: this.droppedLedgers } : null
    if (!update && !ledger) return
    this.writing = true
    try {
      await this.store.write(update, ledger)
      this.droppedLedgers = []
      this.storageError = null
      if (update && ++this.writesSinceCompact >= COMPACT_EVERY) await this.compact()
    } catch (err) {
      // Keep what was not stored: the next change (or close) tries again, from the older state vector.
      if (count > 0) {
        this.buffered += count
        this.bufferedFirst = this.buffered === 1 ? first : null
        this.bufferedSince = since
      }
      if (ledger) this.ledger.dirty = true
      this.storageError = err as SyncClientError
    } finally {
      this.writing = false
      this.onChange()
    }
  }

  private async compact(): Promise<void> {
    this.writesSinceCompact = 0
    try {
      // The rows may hold changes another tab wrote: take them in, then store the whole state as one row.
      await this.store.compact((rows) => {
        Y.applyUpdate(this.doc, Y.mergeUpdates(rows), LOAD_ORIGIN)
        return Y.encodeStateAsUpdate(this.doc)
      })
    } catch {
      // Compaction is an optimisation: the log stays as it was.
    }
  }

  private lostStorage(): void {
    this.closed = true
    this.storageError = new SyncClientError('STORAGE', `${this.store.name} was deleted or upgraded by another tab`)
    this.doc.off('update', this.onUpdate)
    this.onChange()
  }
}
