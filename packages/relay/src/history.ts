/**
 * History kept by the relay (issue #14): what both stores share. The attributed update log IS the history
 * (compaction writes the snapshot the relay loads from but keeps the rows), plus **checkpoints**: a full,
 * un-garbage-collected Yjs update of everything up to a seq, so that the state after seq s is the nearest
 * checkpoint ≤ s plus the rows up to s. The retention policy thins old rows (see `planThinning`).
 */
import * as Y from 'yjs'
import type { Attribution } from './store.js'

export const DAY_MS = 24 * 60 * 60 * 1000
/** Consecutive updates of one session at most this far apart are one version (keystrokes are not versions). */
export const VERSION_GAP_MS = 60_000

export interface HistoryConfig {
  /** Every version is kept this many days. Default 30. */
  keepAllDays: number
  /** After that, one version per (UTC) day for this many more days; older history is dropped. Default 365. */
  dailyDays: number
  /**
   * Write a checkpoint when compaction finds at least this many updates since the last one AND their bytes
   * reach the last checkpoint's size (see `checkpointDue`). Default 500.
   */
  checkpointEvery: number
}

export const DEFAULT_HISTORY: HistoryConfig = { keepAllDays: 30, dailyDays: 365, checkpointEvery: 500 }

/**
 * Whether compaction should write a checkpoint: enough updates since the last one, and (once there is one) at
 * least as many bytes of rows since it as it has itself. So opening any version merges at most about twice a
 * full state, and checkpoints take at most about as much room as the log: a large doc edited in small steps
 * gets few checkpoints, a small doc rewritten often gets many.
 */
export const checkpointDue = (config: HistoryConfig, updatesSince: number, bytesSince: number, lastCheckpointBytes: number | null): boolean =>
  updatesSince >= config.checkpointEvery && (lastCheckpointBytes === null || bytesSince >= lastCheckpointBytes)

/** The relay's `history` option: false turns history off (compaction drops the log, as before #14). */
export type HistoryOption = false | Partial<HistoryConfig>

export function resolveHistory(option: HistoryOption | undefined): HistoryConfig | null {
  if (option === false) return null
  const config = { ...DEFAULT_HISTORY, ...option }
  for (const [key, min] of [['keepAllDays', 0], ['dailyDays', 0], ['checkpointEvery', 1]] as const) {
    if (!(Number.isFinite(config[key]) && config[key] >= min)) throw new RangeError(`history.${key} must be a number ≥ ${min}`)
  }
  return config
}

/** One version: consecutive committed updates of one session (or one thinned run of several authors). */
export interface VersionRecord {
  doc: string
  /** Its last update's seq: open it with `at = seq`. */
  seq: number
  firstSeq: number
  /** Commit time (ms) of its last update. */
  at: number
  authors: Attribution[]
  /** How many updates it holds. */
  changes: number
}

/** Where a doc's history stands: `oldest` is the oldest seq still openable (0: from the very beginning). */
export interface HistoryBounds {
  head: number
  oldest: number
}

/**
 * A version as stored, not merged (merging a large doc's checkpoint with its rows costs seconds; the client
 * applies the parts in one transaction instead): `parts` applied in order on top of the state after `base`
 * give the state after the version. `base` is 0 (the parts start from an empty doc: the nearest checkpoint or
 * snapshot, then the rows) or the caller's `after` (only the rows in between).
 */
export type HistoryState =
  | { ok: true; base: number; parts: Uint8Array[] }
  | { ok: false; reason: 'unknown-doc' | 'gone' | 'ahead'; oldest: number; head: number }

/** Position in the activity feed (versions ordered by at desc, doc asc, seq desc): the last entry returned. */
export interface ActivityCursor {
  at: number
  doc: string
  seq: number
}

export interface ActivityQuery {
  /** Doc names starting with this (`{workspaceId}/`). */
  prefix: string
  before?: ActivityCursor
  limit: number
  account?: string
  doc?: string
}

export const encodeCursor = (c: ActivityCursor): string => Buffer.from(JSON.stringify([c.at, c.doc, c.seq])).toString('base64url')

export function decodeCursor(s: string): ActivityCursor | null {
  try {
    const v: unknown = JSON.parse(Buffer.from(s, 'base64url').toString('utf8'))
    if (!Array.isArray(v) || v.length !== 3) return null
    const [at, doc, seq] = v as unknown[]
    if (!Number.isSafeInteger(at) || typeof doc !== 'string' || !Number.isSafeInteger(seq)) return null
    return { at: at as number, doc, seq: seq as number }
  } catch {
    return null
  }
}

/** A row of the log as retention sees it (no data). */
export interface LogRowMeta {
  seq: number
  firstSeq: number
  at: number
}

/** What retention does to one doc now (see `planThinning`). */
export interface ThinningPlan {
  /** Drop every row ≤ this seq (a checkpoint is written at it first); null: nothing to drop. */
  dropThrough: number | null
  /** Runs of consecutive rows (by seq, ascending) to merge into one row each, ending at a kept daily version. */
  merges: number[][]
}

/**
 * The retention policy over a doc's rows older than the keep-all window (ascending by seq): rows whose whole
 * day is older than keepAll + daily days are dropped; in between, each UTC day keeps its last version and the
 * rows since the previous kept one are merged into it. Windows are prefixes by seq (the first row that is too
 * old and every row before it), so a clock that went backwards once cannot punch holes in the middle.
 */
export function planThinning(rows: readonly LogRowMeta[], now: number, config: HistoryConfig): ThinningPlan {
  const keepAllCutoff = now - config.keepAllDays * DAY_MS
  const dropCutoff = now - (config.keepAllDays + config.dailyDays) * DAY_MS
  let lastOld = -1
  let lastDropped = -1
  rows.forEach((r, i) => {
    if (r.at < keepAllCutoff) lastOld = i
    if (r.at < dropCutoff) lastDropped = i
  })
  const dropThrough = lastDropped >= 0 ? rows[lastDropped].seq : null
  const merges: number[][] = []
  let run: number[] = []
  for (let i = lastDropped + 1; i <= lastOld; i++) {
    run.push(rows[i].seq)
    const dayEnds = i === lastOld || Math.floor(rows[i + 1].at / DAY_MS) !== Math.floor(rows[i].at / DAY_MS)
    if (dayEnds) {
      if (run.length > 1) merges.push(run)
      run = []
    }
  }
  return { dropThrough, merges }
}

/** The distinct authors of rows being merged (a thinned row's own list included), in order of appearance. */
export function mergeAuthors(rows: readonly { account: string | null; session: string | null; device: string | null; authors: string | null }[]): Attribution[] {
  const out: Attribution[] = []
  const seen = new Set<string>()
  const add = (a: Attribution) => {
    const key = JSON.stringify([a.account, a.session, a.device])
    if (!seen.has(key)) {
      seen.add(key)
      out.push(a)
    }
  }
  for (const r of rows) {
    if (r.authors !== null) for (const a of parseAuthors(r.authors)) add(a)
    else if (r.account !== null) add({ account: r.account, session: r.session ?? '', device: r.device })
  }
  return out
}

export function parseAuthors(json: string): Attribution[] {
  const v = JSON.parse(json) as Attribution[]
  return Array.isArray(v) ? v : []
}

/** A version as the grouping query returns it. */
export interface VersionRow {
  doc: string
  seq: number | string
  first_seq: number | string
  at: number | string
  changes: number | string
  account: string | null
  session: string | null
  device: string | null
  authors: string | null
}

export function versionOf(r: VersionRow): VersionRecord {
  const authors = r.authors !== null ? parseAuthors(r.authors) : r.account !== null ? [{ account: r.account, session: r.session ?? '', device: r.device }] : []
  return { doc: r.doc, seq: Number(r.seq), firstSeq: Number(r.first_seq), at: Number(r.at), authors, changes: Number(r.changes) }
}

/** Parts of a state (a base and the rows after it) as one v1 update: for checkpoints and thinned rows. */
export function mergeState(parts: readonly Uint8Array[]): Uint8Array {
  if (parts.length === 0) return Y.encodeStateAsUpdate(new Y.Doc())
  return parts.length === 1 ? parts[0] : Y.mergeUpdates([...parts])
}

/**
 * Where the parts of the state after `at` start: the caller's `after` when it holds that state and it is not
 * older than the nearest base (checkpoint or snapshot) at or before `at` (the rows in between are then kept:
 * retention never drops rows after a kept base), else 0 (base and rows). `after` ≤ `at` is the route's check.
 */
export const partsStart = (baseSeq: number, after: number | undefined): number => (after !== undefined && after >= baseSeq ? after : 0)
