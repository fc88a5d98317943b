/**
 * Backups kept on this device: when an account's data is deleted here (sign-out, revocation, deletion) while
 * the relay lacks some of its changes, those changes are kept in their own small database (`apisync-backups`,
 * never deleted with an account) until the person restores them (Account.importBackup) or discards them. So
 * a revoked device, whose data goes at once, never drops an unsynced change silently.
 */
import { decodeBackup } from './backup.js'
import { done, openDatabase, request } from './idb.js'
import type { EndReason } from './tabs.js'

export const BACKUPS_DB = 'apisync-backups'
const STORE = 'backups'

export interface KeptBackup {
  readonly id: string
  readonly accountId: string
  /** A name to show (the account's name, when known). */
  readonly accountName: string | null
  readonly reason: EndReason | 'late'
  /** Epoch ms. */
  readonly createdAt: number
  /** Pending actions it holds (as counted when it was made). */
  readonly pending: number
  /** Doc names it holds. */
  readonly docs: readonly string[]
  /** The backup file (see backup.ts). */
  readonly bytes: Uint8Array
}

export class KeptBackups {
  private db: Promise<IDBDatabase> | null = null

  constructor(private readonly factory: IDBFactory) {}

  async put(backup: Omit<KeptBackup, 'id' | 'docs'>): Promise<KeptBackup> {
    const id = `${backup.accountId}:${backup.createdAt}:${Math.random().toString(36).slice(2, 8)}`
    const kept: KeptBackup = { ...backup, id, docs: decodeBackup(backup.bytes).docs.map((d) => d.name) }
    const tx = (await this.open()).transaction([STORE], 'readwrite', { durability: 'strict' })
    tx.objectStore(STORE).put(kept, id)
    await done(tx)
    return kept
  }

  async list(): Promise<KeptBackup[]> {
    const tx = (await this.open()).transaction([STORE], 'readonly')
    const all = request(tx.objectStore(STORE).getAll() as IDBRequest<KeptBackup[]>)
    await done(tx)
    return (await all).map((b) => ({ ...b, bytes: toBytes(b.bytes) })).sort((a, b) => a.createdAt - b.createdAt)
  }

  async get(id: string): Promise<KeptBackup | null> {
    return (await this.list()).find((b) => b.id === id) ?? null
  }

  async discard(id: string): Promise<void> {
    const tx = (await this.open()).transaction([STORE], 'readwrite')
    tx.objectStore(STORE).delete(id)
    await done(tx)
  }

  close(): void {
    void this.db?.then((db) => db.close(), () => {})
    this.db = null
  }

  private open(): Promise<IDBDatabase> {
    this.db ??= openDatabase(this.factory, BACKUPS_DB, [[STORE]])
    this.db.catch(() => (this.db = null))
    return this.db
  }
}

const toBytes = (value: unknown): Uint8Array =>
  value instanceof Uint8Array ? value : value instanceof ArrayBuffer ? new Uint8Array(value) : new Uint8Array(0)
