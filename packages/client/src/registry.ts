/**
 * The device's list of signed-in accounts and of the local databases each one owns, in its own small
 * IndexedDB database. Tokens are never stored: the host's getToken() provides them.
 */
import { done, openDatabase, request } from './idb.js'
import type { DatabaseList } from './doc-space.js'

export type Role = 'owner' | 'editor' | 'viewer'

export interface AccountRecord {
  /** The token's `sub`. */
  readonly id: string
  /** The token's `name` claim (device or person name), if any. */
  readonly name: string | null
  /** Workspaces the last token granted, with roles. */
  readonly workspaces: Readonly<Record<string, Role>>
  /** Epoch ms. */
  readonly signedInAt: number
}

export const REGISTRY_DB = 'apisync-accounts'
const ACCOUNTS = 'accounts'
const DATABASES = 'databases'
const META = 'meta'

export class Registry implements DatabaseList {
  private readonly noted = new Set<string>()
  private loaded: Promise<void> | null = null
  private constructor(private readonly db: IDBDatabase) {}

  static async open(factory: IDBFactory): Promise<Registry> {
    return new Registry(await openDatabase(factory, REGISTRY_DB, [[ACCOUNTS, { keyPath: 'id' }], [DATABASES], [META]]))
  }

  async accounts(): Promise<AccountRecord[]> {
    const tx = this.db.transaction([ACCOUNTS], 'readonly')
    const all = request(tx.objectStore(ACCOUNTS).getAll() as IDBRequest<AccountRecord[]>)
    await done(tx)
    return (await all).sort((a, b) => a.signedInAt - b.signedInAt)
  }

  async putAccount(record: AccountRecord): Promise<void> {
    const tx = this.db.transaction([ACCOUNTS], 'readwrite')
    tx.objectStore(ACCOUNTS).put(record)
    await done(tx)
  }

  /** Forgets an account and the databases noted for it (after they were deleted). */
  async removeAccount(id: string, databases: readonly string[]): Promise<void> {
    const tx = this.db.transaction([ACCOUNTS, DATABASES, META], 'readwrite')
    tx.objectStore(ACCOUNTS).delete(id)
    for (const name of databases) tx.objectStore(DATABASES).delete(name)
    const current = tx.objectStore(META).get('current')
    current.onsuccess = () => {
      if (current.result === id) tx.objectStore(META).delete('current')
    }
    for (const name of databases) this.noted.delete(name)
    await done(tx)
  }

  async forgetDatabases(names: readonly string[]): Promise<void> {
    const tx = this.db.transaction([DATABASES], 'readwrite')
    for (const name of names) tx.objectStore(DATABASES).delete(name)
    for (const name of names) this.noted.delete(name)
    await done(tx)
  }

  async current(): Promise<string | null> {
    const tx = this.db.transaction([META], 'readonly')
    const value = request(tx.objectStore(META).get('current'))
    await done(tx)
    const id = await value
    return typeof id === 'string' ? id : null
  }

  async setCurrent(id: string | null): Promise<void> {
    const tx = this.db.transaction([META], 'readwrite')
    if (id === null) tx.objectStore(META).delete('current')
    else tx.objectStore(META).put(id, 'current')
    await done(tx)
  }

  async note(name: string): Promise<void> {
    // Read the list once, then write only names not in it: opening a known doc writes nothing.
    this.loaded ??= this.list('').then((names) => names.forEach((n) => this.noted.add(n)))
    await this.loaded
    if (this.noted.has(name)) return
    const tx = this.db.transaction([DATABASES], 'readwrite')
    tx.objectStore(DATABASES).put(true, name)
    await done(tx)
    this.noted.add(name)
  }

  async list(prefix: string): Promise<string[]> {
    const tx = this.db.transaction([DATABASES], 'readonly')
    const keys = request(tx.objectStore(DATABASES).getAllKeys())
    await done(tx)
    return (await keys).filter((k): k is string => typeof k === 'string' && k.startsWith(prefix))
  }

  close(): void {
    this.db.close()
  }
}
