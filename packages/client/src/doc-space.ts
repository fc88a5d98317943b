/**
 * A namespace of local databases (one account's, or the scratch pad's) and the docs open in it, across the
 * tabs of the device: each doc opened once per tab, connected by the tab that leads (see tabs.ts), one
 * status for all of them, and the end of it all when the account signs out.
 */
import * as Y from 'yjs'
import { type ConnectionContext, type ConnectionTraffic, DocConnection } from './doc-connection.js'
import { SyncClientError } from './errors.js'
import { listDatabases } from './idb.js'
import { LocalDocStore } from './local-store.js'
import { PersistedDoc } from './persisted-doc.js'
import { type AccountStatus, type Subscribable, type SyncProblem, type SyncStatus, Store, combineStatus } from './status.js'
import { type Model, SyncedDoc } from './synced-doc.js'
import { type EndReason, type RemoteStatus, TabGroup, type TabCoordination, type TabMessage } from './tabs.js'

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
  /** Other tabs of this device (null: this tab is alone). */
  readonly tabs: TabCoordination | null
  /** Pending actions: keystrokes in one field this close together are one action. */
  readonly actionWindowMs?: number
}

/** The names of local databases, kept because not every IndexedDB can list its databases. */
export interface DatabaseList {
  note(name: string): Promise<void>
  list(prefix: string): Promise<string[]>
}

/** How an account's life on this device ended, as every tab sees it. */
export interface SpaceEnd {
  readonly reason: EndReason
  /** The close that ended it (revocation), if any. */
  readonly problem: SyncProblem | null
  /** True once the tab that ended it has stored the backup and deleted the data. */
  readonly done: boolean
  /** The backup of what the relay lacked, kept on this device (see KeptBackups), if there was anything. */
  readonly backupId: string | null
  /** Actions the relay lacked when it ended. */
  readonly pending: number
}

interface Entry {
  readonly name: string
  readonly persisted: PersistedDoc
  /** Syncs with the relay (not a local-only doc). */
  readonly connectable: boolean
  connection: DocConnection | null
  handle: SyncedDoc | null
  /** A local-only doc a host opened (see openLocal). */
  local: boolean
  /** Other tabs that have the doc open (known to the leader). */
  readonly interest: Set<string>
  /** The leader's status of the doc (in the other tabs). */
  mirror: RemoteStatus | null
  /** The last status this leader told the other tabs. */
  told: RemoteStatus | null
}

const ENDED_PROBLEM: Record<EndReason, string> = {
  'signed-out': 'this account signed out on this device',
  revoked: 'this device was signed out remotely',
  deleted: 'this account was deleted',
}

export class DocSpace {
  private readonly entries = new Map<string, Entry>()
  private readonly loading = new Map<string, Promise<Entry>>()
  /** Updates other tabs sent for docs still loading here. */
  private readonly queued = new Map<string, TabMessage[]>()
  private readonly handles = new Map<string, Promise<SyncedDoc>>()
  private readonly locals = new Map<string, Promise<PersistedDoc>>()
  private readonly store = new Store<AccountStatus>(combineStatus([]))
  private readonly endStore = new Store<{ value: SpaceEnd | null }>({ value: null })
  private readonly group: TabGroup
  private online = true
  private problem: SyncProblem | null = null
  private closed = false
  private ending: Promise<void> | null = null

  /** How this space reaches the relay (null: local only, the scratch pad). */
  get relay(): ConnectionContext | null {
    return this.o.connection
  }

  constructor(private readonly o: DocSpaceOptions) {
    this.group = new TabGroup(o.tabs, o.prefix, {
      message: (m, from) => this.receive(m, from),
      lead: () => this.lead(),
      follow: () => this.follow(),
      gone: (tab) => {
        for (const entry of [...this.entries.values()]) {
          entry.interest.delete(tab)
          void this.maybeDispose(entry)
        }
      },
    })
    this.group.start()
  }

  get status(): Subscribable<AccountStatus> {
    return this.store
  }

  /** Null while the account is signed in here; how it ended otherwise (in this tab or another). */
  get ended(): Subscribable<{ value: SpaceEnd | null }> {
    return this.endStore
  }

  /** True in the tab that talks to the relay for this space. */
  get leading(): boolean {
    return this.group.leader
  }

  /** False once the account is ending: nothing more may leave for the relay. */
  mayWrite(): boolean {
    return this.endStore.getSnapshot().value === null && !this.closed
  }

  /** The database name of a doc. */
  databaseName(docName: string): string {
    return this.o.prefix + docName
  }

  /** Opens a doc (once; later calls share it): loads local data, builds the model, starts syncing. */
  open<M extends Model>(docName: string, makeModel: (doc: Y.Doc) => M): Promise<SyncedDoc<M>> {
    if (this.closed) return Promise.reject(new SyncClientError('CLOSED', 'this account or scratch pad is closed'))
    if (!this.mayWrite()) return Promise.reject(new SyncClientError('CLOSED', 'this account signed out on this device'))
    const existing = this.handles.get(docName)
    // A doc name fixes its kind (and so its model type): the cast holds for every caller.
    if (existing) return existing as Promise<SyncedDoc<Model>> as Promise<SyncedDoc<M>>
    const opening = (async () => {
      const entry = await this.ensure(docName, true)
      let model: M
      try {
        model = makeModel(entry.persisted.doc)
      } catch (err) {
        this.handles.delete(docName)
        await this.maybeDispose(entry)
        throw err
      }
      const handle = new SyncedDoc(
        docName,
        model,
        entry.persisted,
        () => this.statusOf(entry),
        () => entry.connection?.traffic ?? null,
        () => this.release(entry),
      )
      entry.handle = handle
      if (!this.group.leader) this.group.post({ t: 'open', doc: docName })
      this.update()
      return handle
    })()
    this.handles.set(docName, opening)
    opening.catch(() => this.handles.delete(docName))
    return opening
  }

  /** Opens the local-only doc beside `docName` (never connected; shared with the other tabs). */
  openLocal(docName: string): Promise<PersistedDoc> {
    const name = docName + LOCAL_SUFFIX
    let opening = this.locals.get(name)
    if (!opening) {
      opening = this.ensure(name, false).then((entry) => {
        entry.local = true
        return entry.persisted
      })
      this.locals.set(name, opening)
      opening.catch(() => this.locals.delete(name))
    }
    return opening
  }

  /** Open docs (not the local-only ones). */
  openDocs(): SyncedDoc[] {
    return [...this.entries.values()].flatMap((e) => (e.handle ? [e.handle] : []))
  }

  /** Network came or went: connect every doc, or take every doc offline. */
  setOnline(online: boolean): void {
    if (online === this.online) return
    this.online = online
    for (const entry of this.entries.values()) {
      const connection = entry.connection
      // Coming online skips the backoff; a doc stopped by a problem stays stopped.
      if (connection) {
        if (online && !this.problem && connection.phase === 'idle') connection.retry()
        else if (!online && connection.phase !== 'stopped') connection.stop()
      }
      this.changed(entry)
    }
  }

  /**
   * The session ended (device limit): every doc stops with the problem, local data stays. A device limit is
   * not forever (another device disconnects, or is signed out elsewhere): one doc tries again quietly every
   * `deviceLimitRetryMs`, the problem shown meanwhile; once the relay lets it in, every doc reconnects.
   */
  fail(problem: SyncProblem): void {
    this.problem = problem
    for (const entry of this.entries.values()) entry.connection?.fail(problem)
    this.scheduleProbe()
  }

  private probeTimer: ReturnType<typeof setTimeout> | undefined
  private scheduleProbe(): void {
    clearTimeout(this.probeTimer)
    const every = this.o.connection?.deviceLimitRetryMs ?? 0
    if (this.problem?.reason !== 'device-limit' || every <= 0 || this.closed) return
    this.probeTimer = setTimeout(() => {
      if (this.problem?.reason !== 'device-limit' || this.closed) return
      const probe = this.online && this.group.leader ? [...this.entries.values()].find((e) => e.handle && e.connection?.phase === 'stopped') : undefined
      if (probe) probe.connection!.probe()
      else this.scheduleProbe()
    }, every)
  }

  /** A connection was let in: if the device limit had stopped the others, they reconnect now. */
  admitted(): void {
    if (this.problem?.reason === 'device-limit') this.retry()
  }

  /** Clears problems and reconnects every doc now (asks the leading tab to, from another tab). */
  retry(): void {
    clearTimeout(this.probeTimer)
    this.problem = null
    if (!this.group.leader) return this.group.post({ t: 'retry' })
    if (!this.online) return
    for (const { connection } of this.entries.values()) connection?.retry()
  }

  /** A connection got through: the relay is reachable, so the docs waiting to retry go now. */
  reachable(): void {
    for (const { connection } of this.entries.values()) connection?.hurry()
  }

  /** Pending actions per doc name: of open docs (as the leading tab counts them), and of every stored doc. */
  async pending(): Promise<Map<string, number>> {
    const counts = new Map<string, number>()
    await Promise.all([...this.entries.values()].map((e) => e.persisted.whenStored().catch(() => {})))
    for (const entry of this.entries.values()) {
      if (!entry.connectable) continue
      const n = this.remoteOf(entry).pending
      if (n > 0) counts.set(entry.name, n)
    }
    const open = new Set([...this.entries.keys()].map((n) => this.databaseName(n)))
    for (const stored of await this.storedDocs((name) => !open.has(this.databaseName(name)))) if (stored.pending > 0) counts.set(stored.name, stored.pending)
    return counts
  }

  /**
   * Per doc with unacked actions, read from storage (every tab stored what it saw): a Yjs update of
   * everything past the relay's last acked state vector (the whole doc when nothing was acked).
   */
  async unackedChanges(): Promise<{ name: string; update: Uint8Array; pending: number }[]> {
    await Promise.all([...this.entries.values()].map((e) => e.persisted.whenStored().catch(() => {})))
    const out: { name: string; update: Uint8Array; pending: number }[] = []
    for (const stored of await this.storedDocs(() => true, true)) if (stored.pending > 0 && stored.update) out.push({ name: stored.name, update: stored.update, pending: stored.pending })
    return out
  }

  /** Changes made in this tab after the account ended here (stored nowhere), per doc. */
  lateChanges(): { name: string; update: Uint8Array }[] {
    const out: { name: string; update: Uint8Array }[] = []
    for (const entry of this.entries.values()) {
      const update = entry.persisted.lateUpdate()
      if (update && entry.connectable) out.push({ name: entry.name, update })
    }
    return out
  }

  /** Every database of this space that exists (from the registry and, where possible, the browser's list). */
  async storedDatabases(): Promise<string[]> {
    const listed = (await listDatabases(this.o.factory)) ?? []
    const noted = await this.o.databases.list(this.o.prefix)
    return [...new Set([...noted, ...listed])].filter((n) => n.startsWith(this.o.prefix))
  }

  /**
   * Ends the account here and in every other tab at once: no frame leaves for the relay from the moment this
   * is called (sockets close, every send is refused), what is buffered is stored, the databases are let go.
   * Resolves when this tab is done; `othersStopped()` waits for the other tabs.
   */
  end(reason: EndReason, problem: SyncProblem | null, tell = true): Promise<void> {
    if (this.ending) return this.ending
    this.endStore.set({ value: { reason, problem, done: false, backupId: null, pending: 0 } })
    for (const entry of this.entries.values()) {
      entry.connection?.destroy()
      entry.connection = null
      entry.mirror = null
    }
    if (tell) this.group.post({ t: 'end', reason, problem })
    this.ending = (async () => {
      await Promise.all([...this.entries.values()].map((e) => e.persisted.end()))
      this.group.leave()
      for (const entry of this.entries.values()) this.changed(entry)
    })()
    return this.ending
  }

  /** Waits until the other tabs stopped and stored what they had (true), or `timeoutMs` passed (false). */
  othersStopped(timeoutMs: number): Promise<boolean> {
    return this.group.othersStopped(timeoutMs)
  }

  /** The tab that ended the account finished: every tab learns where the backup is. */
  finishEnd(backupId: string | null, pending: number): void {
    const current = this.endStore.getSnapshot().value
    if (!current) return
    this.endStore.set({ value: { ...current, done: true, backupId, pending } })
    this.group.post({ t: 'ended', reason: current.reason, backupId, pending })
  }

  /**
   * After the end: leaves the tab group for good but keeps the docs in memory, so that what the host still
   * shows stays readable and a change made in it is counted as late (see lateChanges), never sent or stored.
   */
  detach(): void {
    this.closed = true
    clearTimeout(this.probeTimer)
    this.group.close()
  }

  /** Closes every doc (storing what is buffered first) and leaves the tab group. */
  async close(): Promise<void> {
    if (this.closed) return
    this.closed = true
    clearTimeout(this.probeTimer)
    await Promise.all([...this.handles.values()].map((p) => p.then((h) => h.close(), () => {})))
    for (const entry of [...this.entries.values()]) {
      entry.handle = null
      entry.interest.clear()
      await this.maybeDispose(entry, true)
    }
    this.locals.clear()
    this.group.close()
  }

  // ------------------------------------------------------------------------------------------ the docs

  private ensure(name: string, connectable: boolean): Promise<Entry> {
    const entry = this.entries.get(name)
    if (entry) return Promise.resolve(entry)
    let loading = this.loading.get(name)
    if (!loading) {
      loading = this.load(name, connectable)
      this.loading.set(name, loading)
      loading.finally(() => this.loading.delete(name)).catch(() => {})
    }
    return loading
  }

  private async load(name: string, connectable: boolean): Promise<Entry> {
    const dbName = this.databaseName(name)
    // The note is how sign-out finds databases where the browser cannot list them; failing to write it (a
    // full disk) must not keep the doc from opening: its writes report the failure where it matters.
    await this.o.databases.note(dbName).catch(() => {})
    const persisted = await PersistedDoc.open(this.o.factory, dbName, new Y.Doc(), {
      ...(this.o.actionWindowMs !== undefined ? { actionWindowMs: this.o.actionWindowMs } : {}),
    })
    const entry: Entry = { name, persisted, connectable, connection: null, handle: null, local: false, interest: new Set(), mirror: null, told: null }
    persisted.trackAll = this.group.leader
    persisted.onChange = () => this.changed(entry)
    persisted.onLocal = (update, action) => this.group.post({ t: 'u', doc: name, update, action })
    persisted.onRemote = (update) => this.group.post({ t: 'u', doc: name, update, action: null })
    this.entries.set(name, entry)
    for (const m of this.queued.get(name) ?? []) this.receive(m, '')
    this.queued.delete(name)
    if (this.group.leader) this.connect(entry)
    return entry
  }

  private connect(entry: Entry): void {
    const ctx = this.o.connection
    if (!ctx || !entry.connectable || entry.connection || !this.mayWrite()) return
    const connection = new DocConnection(entry.persisted, entry.name, ctx)
    entry.connection = connection
    connection.onChange = () => this.changed(entry)
    connection.onAcked = (ids, acked) => this.group.post({ t: 'acked', doc: entry.name, ids, acked })
    if (this.problem) connection.fail(this.problem)
    else if (this.online) connection.start()
    this.changed(entry)
  }

  private async release(entry: Entry): Promise<void> {
    this.handles.delete(entry.name)
    entry.handle = null
    if (!this.group.leader) this.group.post({ t: 'close', doc: entry.name })
    await this.maybeDispose(entry)
  }

  private async maybeDispose(entry: Entry, force = false): Promise<void> {
    if (!force && (entry.handle || entry.local || entry.interest.size > 0)) return
    if (this.entries.get(entry.name) !== entry) return
    this.entries.delete(entry.name)
    entry.connection?.destroy()
    entry.connection = null
    await entry.persisted.close()
    entry.persisted.doc.destroy()
    this.update()
  }

  // ----------------------------------------------------------------------------------------- the tabs

  private lead(): void {
    for (const entry of this.entries.values()) {
      entry.persisted.trackAll = true
      entry.mirror = null
      // Every tab's stored actions are this tab's to track now.
      if (entry.connectable) void entry.persisted.adoptStoredLedger()
      this.connect(entry)
    }
  }

  private follow(): void {
    for (const entry of [...this.entries.values()]) {
      entry.connection?.destroy()
      entry.connection = null
      entry.persisted.trackAll = false
      entry.told = null
      entry.interest.clear()
      // A doc this tab held only for the others: the next leader opens it for them.
      if (!entry.handle && !entry.local) void this.maybeDispose(entry)
      else this.changed(entry)
    }
  }

  private receive(m: TabMessage, from: string): void {
    if (this.closed) return
    switch (m.t) {
      case 'u': {
        const entry = this.entries.get(m.doc)
        if (entry) entry.persisted.applyFromTab(m.update, m.action)
        else if (this.loading.has(m.doc)) this.queued.set(m.doc, [...(this.queued.get(m.doc) ?? []), m])
        return
      }
      case 'open': {
        if (!this.group.leader || !this.mayWrite()) return
        this.group.watch(from)
        void this.ensure(m.doc, !m.doc.endsWith(LOCAL_SUFFIX)).then((entry) => {
          entry.interest.add(from)
          entry.told = null
          this.changed(entry)
        })
        return
      }
      case 'close': {
        const entry = this.entries.get(m.doc)
        if (!entry || !this.group.leader) return
        entry.interest.delete(from)
        void this.maybeDispose(entry)
        return
      }
      case 'status': {
        const entry = this.entries.get(m.doc)
        if (!entry || this.group.leader) return
        entry.mirror = m.status
        this.changed(entry)
        return
      }
      case 'acked': {
        const entry = this.entries.get(m.doc)
        if (entry && !this.group.leader) entry.persisted.ledger.forget(m.ids, m.acked)
        return
      }
      case 'actions': {
        const entry = this.entries.get(m.doc)
        if (!entry || !this.group.leader) return
        for (const action of m.actions) entry.persisted.ledger.upsert(action, false)
        entry.persisted.saveLedger()
        this.changed(entry)
        return
      }
      case 'leader': {
        // A new leader: tell it what this tab has open and which of its own actions are still pending.
        for (const entry of this.entries.values()) {
          entry.mirror = null
          if (!entry.handle || !entry.connectable) continue
          this.group.post({ t: 'open', doc: entry.name })
          const actions = entry.persisted.ledger.all()
          if (actions.length > 0) this.group.post({ t: 'actions', doc: entry.name, actions })
          this.changed(entry)
        }
        return
      }
      case 'retry':
        if (this.group.leader) this.retry()
        return
      case 'end':
        void this.end(m.reason, m.problem, false)
        return
      case 'ended': {
        const current = this.endStore.getSnapshot().value
        this.endStore.set({ value: { reason: m.reason, problem: current?.problem ?? null, done: true, backupId: m.backupId, pending: m.pending } })
        return
      }
    }
  }

  // ---------------------------------------------------------------------------------------- the status

  /** A doc's sync state and pending count: computed by the leader, told to the other tabs. */
  private remoteOf(entry: Entry): RemoteStatus {
    const pending = entry.persisted.ledger.count
    const ended = this.endStore.getSnapshot().value
    if (ended) {
      const error: SyncProblem = ended.problem ?? { reason: 'signed-out', message: ENDED_PROBLEM[ended.reason], closeCode: null }
      return { state: 'error', pending: ended.done ? 0 : (entry.mirror?.pending ?? pending), error, retryAt: null }
    }
    const c = entry.connection
    if (!this.o.connection || !entry.connectable) return { state: 'offline', pending, error: null, retryAt: null }
    if (!this.group.leader) {
      if (entry.mirror) return entry.mirror
      return { state: this.online ? 'connecting' : 'offline', pending, error: this.problem, retryAt: null }
    }
    if (!c) return { state: 'offline', pending, error: this.problem, retryAt: null }
    const error = c.problem ?? (c.readOnly ? { reason: 'read-only' as const, message: c.readOnly, closeCode: null } : null)
    if (error) return { state: 'error', pending, error, retryAt: null }
    if (c.phase === 'idle' || c.phase === 'stopped') return { state: 'offline', pending, error: null, retryAt: null }
    if (c.phase === 'connecting' || c.phase === 'waiting') return { state: 'connecting', pending, error: null, retryAt: c.retryAt }
    return { state: c.synced && c.acked && pending === 0 ? 'in-sync' : 'syncing', pending, error: null, retryAt: null }
  }

  private statusOf(entry: Entry): SyncStatus {
    const remote = this.remoteOf(entry)
    const p = entry.persisted
    const storageError = p.storageError
    if (storageError && remote.state !== 'error')
      return { ...remote, state: 'error', stored: p.stored, error: { reason: 'storage', message: storageError.message, closeCode: null } }
    return { ...remote, stored: p.stored }
  }

  private changed(entry: Entry): void {
    entry.handle?.update()
    if (this.group.leader && entry.connectable && this.o.connection && this.mayWrite()) {
      const status = this.remoteOf(entry)
      const told = entry.told
      if (!told || told.state !== status.state || told.pending !== status.pending || told.retryAt !== status.retryAt || told.error?.reason !== status.error?.reason) {
        entry.told = status
        this.group.post({ t: 'status', doc: entry.name, status })
      }
    }
    this.update()
  }

  private update(): void {
    this.store.set(combineStatus([...this.entries.values()].flatMap((e) => (e.handle ? [this.statusOf(e)] : []))))
  }

  /** Stored docs of this space (those `want` selects), with their pending actions and, if asked, the update. */
  private async storedDocs(want: (docName: string) => boolean, withUpdate = false): Promise<{ name: string; pending: number; update: Uint8Array | null }[]> {
    const out: { name: string; pending: number; update: Uint8Array | null }[] = []
    for (const dbName of await this.storedDatabases()) {
      const name = dbName.slice(this.o.prefix.length)
      if (dbName.endsWith(LOCAL_SUFFIX) || !want(name)) continue
      const store = await LocalDocStore.open(this.o.factory, dbName)
      try {
        const loaded = await store.load()
        const vector = loaded.acked ? Y.decodeStateVector(loaded.acked) : null
        let pending = 0
        for (const record of loaded.actions.values()) {
          const covered = record.d === 0 && vector !== null && pairs(record.c).every(([c, k]) => (vector.get(c) ?? 0) >= k)
          if (!covered) pending++
        }
        for (const legacy of loaded.legacy.values()) pending += legacy.changes.length
        let update: Uint8Array | null = null
        if (withUpdate && pending > 0) {
          const doc = new Y.Doc()
          Y.transact(doc, () => loaded.updates.forEach((u) => Y.applyUpdate(doc, u)))
          const acked = loaded.acked ?? [...loaded.legacy.values()].find((l) => l.acked)?.acked ?? null
          update = acked ? Y.encodeStateAsUpdate(doc, acked) : Y.encodeStateAsUpdate(doc)
          doc.destroy()
        }
        out.push({ name, pending, update })
      } finally {
        store.close()
      }
    }
    return out
  }
}

const pairs = (flat: readonly number[]): [number, number][] => {
  const out: [number, number][] = []
  for (let i = 0; i + 1 < flat.length; i += 2) out.push([flat[i]!, flat[i + 1]!])
  return out
}

export type { ConnectionTraffic }
