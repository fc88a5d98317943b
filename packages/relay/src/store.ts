/**
 * Where the relay keeps docs. Narrow on purpose (like automerge-repo's storage adapters): the embedded SQLite
 * store and the Postgres store implement it, and a third one is an afternoon's work.
 *
 * Each doc is a snapshot plus an append-only log. Every logged update gets the doc's next **sequence number**
 * (1, 2, 3, … per doc), assigned by the store in the transaction that commits it, so that several relays
 * appending to one doc never collide, commits of one doc become visible in sequence order, and a relay that
 * holds seq n and sees n + 2 knows it missed one. The snapshot covers every update up to its own seq, so
 * compaction is "up to seq n" and never touches an update appended after n, by this relay or another.
 */

import type { ActivityQuery, HistoryBounds, HistoryState, VersionRecord } from './history.js'

/** Who wrote an update: kept with it in the log (for history, issue #14). */
export interface Attribution {
  /** Account (`sub`). */
  account: string
  /** Session (`sid`): one signed-in app on one device. */
  session: string
  /** Device name (the token's `name`), if it had one. */
  device: string | null
}

export interface UpdateEntry {
  docName: string
  /** A Yjs v1 update. */
  update: Uint8Array
  /** Null for changes the relay made itself (e.g. content completed by another relay's update). */
  author?: Attribution | null
}

export interface StoredDoc {
  /**
   * The snapshot (when included: see `load`) followed by every logged update after it, in sequence order.
   * Empty for an unknown doc.
   */
  updates: Uint8Array[]
  /** The doc's last sequence number as of this read (0 for an unknown doc): `updates` reach up to it. */
  seq: number
  /** The sequence number the stored snapshot covers (0 if there is none): the log holds the rest. */
  snapshotSeq: number
}

/** The sequence numbers one commit gave to one doc's updates: `first` … `last`, in the order given. */
export interface AppendedRange {
  docName: string
  first: number
  last: number
}

export interface DocStore {
  /**
   * The doc as stored. With `after` > 0, only what follows sequence number `after` (a relay catching up): the
   * updates logged after it, preceded by the snapshot only if the snapshot covers more than `after` (another
   * relay compacted past it). Read as of one consistent moment.
   */
  load(docName: string, after?: number): Promise<StoredDoc>
  /**
   * Append updates, possibly to several docs, in ONE durable transaction: when the promise resolves they are
   * committed; if it rejects, none of them are. Resolves to each doc's range of new sequence numbers (one per
   * doc, its updates numbered in the order given). The relay acks only after this resolves.
   */
  appendUpdates(entries: readonly UpdateEntry[]): Promise<AppendedRange[]>
  /**
   * Atomically make `snapshot` the doc's snapshot, covering every update up to sequence number `upTo` (it may
   * hold more), and drop those updates from the log. Updates after `upTo` stay. Resolves to false, changing
   * nothing, if the stored snapshot already covers `upTo` (another relay compacted further meanwhile).
   */
  compact(docName: string, snapshot: Uint8Array, upTo: number): Promise<boolean>
  /** The last sequence number of each of these docs (unknown docs are left out). */
  heads(docNames: readonly string[]): Promise<Map<string, number>>
  deleteDoc(docName: string): Promise<void>
  /** Delete every doc whose name starts with `prefix`; resolves to how many docs were deleted. */
  deletePrefix(prefix: string): Promise<number>
  /** Names of stored docs, optionally only those starting with `prefix`. */
  listDocs(prefix?: string): Promise<string[]>
  /**
   * History (issue #14, see history.ts). A store without these methods, or with `historyEnabled` false, keeps
   * none: compaction drops the log and the history routes answer 404 HISTORY_OFF.
   */
  readonly historyEnabled?: boolean
  /** The doc's head and oldest openable seq; null for an unknown doc. */
  historyBounds?(docName: string): Promise<HistoryBounds | null>
  /** The doc's versions with seq < `before` (all if null), newest first, at most `limit`. */
  versions?(docName: string, before: number | null, limit: number): Promise<VersionRecord[]>
  /**
   * The doc exactly as it was after seq `at`, as stored (checkpoint or snapshot, then rows: see HistoryState);
   * `after` (≤ at): the caller holds the state after it, so only the rows since are needed when they suffice.
   */
  historyState?(docName: string, at: number, after?: number): Promise<HistoryState>
  /** Versions of every doc under a prefix, newest first (at desc, doc asc, seq desc). */
  activity?(query: ActivityQuery): Promise<VersionRecord[]>
  /** Apply the retention policy to one doc as of `now` (ms): resolves to rows dropped and runs merged. */
  maintainHistory?(docName: string, now: number): Promise<HistoryMaintenance>
  /** Rejects if the store cannot be reached now (for /healthz). Optional: a store without it counts as up. */
  ping?(): Promise<void>
  close(): Promise<void>
}

/** Group entries by doc, keeping the order of first appearance and the order of updates within each doc. */
export function groupByDoc(entries: readonly UpdateEntry[]): Map<string, UpdateEntry[]> {
  const groups = new Map<string, UpdateEntry[]>()
  for (const entry of entries) {
    const group = groups.get(entry.docName)
    if (group) group.push(entry)
    else groups.set(entry.docName, [entry])
  }
  return groups
}

export interface HistoryMaintenance {
  dropped: number
  merged: number
}
