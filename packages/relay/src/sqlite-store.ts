/**
 * The embedded default DocStore: better-sqlite3, per doc a snapshot row and an append-only log of attributed
 * updates, each with the doc's sequence number. One store writes to a file, so it numbers updates itself: a
 * doc's last number is read once (the highest in its log, or its snapshot's) and then kept in memory, updated
 * only once a transaction has committed.
 */
import {
  type ActivityQuery,
  checkpointDue,
  type HistoryBounds,
  type HistoryConfig,
  type HistoryOption,
  type HistoryState,
  mergeAuthors,
  mergeState,
  partsStart,
  planThinning,
  resolveHistory,
  type VersionRecord,
  type VersionRow,
  versionOf,
} from './history.js'
import type { AppendedRange, DocStore, HistoryMaintenance, StoredDoc, UpdateEntry } from './store.js'
import { groupByDoc } from './store.js'
import { openDatabase, type SqliteDatabase, writeTransaction } from './sqlite.js'
import { DAY_MS, VERSION_GAP_MS } from './history.js'

export interface SqliteDocStoreOptions {
  /** Directory holding apisync.sqlite (created if missing), or ':memory:'. */
  dataDir?: string
  /** An open database to share (the caller closes it). */
  database?: SqliteDatabase
  /** History and its retention (history.ts). Default on, with the documented defaults; false: none. */
  history?: HistoryOption
  /** The clock commits are stamped with (ms). Default Date.now. */
  now?: () => number
}

/**
 * `PRAGMA user_version` of the doc tables' layout. 0: before sequence numbers; 2: before history (no
 * checkpoints, compaction deleted the log). Older layouts are migrated on open.
 */
const SCHEMA_VERSION = 3

export class SqliteDocStore implements DocStore {
  /** The underlying database; the relay keeps its session registry in it too. */
  readonly database: SqliteDatabase
  private readonly ownsDatabase: boolean
  private readonly statements: ReturnType<typeof prepare>
  private readonly appendTx: (entries: readonly UpdateEntry[], now: number) => AppendedRange[]
  /** Docs' last sequence numbers, as committed (bounded: a doc not here is read from the file). */
  private readonly headCache = new Map<string, number>()
  private readonly compactTx: (docName: string, snapshot: Uint8Array, upTo: number) => boolean
  private readonly deleteTx: (docName: string) => void
  private readonly deletePrefixTx: (prefix: string) => number
  private readonly loadTx: (docName: string, after: number) => StoredDoc
  private readonly stateTx: (docName: string, at: number, after?: number) => HistoryState
  private readonly maintainTx: (docName: string, now: number) => HistoryMaintenance
  readonly history: HistoryConfig | null
  readonly historyEnabled: boolean
  private readonly now: () => number

  constructor(options: SqliteDocStoreOptions = {}) {
    this.ownsDatabase = options.database === undefined
    this.database = options.database ?? openDatabase(options.dataDir ?? './data')
    this.history = resolveHistory(options.history)
    this.historyEnabled = this.history !== null
    this.now = options.now ?? Date.now
    migrate(this.database)
    const s = (this.statements = prepare(this.database))
    this.appendTx = writeTransaction(this.database, (entries: readonly UpdateEntry[], now: number) => {
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
      if (this.history) {
        // The rows stay (they are the history); every checkpointEvery updates, a checkpoint at upTo.
        const last = s.lastCheckpoint.get(docName) as { seq: number; bytes: number } | undefined
        const since = last?.seq ?? this.boundsOf(docName).oldest
        const { bytes } = s.rowBytesBetween.get(docName, since, upTo) as { bytes: number | null }
        if (checkpointDue(this.history, upTo - since, bytes ?? 0, last?.bytes ?? null)) s.insertCheckpoint.run(docName, upTo, this.stateOf(docName, upTo))
      } else {
        s.deleteUpdatesUpTo.run(docName, upTo)
        s.deleteCheckpoints.run(docName)
      }
      s.upsertSnapshot.run(docName, snapshot, upTo, this.now())
      return true
    })
    this.deleteTx = writeTransaction(this.database, (docName: string) => {
      s.deleteSnapshot.run(docName)
      s.deleteUpdates.run(docName)
      s.deleteCheckpoints.run(docName)
    })
    this.stateTx = this.database.transaction((docName: string, at: number, after?: number): HistoryState => {
      const bounds = this.boundsOf(docName)
      if (bounds.head === 0 && (s.docExists.get(docName, docName) as { yes: number }).yes === 0) return { ok: false, reason: 'unknown-doc', ...bounds }
      if (at > bounds.head) return { ok: false, reason: 'ahead', ...bounds }
      if (at < bounds.oldest || s.insideMergedRow.get(docName, at, at) !== undefined) return { ok: false, reason: 'gone', ...bounds }
      return { ok: true, ...this.partsOf(docName, at, after) }
    })
    this.maintainTx = writeTransaction(this.database, (docName: string, now: number): HistoryMaintenance => {
      const config = this.history
      if (!config) return { dropped: 0, merged: 0 }
      const rows = (s.oldRows.all({ doc: docName, cutoff: now - config.keepAllDays * DAY_MS }) as { seq: number; firstSeq: number; at: number }[])
      const plan = planThinning(rows, now, config)
      let dropped = 0
      if (plan.dropThrough !== null) {
        const d = plan.dropThrough
        if ((s.checkpointAt.get(docName, d) as unknown) === undefined) s.insertCheckpoint.run(docName, d, this.stateOf(docName, d))
        dropped = s.deleteUpdatesUpTo.run(docName, d).changes
        s.deleteCheckpointsBefore.run(docName, d)
        // The relay loads from the snapshot and the rows after it: those rows are gone, so it starts at d.
        const snap = s.selectSnapshotSeq.get(docName) as { seq: number } | undefined
        if ((snap?.seq ?? 0) < d) s.upsertSnapshot.run(docName, (s.checkpointAt.get(docName, d) as { data: Buffer }).data, d, now)
      }
      for (const run of plan.merges) {
        const first = run[0]
        const last = run[run.length - 1]
        const rowsOfRun = s.rowsBetween.all(docName, first, last) as MergeRow[]
        const data = mergeState(rowsOfRun.map((r) => toBytes(r.data)))
        const changes = rowsOfRun.reduce((n, r) => n + r.changes, 0)
        const lastRow = rowsOfRun[rowsOfRun.length - 1]
        s.deleteRowsBetween.run(docName, first, last)
        s.insertMerged.run(
          docName,
          last,
          rowsOfRun[0].first_seq ?? rowsOfRun[0].doc_seq,
          data,
          lastRow.account,
          lastRow.session,
          lastRow.device,
          lastRow.committed_at,
          changes,
          JSON.stringify(mergeAuthors(rowsOfRun)),
        )
      }
      return { dropped, merged: plan.merges.length }
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

  /** Head and oldest openable seq (see history.ts): from the start (0), the oldest checkpoint, or the snapshot. */
  private boundsOf(docName: string): HistoryBounds {
    const s = this.statements
    const head = this.head(docName)
    if (s.startsAtOne.get(docName) !== undefined) return { head, oldest: 0 }
    const checkpoint = s.firstCheckpointSeq.get(docName) as { seq: number | null }
    if (checkpoint.seq !== null) return { head, oldest: checkpoint.seq }
    const snapshot = s.selectSnapshotSeq.get(docName) as { seq: number } | undefined
    return { head, oldest: snapshot?.seq ?? 0 }
  }

  /**
   * The state after `at` (checked openable) as stored: the nearest checkpoint ≤ at (or the snapshot history
   * began at, or nothing) then the rows up to at; from `after` on, only the rows (see partsStart).
   */
  private partsOf(docName: string, at: number, after?: number): { base: number; parts: Uint8Array[] } {
    const s = this.statements
    const checkpoint = s.checkpointSeqAtOrBefore.get(docName, at) as { seq: number } | undefined
    let baseSeq = checkpoint?.seq ?? 0
    let snapshotBase = false
    if (!checkpoint && s.startsAtOne.get(docName) === undefined) {
      // History began at a snapshot (compacted before history, or with history off).
      const snapshot = s.selectSnapshotSeq.get(docName) as { seq: number } | undefined
      if (snapshot) {
        baseSeq = snapshot.seq
        snapshotBase = true
      }
    }
    const start = partsStart(baseSeq, after)
    const parts: Uint8Array[] = []
    if (start === 0 && checkpoint) parts.push(toBytes((s.checkpointAt.get(docName, baseSeq) as { data: Buffer }).data))
    else if (start === 0 && snapshotBase) parts.push(toBytes((s.selectSnapshot.get(docName) as { snapshot: Buffer }).snapshot))
    for (const r of s.rowsAfterUpTo.all(docName, start === 0 ? baseSeq : start, at) as { data: Buffer }[]) parts.push(toBytes(r.data))
    return { base: start, parts }
  }

  /** The state after `at` as one update (for a checkpoint). */
  private stateOf(docName: string, at: number): Uint8Array {
    return mergeState(this.partsOf(docName, at).parts)
  }

  async load(docName: string, after = 0): Promise<StoredDoc> {
    return this.loadTx(docName, after)
  }

  async historyBounds(docName: string): Promise<HistoryBounds | null> {
    const bounds = this.boundsOf(docName)
    if (bounds.head === 0 && (this.statements.docExists.get(docName, docName) as { yes: number }).yes === 0) return null
    return bounds
  }

  async versions(docName: string, before: number | null, limit: number): Promise<VersionRecord[]> {
    return (this.statements.versions.all({ doc: docName, before: before ?? Number.MAX_SAFE_INTEGER, limit }) as VersionRow[]).map(versionOf)
  }

  async historyState(docName: string, at: number, after?: number): Promise<HistoryState> {
    return this.stateTx(docName, at, after)
  }

  async activity(q: ActivityQuery): Promise<VersionRecord[]> {
    const c = q.before
    const rows = this.statements.activity.all({
      lo: q.doc ?? q.prefix,
      hi: q.doc ?? q.prefix + String.fromCodePoint(0x10ffff),
      exact: q.doc === undefined ? 0 : 1,
      account: q.account ?? null,
      cAt: c?.at ?? Number.MAX_SAFE_INTEGER,
      cDoc: c?.doc ?? '',
      cSeq: c?.seq ?? 0,
      hasCursor: c ? 1 : 0,
      limit: q.limit,
    }) as VersionRow[]
    return rows.map(versionOf)
  }

  async maintainHistory(docName: string, now: number): Promise<HistoryMaintenance> {
    const done = this.maintainTx(docName, now)
    if (done.dropped > 0) this.headCache.delete(docName)
    return done
  }

  async appendUpdates(entries: readonly UpdateEntry[], committedAt = this.now()): Promise<AppendedRange[]> {
    if (entries.length === 0) return []
    const ranges = this.appendTx(entries, committedAt)
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
    if (version < 2) migrateToLayout2(db)
    // Layout 3 (history): thinned rows (a run of updates merged into one, with all its authors), checkpoints.
    // A doc compacted before has no rows up to its snapshot: its history starts at the snapshot.
    db.exec(`
      ALTER TABLE doc_updates ADD COLUMN first_seq INTEGER; -- a thinned row: it covers first_seq … doc_seq
      ALTER TABLE doc_updates ADD COLUMN changes INTEGER NOT NULL DEFAULT 1;
      ALTER TABLE doc_updates ADD COLUMN authors TEXT; -- a thinned row: JSON [{ account, session, device }]
      CREATE TABLE IF NOT EXISTS doc_checkpoints (
        doc TEXT NOT NULL,
        seq INTEGER NOT NULL,
        data BLOB NOT NULL, -- every update up to seq, merged, not garbage collected
        PRIMARY KEY (doc, seq)
      );
      INSERT OR IGNORE INTO doc_checkpoints (doc, seq, data)
        SELECT doc, seq, snapshot FROM doc_snapshots s
        WHERE NOT EXISTS (SELECT 1 FROM doc_updates u WHERE u.doc = s.doc AND u.doc_seq <= s.seq);
    `)
    db.pragma(`user_version = ${SCHEMA_VERSION}`)
  }).immediate()
}

/** Layouts 0 and 1 (or none) to 2: sequence numbers and attribution. */
function migrateToLayout2(db: SqliteDatabase): void {
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
}

interface MergeRow {
  doc_seq: number
  first_seq: number | null
  data: Buffer
  account: string | null
  session: string | null
  device: string | null
  committed_at: number | null
  changes: number
  authors: string | null
}

/**
 * Versions (history.ts): a row starts one unless it follows the previous row of its doc directly, from the
 * same session, within 60 s, and neither is a thinned row. `{where}` picks the rows.
 */
const versionsQuery = (where: string) => `
WITH r AS (
  SELECT doc, doc_seq AS seq, coalesce(first_seq, doc_seq) AS first_seq, account, session, device,
    coalesce(committed_at, 0) AS at, changes, authors,
    CASE WHEN authors IS NOT NULL
      OR lag(doc_seq) OVER w IS NULL
      OR lag(doc_seq) OVER w <> coalesce(first_seq, doc_seq) - 1
      OR lag(authors) OVER w IS NOT NULL
      OR lag(session) OVER w IS NOT session
      OR coalesce(committed_at, 0) - lag(coalesce(committed_at, 0)) OVER w > ${VERSION_GAP_MS}
    THEN 1 ELSE 0 END AS starts
  FROM doc_updates WHERE ${where}
  WINDOW w AS (PARTITION BY doc ORDER BY doc_seq)
), g AS (
  SELECT *, sum(starts) OVER (PARTITION BY doc ORDER BY seq ROWS UNBOUNDED PRECEDING) AS vid FROM r
)
SELECT doc, max(seq) AS seq, min(first_seq) AS first_seq, max(at) AS at, sum(changes) AS changes,
  max(account) AS account, max(session) AS session, max(device) AS device, max(authors) AS authors
FROM g GROUP BY doc, vid`

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
    deleteCheckpoints: db.prepare('DELETE FROM doc_checkpoints WHERE doc = ?'),
    deleteCheckpointsBefore: db.prepare('DELETE FROM doc_checkpoints WHERE doc = ? AND seq < ?'),
    lastCheckpoint: db.prepare('SELECT seq, length(data) AS bytes FROM doc_checkpoints WHERE doc = ? ORDER BY seq DESC LIMIT 1'),
    rowBytesBetween: db.prepare('SELECT sum(length(data)) AS bytes FROM doc_updates WHERE doc = ? AND doc_seq > ? AND doc_seq <= ?'),
    firstCheckpointSeq: db.prepare('SELECT min(seq) AS seq FROM doc_checkpoints WHERE doc = ?'),
    checkpointAt: db.prepare('SELECT data FROM doc_checkpoints WHERE doc = ? AND seq = ?'),
    checkpointSeqAtOrBefore: db.prepare('SELECT seq FROM doc_checkpoints WHERE doc = ? AND seq <= ? ORDER BY seq DESC LIMIT 1'),
    insertCheckpoint: db.prepare('INSERT OR REPLACE INTO doc_checkpoints (doc, seq, data) VALUES (?, ?, ?)'),
    // History from the very first update: the row numbered 1 (or a thinned row starting at 1) is still there.
    startsAtOne: db.prepare('SELECT 1 FROM doc_updates WHERE doc = ? AND coalesce(first_seq, doc_seq) = 1'),
    insideMergedRow: db.prepare('SELECT 1 FROM doc_updates WHERE doc = ? AND first_seq IS NOT NULL AND first_seq <= ? AND doc_seq > ?'),
    rowsAfterUpTo: db.prepare('SELECT data FROM doc_updates WHERE doc = ? AND doc_seq > ? AND doc_seq <= ? ORDER BY doc_seq'),
    // Rows that retention may touch: the prefix (by seq) up to the last one older than the keep-all cutoff.
    oldRows: db.prepare(
      'SELECT doc_seq AS seq, coalesce(first_seq, doc_seq) AS firstSeq, coalesce(committed_at, 0) AS at FROM doc_updates ' +
        'WHERE doc = @doc AND doc_seq <= (SELECT max(doc_seq) FROM doc_updates WHERE doc = @doc AND coalesce(committed_at, 0) < @cutoff) ORDER BY doc_seq',
    ),
    rowsBetween: db.prepare('SELECT * FROM doc_updates WHERE doc = ? AND doc_seq >= ? AND doc_seq <= ? ORDER BY doc_seq'),
    deleteRowsBetween: db.prepare('DELETE FROM doc_updates WHERE doc = ? AND doc_seq >= ? AND doc_seq <= ?'),
    insertMerged: db.prepare(
      'INSERT INTO doc_updates (doc, doc_seq, first_seq, data, account, session, device, committed_at, changes, authors) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
    ),
    versions: db.prepare(`SELECT * FROM (${versionsQuery('doc = @doc')}) WHERE seq < @before ORDER BY seq DESC LIMIT @limit`),
    activity: db.prepare(
      `SELECT * FROM (${versionsQuery('doc >= @lo AND doc <= @hi')}) v
       WHERE (@account IS NULL OR account = @account OR EXISTS (SELECT 1 FROM json_each(v.authors) WHERE json_extract(value, '$.account') = @account))
         AND (@exact = 0 OR doc = @lo)
         AND (@hasCursor = 0 OR at < @cAt OR (at = @cAt AND (doc > @cDoc OR (doc = @cDoc AND seq < @cSeq))))
       ORDER BY at DESC, doc ASC, seq DESC LIMIT @limit`,
    ),
    ping: db.prepare('SELECT 1'),
  }
}

/** better-sqlite3 returns Buffers; hand out plain Uint8Arrays that own exactly their bytes. */
const toBytes = (b: Buffer): Uint8Array => new Uint8Array(b.buffer, b.byteOffset, b.byteLength)
