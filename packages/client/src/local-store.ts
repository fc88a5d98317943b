/**
 * One doc's local storage: an IndexedDB database in y-indexeddb's layout (an auto-incremented `updates`
 * store of Yjs updates, a `custom` key-value store), so either library opens the other's data.
 *
 * Unlike y-indexeddb, every write here is awaited to its transaction's completion (so "stored" means
 * committed, durability "strict"), opening a doc writes nothing (y-indexeddb adds a row per open), the
 * factory is injected rather than the global, and compaction reads, merges and replaces rows in one
 * transaction. The pending ledger is written in the same transaction as the updates it describes.
 */
import { type LedgerRecord, isLedgerRecord } from './ledger.js'
import { done, openDatabase, request, storageError } from './idb.js'

const UPDATES = 'updates'
const CUSTOM = 'custom'
const LEDGER_PREFIX = 'apisync:ledger:'

export interface LoadedDoc {
  readonly updates: Uint8Array[]
  /** Ledgers stored under their keys (one per doc instance that wrote; usually one). */
  readonly ledgers: ReadonlyMap<string, LedgerRecord>
}

export interface LedgerWrite {
  readonly key: string
  /** null deletes the key (nothing pending: leave no empty record behind). */
  readonly record: LedgerRecord | null
  /** Ledger keys taken over by this one, deleted in the same transaction. */
  readonly drop?: readonly string[]
}

export const ledgerKey = (clientId: number): string => `${LEDGER_PREFIX}${clientId}`

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
    // The custom store holds a few keys: read them all rather than need the implementation's IDBKeyRange.
    const keys = request(tx.objectStore(CUSTOM).getAllKeys())
    const values = request(tx.objectStore(CUSTOM).getAll())
    await done(tx)
    const ledgers = new Map<string, LedgerRecord>()
    const [k, v] = [await keys, await values]
    k.forEach((key, i) => {
      if (typeof key === 'string' && key.startsWith(LEDGER_PREFIX) && isLedgerRecord(v[i])) ledgers.set(key, v[i])
    })
    return { updates: (await updates).map(toBytes), ledgers }
  }

  /** Appends updates (as one row) and/or replaces a ledger, atomically; resolves once committed. */
  async write(update: Uint8Array | null, ledger: LedgerWrite | null): Promise<void> {
    const tx = this.tx(ledger ? [UPDATES, CUSTOM] : [UPDATES], 'readwrite')
    if (update) tx.objectStore(UPDATES).add(update)
    if (ledger) {
      const custom = tx.objectStore(CUSTOM)
      for (const key of ledger.drop ?? []) custom.delete(key)
      if (ledger.record) custom.put(ledger.record, ledger.key)
      else custom.delete(ledger.key)
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
