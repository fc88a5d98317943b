/**
 * The DocStore for several relays: Postgres (node-postgres). Per doc a row in `apisync_docs` (its last sequence
 * number and its snapshot) and its updates in `apisync_updates`, keyed by (doc, seq).
 *
 * - A group commit is ONE statement, so one transaction: it bumps each doc's `last_seq` (an upsert, which
 *   locks the doc's row until COMMIT, taken in doc-name order so two relays' batches cannot deadlock) and
 *   logs the updates numbered from there. The promise resolves after COMMIT; the relay acks only then. A
 *   relay appending to the same doc waits for the row, so commits of one doc become visible in sequence order
 *   and a reader never sees seq n + 1 without n.
 * - Compaction is one statement too: it replaces the snapshot only if it covers more than the stored one, and
 *   deletes only updates up to its own seq; two relays compacting at once leave the larger one.
 * - Loading (also "everything after seq n") is one statement: one consistent view of head, snapshot and log.
 */
import { StorageError } from './errors.js'
import { createPool, isRetryable, migrate, query, withTransaction, type PgPool, type PostgresOptions } from './postgres.js'
import { type ActivityQuery, type HistoryBounds, type HistoryOption, type HistoryState, resolveHistory, type VersionRecord } from './history.js'
import { PostgresHistory } from './postgres-history.js'
import type { AppendedRange, DocStore, HistoryMaintenance, StoredDoc, UpdateEntry } from './store.js'

export interface PostgresDocStoreOptions extends Partial<PostgresOptions> {
  /** A pool to share (the caller ends it); else one is made from `url`. */
  pool?: PgPool
  /** Called when an idle pooled connection fails (the pool replaces it). */
  onIdleError?: (err: Error) => void
  /** History and its retention (history.ts). Default on, with the documented defaults; false: none. */
  history?: HistoryOption
  /** The clock commits are stamped with (ms). Default Date.now. */
  now?: () => number
}

const APPEND = `
WITH input AS (
  SELECT t.doc, t.ord, substring($2::bytea FROM t.start + 1 FOR t.len) AS data, t.account, t.session, t.device
  FROM unnest($1::text[], $3::int[], $4::int[], $5::text[], $6::text[], $7::text[])
    WITH ORDINALITY AS t(doc, start, len, account, session, device, ord)
), counts AS (
  SELECT doc, count(*)::bigint AS n FROM input GROUP BY doc
), bumped AS (
  INSERT INTO apisync_docs AS d (doc, last_seq) SELECT doc, n FROM counts ORDER BY doc
  ON CONFLICT (doc) DO UPDATE SET last_seq = d.last_seq + excluded.last_seq
  RETURNING d.doc, d.last_seq
), logged AS (
  INSERT INTO apisync_updates (doc, seq, data, account, session, device, committed_at)
  SELECT i.doc, b.last_seq - c.n + row_number() OVER (PARTITION BY i.doc ORDER BY i.ord), i.data, i.account, i.session, i.device,
    to_timestamp($8::float8 / 1000)
  FROM input i JOIN bumped b USING (doc) JOIN counts c USING (doc)
)
SELECT b.doc, b.last_seq, c.n FROM bumped b JOIN counts c USING (doc)`

// kind 0: the head row (last_seq, snapshot_seq); 1: the snapshot, if it covers more than $2 (or $2 = 0: the
// caller holds nothing); 2: log rows.
const LOAD = `
WITH d AS (SELECT last_seq, snapshot_seq, snapshot FROM apisync_docs WHERE doc = $1)
SELECT 0 AS kind, d.last_seq AS seq, d.snapshot_seq AS snapshot_seq, NULL::bytea AS data FROM d
UNION ALL
SELECT 1, d.snapshot_seq, NULL, d.snapshot FROM d WHERE d.snapshot IS NOT NULL AND (d.snapshot_seq > $2 OR $2 = 0)
UNION ALL
SELECT 2, u.seq, NULL, u.data FROM apisync_updates u, d WHERE u.doc = $1 AND u.seq > GREATEST($2, d.snapshot_seq)
ORDER BY kind, seq`

// Without history: the snapshot replaces the log up to its seq (and there are no checkpoints to keep).
const COMPACT = `
WITH d AS (
  UPDATE apisync_docs SET snapshot = $2, snapshot_seq = $3, compacted_at = now()
  WHERE doc = $1 AND snapshot_seq < $3 AND last_seq >= $3
  RETURNING doc
), dropped AS (
  DELETE FROM apisync_updates u USING d WHERE u.doc = d.doc AND u.seq <= $3
), checkpoints AS (
  DELETE FROM apisync_checkpoints c USING d WHERE c.doc = d.doc
)
SELECT count(*)::int AS replaced FROM d`

export class PostgresDocStore implements DocStore {
  readonly pool: PgPool
  private readonly ownsPool: boolean
  private migrated: Promise<void> | null = null
  readonly historyEnabled: boolean
  private readonly history: PostgresHistory | null
  private readonly now: () => number

  constructor(options: PostgresDocStoreOptions) {
    if (!options.pool && !options.url) throw new StorageError('PostgresDocStore needs a pool or a url', 'CONFIG')
    this.ownsPool = options.pool === undefined
    this.pool = options.pool ?? createPool({ url: options.url!, ...options }, options.onIdleError ?? (() => {}))
    const config = resolveHistory(options.history)
    this.history = config ? new PostgresHistory(this.pool, config) : null
    this.historyEnabled = config !== null
    this.now = options.now ?? Date.now
  }

  /** Create or update the schema (once; safe with several relays starting at once). */
  opened(): Promise<void> {
    return (this.migrated ??= migrate(this.pool))
  }

  async load(docName: string, after = 0): Promise<StoredDoc> {
    const { rows } = await query<{ kind: number; seq: string; snapshot_seq: string | null; data: Buffer | null }>(this.pool, LOAD, [docName, after])
    if (rows.length === 0) return { updates: [], seq: 0, snapshotSeq: 0 }
    const head = rows[0]
    const updates = rows.slice(1).map((r) => toBytes(r.data!))
    return { updates, seq: Number(head.seq), snapshotSeq: Number(head.snapshot_seq) }
  }

  async appendUpdates(entries: readonly UpdateEntry[]): Promise<AppendedRange[]> {
    if (entries.length === 0) return []
    let size = 0
    for (const { update } of entries) size += update.byteLength
    const bytes = Buffer.allocUnsafe(size)
    const docs: string[] = []
    const starts: number[] = []
    const lengths: number[] = []
    const accounts: (string | null)[] = []
    const sessions: (string | null)[] = []
    const devices: (string | null)[] = []
    let offset = 0
    for (const { docName, update, author } of entries) {
      bytes.set(update, offset)
      docs.push(docName)
      starts.push(offset)
      lengths.push(update.byteLength)
      accounts.push(author?.account ?? null)
      sessions.push(author?.session ?? null)
      devices.push(author?.device ?? null)
      offset += update.byteLength
    }
    const values = [docs, bytes, starts, lengths, accounts, sessions, devices, this.now()]
    for (let attempt = 1; ; attempt++) {
      try {
        const { rows } = await query<{ doc: string; last_seq: string; n: string }>(this.pool, APPEND, values)
        const byDoc = new Map(rows.map((r) => [r.doc, { last: Number(r.last_seq), n: Number(r.n) }]))
        // In the order docs first appear in `entries`, like the SQLite store.
        return [...new Set(docs)].map((docName) => {
          const { last, n } = byDoc.get(docName)!
          return { docName, first: last - n + 1, last }
        })
      } catch (err) {
        // A deadlock victim rolled back whole: run it again.
        if (attempt < 4 && isRetryable(err)) continue
        throw err
      }
    }
  }

  async compact(docName: string, snapshot: Uint8Array, upTo: number): Promise<boolean> {
    const bytes = Buffer.from(snapshot.buffer, snapshot.byteOffset, snapshot.byteLength)
    const history = this.history
    if (!history) {
      const { rows } = await query<{ replaced: number }>(this.pool, COMPACT, [docName, bytes, upTo])
      return rows[0].replaced > 0
    }
    // With history the rows stay; a checkpoint every checkpointEvery updates. The doc row is locked throughout.
    return withTransaction(this.pool, async (c) => {
      const { rowCount } = await c.query(
        'UPDATE apisync_docs SET snapshot = $2, snapshot_seq = $3, compacted_at = now() WHERE doc = $1 AND snapshot_seq < $3 AND last_seq >= $3',
        [docName, bytes, upTo],
      )
      if (!rowCount) return false
      await history.checkpointIfDue(c, docName, upTo)
      return true
    })
  }

  historyBounds(docName: string): Promise<HistoryBounds | null> {
    return this.historyOrFail().bounds(docName)
  }

  versions(docName: string, before: number | null, limit: number): Promise<VersionRecord[]> {
    return this.historyOrFail().versions(docName, before, limit)
  }

  historyState(docName: string, at: number, after?: number): Promise<HistoryState> {
    return this.historyOrFail().state(docName, at, after)
  }

  activity(q: ActivityQuery): Promise<VersionRecord[]> {
    return this.historyOrFail().activity(q)
  }

  async maintainHistory(docName: string, now: number): Promise<HistoryMaintenance> {
    return this.history ? this.history.maintain(docName, now) : { dropped: 0, merged: 0 }
  }

  private historyOrFail(): PostgresHistory {
    if (!this.history) throw new StorageError('history is off', 'HISTORY_OFF')
    return this.history
  }

  async heads(docNames: readonly string[]): Promise<Map<string, number>> {
    if (docNames.length === 0) return new Map()
    const { rows } = await query<{ doc: string; last_seq: string }>(this.pool, 'SELECT doc, last_seq FROM apisync_docs WHERE doc = ANY($1::text[])', [docNames])
    return new Map(rows.map((r) => [r.doc, Number(r.last_seq)]))
  }

  async deleteDoc(docName: string): Promise<void> {
    await withTransaction(this.pool, async (client) => {
      await client.query('DELETE FROM apisync_updates WHERE doc = $1', [docName])
      await client.query('DELETE FROM apisync_checkpoints WHERE doc = $1', [docName])
      await client.query('DELETE FROM apisync_docs WHERE doc = $1', [docName])
    })
  }

  async deletePrefix(prefix: string): Promise<number> {
    return withTransaction(this.pool, async (client) => {
      await client.query('DELETE FROM apisync_updates WHERE starts_with(doc, $1)', [prefix])
      await client.query('DELETE FROM apisync_checkpoints WHERE starts_with(doc, $1)', [prefix])
      const { rowCount } = await client.query('DELETE FROM apisync_docs WHERE starts_with(doc, $1)', [prefix])
      return rowCount ?? 0
    })
  }

  async listDocs(prefix = ''): Promise<string[]> {
    const { rows } = await query<{ doc: string }>(this.pool, 'SELECT doc FROM apisync_docs WHERE starts_with(doc, $1) ORDER BY doc', [prefix])
    return rows.map((r) => r.doc)
  }

  async ping(): Promise<void> {
    await query(this.pool, 'SELECT 1')
  }

  async close(): Promise<void> {
    if (this.ownsPool) await this.pool.end()
  }
}

const toBytes = (b: Buffer): Uint8Array => new Uint8Array(b.buffer, b.byteOffset, b.byteLength)
