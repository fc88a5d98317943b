/**
 * The messages between WorkerDocStore (main thread) and its storage worker (sqlite-worker.ts): one request
 * per DocStore call, one reply per request. A batch of updates travels as one packed buffer (transferred,
 * not copied), so a group commit of thousands of small updates is one message with one allocation.
 */
import type { ActivityQuery, HistoryBounds, HistoryState, VersionRecord } from './history.js'
import type { AppendedRange, Attribution, HistoryMaintenance, StoredDoc, UpdateEntry } from './store.js'

/**
 * Updates of a batch: doc names, every update's bytes back to back with the offset where each ends, and their
 * authors as indexes into a table of the batch's distinct authors (`[account, session, device]` flattened; a
 * batch usually has one or a few), so that no object per update is cloned across the thread boundary.
 */
export interface PackedUpdates {
  docNames: string[]
  ends: Uint32Array
  bytes: Uint8Array
  /** Per update: 0 = no author, i > 0 = the author at authors[3(i-1) … 3(i-1)+2]. */
  authorOf: Uint32Array
  authors: (string | null)[]
}

export type StoreCall =
  | { op: 'open' }
  | { op: 'load'; docName: string; after: number }
  | { op: 'appendUpdates'; packed: PackedUpdates; at: number }
  | { op: 'historyBounds'; docName: string }
  | { op: 'versions'; docName: string; before: number | null; limit: number }
  | { op: 'historyState'; docName: string; at: number; after: number | undefined }
  | { op: 'activity'; query: ActivityQuery }
  | { op: 'maintainHistory'; docName: string; now: number }
  | { op: 'compact'; docName: string; snapshot: Uint8Array; upTo: number }
  | { op: 'heads'; docNames: readonly string[] }
  | { op: 'ping' }
  | { op: 'deleteDoc'; docName: string }
  | { op: 'deletePrefix'; prefix: string }
  | { op: 'listDocs'; prefix: string | undefined }
  | { op: 'close' }

/** What each call resolves to. */
export interface StoreResults {
  open: void
  load: StoredDoc
  appendUpdates: AppendedRange[]
  historyBounds: HistoryBounds | null
  versions: VersionRecord[]
  historyState: HistoryState
  activity: VersionRecord[]
  maintainHistory: HistoryMaintenance
  compact: boolean
  heads: Map<string, number>
  ping: void
  deleteDoc: void
  deletePrefix: number
  listDocs: string[]
  close: void
}

export type StoreRequest = StoreCall & { id: number }

export type StoreReply =
  | { id: number; ok: true; value: StoreResults[StoreCall['op']] }
  | { id: number; ok: false; error: { name: string; message: string; code: string | undefined } }

export function packUpdates(entries: readonly UpdateEntry[]): PackedUpdates {
  let size = 0
  for (const { update } of entries) size += update.byteLength
  const bytes = new Uint8Array(size)
  const ends = new Uint32Array(entries.length)
  const docNames: string[] = new Array(entries.length)
  const authorOf = new Uint32Array(entries.length)
  const authors: (string | null)[] = []
  const known = new Map<Attribution, number>()
  let offset = 0
  entries.forEach(({ docName, update, author }, i) => {
    bytes.set(update, offset)
    offset += update.byteLength
    ends[i] = offset
    docNames[i] = docName
    if (author) {
      let index = known.get(author)
      if (index === undefined) {
        authors.push(author.account, author.session, author.device)
        known.set(author, (index = authors.length / 3))
      }
      authorOf[i] = index
    }
  })
  return { docNames, ends, bytes, authorOf, authors }
}

export function unpackUpdates({ docNames, ends, bytes, authorOf, authors }: PackedUpdates): UpdateEntry[] {
  const table: Attribution[] = []
  for (let i = 0; i < authors.length; i += 3) table.push({ account: authors[i]!, session: authors[i + 1]!, device: authors[i + 2] })
  let start = 0
  return docNames.map((docName, i) => {
    const update = bytes.subarray(start, ends[i])
    start = ends[i]
    return { docName, update, author: authorOf[i] === 0 ? null : table[authorOf[i] - 1] }
  })
}
