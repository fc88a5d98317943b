/**
 * History on Postgres (history.ts): the same rules as the SQLite store, on `apisync_updates` (rows kept after
 * compaction, thinned by retention) and `apisync_checkpoints`. Writers (compaction's checkpoint, retention)
 * hold the doc's `apisync_docs` row lock, the lock appends take, so two relays never thin one doc at once;
 * readers read in one REPEATABLE READ snapshot.
 */
import {
  type ActivityQuery,
  checkpointDue,
  DAY_MS,
  type HistoryBounds,
  type HistoryConfig,
  type HistoryState,
  mergeAuthors,
  mergeState,
  partsStart,
  planThinning,
  VERSION_GAP_MS,
  type VersionRecord,
  type VersionRow,
  versionOf,
} from './history.js'
import { query, type PgClient, type PgPool, withTransaction } from './postgres.js'
import type { HistoryMaintenance } from './store.js'

/** Commit time in ms (committed_at is a timestamptz). */
const AT = `round(extract(epoch FROM committed_at) * 1000)::bigint`

const versionsQuery = (where: string) => `
WITH r AS (
  SELECT doc, seq, coalesce(first_seq, seq) AS first_seq, account, session, device, ${AT} AS at, changes, authors,
    CASE WHEN authors IS NOT NULL
      OR lag(seq) OVER w IS NULL
      OR lag(seq) OVER w <> coalesce(first_seq, seq) - 1
      OR lag(authors) OVER w IS NOT NULL
      OR lag(session) OVER w IS DISTINCT FROM session
      OR ${AT} - lag(${AT}) OVER w > ${VERSION_GAP_MS}
    THEN 1 ELSE 0 END AS starts
  FROM apisync_updates WHERE ${where}
  WINDOW w AS (PARTITION BY doc ORDER BY seq)
), g AS (
  SELECT *, sum(starts) OVER (PARTITION BY doc ORDER BY seq ROWS UNBOUNDED PRECEDING) AS vid FROM r
)
SELECT doc, max(seq) AS seq, min(first_seq) AS first_seq, max(at) AS at, sum(changes) AS changes,
  max(account) AS account, max(session) AS session, max(device) AS device, max(authors) AS authors
FROM g GROUP BY doc, vid`

const VERSIONS = `SELECT * FROM (${versionsQuery('doc = $1')}) v WHERE seq < $2 ORDER BY seq DESC LIMIT $3`

const ACTIVITY = `
SELECT * FROM (${versionsQuery('starts_with(doc, $1) AND ($2::text IS NULL OR doc = $2)')}) v
WHERE ($3::text IS NULL OR account = $3 OR (authors IS NOT NULL AND authors::jsonb @> jsonb_build_array(jsonb_build_object('account', $3::text))))
  AND ($4::bigint IS NULL OR at < $4 OR (at = $4 AND (doc COLLATE "C" > $5 OR (doc = $5 AND seq < $6))))
ORDER BY at DESC, doc COLLATE "C" ASC, seq DESC LIMIT $7`

type Q = Pick<PgClient, 'query'>

async function bounds(c: Q, docName: string): Promise<(HistoryBounds & { snapshotSeq: number }) | null> {
  const { rows } = await c.query<{ last_seq: string; snapshot_seq: string; from_one: boolean; first_cp: string | null }>(
    `SELECT last_seq, snapshot_seq,
       EXISTS (SELECT 1 FROM apisync_updates WHERE doc = $1 AND coalesce(first_seq, seq) = 1) AS from_one,
       (SELECT min(seq) FROM apisync_checkpoints WHERE doc = $1) AS first_cp
     FROM apisync_docs WHERE doc = $1`,
    [docName],
  )
  const r = rows[0]
  if (!r) return null
  const snapshotSeq = Number(r.snapshot_seq)
  const oldest = r.from_one ? 0 : r.first_cp !== null ? Number(r.first_cp) : snapshotSeq
  return { head: Number(r.last_seq), oldest, snapshotSeq }
}

/**
 * The state after `at` as stored: the nearest checkpoint ≤ at (else the snapshot when history began there)
 * then the rows; from `after` on, only the rows (see partsStart).
 */
async function partsOf(c: Q, docName: string, at: number, b: HistoryBounds & { snapshotSeq: number }, after?: number): Promise<{ base: number; parts: Uint8Array[] }> {
  const cp = await c.query<{ seq: string }>('SELECT seq FROM apisync_checkpoints WHERE doc = $1 AND seq <= $2 ORDER BY seq DESC LIMIT 1', [docName, at])
  const cpSeq = cp.rows[0] ? Number(cp.rows[0].seq) : null
  const snapshotBase = cpSeq === null && b.oldest > 0
  const baseSeq = cpSeq ?? (snapshotBase ? b.snapshotSeq : 0)
  const start = partsStart(baseSeq, after)
  const parts: Uint8Array[] = []
  if (start === 0 && cpSeq !== null) {
    const { rows } = await c.query<{ data: Buffer }>('SELECT data FROM apisync_checkpoints WHERE doc = $1 AND seq = $2', [docName, cpSeq])
    parts.push(toBytes(rows[0]!.data))
  } else if (start === 0 && snapshotBase) {
    const { rows } = await c.query<{ snapshot: Buffer | null }>('SELECT snapshot FROM apisync_docs WHERE doc = $1', [docName])
    if (rows[0]?.snapshot) parts.push(toBytes(rows[0].snapshot))
  }
  const rows = await c.query<{ data: Buffer }>('SELECT data FROM apisync_updates WHERE doc = $1 AND seq > $2 AND seq <= $3 ORDER BY seq', [
    docName,
    start === 0 ? baseSeq : start,
    at,
  ])
  for (const r of rows.rows) parts.push(toBytes(r.data))
  return { base: start, parts }
}

const stateOf = async (c: Q, docName: string, at: number, b: HistoryBounds & { snapshotSeq: number }): Promise<Uint8Array> =>
  mergeState((await partsOf(c, docName, at, b)).parts)

async function readOnly<T>(pool: PgPool, work: (c: PgClient) => Promise<T>): Promise<T> {
  return withTransaction(pool, async (c) => {
    await c.query('SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY')
    return work(c)
  })
}

export class PostgresHistory {
  constructor(
    private readonly pool: PgPool,
    readonly config: HistoryConfig,
  ) {}

  async bounds(docName: string): Promise<HistoryBounds | null> {
    const b = await bounds(this.pool, docName)
    return b && { head: b.head, oldest: b.oldest }
  }

  async versions(docName: string, before: number | null, limit: number): Promise<VersionRecord[]> {
    const { rows } = await query<VersionRow>(this.pool, VERSIONS, [docName, before ?? Number.MAX_SAFE_INTEGER, limit])
    return rows.map(versionOf)
  }

  async activity(q: ActivityQuery): Promise<VersionRecord[]> {
    const c = q.before
    const { rows } = await query<VersionRow>(this.pool, ACTIVITY, [q.prefix, q.doc ?? null, q.account ?? null, c?.at ?? null, c?.doc ?? '', c?.seq ?? 0, q.limit])
    return rows.map(versionOf)
  }

  state(docName: string, at: number, after?: number): Promise<HistoryState> {
    return readOnly(this.pool, async (c) => {
      const b = await bounds(c, docName)
      if (!b) return { ok: false, reason: 'unknown-doc', head: 0, oldest: 0 }
      const shown = { head: b.head, oldest: b.oldest }
      if (at > b.head) return { ok: false, reason: 'ahead', ...shown }
      const inside = await c.query('SELECT 1 FROM apisync_updates WHERE doc = $1 AND first_seq IS NOT NULL AND first_seq <= $2 AND seq > $2', [docName, at])
      if (at < b.oldest || inside.rows.length > 0) return { ok: false, reason: 'gone', ...shown }
      return { ok: true, ...(await partsOf(c, docName, at, b, after)) }
    })
  }

  /** Inside compaction's transaction (the doc row locked): a checkpoint at `upTo` if one is due. */
  async checkpointIfDue(c: PgClient, docName: string, upTo: number): Promise<void> {
    const b = await bounds(c, docName)
    if (!b) return
    const last = await c.query<{ seq: string; bytes: number }>(
      'SELECT seq, octet_length(data) AS bytes FROM apisync_checkpoints WHERE doc = $1 ORDER BY seq DESC LIMIT 1',
      [docName],
    )
    const since = last.rows[0] ? Number(last.rows[0].seq) : b.oldest
    const rows = await c.query<{ bytes: string | null }>('SELECT sum(octet_length(data)) AS bytes FROM apisync_updates WHERE doc = $1 AND seq > $2 AND seq <= $3', [
      docName,
      since,
      upTo,
    ])
    if (!checkpointDue(this.config, upTo - since, Number(rows.rows[0].bytes ?? 0), last.rows[0] ? Number(last.rows[0].bytes) : null)) return
    const data = await stateOf(c, docName, upTo, b)
    await c.query('INSERT INTO apisync_checkpoints (doc, seq, data) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING', [docName, upTo, toBuffer(data)])
  }

  maintain(docName: string, now: number): Promise<HistoryMaintenance> {
    return withTransaction(this.pool, async (c) => {
      const locked = await c.query('SELECT 1 FROM apisync_docs WHERE doc = $1 FOR UPDATE', [docName])
      if (locked.rows.length === 0) return { dropped: 0, merged: 0 }
      const { rows } = await c.query<{ seq: string; first_seq: string; at: string }>(
        `SELECT seq, coalesce(first_seq, seq) AS first_seq, ${AT} AS at FROM apisync_updates
         WHERE doc = $1 AND seq <= (SELECT max(seq) FROM apisync_updates WHERE doc = $1 AND committed_at < to_timestamp($2::float8 / 1000))
         ORDER BY seq`,
        [docName, now - this.config.keepAllDays * DAY_MS],
      )
      const plan = planThinning(
        rows.map((r) => ({ seq: Number(r.seq), firstSeq: Number(r.first_seq), at: Number(r.at) })),
        now,
        this.config,
      )
      let dropped = 0
      if (plan.dropThrough !== null) {
        const d = plan.dropThrough
        const b = (await bounds(c, docName))!
        const have = await c.query<{ data: Buffer }>('SELECT data FROM apisync_checkpoints WHERE doc = $1 AND seq = $2', [docName, d])
        const checkpoint = have.rows[0] ? toBytes(have.rows[0].data) : await stateOf(c, docName, d, b)
        if (!have.rows[0]) await c.query('INSERT INTO apisync_checkpoints (doc, seq, data) VALUES ($1, $2, $3)', [docName, d, toBuffer(checkpoint)])
        dropped = (await c.query('DELETE FROM apisync_updates WHERE doc = $1 AND seq <= $2', [docName, d])).rowCount ?? 0
        await c.query('DELETE FROM apisync_checkpoints WHERE doc = $1 AND seq < $2', [docName, d])
        // The relay loads from the snapshot and the rows after it: those rows are gone, so it starts at d.
        if (b.snapshotSeq < d) await c.query('UPDATE apisync_docs SET snapshot = $2, snapshot_seq = $3, compacted_at = now() WHERE doc = $1', [docName, toBuffer(checkpoint), d])
      }
      for (const run of plan.merges) {
        const first = run[0]
        const last = run[run.length - 1]
        const { rows: runRows } = await c.query<{
          seq: string
          first_seq: string | null
          data: Buffer
          account: string | null
          session: string | null
          device: string | null
          committed_at: Date
          changes: number
          authors: string | null
        }>('SELECT * FROM apisync_updates WHERE doc = $1 AND seq >= $2 AND seq <= $3 ORDER BY seq', [docName, first, last])
        const data = mergeState(runRows.map((r) => toBytes(r.data)))
        const lastRow = runRows[runRows.length - 1]
        await c.query('DELETE FROM apisync_updates WHERE doc = $1 AND seq >= $2 AND seq <= $3', [docName, first, last])
        await c.query(
          `INSERT INTO apisync_updates (doc, seq, first_seq, data, account, session, device, committed_at, changes, authors)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
          [
            docName,
            last,
            runRows[0].first_seq ?? runRows[0].seq,
            toBuffer(data),
            lastRow.account,
            lastRow.session,
            lastRow.device,
            lastRow.committed_at,
            runRows.reduce((n, r) => n + r.changes, 0),
            JSON.stringify(mergeAuthors(runRows)),
          ],
        )
      }
      return { dropped, merged: plan.merges.length }
    })
  }
}

const toBytes = (b: Buffer): Uint8Array => new Uint8Array(b.buffer, b.byteOffset, b.byteLength)
const toBuffer = (u: Uint8Array): Buffer => Buffer.from(u.buffer, u.byteOffset, u.byteLength)
