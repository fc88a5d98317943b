/**
 * What every apisync doc shares: the schema version and its migrations, one transaction per user action,
 * undo/redo of the local user's actions, change events naming the entities that changed, and the reader cache
 * that keeps unchanged snapshots identical by reference.
 */
import * as Y from 'yjs'
import {
  type Conflict,
  type ConflictChoice,
  type EntityRef,
  POOL_BY,
  type RowInit,
  Reader,
  type Writer,
  applyPatch,
  checkValue,
  markDeleted,
  markRestored,
  nestedRef,
  poolIdentity,
  validatePatch,
  writeOptions,
} from './entity.js'
import { type Json, isJsonObject } from './json.js'
import {
  type RestoredEntry,
  type StoredEntry,
  fieldEntries,
  isStoredEntry,
  parseEntryKey,
  writeRegister,
  writeRegisterAcross,
} from './register.js'
import { forEachRow, rowAt, rowKeyOf, shownRowIds } from './row-ids.js'
import { type Placement, addRow, forgetLastOrder, isDeleted, moveRow, removeRow, updateRow } from './rows.js'
import { ModelError } from './errors.js'
import type { WriteContext } from './register.js'
import { type EntityKind, POSITION, SCHEMA_VERSION, specOf } from './schema.js'
import { checkSealedRow, isVariableRow, sealingRequired, unsealedRestore, variableRowState } from './sealing.js'
import {
  type StackItem,
  type YType,
  currentItem,
  deleteSetWithout,
  entryContent,
  insertedBy,
  mapEntryOf,
  markRedone,
  outermostInserted,
} from './yjs-items.js'

export type DocKind = 'collection' | 'environment' | 'globals' | 'manifest' | 'runs'

export interface OpenOptions {
  /** Who writes through this handle (a user name or account id), recorded with register writes for conflict display. */
  readonly actor?: string
  /**
   * The device (session) writing through this handle, e.g. "Laptop": recorded with writes so that a conflict
   * between two devices of one person reads "you, on Laptop" / "you, on Desktop".
   */
  readonly device?: string
  /** Wall clock for the informational `at` of writes; default Date.now. Never used to decide a merge. */
  readonly now?: () => number
  /**
   * A view that never writes (an earlier version opened from history): every write, resolution, undo, redo and
   * restore throws `ModelError` `READ_ONLY` before anything is written (see `openError`), and opening an older
   * schema does not migrate it.
   */
  readonly readOnly?: boolean
}

export interface ChangeEvent {
  /** Ids of the entities (items, rows, the doc's root entity) that changed. */
  readonly ids: ReadonlySet<string>
  /** True when the change came from this handle (including undo/redo), false for remote updates. */
  readonly local: boolean
}

/** Schema migrations: `MIGRATIONS[v]` lifts a doc from version v to v + 1, inside one transaction. */
export const MIGRATIONS: Record<number, (doc: Y.Doc) => void> = {
  // Version 0 was the unversioned pre-release layout: identical content, no `schema` key.
  0: () => {},
  // Version 2 keeps a request's URL as parts (see request.ts); a part no one has written reads from the raw URL,
  // so version-1 docs read the same without being rewritten.
  1: () => {},
}

/** Transactions from migrations carry this origin: they are not the user's actions and are not undoable. */
export const MIGRATION_ORIGIN = Symbol('apisync-migration')
/** The transaction recording who a session is, after edits made without the model (see recordWriter). */
const WRITER_ORIGIN = Symbol('apisync-writer')

/** `meta` keys recording who each Yjs client (one session on one device) was: `w:<clientID>` → `{ a, d }`. */
const WRITER_PREFIX = 'w:'

export abstract class DocModel<S> {
  readonly doc: Y.Doc
  readonly kind: DocKind
  protected readonly reader = new Reader((client) => this.writerOf(client))
  /** Set while a resolution runs: its undo step brings the whole conflict back. */
  private resolving = false
  /** The origin of this handle's transactions; the undo manager tracks exactly these. */
  readonly origin: object = { apisync: 'local' }
  private readonly undoManager: Y.UndoManager
  /** The stack item the undo manager just recorded, until this handle's afterTransaction has seen it. */
  private recorded: StackItem | undefined
  /** While undoing or redoing: the stack as it was, to tell which step the undo manager is working on. */
  private popping: { readonly stash: readonly StackItem[]; readonly stack: readonly StackItem[] } | undefined
  private readonly listeners = new Set<(event: ChangeEvent) => void>()
  private readonly options: OpenOptions
  /** The doc's `meta` map (a root type: the same object for the doc's life), read on every transaction. */
  private readonly meta: Y.Map<unknown>
  private readonly onAfterTransaction: (tr: Y.Transaction) => void

  /** The doc's root entity (the collection, environment, globals or workspace); runs docs have none. */
  protected readonly root: EntityRef | undefined
  private readonly rootContainers = new Set<YType>()
  /** Root maps keyed by entity id (items, responses, root lists). */
  private readonly rootIndexes: ReadonlySet<YType>
  /** Root maps of entities a subclass finds through its own index (a collection's items and responses). */
  private readonly indexedRoots: ReadonlySet<YType>

  protected constructor(doc: Y.Doc, kind: DocKind, rootKind: EntityKind | undefined, options: OpenOptions = {}) {
    this.doc = doc
    this.kind = kind
    this.options = options
    const meta = doc.getMap<unknown>('meta')
    this.meta = meta
    if (rootKind) {
      // The root entity's texts and lists are root types: two replicas creating them never clash.
      const map = doc.getMap<unknown>(rootKind)
      const containers = new Map<string, YType>()
      const spec = specOf(rootKind)
      for (const field in spec) {
        const fs = spec[field]!
        if (fs.kind === 'register') continue
        const type: YType =
          fs.kind === 'text' ? doc.getText(`${rootKind}.${field}`) : doc.getMap(`${rootKind}.${field}`)
        containers.set(field, type)
        this.rootContainers.add(type)
      }
      // The id lives in meta, which may arrive by sync after the doc was opened: read it each time.
      const id = () => (typeof meta.get('id') === 'string' ? (meta.get('id') as string) : '')
      this.root = {
        map,
        kind: rootKind,
        container: (f) => containers.get(f),
        get id() {
          return id()
        },
        get ownerId() {
          return id()
        },
        get path() {
          return `${rootKind}:${encodeURIComponent(id())}`
        },
      }
    } else this.root = undefined
    const storedKind = meta.get('kind')
    if (storedKind !== undefined && storedKind !== kind) {
      throw new ModelError('WRONG_KIND', `this doc holds a ${String(storedKind)}, not a ${kind}`)
    }
    const version = meta.get('schema')
    if (typeof version === 'number' && version < SCHEMA_VERSION && !options.readOnly) this.migrate(version)
    this.undoManager = new Y.UndoManager(this.undoScope(), {
      trackedOrigins: new Set([this.origin]),
      captureTimeout: 0,
      deleteFilter: (item) => this.undoDeletes(item),
    })
    this.undoManager.on('stack-item-added', ({ stackItem }) => (this.recorded = stackItem))
    this.rootIndexes = new Set(this.undoScope().filter((t) => t instanceof Y.Map && t !== this.root?.map))
    this.indexedRoots = new Set(this.extraUndoScope())
    this.onAfterTransaction = (tr) => this.afterTransaction(tr)
    doc.on('afterTransaction', this.onAfterTransaction)
  }

  /**
   * Set when the handle was opened `readOnly`, or the doc was written by a newer schema (on open or by a peer
   * since): reads work, every write throws it (a write would also stamp the older version over the newer one).
   */
  get openError(): ModelError | undefined {
    if (this.options.readOnly) return new ModelError('READ_ONLY', `this ${this.kind} was opened read-only (an earlier version, or a view): it cannot be edited`)
    const version = this.meta.get('schema')
    if (typeof version !== 'number' || version <= SCHEMA_VERSION) return undefined
    return new ModelError(
      'READ_ONLY',
      `this ${this.kind} was written by a newer apisync (schema ${version}, this one knows ${SCHEMA_VERSION}): it opens read-only; upgrade to edit it`,
    )
  }

  /** The root types that undo covers, besides the root entity's. */
  protected abstract extraUndoScope(): YType[]
  private undoScope(): YType[] {
    return this.root ? [this.root.map, ...this.rootContainers, ...this.extraUndoScope()] : this.extraUndoScope()
  }
  /** The plain, structurally shared snapshot of the whole doc. */
  abstract snapshot(): S
  /**
   * Hook for subclasses keeping their own indexes. `ids` is what the change event will name: a subclass adds the
   * ids its entities answer to where they differ from the ids they were made with.
   */
  protected onChanged(_ids: Set<string>, _tr: Y.Transaction): void {}

  private cachedCtx: WriteContext | undefined
  protected get ctx(): WriteContext {
    // Yjs may change the client id if it detects a clash: rebuild the context when it does.
    if (this.cachedCtx?.client !== this.doc.clientID) {
      const ctx: { client: number; actor?: string; device?: string; now: () => number } = {
        client: this.doc.clientID,
        now: this.options.now ?? Date.now,
      }
      if (this.options.actor !== undefined) ctx.actor = this.options.actor
      if (this.options.device !== undefined) ctx.device = this.options.device
      this.cachedCtx = ctx
    }
    return this.cachedCtx
  }

  /** Runs one user action as one Yjs transaction (one undo step, one update on the wire). */
  transact<T>(fn: () => T): T {
    const readOnly = this.openError
    if (readOnly) throw readOnly
    this.noteSealing()
    let result!: T
    this.doc.transact(() => {
      const meta = this.meta
      if (meta.get('schema') !== SCHEMA_VERSION) meta.set('schema', SCHEMA_VERSION)
      if (meta.get('kind') !== this.kind) meta.set('kind', this.kind)
      // Every replica that sees this honours it (sealing.ts): the requirement travels with the doc.
      // (noteSealing just asked sealingRequired, for exactly these kinds: sealingSeen is its answer.)
      if (this.sealingSeen && meta.get('sealed') !== true) meta.set('sealed', true)
      this.recordWriter(meta)
      result = fn()
    }, this.origin)
    return result
  }

  /**
   * Records once per session who this client is, so that edits that carry no writer of their own (a text typed
   * into an item someone deleted meanwhile) can still be named in a conflict: "edited by Bob, on Laptop".
   */
  private recordWriter(meta: Y.Map<unknown>): void {
    const { actor, device } = this.options
    if (actor === undefined && device === undefined) return
    const key = WRITER_PREFIX + this.doc.clientID
    if (meta.has(key)) return
    const record: { a?: string; d?: string } = {}
    if (actor !== undefined) record.a = actor
    if (device !== undefined) record.d = device
    meta.set(key, record)
  }

  /** Who a Yjs client was, as it recorded itself (see recordWriter). */
  protected writerOf(client: number): Writer | undefined {
    const r = this.meta.get(WRITER_PREFIX + client)
    if (!isJsonObject(r)) return undefined
    const w: { by?: string; device?: string } = {}
    if (typeof r.a === 'string') w.by = r.a
    if (typeof r.d === 'string') w.device = r.d
    return w
  }

  /** Subscribes to changes; returns the unsubscribe function. */
  subscribe(listener: (event: ChangeEvent) => void): () => void {
    this.listeners.add(listener)
    return () => this.listeners.delete(listener)
  }

  undo(): boolean {
    const readOnly = this.openError
    if (readOnly) throw readOnly
    this.refuseClearRestore('undo')
    return this.pop(this.undoManager.undoStack, () => this.undoManager.undo())
  }
  redo(): boolean {
    const readOnly = this.openError
    if (readOnly) throw readOnly
    this.refuseClearRestore('redo')
    return this.pop(this.undoManager.redoStack, () => this.undoManager.redo())
  }
  canUndo(): boolean {
    this.noteSealing()
    const top = this.undoManager.undoStack.at(-1)
    return top !== undefined && this.clearRestore(top) === undefined
  }
  canRedo(): boolean {
    this.noteSealing()
    const top = this.undoManager.redoStack.at(-1)
    return top !== undefined && this.clearRestore(top) === undefined
  }

  // Undo and sealing (sealing.ts). A doc that must seal its variable values must never get a value in clear back
  // from undo or redo, which write old values again as new entries (new frames, new rows on the relay). Two rules:
  // - The history written before sealing was required is dropped when this handle first sees it required (the
  //   model cannot tell which of those steps held clear values, and none of them was checked).
  // - A step recorded since then is checked when it is about to be undone or redone, against the row as it is
  //   then: a step that would write a clear value back (the undo of sealing a legacy clear value, or of a
  //   resolution that closed a clear alternative) is refused with NOT_SEALED before anything is written, and the
  //   history up to it is dropped with it (older steps assume its effect). canUndo/canRedo say false for it.
  // Refusing is chosen over writing the restored value sealed: the model has no keys (that is @apisync/crypto).
  private sealingSeen = false
  private noteSealing(): void {
    if (this.sealingSeen || (this.kind !== 'collection' && this.kind !== 'environment' && this.kind !== 'globals')) return
    if (!sealingRequired(this.doc)) return
    this.sealingSeen = true
    this.undoManager.clear()
  }

  /** The refusal an undo or redo of `step` would meet: a variable value it writes back in clear (see above). */
  private clearRestore(step: StackItem): ModelError | undefined {
    this.noteSealing()
    const rows = step.meta.get(VARIABLE_ROWS) as ReadonlySet<Y.Map<unknown>> | undefined
    if (!this.sealingSeen || !rows) return undefined
    const restores = step.meta.get(SUPERSEDED) as Superseded | undefined
    const client = this.doc.clientID
    for (const row of rows) {
      // Undoing a creation marks the row (or its folder) deleted: it writes no value.
      if (!row._item || outermostInserted(row._item, step.insertions)) continue
      const after = new Map<string, (Json | undefined)[]>()
      for (const field of ['type', 'value']) {
        const own = currentItem(row, `${field}@${client}`)
        // Only while this writer's entry is still live does the step change the field (see undoDeletes).
        if (!own || own.deleted) continue
        const record = restores?.get(row)?.get(field)
        if (record) {
          const all = record.all ?? [{ entry: record.entry }]
          after.set(field, all.flatMap(({ entry }) => [entry.v, ...(entry.x ?? []).map((x) => x.v)]))
        } else if (Y.isDeleted(step.insertions, own.id)) {
          // The step wrote the field's first entry on this replica: undoing it leaves the others' (or the default).
          after.set(field, [fieldEntries(row, field).find((e) => e.client !== client)?.v])
        }
      }
      const refusal = unsealedRestore(this.doc, this.kind, row, after, `variable:${String(row.get('id'))}`)
      if (refusal) return refusal
    }
    return undefined
  }

  /** Notes the variable rows whose type or value a recorded step wrote (what clearRestore checks). */
  private recordVariableRows(tr: Y.Transaction, step: StackItem): void {
    if (this.kind !== 'collection' && this.kind !== 'environment' && this.kind !== 'globals') return
    let rows: Set<Y.Map<unknown>> | undefined
    for (const [type, keys] of tr.changed) {
      if (!(type instanceof Y.Map) || !isVariableRow(type, this.root?.kind)) continue
      for (const key of keys) {
        const field = key === null ? undefined : parseEntryKey(key)?.field
        if (field === 'type' || field === 'value') (rows ??= new Set()).add(type)
      }
    }
    if (rows) step.meta.set(VARIABLE_ROWS, rows)
  }

  private refuseClearRestore(which: 'undo' | 'redo'): void {
    const stack = which === 'undo' ? this.undoManager.undoStack : this.undoManager.redoStack
    const top = stack.at(-1)
    const refusal = top && this.clearRestore(top)
    if (!refusal) return
    this.undoManager.clear(which === 'undo', which === 'redo')
    throw refusal
  }
  /** Forgets undo history, e.g. after creating or importing: the first undo should not unmake the doc. */
  clearUndoHistory(): void {
    this.undoManager.clear()
  }

  /** Detaches from the Y.Doc (the doc itself stays usable). */
  destroy(): void {
    this.doc.off('afterTransaction', this.onAfterTransaction)
    this.undoManager.destroy()
    this.listeners.clear()
  }

  // ------------------------------------------------------------------------------ entities, rows, conflicts

  /** Finds the top-level entity named by a path segment `kind:id`; subclasses add their own collections. */
  protected locateTop(kind: string, id: string): EntityRef | undefined {
    return this.root && kind === this.root.kind && id === this.root.id ? this.root : undefined
  }

  /** Resolves an entity path (`request:ID/headers/header:ROW`) to its entity, or throws NOT_FOUND. */
  protected locate(path: string): EntityRef {
    const segs = path.split('/')
    const split = (seg: string) => {
      const colon = seg.indexOf(':')
      return [seg.slice(0, colon), decodeURIComponent(seg.slice(colon + 1))] as const
    }
    const [kind, id] = split(segs[0]!)
    let ref = this.locateTop(kind, id)
    if (!ref) throw new ModelError('NOT_FOUND', `no ${kind} ${id}`, path)
    for (let i = 1; i + 1 < segs.length; i += 2) {
      const field = segs[i]!
      const [rowKind, rowId] = split(segs[i + 1]!)
      const list = ref.container(field)
      const row = list instanceof Y.Map ? rowAt(list, rowId) : undefined
      if (!(row instanceof Y.Map)) throw new ModelError('NOT_FOUND', `no row ${rowId}`, path)
      ref = nestedRef(row, rowKind as EntityKind, rowId, `${ref.path}/${field}`, ref.ownerId)
    }
    return ref
  }

  /** The list container named by `list` (`headers`, or `headerPresets/ID/headers` for nested lists). */
  protected listOf(owner: EntityRef, list: string): { list: Y.Map<unknown>; kind: EntityKind; path: string } {
    const parts = list.split('/')
    let ref = owner
    for (let i = 0; i + 2 < parts.length; i += 2) {
      const inner = this.listOf(ref, parts[i]!)
      const row = rowAt(inner.list, parts[i + 1]!)
      if (!(row instanceof Y.Map) || isDeleted(row)) throw new ModelError('NOT_FOUND', `no row ${parts[i + 1]}`, inner.path)
      ref = nestedRef(row, inner.kind, parts[i + 1]!, inner.path, owner.ownerId)
    }
    const field = parts[parts.length - 1]!
    const fs = specOf(ref.kind)[field]
    const container = ref.container(field)
    if (!fs || fs.kind !== 'list' || !(container instanceof Y.Map))
      throw new ModelError('INVALID_VALUE', `${ref.kind} has no list ${field}`, ref.path)
    return { list: container, kind: fs.row, path: `${ref.path}/${field}` }
  }

  /** The entity a write addresses; subclasses refuse deleted ones. */
  protected abstract writable(id: string): EntityRef

  protected rowAdd(ownerId: string, list: string, row: RowInit, placement?: Placement): string {
    return this.transact(() => {
      const l = this.listOf(this.writable(ownerId), list)
      if (l.kind === 'variable') checkSealedRow(this.doc, this.kind, undefined, row, l.path)
      return addRow(l.list, l.kind, row, placement, this.ctx, l.path)
    })
  }
  protected rowUpdate(ownerId: string, list: string, rowId: string, patch: object): void {
    this.transact(() => {
      const l = this.listOf(this.writable(ownerId), list)
      if (l.kind === 'variable') checkSealedRow(this.doc, this.kind, variableRowState(rowAt(l.list, rowId)), patch as Record<string, unknown>, l.path)
      updateRow(l.list, l.kind, rowId, patch, this.ctx, l.path)
    })
  }
  protected rowRemove(ownerId: string, list: string, rowId: string): void {
    this.transact(() => {
      const l = this.listOf(this.writable(ownerId), list)
      removeRow(this.doc, l.list, l.kind, rowId, this.ctx, l.path)
    })
  }
  protected rowMove(ownerId: string, list: string, rowId: string, placement: Placement): void {
    this.transact(() => {
      const l = this.listOf(this.writable(ownerId), list)
      moveRow(l.list, rowId, placement, this.ctx, l.path)
    })
  }

  /** Validates then writes a patch to an entity, in one transaction. */
  protected patch(ref: EntityRef, patch: object): void {
    validatePatch(ref.kind, patch, ref.path, false)
    this.transact(() => applyPatch(ref, patch, this.ctx))
  }

  /** The open conflicts, as in the latest snapshot. */
  abstract conflicts(): readonly Conflict[]

  /**
   * Resolves an open conflict. The resolution is an ordinary edit: it syncs, and closes the conflict on every
   * replica that receives it. Throws NO_SUCH_CONFLICT if it is not open (anymore), BAD_CHOICE for a choice the
   * conflict does not offer.
   */
  resolve(conflictId: string, choice: ConflictChoice): void {
    const conflict = this.conflicts().find((c) => c.id === conflictId)
    if (!conflict) throw new ModelError('NO_SUCH_CONFLICT', `conflict ${conflictId} is not open`)
    this.resolving = true
    try {
      this.transact(() => this.applyChoice(conflict, choice))
    } finally {
      this.resolving = false
    }
  }

  protected applyChoice(conflict: Conflict, choice: ConflictChoice): void {
    const ref = this.locate(conflict.path)
    if (conflict.kind === 'value') {
      let value: Json
      if (typeof choice === 'object' && choice !== null && 'pick' in choice) {
        const alt = conflict.alternatives[choice.pick]
        if (!alt) throw new ModelError('BAD_CHOICE', `no alternative ${choice.pick}`, conflict.path)
        value = alt.value
      } else if (typeof choice === 'object' && choice !== null && 'value' in choice) {
        value = checkValue(ref.kind, conflict.field, choice.value, ref.path)
      } else throw new ModelError('BAD_CHOICE', `a value conflict takes { pick } or { value }`, conflict.path)
      if (ref.kind === 'variable') checkSealedRow(this.doc, this.kind, variableRowState(ref.map), { [conflict.field]: value }, conflict.path)
      // Write even an unchanged value: superseding every alternative is what closes the conflict.
      const maps = this.pooledWith(ref)
      writeRegisterAcross(maps, maps[0]!, conflict.field, value, this.ctx, writeOptions(ref, conflict.field, { force: true }))
      return
    }
    if (conflict.kind === 'delete' && choice === 'keep-deleted') return markDeleted(this.doc, ref, this.ctx)
    if (conflict.kind === 'delete' && choice === 'restore') return this.restoreEntity(ref)
    throw new ModelError('BAD_CHOICE', `choose one of ${conflict.choices.join(', ')}`, conflict.path)
  }

  /**
   * What an undo (or redo) writes back into a position register (`back`, replacing `current`): a move back,
   * which the collection gives a current counter and checks (a move back into its own subtree keeps `current`).
   */
  protected positionBack(_map: Y.Map<unknown>, back: StoredEntry, current: StoredEntry): StoredEntry {
    return { ...back, n: current.n }
  }

  /**
   * While an undo or redo runs: the position values its step writes back, by item id. A step that moved several
   * items (a restore) is checked for cycles as a whole: each item against where the others go back to.
   */
  protected stepPositions(): ReadonlyMap<string, Json> | undefined {
    const popping = this.popping
    const restores = popping?.stash[popping.stack.length]?.meta.get(SUPERSEDED) as Superseded | undefined
    if (!restores) return undefined
    const out = new Map<string, Json>()
    for (const [map, fields] of restores) {
      const back = fields.get(POSITION)
      const id = map.get('id')
      if (back && typeof id === 'string') out.set(id, back.entry.v)
    }
    return out
  }

  /** Restores a deleted entity; the collection also restores its deleted folders. */
  protected restoreEntity(ref: EntityRef): void {
    markRestored(ref, this.ctx)
  }

  /**
   * The maps holding one row as a person sees it: the row's own, plus those of live rows pooled with it (see
   * POOL_BY), the row's first. A write to the row supersedes the entries of all of them.
   */
  protected pooledWith(ref: EntityRef): Y.Map<unknown>[] {
    const field = POOL_BY[ref.kind]
    const list = ref.map.parent
    if (field === undefined || !(list instanceof Y.Map)) return [ref.map]
    const read = new Reader()
    const identity = poolIdentity(read.entity(ref), field)
    if (identity === undefined) return [ref.map]
    const maps = [ref.map]
    forEachRow(list, (row, id) => {
      if (row === ref.map || !(row instanceof Y.Map)) return
      const state = read.entity(nestedRef(row, ref.kind, id, ''))
      if (!state.deleted && poolIdentity(state, field) === identity) maps.push(row)
    })
    return maps
  }

  // Undo of registers and creations. Y.UndoManager restores what an action deleted under the same map key, but a
  // register keeps one key per writer: restoring another writer's entry could silently replace that writer's
  // concurrent write, and would revive an old value next to a peer's newer one. So register entries an action
  // superseded are kept out of its undo step; undoing it writes the value back under this writer's own key, and
  // only while this writer's entry is still the live one (a peer's later write is never overwritten). Undoing
  // a creation marks the entity deleted instead of removing it, so that concurrent edits of it surface.

  private pop(stack: readonly StackItem[], run: () => StackItem | null): boolean {
    this.popping = { stash: [...stack], stack }
    try {
      return run() !== null
    } finally {
      this.popping = undefined
    }
  }

  /** Called by the undo manager for each item an undo or redo would delete: whether to delete it. */
  private undoDeletes(item: Y.Item): boolean {
    const popping = this.popping
    const step = popping?.stash[popping.stack.length]
    if (!step || item.deleted) return true
    const entry = mapEntryOf(item)
    const created = outermostInserted(item, step.insertions)
    if (created) {
      const map = (created.content as Y.ContentType).type as Y.Map<unknown>
      if (entry?.map !== map || parseEntryKey(entry.key)?.field !== POSITION) return false
      // Keep the position, as a fresh entry: the undo manager only counts a step as undone if it deleted something.
      map.set(entry.key, entryContent(item))
      markDeleted(this.doc, { map }, this.ctx)
      return true
    }
    if (!entry) return true
    const field = parseEntryKey(entry.key)?.field
    const restore = field === undefined ? undefined : (step.meta.get(SUPERSEDED) as Superseded | undefined)?.get(entry.map)?.get(field)
    const current = entryContent(item)
    if (restore?.all && isStoredEntry(current)) {
      // Undoing a resolution: every alternative it closed comes back (in this writer's own entry: writing under
      // another writer's key could collide with its next write), so the conflict is open again, everywhere.
      const byMap = new Map<Y.Map<unknown>, RestoredEntry[]>()
      for (const alt of restore.all) {
        const client = parseEntryKey(alt.key)?.client
        if (client === undefined) continue
        const list = byMap.get(alt.map) ?? []
        list.push(restoredOf(alt.entry, client), ...(alt.entry.x ?? []))
        byMap.set(alt.map, list)
      }
      for (const [map, alts] of byMap) {
        alts.sort((a, b) => b.n - a.n || b.c - a.c)
        const first = alts[0]
        if (!first) continue
        map.set(map === entry.map ? entry.key : `${field}@${this.doc.clientID}`, { v: first.v, n: first.n, r: 1, x: alts })
      }
      return true
    }
    if (restore && isStoredEntry(current)) {
      entry.map.set(entry.key, field === POSITION ? this.positionBack(entry.map, restore.entry, current) : { ...restore.entry, n: current.n })
      // As Y.UndoManager does for what it restores: an earlier step that wrote the old entry now finds this one.
      if (restore.from.client === item.id.client) this.doc.transact((tr) => markRedone(tr, restore.from, currentItem(entry.map, entry.key)!.id))
    }
    return true
  }

  /** Keeps the register entries a recorded step superseded out of it, noting the value an undo writes back. */
  private recordRegisters(tr: Y.Transaction, step: StackItem, resolution: boolean): void {
    const superseded = new Map<Y.Map<unknown>, Map<string, Y.Item[]>>()
    Y.iterateDeletedStructs(tr, tr.deleteSet, (struct) => {
      if (!(struct instanceof Y.Item) || insertedBy(tr, struct)) return
      const entry = mapEntryOf(struct)
      const field = entry && parseEntryKey(entry.key)?.field
      if (!entry || field === undefined) return
      const fields = superseded.get(entry.map) ?? new Map<string, Y.Item[]>()
      superseded.set(entry.map, fields)
      const list = fields.get(field)
      if (list) list.push(struct)
      else fields.set(field, [struct])
    })
    const drop: Y.ID[] = []
    const restores: Superseded = new Map()
    for (const [map, fields] of superseded) {
      for (const [field, items] of fields) {
        const own = currentItem(map, `${field}@${this.doc.clientID}`)
        if (!own || own.deleted || !insertedBy(tr, own)) {
          // A resolution over rows pooled as one supersedes entries in maps it does not write to: the undo of the
          // write into the first row brings them back (see undoDeletes), so they are not restored twice.
          if (resolution) for (const item of items) drop.push(item.id)
          continue
        }
        // The winner among the superseded entries (as compareEntries ranks them), without copying any: this runs
        // after every edit. Stored entries are never mutated, so the record can hold them as they are.
        let winner: { entry: StoredEntry; client: number; from: Y.ID } | undefined
        const all: Alt[] = []
        for (const item of items) {
          const value = entryContent(item)
          if (!isStoredEntry(value)) continue
          const key = mapEntryOf(item)!.key
          if (resolution) all.push({ map, key, entry: value })
          const client = parseEntryKey(key)!.client
          if (!winner || ranksAbove(value, client, winner.entry, winner.client)) winner = { entry: value, client, from: item.id }
        }
        if (winner) {
          const record: { entry: StoredEntry; from: Y.ID; all?: Alt[] } = { entry: winner.entry, from: winner.from }
          if (resolution) record.all = [...all, ...this.pooledSuperseded(superseded, map, field)]
          restores.set(map, (restores.get(map) ?? new Map()).set(field, record))
        }
        for (const item of items) {
          drop.push(item.id)
          item.keep = false // the undo manager kept it for this step, which no longer restores it
        }
      }
    }
    if (restores.size) step.meta.set(SUPERSEDED, restores)
    if (drop.length) step.deletions = deleteSetWithout(step.deletions, drop)
  }

  /** Entries of `field` a resolution superseded in the other rows pooled with `map` (restored with its own). */
  private pooledSuperseded(superseded: Map<Y.Map<unknown>, Map<string, Y.Item[]>>, map: Y.Map<unknown>, field: string): Alt[] {
    const out: Alt[] = []
    for (const [other, fields] of superseded) {
      if (other === map || other.parent !== map.parent) continue
      for (const item of fields.get(field) ?? []) {
        const value = entryContent(item)
        if (isStoredEntry(value)) out.push({ map: other, key: mapEntryOf(item)!.key, entry: value })
      }
    }
    return out
  }

  private migrate(from: number): void {
    this.doc.transact(() => {
      for (let v = from; v < SCHEMA_VERSION; v++) MIGRATIONS[v]?.(this.doc)
      this.doc.getMap<unknown>('meta').set('schema', SCHEMA_VERSION)
    }, MIGRATION_ORIGIN)
  }

  private afterTransaction(tr: Y.Transaction): void {
    // Edits made without this handle (an editor bound to a Y.Text): who made them is recorded all the same.
    // Nothing to record (no actor, no device), or recorded already: no transaction, it would cost as much as the edit.
    const { actor, device } = this.options
    const client = this.doc.clientID
    if ((actor !== undefined || device !== undefined) && tr.local && tr.origin !== WRITER_ORIGIN && tr.origin !== MIGRATION_ORIGIN && !this.meta.has(WRITER_PREFIX + client) && !this.openError) {
      const meta = this.meta
      if ((tr.afterState.get(client) ?? 0) > (tr.beforeState.get(client) ?? 0)) {
        this.doc.transact(() => this.recordWriter(meta), WRITER_ORIGIN)
      }
    }
    const step = this.recorded
    this.recorded = undefined
    if (step) {
      this.recordRegisters(tr, step, this.resolving)
      this.recordVariableRows(tr, step)
    }
    const ids = new Set<string>()
    const local = tr.origin === this.origin || tr.origin === this.undoManager
    const touch = (type: YType) => {
      this.reader.invalidate(type)
      // Local appends keep the highest order key up to date themselves; others' changes may raise it.
      if (!local) forgetLastOrder(type)
      if (type instanceof Y.Map) {
        const id = this.shownIdOf(type)
        if (id !== undefined) ids.add(id)
      }
      if (this.root && (type === this.root.map || this.rootContainers.has(type))) {
        this.reader.invalidate(this.root.map)
        ids.add(this.root.id)
      }
    }
    for (const type of tr.changedParentTypes.keys()) touch(type)
    for (const [type, keys] of tr.changed) {
      touch(type)
      // New entities created in this transaction are not "changed" themselves; their container is. A container
      // (items, a list) is keyed by entity id, so a key that now holds no entity names one removed or malformed.
      if (type instanceof Y.Map) {
        const parent = type._item?.parent
        const container = type._item ? parent instanceof Y.Map && typeof parent.get('id') === 'string' : this.rootIndexes.has(type)
        for (const key of keys) {
          if (key === null) continue
          const child = type.get(key)
          const childId = child instanceof Y.Map ? this.shownIdOf(child) : undefined
          if (childId !== undefined) ids.add(childId)
          else if (container && !isEntryKey(key)) ids.add(key)
        }
      }
    }
    if (ids.size === 0) return
    this.onChanged(ids, tr)
    const event: ChangeEvent = { ids, local }
    for (const listener of this.listeners) listener(event)
  }

  /**
   * The id a row answers to: its `id`, except a row kept under a key of its own whose id another row of its list
   * was made with too (`id~key`, see row-ids.ts). Events name what readers find by. Entities of a root index
   * (a collection's items) are named by their index, in onChanged.
   */
  private shownIdOf(map: Y.Map<unknown>): string | undefined {
    const id = map.get('id')
    if (typeof id !== 'string') return undefined
    const key = rowKeyOf(map)
    if (key === undefined || key === id) return id
    const list = map._item?.parent
    return list instanceof Y.Map && !this.indexedRoots.has(list) ? (shownRowIds(list)?.get(key) ?? id) : id
  }
}

/**
 * Step meta: per register of a step's writes, the entry an undo of it writes back and the item that held it; for
 * a resolution, every entry it superseded (`all`), each restored under its own key.
 */
const SUPERSEDED = Symbol('superseded')
/** Step meta: the variable rows whose type or value the step wrote. */
const VARIABLE_ROWS = Symbol('variable-rows')
type Superseded = Map<Y.Map<unknown>, Map<string, { readonly entry: StoredEntry; readonly from: Y.ID; readonly all?: readonly Alt[] }>>
/** A register entry as it was, where it was. */
type Alt = { readonly map: Y.Map<unknown>; readonly key: string; readonly entry: StoredEntry }

/** Whether entry `a` of client `ca` wins over `b` of `cb` (compareEntries' order: chosen, highest n, highest client). */
const ranksAbove = (a: StoredEntry, ca: number, b: StoredEntry, cb: number): boolean => {
  const fa = a.f === 1 ? 1 : 0
  const fb = b.f === 1 ? 1 : 0
  return fa !== fb ? fa < fb : a.n !== b.n ? a.n > b.n : ca > cb
}

const restoredOf = (e: StoredEntry, c: number): RestoredEntry => {
  const r: { -readonly [K in keyof RestoredEntry]: RestoredEntry[K] } = { v: e.v, n: e.n, c }
  if (e.a !== undefined) r.a = e.a
  if (e.d !== undefined) r.d = e.d
  if (e.t !== undefined) r.t = e.t
  return r
}

const isEntryKey = (key: string) => key.includes('@') || key === 'id' || key === 'kind'
