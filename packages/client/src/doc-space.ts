/**
 * A namespace of local databases (one account's, or the scratch pad's) and the docs open in it: opening
 * each doc once, connecting it when the space syncs, and one status for all of them.
 */
import * as Y from 'yjs'
import { type ConnectionContext, DocConnection } from './doc-connection.js'
import { SyncClientError } from './errors.js'
import { listDatabases } from './idb.js'
import { LocalDocStore } from './local-store.js'
import { PersistedDoc } from './persisted-doc.js'
import { type AccountStatus, type Subscribable, type SyncProblem, Store, combineStatus } from './status.js'
import { type Model, SyncedDoc } from './synced-doc.js'

/** Suffix of the local-only doc that sits beside a synced one (Postman's "current values"). */
export const LOCAL_SUFFIX = '#local'

export interface DocSpaceOptions {
  readonly factory: IDBFactory
  /** Database name prefix: `apisync:{encoded account id}:` or `apisync-scratch:`. */
  readonly prefix: string
  /** How to reach the relay; null: local only (scratch pad). */
  readonly connection: ConnectionContext | null
  /** Where database names are noted when first opened, so they can be found again (and deleted). */
  readonly databases: DatabaseList
}

/** The names of local databases, kept because not every IndexedDB can list its databases. */
export interface DatabaseList {
  note(name: string): Promise<void>
  list(prefix: string): Promise<string[]>
}

interface Entry {
  readonly handle: SyncedDoc
  readonly persisted: PersistedDoc
  readonly connection: DocConnection | null
}

export class DocSpace {
  private readonly opening = new Map<string, Promise<SyncedDoc>>()
  private readonly entries = new Map<string, Entry>()
  private readonly locals = new Map<string, Promise<PersistedDoc>>()
  private readonly store = new Store<AccountStatus>(combineStatus([]))
  private online = true
  private problem: SyncProblem | null = null
  private closed = false

  constructor(private readonly o: DocSpaceOptions) {}

  get status(): Subscribable<AccountStatus> {
    return this.store
  }

  /** The database name of a doc. */
  databaseName(docName: string): string {
    return this.o.prefix + docName
  }

  /** Opens a doc (once; later calls share it): loads local data, builds the model, starts syncing. */
  open<M extends Model>(docName: string, makeModel: (doc: Y.Doc) => M): Promise<SyncedDoc<M>> {
    if (this.closed) return Promise.reject(new SyncClientError('CLOSED', 'this account or scratch pad is closed'))
    const existing = this.opening.get(docName)
    // A doc name fixes its kind (and so its model type): the cast holds for every caller.
    if (existing) return existing as Promise<SyncedDoc<Model>> as Promise<SyncedDoc<M>>
    const opening = this.load(docName, makeModel)
    this.opening.set(docName, opening)
    opening.catch(() => this.opening.delete(docName))
    return opening
  }

  /** Opens the local-only doc beside `docName` (never connected). */
  openLocal(docName: string): Promise<PersistedDoc> {
    const name = docName + LOCAL_SUFFIX
    let opening = this.locals.get(name)
    if (!opening) {
      opening = this.persist(name)
      this.locals.set(name, opening)
      opening.catch(() => this.locals.delete(name))
    }
    return opening
  }

  /** Open docs (not the local-only ones). */
  openDocs(): SyncedDoc[] {
    return [...this.entries.values()].map((e) => e.handle)
  }

  /** Network came or went: connect every doc, or take every doc offline. */
  setOnline(online: boolean): void {
    if (online === this.online) return
    this.online = online
    for (const { connection } of this.entries.values()) {
      if (!connection) continue
      // Coming online skips the backoff; a doc stopped by a problem stays stopped.
      if (online && !this.problem && connection.phase === 'idle') connection.retry()
      else if (!online && connection.phase !== 'stopped') connection.stop()
    }
  }

  /** The session ended (revoked, device limit): every doc stops with the problem, local data stays. */
  fail(problem: SyncProblem): void {
    this.problem = problem
    for (const { connection } of this.entries.values()) connection?.fail(problem)
  }

  /** Clears problems and reconnects every doc now. */
  retry(): void {
    this.problem = null
    if (!this.online) return
    for (const { connection } of this.entries.values()) connection?.retry()
  }

  /** Local changes not acked by the relay, per doc name: of open docs, and of every stored doc of this space. */
  async pending(): Promise<Map<string, number>> {
    const counts = new Map<string, number>()
    await this.eachPending(async (name, count) => {
      counts.set(name, count)
    })
    return counts
  }

  /**
   * Per doc with unacked changes: a Yjs update of everything past the relay's last acked state vector (the
   * whole doc when nothing was acked), which holds every unacked change.
   */
  async unackedChanges(): Promise<{ name: string; update: Uint8Array }[]> {
    const docs: { name: string; update: Uint8Array }[] = []
    await this.eachPending(async (name, _count, doc, acked) => {
      docs.push({ name, update: acked ? Y.encodeStateAsUpdate(doc(), acked) : Y.encodeStateAsUpdate(doc()) })
    })
    return docs
  }

  private async eachPending(
    visit: (docName: string, count: number, doc: () => Y.Doc, acked: Uint8Array | null) => Promise<void>,
  ): Promise<void> {
    await Promise.all([...this.entries.values()].map((e) => e.persisted.whenStored().catch(() => {})))
    for (const [name, { persisted }] of this.entries)
      if (persisted.ledger.count > 0) await visit(name, persisted.ledger.count, () => persisted.doc, persisted.ledger.acked)
    const open = new Set([...this.entries.keys()].map((n) => this.databaseName(n)))
    for (const dbName of await this.storedDatabases()) {
      if (open.has(dbName) || dbName.endsWith(LOCAL_SUFFIX)) continue
      const store = await LocalDocStore.open(this.o.factory, dbName)
      try {
        const loaded = await store.load()
        const ledgers = [...loaded.ledgers.values()]
        const count = ledgers.reduce((sum, l) => sum + l.changes.length, 0)
        if (count === 0) continue
        let doc: Y.Doc | undefined
        const load = () => {
          doc ??= new Y.Doc()
          Y.transact(doc, () => loaded.updates.forEach((u) => Y.applyUpdate(doc!, u)))
          return doc
        }
        await visit(dbName.slice(this.o.prefix.length), count, load, ledgers.find((l) => l.acked)?.acked ?? null)
        doc?.destroy()
      } finally {
        store.close()
      }
    }
  }

  /** Every database of this space that exists (from the registry and, where possible, the browser's list). */
  async storedDatabases(): Promise<string[]> {
    const listed = (await listDatabases(this.o.factory)) ?? []
    const noted = await this.o.databases.list(this.o.prefix)
    return [...new Set([...noted, ...listed])].filter((n) => n.startsWith(this.o.prefix))
  }

  /** Closes every doc (storing what is buffered first). */
  async close(): Promise<void> {
    this.closed = true
    await Promise.all([...this.opening.values()].map((p) => p.then((h) => h.close(), () => {})))
    await Promise.all([...this.locals.values()].map((p) => p.then((d) => d.close(), () => {})))
    this.locals.clear()
  }

  private async persist(name: string): Promise<PersistedDoc> {
    const dbName = this.databaseName(name)
    await this.o.databases.note(dbName)
    return PersistedDoc.open(this.o.factory, dbName, new Y.Doc())
  }

  private async load<M extends Model>(docName: string, makeModel: (doc: Y.Doc) => M): Promise<SyncedDoc<M>> {
    const persisted = await this.persist(docName)
    let model: M
    try {
      model = makeModel(persisted.doc)
    } catch (err) {
      await persisted.close()
      throw err
    }
    const connection = this.o.connection ? new DocConnection(persisted, docName, this.o.connection) : null
    const handle = new SyncedDoc(docName, model, persisted, connection, () => {
      this.entries.delete(docName)
      this.opening.delete(docName)
      this.update()
    })
    this.entries.set(docName, { handle, persisted, connection })
    handle.status.subscribe(() => this.update())
    if (connection) {
      if (this.problem) connection.fail(this.problem)
      else if (this.online) connection.start()
    }
    this.update()
    return handle
  }

  private update(): void {
    this.store.set(combineStatus([...this.entries.values()].map((e) => e.handle.status.getSnapshot())))
  }
}
