/**
 * One doc's local storage: an IndexedDB database in y-indexeddb's layout (an auto-incremented `updates`
 * store of Yjs updates, a `custom` key-value store), so either library opens the other's data.
 *
 * Unlike y-indexeddb, every write here is awaited to its transaction's completion (so "stored" means
 * committed, durability "strict"), opening a doc writes nothing (y-indexeddb adds a row per open), the
 * factory is injected rather than the global, and compaction reads, merges and replaces rows in one
 * transaction. The pending ledger is written in the same transaction as the updates it describes.
 */
import { type ActionRecord, type LegacyLedgerRecord, isActionRecord, isLegacyLedgerRecord } from './ledger.js'
import { done, openDatabase, request, storageError } from './idb.js'

const UPDATES = 'updates'
const CUSTOM = 'custom'
const ACTION_PREFIX = 'apisync:pending:'
const ACKED_KEY = 'apisync:acked'
/** Ledgers of the first layout: one record per doc instance, converted to actions when read. */
const LEGACY_PREFIX = 'apisync:ledger:'

/** The pending ledger as stored: one record per action, the last acked state vector, older records. */
export interface StoredLedger {
  readonly actions: ReadonlyMap<string, ActionRecord>
  readonly acked: Uint8Array | null
  /** Records of the older layout, by key (delete them once their actions are stored anew). */
  readonly legacy: ReadonlyMap<string, LegacyLedgerRecord>
}

export interface LoadedDoc extends StoredLedger {
  readonly updates: Uint8Array[]
}

export interface LedgerWrite {
  /** Actions to store (replacing the stored form under their id). */
  readonly put: readonly (readonly [string, ActionRecord])[]
  /** Ids of actions to delete (acked). */
  readonly del: readonly string[]
  /** The last acked state vector, when it changed. */
  readonly acked: Uint8Array | null
  /** Keys of older-layout records to delete. */
  readonly dropLegacy?: readonly string[]
}

export class LocalDocStore {
  private closed = false
  private constructor(
    readonly name: string,
    private readonly db: IDBDatabase,
  ) {}

  static async open(factory: IDBFactory, name: string, onClosedByOther?: () => void): Promise<LocalDocStore> {
    let store: LocalDocStore | undefined
    const db = await openDatabase(factory, name, [[UPDATES, { autoIncrement: true }], [CUSTOM]], () => {
      if (store) store.closed = true
      onClosedByOther?.()
    })
    store = new LocalDocStore(name, db)
    return store
  }

  get isClosed(): boolean {
    return this.closed
  }

  async load(): Promise<LoadedDoc> {
    const tx = this.tx([UPDATES, CUSTOM], 'readonly')
    const updates = request(tx.objectStore(UPDATES).getAll() as IDBRequest<Uint8Array[]>)
    const ledger = this.readLedger(tx)
    await done(tx)
    return { updates: (await updates).map(toBytes), ...(await ledger) }
  }

  /** The stored ledger alone (a tab that takes over talking to the relay reads every tab's actions). */
  async loadLedger(): Promise<StoredLedger> {
    const tx = this.tx([CUSTOM], 'readonly')
    const ledger = this.readLedger(tx)
    await done(tx)
    return ledger
  }

  private async readLedger(tx: IDBTransaction): Promise<StoredLedger> {
    // The custom store holds few keys: read them all rather than need the implementation's IDBKeyRange.
    const keys = request(tx.objectStore(CUSTOM).getAllKeys())
    const values = request(tx.objectStore(CUSTOM).getAll())
    const actions = new Map<string, ActionRecord>()
    const legacy = new Map<string, LegacyLedgerRecord>()
    let acked: Uint8Array | null = null
    const [k, v] = [await keys, await values]
    k.forEach((key, i) => {
      if (typeof key !== 'string') return
      const value = v[i]
      if (key.startsWith(ACTION_PREFIX) && isActionRecord(value)) actions.set(key.slice(ACTION_PREFIX.length), value)
      else if (key === ACKED_KEY && (value instanceof Uint8Array || value instanceof ArrayBuffer)) acked = toBytes(value)
      else if (key.startsWith(LEGACY_PREFIX) && isLegacyLedgerRecord(value)) legacy.set(key, value)
    })
    return { actions, acked, legacy }
  }

  /** Appends updates (as one row) and/or changes the ledger, atomically; resolves once committed. */
  async write(update: Uint8Array | null, ledger: LedgerWrite | null): Promise<void> {
    const tx = this.tx(ledger ? [UPDATES, CUSTOM] : [UPDATES], 'readwrite')
    if (update) tx.objectStore(UPDATES).add(update)
    if (ledger) {
      const custom = tx.objectStore(CUSTOM)
      for (const key of ledger.dropLegacy ?? []) custom.delete(key)
      for (const id of ledger.del) custom.delete(ACTION_PREFIX + id)
      for (const [id, record] of ledger.put) custom.put(record, ACTION_PREFIX + id)
      if (ledger.acked) custom.put(ledger.acked, ACKED_KEY)
    }
    await done(tx)
  }

  /**
   * Replaces every row with one: `merge` gets the rows' updates and returns the update that stands for them.
   * One readwrite transaction reads, clears and writes, so no row another tab writes meanwhile is lost (it
   * waits for this transaction). Returns the row count before.
   */
  async compact(merge: (updates: Uint8Array[]) => Uint8Array): Promise<number> {
    const tx = this.tx([UPDATES], 'readwrite')
    const store = tx.objectStore(UPDATES)
    const values = store.getAll()
    let rows = 0
    let failure: unknown
    values.onsuccess = () => {
      rows = values.result.length
      if (rows < 2) return
      try {
        const merged = merge((values.result as unknown[]).map(toBytes))
        store.clear()
        store.add(merged)
      } catch (err) {
        failure = err
        tx.abort()
      }
    }
    try {
      await done(tx)
    } catch (err) {
      throw failure ?? err
    }
    return rows
  }

  /** Rows in the updates store (for measurements and tests). */
  async rowCount(): Promise<number> {
    const tx = this.tx([UPDATES], 'readonly')
    const count = request(tx.objectStore(UPDATES).count())
    await done(tx)
    return count
  }

  close(): void {
    this.closed = true
    this.db.close()
  }

  private tx(stores: string[], mode: IDBTransactionMode): IDBTransaction {
    if (this.closed) throw storageError(`${this.name} is closed`, null)
    return mode === 'readwrite' ? this.db.transaction(stores, mode, { durability: 'strict' }) : this.db.transaction(stores, mode)
  }
}

/** Rows written by y-indexeddb or by us are Uint8Arrays; a structured clone may hand back an ArrayBuffer. */
const toBytes = (value: unknown): Uint8Array =>
  value instanceof Uint8Array ? value : value instanceof ArrayBuffer ? new Uint8Array(value) : new Uint8Array(0)
