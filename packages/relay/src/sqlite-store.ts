/**
 * The embedded default DocStore: better-sqlite3, per doc a head row (its last sequence number), a snapshot
 * row and an append-only log of attributed updates. One relay writes to a file, so the per-doc sequence is
 * simply the head plus one, in the same transaction as the log rows.
 */
import type { AppendedRange, DocStore, StoredDoc, UpdateEntry } from './store.js'
import { groupByDoc } from './store.js'
import { openDatabase, type SqliteDatabase } from './sqlite.js'

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
  private readonly compactTx: (docName: string, snapshot: Uint8Array, upTo: number) => boolean
  private readonly deleteTx: (docName: string) => void
  private readonly deletePrefixTx: (prefix: string) => number
  private readonly loadTx: (docName: string, after: number) => StoredDoc

  constructor(options: SqliteDocStoreOptions = {}) {
    this.ownsDatabase = options.database === undefined
    this.database = options.database ?? openDatabase(options.dataDir ?? './data')
    migrate(this.database)
    const s = (this.statements = prepare(this.database))
    this.appendTx = this.database.transaction((entries: readonly UpdateEntry[]) => {
      const now = Date.now()
      const ranges: AppendedRange[] = []
      for (const [docName, group] of groupByDoc(entries)) {
        const { seq: last } = s.bumpHead.get(docName, group.length) as { seq: number }
        const first = last - group.length + 1
        group.forEach(({ update, author }, i) =>
          s.insertUpdate.run(docName, first + i, update, author?.account ?? null, author?.session ?? null, author?.device ?? null, now),
        )
        ranges.push({ docName, first, last })
      }
      return ranges
    })
    this.compactTx = this.database.transaction((docName: string, snapshot: Uint8Array, upTo: number) => {
      const current = s.selectSnapshotSeq.get(docName) as { seq: number } | undefined
      if (current !== undefined && current.seq >= upTo) return false
      s.upsertSnapshot.run(docName, snapshot, upTo, Date.now())
      s.deleteUpdatesUpTo.run(docName, upTo)
      return true
    })
    this.deleteTx = this.database.transaction((docName: string) => {
      s.deleteSnapshot.run(docName)
      s.deleteUpdates.run(docName)
      s.deleteHead.run(docName)
    })
    this.deletePrefixTx = this.database.transaction((prefix: string) => {
      const docs = s.docsWithPrefix.all({ prefix }) as { doc: string }[]
      for (const { doc } of docs) this.deleteTx(doc)
      return docs.length
    })
    // A read transaction, so that head, snapshot and log are of one moment.
    this.loadTx = this.database.transaction((docName: string, after: number): StoredDoc => {
      const head = s.selectHead.get(docName) as { seq: number } | undefined
      const snapshot = s.selectSnapshot.get(docName) as { snapshot: Buffer; seq: number } | undefined
      const snapshotSeq = snapshot?.seq ?? 0
      // after = 0: the caller holds nothing, not even a snapshot at seq 0 (of a file migrated from layout 0).
      const withSnapshot = snapshot !== undefined && (snapshotSeq > after || after === 0)
      const log = (s.selectUpdatesAfter.all(docName, Math.max(after, snapshotSeq)) as { data: Buffer }[]).map((r) => toBytes(r.data))
      return { updates: withSnapshot ? [toBytes(snapshot.snapshot), ...log] : log, seq: head?.seq ?? 0, snapshotSeq }
    })
  }

  async load(docName: string, after = 0): Promise<StoredDoc> {
    return this.loadTx(docName, after)
  }

  async appendUpdates(entries: readonly UpdateEntry[]): Promise<AppendedRange[]> {
    return entries.length > 0 ? this.appendTx(entries) : []
  }

  async compact(docName: string, snapshot: Uint8Array, upTo: number): Promise<boolean> {
    return this.compactTx(docName, snapshot, upTo)
  }

  async heads(docNames: readonly string[]): Promise<Map<string, number>> {
    const heads = new Map<string, number>()
    for (const name of docNames) {
      const row = this.statements.selectHead.get(name) as { seq: number } | undefined
      if (row) heads.set(name, row.seq)
    }
    return heads
  }

  async deleteDoc(docName: string): Promise<void> {
    this.deleteTx(docName)
  }

  async deletePrefix(prefix: string): Promise<number> {
    return this.deletePrefixTx(prefix)
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
      CREATE TABLE IF NOT EXISTS doc_heads (
        doc TEXT PRIMARY KEY,
        seq INTEGER NOT NULL
      );
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
    if (legacy) {
      db.exec(`
        INSERT INTO doc_heads (doc, seq)
          SELECT doc, max(seq) FROM (
            SELECT doc, doc_seq AS seq FROM doc_updates UNION ALL SELECT doc, seq FROM doc_snapshots
          ) GROUP BY doc
        ON CONFLICT (doc) DO NOTHING;
      `)
    }
    db.pragma(`user_version = ${SCHEMA_VERSION}`)
  })()
}

function prepare(db: SqliteDatabase) {
  return {
    bumpHead: db.prepare('INSERT INTO doc_heads (doc, seq) VALUES (?, ?) ON CONFLICT (doc) DO UPDATE SET seq = seq + excluded.seq RETURNING seq'),
    selectHead: db.prepare('SELECT seq FROM doc_heads WHERE doc = ?'),
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
    deleteHead: db.prepare('DELETE FROM doc_heads WHERE doc = ?'),
    docsWithPrefix: db.prepare(
      'SELECT doc FROM doc_heads WHERE substr(doc, 1, length(@prefix)) = @prefix ' +
        'UNION SELECT doc FROM doc_snapshots WHERE substr(doc, 1, length(@prefix)) = @prefix ORDER BY doc',
    ),
    ping: db.prepare('SELECT 1'),
  }
}

/** better-sqlite3 returns Buffers; hand out plain Uint8Arrays that own exactly their bytes. */
const toBytes = (b: Buffer): Uint8Array => new Uint8Array(b.buffer, b.byteOffset, b.byteLength)
