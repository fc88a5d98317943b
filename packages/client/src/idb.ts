/**
 * IndexedDB as promises, over an injected factory (a browser's `indexedDB`, or fake-indexeddb in Node). A
 * write resolves when its transaction completes: that, and nothing earlier, is "stored".
 */
import { SyncClientError } from './errors.js'

/** Resolves with the request's result; rejects with a STORAGE error. */
export const request = <T>(req: IDBRequest<T>): Promise<T> =>
  new Promise((resolve, reject) => {
    req.onsuccess = () => resolve(req.result)
    req.onerror = () => reject(storageError('request failed', req.error))
  })

/** Resolves when the transaction commits; rejects if it aborts. */
export const done = (tx: IDBTransaction): Promise<void> =>
  new Promise((resolve, reject) => {
    tx.oncomplete = () => resolve()
    tx.onabort = () => reject(storageError('transaction aborted', tx.error))
    tx.onerror = (e) => e.preventDefault() // reported through onabort
  })

export const storageError = (what: string, cause: unknown): SyncClientError =>
  new SyncClientError('STORAGE', `IndexedDB: ${what}${cause instanceof Error ? `: ${cause.message}` : ''}`, { cause })

/**
 * Opens (creating if needed) a database at version 1 with the given stores. Closes itself when another
 * context wants to delete or upgrade it, so that a sign-out in another tab is never blocked by this one.
 */
export const openDatabase = (
  factory: IDBFactory,
  name: string,
  stores: ReadonlyArray<readonly [string, IDBObjectStoreParameters?]>,
  onClosedByOther?: () => void,
): Promise<IDBDatabase> =>
  new Promise((resolve, reject) => {
    const req = factory.open(name)
    req.onupgradeneeded = () => {
      for (const [store, params] of stores) if (!req.result.objectStoreNames.contains(store)) req.result.createObjectStore(store, params)
    }
    req.onsuccess = () => {
      const db = req.result
      db.onversionchange = () => {
        db.close()
        onClosedByOther?.()
      }
      resolve(db)
    }
    req.onerror = () => reject(storageError(`cannot open ${name}`, req.error))
  })

/** Deletes a database; waits (up to `timeoutMs`) while other connections still hold it. */
export const deleteDatabase = (factory: IDBFactory, name: string, timeoutMs = 10_000): Promise<void> =>
  new Promise((resolve, reject) => {
    const req = factory.deleteDatabase(name)
    let timer: ReturnType<typeof setTimeout> | undefined
    req.onsuccess = () => {
      clearTimeout(timer)
      resolve()
    }
    req.onerror = () => {
      clearTimeout(timer)
      reject(storageError(`cannot delete ${name}`, req.error))
    }
    req.onblocked = () => {
      timer ??= setTimeout(() => reject(storageError(`deleting ${name} is blocked by a connection that stays open`, null)), timeoutMs)
    }
  })

/** Names of the databases that exist, or null where the implementation cannot list them. */
export const listDatabases = async (factory: IDBFactory): Promise<string[] | null> => {
  if (typeof factory.databases !== 'function') return null
  const all = await factory.databases()
  return all.flatMap((d) => (d.name ? [d.name] : []))
}
