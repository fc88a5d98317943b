/**
 * Where the relay keeps docs. Narrow on purpose (like automerge-repo's storage adapters) so that a Postgres
 * store can follow the embedded SQLite one. The relay serializes every write it makes through one queue, so a
 * store never sees two writes at once from one relay.
 */

export interface StoredDoc {
  /** The doc's snapshot (if any) followed by every update logged after it, in commit order. Empty if unknown. */
  updates: Uint8Array[]
  /** How many logged updates follow the snapshot. */
  logLength: number
}

export interface UpdateEntry {
  docName: string
  /** A Yjs v1 update. */
  update: Uint8Array
}

export interface DocStore {
  load(docName: string): Promise<StoredDoc>
  /**
   * Append updates, possibly to several docs, in ONE durable transaction: when the promise resolves they are
   * on disk; if it rejects, none of them are. The relay acks only after this resolves.
   */
  appendUpdates(entries: readonly UpdateEntry[]): Promise<void>
  /** Atomically replace the doc's snapshot and its whole update log with `snapshot`, which covers them all. */
  compact(docName: string, snapshot: Uint8Array): Promise<void>
  deleteDoc(docName: string): Promise<void>
  /** Delete every doc whose name starts with `prefix`; resolves to how many docs were deleted. */
  deletePrefix(prefix: string): Promise<number>
  /** Names of stored docs, optionally only those starting with `prefix`. */
  listDocs(prefix?: string): Promise<string[]>
  close(): Promise<void>
}
