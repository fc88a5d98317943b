/** The embedded default DocStore: better-sqlite3, a snapshot row per doc plus an append-only update log. */
import type { DocStore, StoredDoc, UpdateEntry } from './store.js'
import { openDatabase, type SqliteDatabase } from './sqlite.js'

export interface SqliteDocStoreOptions {
  /** Directory holding apisync.sqlite (created if missing), or ':memory:'. */
  dataDir?: string
  /** An open database to share (the caller closes it). */
  database?: SqliteDatabase
}

export class SqliteDocStore implements DocStore {
  /** The underlying database; the relay keeps its session registry in it too. */
  readonly database: SqliteDatabase
  private readonly ownsDatabase: boolean
  private readonly statements: ReturnType<typeof prepare>
  private readonly appendTx: (entries: readonly UpdateEntry[]) => void
  private readonly compactTx: (docName: string, snapshot: Uint8Array) => void
  private readonly deleteTx: (docName: string) => void
  private readonly deletePrefixTx: (prefix: string) => number

  constructor(options: SqliteDocStoreOptions = {}) {
    this.ownsDatabase = options.database === undefined
    this.database = options.database ?? openDatabase(options.dataDir ?? './data')
    this.database.exec(`
      CREATE TABLE IF NOT EXISTS doc_snapshots (
        doc TEXT PRIMARY KEY,
        snapshot BLOB NOT NULL,
        updated_at INTEGER NOT NULL
      );
      CREATE TABLE IF NOT EXISTS doc_updates (
        seq INTEGER PRIMARY KEY,
        doc TEXT NOT NULL,
        data BLOB NOT NULL
      );
      CREATE INDEX IF NOT EXISTS doc_updates_by_doc ON doc_updates (doc, seq);
    `)
    const s = (this.statements = prepare(this.database))
    this.appendTx = this.database.transaction((entries: readonly UpdateEntry[]) => {
      for (const { docName, update } of entries) s.insertUpdate.run(docName, update)
    })
    this.compactTx = this.database.transaction((docName: string, snapshot: Uint8Array) => {
      s.upsertSnapshot.run(docName, snapshot, Date.now())
      s.deleteUpdates.run(docName)
    })
    this.deleteTx = this.database.transaction((docName: string) => {
      s.deleteSnapshot.run(docName)
      s.deleteUpdates.run(docName)
    })
    this.deletePrefixTx = this.database.transaction((prefix: string) => {
      const docs = s.docsWithPrefix.all({ prefix }) as { doc: string }[]
      for (const { doc } of docs) this.deleteTx(doc)
      return docs.length
    })
  }

  async load(docName: string): Promise<StoredDoc> {
    const snapshot = this.statements.selectSnapshot.get(docName) as { snapshot: Buffer } | undefined
    const log = (this.statements.selectUpdates.all(docName) as { data: Buffer }[]).map((r) => toBytes(r.data))
    return { updates: snapshot ? [toBytes(snapshot.snapshot), ...log] : log, logLength: log.length }
  }

  async appendUpdates(entries: readonly UpdateEntry[]): Promise<void> {
    if (entries.length > 0) this.appendTx(entries)
  }

  async compact(docName: string, snapshot: Uint8Array): Promise<void> {
    this.compactTx(docName, snapshot)
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

  async close(): Promise<void> {
    if (this.ownsDatabase && this.database.open) this.database.close()
  }
}

function prepare(db: SqliteDatabase) {
  return {
    insertUpdate: db.prepare('INSERT INTO doc_updates (doc, data) VALUES (?, ?)'),
    selectUpdates: db.prepare('SELECT data FROM doc_updates WHERE doc = ? ORDER BY seq'),
    selectSnapshot: db.prepare('SELECT snapshot FROM doc_snapshots WHERE doc = ?'),
    upsertSnapshot: db.prepare(
      'INSERT INTO doc_snapshots (doc, snapshot, updated_at) VALUES (?, ?, ?) ' +
        'ON CONFLICT (doc) DO UPDATE SET snapshot = excluded.snapshot, updated_at = excluded.updated_at',
    ),
    deleteUpdates: db.prepare('DELETE FROM doc_updates WHERE doc = ?'),
    deleteSnapshot: db.prepare('DELETE FROM doc_snapshots WHERE doc = ?'),
    docsWithPrefix: db.prepare(
      'SELECT doc FROM doc_snapshots WHERE substr(doc, 1, length(@prefix)) = @prefix ' +
        'UNION SELECT doc FROM doc_updates WHERE substr(doc, 1, length(@prefix)) = @prefix ORDER BY doc',
    ),
  }
}

/** better-sqlite3 returns Buffers; hand out plain Uint8Arrays that own exactly their bytes. */
const toBytes = (b: Buffer): Uint8Array => new Uint8Array(b.buffer, b.byteOffset, b.byteLength)
