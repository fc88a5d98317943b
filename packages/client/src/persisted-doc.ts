/**
 * A Y.Doc kept in local storage: loaded from it first, every later change written to it (batched per tick,
 * each batch awaited to commit), and every local action noted in the pending ledger until the relay acks it.
 *
 * Updates come from four places, told apart by their transaction's origin: loading (not written back), this
 * tab's own edits (written, counted as pending actions), the relay (written, not pending) and other tabs of
 * the device (written too, so a tab closed mid-write loses nothing another tab saw; pending only in the
 * ledger of the tab that talks to the relay, which tracks every tab's actions).
 */
import * as Y from 'yjs'
import { SyncClientError } from './errors.js'
import { type ActionInfo, Ledger, changedKey } from './ledger.js'
import { type LedgerWrite, LocalDocStore, type StoredLedger } from './local-store.js'

/** Origin of transactions that apply stored data: neither written back nor counted as local changes. */
export const LOAD_ORIGIN: unique symbol = Symbol('apisync-load')
/** Origin of updates another tab of this device made or received. */
export const TAB_ORIGIN: unique symbol = Symbol('apisync-tab')

/** Compact the stored log when a doc opens with more rows than this, or after this many writes. */
const COMPACT_ON_OPEN = 32
const COMPACT_EVERY = 256

export interface PersistedDocOptions {
  /** Pending grouping window (see Ledger). */
  readonly actionWindowMs?: number
}

export class PersistedDoc {
  readonly ledger: Ledger
  /** The last storage failure; writes are retried with the next change. */
  storageError: SyncClientError | null = null
  /** Called when `stored`, `pending` or `storageError` may have changed. */
  onChange: () => void = () => {}
  /** A local transaction happened (its update and the action it belongs to). */
  onLocal: (update: Uint8Array, action: ActionInfo | null) => void = () => {}
  /** An update from the relay was applied. */
  onRemote: (update: Uint8Array) => void = () => {}
  /** True in the tab that talks to the relay: it tracks the actions of every tab. */
  trackAll = true

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
  private legacyKeys: string[] = []
  private incoming: ActionInfo | null = null
  private closed = false
  /** After end(): the state when storage was let go, to find changes made afterwards. */
  private endedAt: Uint8Array | null = null
  private lateChanges = 0

  private constructor(
    readonly doc: Y.Doc,
    private readonly store: LocalDocStore,
    options: PersistedDocOptions,
  ) {
    this.ledger = new Ledger({ idPrefix: `${doc.clientID}.${Date.now().toString(36)}`, ...(options.actionWindowMs !== undefined ? { windowMs: options.actionWindowMs } : {}) })
    doc.on('update', this.onUpdate)
  }

  /** Opens `name` in `factory` and loads it into `doc` (a new doc by default) before resolving. */
  static async open(factory: IDBFactory, name: string, doc: Y.Doc = new Y.Doc(), options: PersistedDocOptions = {}): Promise<PersistedDoc> {
    let persisted: PersistedDoc | undefined
    const store = await LocalDocStore.open(factory, name, () => persisted?.lostStorage())
    const loaded = await store.load()
    Y.transact(doc, () => loaded.updates.forEach((u) => Y.applyUpdate(doc, u)), LOAD_ORIGIN)
    persisted = new PersistedDoc(doc, store, options)
    persisted.restore(loaded)
    if (loaded.updates.length > COMPACT_ON_OPEN) persisted.chain = persisted.chain.then(() => persisted.compact())
    return persisted
  }

  get name(): string {
    return this.store.name
  }

  /** True when every change so far is committed to local storage. */
  get stored(): boolean {
    return !this.scheduled && !this.writing && this.storageError === null && this.lateChanges === 0
  }

  /** Transactions with this origin come from the relay: stored, but not local changes. */
  addRemoteOrigin(origin: unknown): void {
    this.remoteOrigins.add(origin)
  }

  /** Applies an update another tab sent; `action` is the action it belongs to, when it was a local edit there. */
  applyFromTab(update: Uint8Array, action: ActionInfo | null): void {
    this.incoming = action
    try {
      Y.applyUpdate(this.doc, update, TAB_ORIGIN)
      // Already known (the update changed nothing here), the action is news all the same.
      if (this.incoming && this.trackAll) {
        this.ledger.upsert(this.incoming, false)
        this.schedule()
        this.onChange()
      }
    } finally {
      this.incoming = null
    }
  }

  /** Takes in every tab's stored actions (this tab now talks to the relay). */
  async adoptStoredLedger(): Promise<void> {
    if (this.closed) return
    const stored = await this.store.loadLedger()
    this.restore(stored)
    this.onChange()
  }

  /** Resolves once every change made so far is committed to local storage; rejects if storing failed. */
  async whenStored(): Promise<void> {
    await this.chain
    if (this.storageError) throw this.storageError
    if (this.lateChanges > 0) throw new SyncClientError('CLOSED', `${this.store.name}: changes were made after this account's storage was let go`)
  }

  /** Writes the ledger (after acks changed it). */
  saveLedger(): void {
    if (this.ledger.dirty) this.schedule()
  }

  /** Rows in the stored log (for measurements and tests). */
  rowCount(): Promise<number> {
    return this.store.rowCount()
  }

  /**
   * Stores what is buffered and lets the database go (the account is signing out): the doc stays in memory,
   * and changes made from now on are counted as late (see lateUpdate).
   */
  async end(): Promise<void> {
    if (this.endedAt) return
    await this.whenStored().catch(() => {})
    this.endedAt = Y.encodeStateVector(this.doc)
    this.closed = true
    if (!this.store.isClosed) this.store.close()
  }

  /** Changes made after end(), as one update (null if none). */
  lateUpdate(): Uint8Array | null {
    if (!this.endedAt || this.lateChanges === 0) return null
    return Y.encodeStateAsUpdate(this.doc, this.endedAt)
  }

  get late(): number {
    return this.lateChanges
  }

  /** Stores what is buffered, then closes the database (the doc stays usable in memory). */
  async close(): Promise<void> {
    this.doc.off('update', this.onUpdate)
    if (this.closed) return
    await this.whenStored().catch(() => {})
    this.closed = true
    if (!this.store.isClosed) this.store.close()
  }

  private restore(stored: StoredLedger): void {
    const vector = stored.acked ? Y.decodeStateVector(stored.acked) : null
    this.ledger.restore(stored.actions, [...stored.legacy.values()], stored.acked, vector)
    this.legacyKeys.push(...stored.legacy.keys())
    if (this.ledger.dirty || this.legacyKeys.length > 0) this.schedule()
  }

  private readonly onUpdate = (update: Uint8Array, origin: unknown, _doc: Y.Doc, tr: Y.Transaction): void => {
    if (origin === LOAD_ORIGIN) return
    if (this.endedAt) {
      if (origin !== TAB_ORIGIN && !this.remoteOrigins.has(origin)) {
        this.lateChanges++
        this.onChange()
      }
      return
    }
    if (this.closed) return
    let localChange = false
    if (origin === TAB_ORIGIN) {
      if (this.incoming && this.trackAll) {
        this.ledger.upsert(this.incoming, true)
        this.incoming = null
        localChange = true
      }
    } else if (this.remoteOrigins.has(origin)) {
      this.onRemote(update)
    } else {
      const action = this.ledger.local({ before: tr.beforeState, after: tr.afterState, deletes: tr.deleteSet.clients.size > 0, target: changedKey(tr.changed) })
      localChange = action !== null
      this.onLocal(update, action)
    }
    if (this.buffered++ === 0) {
      this.bufferedFirst = update
      this.bufferedSince = Y.encodeStateVector(tr.beforeState)
    }
    this.schedule()
    if (localChange) this.onChange()
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
    if (this.closed) return
    const [count, first, since] = [this.buffered, this.bufferedFirst, this.bufferedSince]
    this.buffered = 0
    this.bufferedFirst = this.bufferedSince = null
    const update = count === 0 ? null : count === 1 ? first : Y.encodeStateAsUpdate(this.doc, since!)
    const taken = this.ledger.dirty || this.legacyKeys.length > 0 ? this.ledger.takeWrite() : null
    const ledger: LedgerWrite | null = taken ? { ...taken, dropLegacy: this.legacyKeys } : null
    if (!update && !ledger) return
    this.writing = true
    try {
      await this.store.write(update, ledger)
      this.legacyKeys = []
      this.storageError = null
      if (update && ++this.writesSinceCompact >= COMPACT_EVERY) await this.compact()
    } catch (err) {
      // Keep what was not stored: the next change (or close) tries again, from the older state vector.
      if (count > 0) {
        this.buffered += count
        this.bufferedFirst = this.buffered === 1 ? first : null
        this.bufferedSince = since
      }
      if (taken) this.ledger.rewrite(taken)
      this.storageError = err instanceof SyncClientError ? err : new SyncClientError('STORAGE', String(err), { cause: err })
    } finally {
      this.writing = false
      this.onChange()
    }
  }

  /** Tries the failed write again now (e.g. after the person freed space). */
  retryStorage(): Promise<void> {
    if (this.storageError && this.buffered > 0) this.schedule()
    return this.whenStored()
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
    if (this.endedAt) return
    // Changes from now on are stored nowhere: count them as late, so that they are offered as a backup.
    this.endedAt = Y.encodeStateVector(this.doc)
    this.closed = true
    this.storageError = new SyncClientError('STORAGE', `${this.store.name} was deleted or upgraded by another tab`)
    this.onChange()
  }
}
