/**
 * Versions of a doc opened from the relay's history, kept warm on this device (docs/architecture.md,
 * "Opening versions"). Per doc one **cursor**: a read-only Y.Doc and model at some seq, moved forward by
 * applying only the updates after it (Yjs cannot move a doc back), and the snapshots of the versions it has
 * been at, by seq. Snapshots are plain immutable data, structurally shared between the versions of one model
 * (after a few updates, `snapshot()` rebuilds only what they touched), so keeping several is cheap.
 *
 * - A diff of two versions builds one doc: the older version, its snapshot, the updates up to the newer one,
 *   its snapshot. A diff of versions already seen is the diff alone.
 * - `open` gives the caller a model that never changes under it: the cursor's own when the cursor is at or
 *   before the version (moved forward, then handed over: the next request starts a new cursor), else one on
 *   a new doc. Its snapshot is kept for later diffs.
 * - Every version served is asked of the relay, if only with `after` = `at` (no updates to send): access and
 *   retention stay the relay's to decide (GONE, FORBIDDEN), whatever this device still holds.
 * - Memory: at most `maxDocs` docs (the least recently used dropped), each with at most `maxSnapshots`
 *   snapshots; a doc's cursor is dropped after `idleMs` without use.
 */
import { type DocDiff, type DocKind, type DocModel, diffSnapshots } from '@apisync/model'
import * as Y from 'yjs'
import type { HistoryStateBody } from './protocol.js'

/** Where versions come from (RelayHistory). */
export interface VersionSource {
  state(doc: string, seq: number, after?: number): Promise<HistoryStateBody>
}

export interface VersionCursorOptions {
  /** Docs with a cursor at once. Default 1 (a 10,000-request version takes about 400 MB: Yjs structs and model). */
  maxDocs?: number
  /** Snapshots kept per doc. Default 8. */
  maxSnapshots?: number
  /** A doc's cursor and snapshots are dropped after this long unused (ms). Default 60 000. */
  idleMs?: number
}

type AnyModel = DocModel<unknown>

interface Held {
  readonly doc: Y.Doc
  readonly model: AnyModel
  seq: number
}

interface Cursor {
  /** The doc at a seq (null: none yet, or handed to a caller). */
  held: Held | null
  /** Snapshots by seq, least recently used first. */
  readonly snapshots: Map<number, unknown>
  /** This doc's operations, one at a time (each may move `held`). */
  queue: Promise<unknown>
  idle: ReturnType<typeof setTimeout> | null
}

/** The origin of the transactions that apply history (not an edit of anyone's). */
export const HISTORY_ORIGIN = Symbol('apisync-history')

export class VersionCursors {
  /** By doc name, least recently used first. */
  private readonly cursors = new Map<string, Cursor>()
  private readonly maxDocs: number
  private readonly maxSnapshots: number
  private readonly idleMs: number

  constructor(
    private readonly source: VersionSource,
    /** A read-only model of the doc `name` over `doc`. */
    private readonly openModel: (name: string, doc: Y.Doc) => AnyModel,
    options: VersionCursorOptions = {},
  ) {
    this.maxDocs = Math.max(1, options.maxDocs ?? 1)
    this.maxSnapshots = Math.max(2, options.maxSnapshots ?? 8)
    this.idleMs = options.idleMs ?? 60_000
  }

  /** A read-only model of `name` as it was after `seq`: the caller's own, it never changes. */
  open(name: string, seq: number): Promise<AnyModel> {
    return this.run(name, async (c) => {
      let held: Held
      if (c.held && c.held.seq <= seq) {
        held = await this.advance(c, name, seq)
        c.held = null // handed over: the caller's model must not move
      } else held = await this.fresh(name, seq)
      this.remember(c, seq, held.model.snapshot())
      return held.model
    })
  }

  /** The changes from version `from` to version `to` (either order), through one doc. */
  diff(name: string, kind: DocKind, from: number, to: number): Promise<DocDiff> {
    return this.run(name, async (c) => {
      const lo = await this.snapshotAt(c, name, Math.min(from, to))
      const hi = await this.snapshotAt(c, name, Math.max(from, to))
      return from <= to ? diffSnapshots(kind, lo, hi) : diffSnapshots(kind, hi, lo)
    })
  }

  /** The changes from version `from` to `live` (the doc as it is now on this device). */
  diffToLive(name: string, kind: DocKind, from: number, live: AnyModel): Promise<DocDiff> {
    return this.run(name, async (c) => diffSnapshots(kind, await this.snapshotAt(c, name, from), live.snapshot()))
  }

  /** The snapshot of `name` as it was after `seq` (kept, or through the cursor). */
  snapshot(name: string, seq: number): Promise<unknown> {
    return this.run(name, (c) => this.snapshotAt(c, name, seq))
  }

  /** The seq the doc's cursor is at (null: none): for tests and benchmarks. */
  cursorSeq(name: string): number | null {
    return this.cursors.get(name)?.held?.seq ?? null
  }

  /** Drops every cursor and snapshot (the workspace closes). */
  clear(): void {
    for (const c of this.cursors.values()) if (c.idle) clearTimeout(c.idle)
    this.cursors.clear()
  }

  private async snapshotAt(c: Cursor, name: string, seq: number): Promise<unknown> {
    const hit = c.snapshots.get(seq)
    if (hit !== undefined) {
      await this.source.state(name, seq, seq) // still granted and kept (no updates to send)
      this.remember(c, seq, hit)
      return hit
    }
    const held = c.held && c.held.seq <= seq ? await this.advance(c, name, seq) : (c.held = await this.fresh(name, seq))
    const snapshot = held.model.snapshot()
    this.remember(c, seq, snapshot)
    return snapshot
  }

  /**
   * The cursor moved forward to `seq`: the updates after it, applied to its doc in one transaction (the
   * model's next snapshot rebuilds what they touched). When the relay sends the whole version instead (a
   * checkpoint lies between), applying it to the doc is still right: Yjs skips what the doc already has.
   */
  private async advance(c: Cursor, name: string, seq: number): Promise<Held> {
    const held = c.held!
    // Asked even when the cursor is there already: the relay says whether the version is still granted and kept.
    const { parts } = await this.source.state(name, seq, held.seq)
    try {
      applyVersion(held.doc, parts)
    } catch (e) {
      c.held = null // half applied: not a version any more
      throw e
    }
    held.seq = seq
    return held
  }

  /** A new doc at `seq`, the model opened once the updates are in (no change tracking while they apply). */
  private async fresh(name: string, seq: number): Promise<Held> {
    const { parts } = await this.source.state(name, seq)
    const doc = new Y.Doc({ gc: false })
    applyVersion(doc, parts)
    return { doc, model: this.openModel(name, doc), seq }
  }

  private remember(c: Cursor, seq: number, snapshot: unknown): void {
    c.snapshots.delete(seq)
    c.snapshots.set(seq, snapshot)
    for (const old of c.snapshots.keys()) {
      if (c.snapshots.size <= this.maxSnapshots) break
      c.snapshots.delete(old)
    }
  }

  private run<T>(name: string, work: (c: Cursor) => Promise<T>): Promise<T> {
    let c = this.cursors.get(name)
    if (c) this.cursors.delete(name)
    else c = { held: null, snapshots: new Map(), queue: Promise.resolve(), idle: null }
    this.cursors.set(name, c)
    for (const [other, o] of this.cursors) {
      if (this.cursors.size <= this.maxDocs) break
      // An operation in flight on it finishes with its own reference; the doc is garbage after.
      if (o.idle) clearTimeout(o.idle)
      this.cursors.delete(other)
    }
    const cursor = c
    const result = cursor.queue.then(() => {
      if (cursor.idle) clearTimeout(cursor.idle)
      cursor.idle = null
      return work(cursor)
    })
    const settled = () => {
      if (cursor.queue !== done) return // another operation is queued: it arms the timer
      cursor.idle = setTimeout(() => {
        if (this.cursors.get(name) === cursor) this.cursors.delete(name)
      }, this.idleMs)
      ;(cursor.idle as { unref?: () => void }).unref?.()
    }
    const done: Promise<unknown> = result.then(settled, settled)
    cursor.queue = done
    return result
  }
}

/** A version's updates into `doc`, in one transaction. */
export function applyVersion(doc: Y.Doc, parts: readonly Uint8Array[]): void {
  doc.transact(() => {
    for (const part of parts) Y.applyUpdate(doc, part, HISTORY_ORIGIN)
  }, HISTORY_ORIGIN)
}
