/**
 * The embedded default DocStore: better-sqlite3, per doc a snapshot row and an append-only log of attributed
 * updates, each with the doc's sequence number. One store writes to a file, so it numbers updates itself: a
 * doc's last number is read once (the highest in its log, or its snapshot's) and then kept in memory, updated
 * only once a transaction has committed.
 */
import type { AppendedRange, DocStore, StoredDoc, UpdateEntry } from './store.js'
import { groupByDoc } from './store.js'
import { openDatabase, type SqliteDatabase, writeTransaction } from './sqlite.js'

export interface SqliteDocStoreOptions {
  /** Directory holding apisync.sqlite (created if missing), or ':memory:'. */
  dataDir?: string
  /** An open database to share (the caller closes it). */
  database?: SqliteDatabase
}

/** `PRAGMA user_version` of the doc tables' layout. 0: before sequence numbers (migrated on open). */
const SCHEMA_VERSION = 2

export class SqliteDocStore implements DocStore {
  /** The underlying database; the relay keeps its session registry in it too. */
  readonly database: SqliteDatabase
  private readonly ownsDatabase: boolean
  private readonly statements: ReturnType<typeof prepare>
  private readonly appendTx: (entries: readonly UpdateEntry[]) => AppendedRange[]
  /** Docs' last sequence numbers, as committed (bounded: a doc not here is read from the file). */
  private readonly headCache = new Map<string, number>()
  private readonly compactTx: (docName: string, snapshot: Uint8Array, upTo: number) => boolean
  private readonly deleteTx: (docName: string) => void
  private readonly deletePrefixTx: (prefix: string) => number
  private readonly loadTx: (docName: string, after: number) => StoredDoc

  constructor(options: SqliteDocStoreOptions = {}) {
    this.ownsDatabase = options.database === undefined
    this.database = options.database ?? openDatabase(options.dataDir ?? './data')
    migrate(this.database)
    const s = (this.statements = prepare(this.database))
    this.appendTx = writeTransaction(this.database, (entries: readonly UpdateEntry[]) => {
      const now = Date.now()
      const ranges: AppendedRange[] = []
      for (const [docName, group] of groupByDoc(entries)) {
        const first = this.head(docName) + 1
        const last = first + group.length - 1
        group.forEach(({ update, author }, i) =>
          s.insertUpdate.run(docName, first + i, update, author?.account ?? null, author?.session ?? null, author?.device ?? null, now),
        )
        ranges.push({ docName, first, last })
      }
      return ranges
    })
    this.compactTx = writeTransaction(this.database, (docName: string, snapshot: Uint8Array, upTo: number) => {
      const current = s.selectSnapshotSeq.get(docName) as { seq: number } | undefined
      if (current !== undefined && current.seq >= upTo) return false
      s.upsertSnapshot.run(docName, snapshot, upTo, Date.now())
      s.deleteUpdatesUpTo.run(docName, upTo)
      return true
    })
    this.deleteTx = writeTransaction(this.database, (docName: string) => {
      s.deleteSnapshot.run(docName)
      s.deleteUpdates.run(docName)
    })
    this.deletePrefixTx = writeTransaction(this.database, (prefix: string) => {
      const docs = s.docsWithPrefix.all({ prefix }) as { doc: string }[]
      for (const { doc } of docs) this.deleteTx(doc)
      return docs.length
    })
    // A read transaction, so that head, snapshot and log are of one moment.
    this.loadTx = this.database.transaction((docName: string, after: number): StoredDoc => {
      const snapshot = s.selectSnapshot.get(docName) as { snapshot: Buffer; seq: number } | undefined
      const snapshotSeq = snapshot?.seq ?? 0
      // after = 0: the caller holds nothing, not even a snapshot at seq 0 (of a file migrated from layout 0).
      const withSnapshot = snapshot !== undefined && (snapshotSeq > after || after === 0)
      const log = (s.selectUpdatesAfter.all(docName, Math.max(after, snapshotSeq)) as { data: Buffer }[]).map((r) => toBytes(r.data))
      return { updates: withSnapshot ? [toBytes(snapshot.snapshot), ...log] : log, seq: this.head(docName), snapshotSeq }
    })
  }

  /** The doc's last sequence number as committed: 0 for an unknown doc. */
  private head(docName: string): number {
    const cached = this.headCache.get(docName)
    if (cached !== undefined) return cached
    const { seq } = this.statements.selectHead.get(docName, docName) as { seq: number }
    return seq
  }

  private remember(docName: string, seq: number): void {
    this.headCache.delete(docName)
    this.headCache.set(docName, seq)
    if (this.headCache.size > 10_000) this.headCache.delete(this.headCache.keys().next().value as string)
  }

  async load(docName: string, after = 0): Promise<StoredDoc> {
    return this.loadTx(docName, after)
  }

  async appendUpdates(entries: readonly UpdateEntry[]): Promise<AppendedRange[]> {
    if (entries.length === 0) return []
    const ranges = this.appendTx(entries)
    // Committed: only now are the new numbers taken (a rolled-back transaction took none).
    for (const { docName, last } of ranges) this.remember(docName, last)
    return ranges
  }

  async compact(docName: string, snapshot: Uint8Array, upTo: number): Promise<boolean> {
    return this.compactTx(docName, snapshot, upTo)
  }

  async heads(docNames: readonly string[]): Promise<Map<string, number>> {
    const heads = new Map<string, number>()
    for (const name of docNames) {
      const seq = this.head(name)
      if (seq > 0 || (this.statements.docExists.get(name, name) as { yes: number }).yes === 1) heads.set(name, seq)
    }
    return heads
  }

  async deleteDoc(docName: string): Promise<void> {
    this.deleteTx(docName)
    this.headCache.delete(docName)
  }

  async deletePrefix(prefix: string): Promise<number> {
    const deleted = this.deletePrefixTx(prefix)
    for (const name of [...this.headCache.keys()]) if (name.startsWith(prefix)) this.headCache.delete(name)
    return deleted
  }

  async listDocs(prefix = ''): Promise<string[]> {
    return (this.statements.docsWithPrefix.all({ prefix }) as { doc: string }[]).map((r) => r.doc)
  }

  async ping(): Promise<void> {
    this.statements.ping.get()
  }

  async close(): Promise<void> {
    if (this.ownsDatabase && this.database.open) this.database.close()
  }
}

/**
 * Create the tables, or bring a database of an earlier layout up to date (in one transaction). Layout 0 had
 * no sequence numbers: its log rows are numbered per doc in their commit order after the snapshot (which
 * covers seq 0), and heads are set to match.
 */
function migrate(db: SqliteDatabase): void {
  const version = db.pragma('user_version', { simple: true }) as number
  if (version === SCHEMA_VERSION) return
  if (version > SCHEMA_VERSION) throw new Error(`apisync.sqlite has layout ${version}, newer than this relay (${SCHEMA_VERSION})`)
  db.transaction(() => {
    const legacy = db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'doc_updates'").get() !== undefined
    if (legacy) {
      db.exec(`
        ALTER TABLE doc_snapshots ADD COLUMN seq INTEGER NOT NULL DEFAULT 0;
        ALTER TABLE doc_updates ADD COLUMN doc_seq INTEGER;
        ALTER TABLE doc_updates ADD COLUMN account TEXT;
        ALTER TABLE doc_updates ADD COLUMN session TEXT;
        ALTER TABLE doc_updates ADD COLUMN device TEXT;
        ALTER TABLE doc_updates ADD COLUMN committed_at INTEGER;
        UPDATE doc_updates SET doc_seq = numbered.n
          FROM (SELECT seq AS id, row_number() OVER (PARTITION BY doc ORDER BY seq) AS n FROM doc_updates) AS numbered
          WHERE numbered.id = doc_updates.seq;
        DROP INDEX IF EXISTS doc_updates_by_doc;
      `)
    }
    db.exec(`
      CREATE TABLE IF NOT EXISTS doc_snapshots (
        doc TEXT PRIMARY KEY,
        snapshot BLOB NOT NULL,
        updated_at INTEGER NOT NULL,
        seq INTEGER NOT NULL DEFAULT 0 -- the snapshot covers the doc's updates up to this doc_seq
      );
      -- seq: the row id (commit order across docs); doc_seq: the doc's own sequence number.
      CREATE TABLE IF NOT EXISTS doc_updates (
        seq INTEGER PRIMARY KEY,
        doc TEXT NOT NULL,
        data BLOB NOT NULL,
        doc_seq INTEGER,
        account TEXT,
        session TEXT,
        device TEXT,
        committed_at INTEGER
      );
      CREATE UNIQUE INDEX IF NOT EXISTS doc_updates_by_doc_seq ON doc_updates (doc, doc_seq);
    `)
    db.pragma(`user_version = ${SCHEMA_VERSION}`)
  }).immediate()
}

function prepare(db: SqliteDatabase) {
  return {
    // The last number: the highest in the log, else the snapshot's (compaction may have emptied the log).
    selectHead: db.prepare(
      'SELECT max(coalesce((SELECT max(doc_seq) FROM doc_updates WHERE doc = ?), 0), coalesce((SELECT seq FROM doc_snapshots WHERE doc = ?), 0)) AS seq',
    ),
    docExists: db.prepare('SELECT EXISTS (SELECT 1 FROM doc_updates WHERE doc = ?) OR EXISTS (SELECT 1 FROM doc_snapshots WHERE doc = ?) AS yes'),
    insertUpdate: db.prepare(
      'INSERT INTO doc_updates (doc, doc_seq, data, account, session, device, committed_at) VALUES (?, ?, ?, ?, ?, ?, ?)',
    ),
    selectUpdatesAfter: db.prepare('SELECT data FROM doc_updates WHERE doc = ? AND doc_seq > ? ORDER BY doc_seq'),
    selectSnapshot: db.prepare('SELECT snapshot, seq FROM doc_snapshots WHERE doc = ?'),
    selectSnapshotSeq: db.prepare('SELECT seq FROM doc_snapshots WHERE doc = ?'),
    upsertSnapshot: db.prepare(
      'INSERT INTO doc_snapshots (doc, snapshot, seq, updated_at) VALUES (?, ?, ?, ?) ' +
        'ON CONFLICT (doc) DO UPDATE SET snapshot = excluded.snapshot, seq = excluded.seq, updated_at = excluded.updated_at',
    ),
    deleteUpdatesUpTo: db.prepare('DELETE FROM doc_updates WHERE doc = ? AND doc_seq <= ?'),
    deleteUpdates: db.prepare('DELETE FROM doc_updates WHERE doc = ?'),
    deleteSnapshot: db.prepare('DELETE FROM doc_snapshots WHERE doc = ?'),
    docsWithPrefix: db.prepare(
      'SELECT DISTINCT doc FROM doc_updates WHERE substr(doc, 1, length(@prefix)) = @prefix ' +
        'UNION SELECT doc FROM doc_snapshots WHERE substr(doc, 1, length(@prefix)) = @prefix ORDER BY doc',
    ),
    ping: db.prepare('SELECT 1'),
  }
}

/** better-sqlite3 returns Buffers; hand out plain Uint8Arrays that own exactly their bytes. */
const toBytes = (b: Buffer): Uint8Array => new Uint8Array(b.buffer, b.byteOffset, b.byteLength)
