/**
 * What a host holds for one open doc: the Y.Doc, its model, and its sync status. Local data is loaded before
 * a SyncedDoc exists, so it is usable at once; syncing runs in the background (in the tab that leads).
 */
import type * as Y from 'yjs'
import type { ConnectionTraffic } from './doc-connection.js'
import type { PersistedDoc } from './persisted-doc.js'
import { type Subscribable, type SyncStatus, Store, whenState } from './status.js'

/** What every model shares (CollectionModel, EnvironmentModel, WorkspaceModel, RunsModel). */
export interface Model {
  destroy(): void
}

export class SyncedDoc<M extends Model = Model> {
  private readonly store: Store<SyncStatus>
  private closing: Promise<void> | null = null

  /** @internal Use Workspace.collection() and the like. */
  constructor(
    /** The doc name, e.g. `{workspaceId}/collection/{id}`. */
    readonly name: string,
    readonly model: M,
    private readonly persisted: PersistedDoc,
    private readonly statusOf: () => SyncStatus,
    private readonly trafficOf: () => Readonly<ConnectionTraffic> | null,
    private readonly release: () => Promise<void>,
  ) {
    this.store = new Store(statusOf())
  }

  get doc(): Y.Doc {
    return this.persisted.doc
  }

  /** offline | connecting | syncing | in-sync | error, the pending count, and whether all is stored locally. */
  get status(): Subscribable<SyncStatus> {
    return this.store
  }

  /** Bytes this doc sent to the relay (null where this tab does not talk to the relay). */
  get traffic(): Readonly<ConnectionTraffic> | null {
    return this.trafficOf()
  }

  /** Resolves once every change made so far is committed to local storage (IndexedDB); rejects if it failed. */
  whenStored(): Promise<void> {
    return this.persisted.whenStored()
  }

  /** Writes what failed to store again now (after a storage error); resolves once stored. */
  retryStorage(): Promise<void> {
    return this.persisted.retryStorage()
  }

  /** Resolves when the relay has stored every local change; rejects with SyncStoppedError on `error`. */
  whenInSync(signal?: AbortSignal): Promise<SyncStatus> {
    return whenState(this.store, 'in-sync', signal)
  }

  /**
   * The next edit starts a new pending action. Edits of one field in quick succession are one action (see
   * Ledger); call this where a person's action visibly ends (e.g. a field lost the focus).
   */
  breakAction(): void {
    this.persisted.ledger.breakAction()
  }

  /** Stores what is buffered, disconnects (unless another tab needs the doc) and closes the local database. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      this.model.destroy()
      await this.release()
      this.update()
    })()
    return this.closing
  }

  /** @internal */
  update(): void {
    this.store.set(this.statusOf())
  }
}
