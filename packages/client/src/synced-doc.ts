/**
 * What a host holds for one open doc: the Y.Doc, its model, and its sync status. Local data is loaded before
 * a SyncedDoc exists, so it is usable at once; syncing runs in the background.
 */
import type * as Y from 'yjs'
import type { ConnectionTraffic, DocConnection } from './doc-connection.js'
import type { PersistedDoc } from './persisted-doc.js'
import { type Subscribable, type SyncProblem, type SyncStatus, Store, whenState } from './status.js'

/** What every model shares (CollectionModel, EnvironmentModel, WorkspaceModel, RunsModel). */
export interface Model {
  destroy(): void
}

export class SyncedDoc<M extends Model = Model> {
  private readonly store: Store<SyncStatus>
  private closing: Promise<void> | null = null

  constructor(
    /** The doc name, e.g. `{workspaceId}/collection/{id}`. */
    readonly name: string,
    readonly model: M,
    private readonly persisted: PersistedDoc,
    private readonly connection: DocConnection | null,
    private readonly closed: () => void,
  ) {
    this.store = new Store(this.compute())
    persisted.onChange = () => this.update()
    if (connection) connection.onChange = () => this.update()
  }

  get doc(): Y.Doc {
    return this.persisted.doc
  }

  /** offline | connecting | syncing | in-sync | error, the pending count, and whether all is stored locally. */
  get status(): Subscribable<SyncStatus> {
    return this.store
  }

  /** Bytes this doc sent to the relay (null for local-only docs). */
  get traffic(): Readonly<ConnectionTraffic> | null {
    return this.connection?.traffic ?? null
  }

  /** Resolves once every change made so far is committed to local storage (IndexedDB). */
  whenStored(): Promise<void> {
    return this.persisted.whenStored()
  }

  /** Resolves when the relay has stored every local change; rejects with SyncStoppedError on `error`. */
  whenInSync(signal?: AbortSignal): Promise<SyncStatus> {
    return whenState(this.store, 'in-sync', signal)
  }

  /** Stores what is buffered, disconnects and closes the local database. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      this.connection?.destroy()
      await this.persisted.close()
      this.model.destroy()
      this.persisted.doc.destroy()
      this.closed()
      this.update()
    })()
    return this.closing
  }

  private update(): void {
    this.store.set(this.compute())
  }

  private compute(): SyncStatus {
    const c = this.connection
    const pending = this.persisted.ledger.count
    const stored = this.persisted.stored
    const storageError = this.persisted.storageError
    let error: SyncProblem | null = storageError ? { reason: 'storage', message: storageError.message, closeCode: null } : null
    error ??= c?.problem ?? (c?.readOnly ? { reason: 'read-only', message: c.readOnly, closeCode: null } : null)
    if (error) return { state: 'error', pending, stored, error, retryAt: null }
    if (!c || this.closing || c.phase === 'idle' || c.phase === 'stopped') return { state: 'offline', pending, stored, error, retryAt: null }
    if (c.phase === 'connecting' || c.phase === 'waiting') return { state: 'connecting', pending, stored, error, retryAt: c.retryAt }
    const inSync = c.synced && c.acked && pending === 0
    return { state: inSync ? 'in-sync' : 'syncing', pending, stored, error, retryAt: null }
  }
}
