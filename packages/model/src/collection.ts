/**
 * A collection doc: the collection's own settings, its tree of folders and requests, and saved responses.
 *
 * The tree is flat in Yjs: `items` maps id → entity with a `position` register `{ parent, order, from }`, so a
 * move is one register write and never loses a concurrent edit. Reading derives the tree: moves that form a
 * cycle are broken by undoing the latest one (back to its `from` folder, else the root), the same on every
 * replica; an item whose folder was deleted concurrently sits at the root with an `orphan` conflict.
 * Snapshots are rebuilt incrementally: only changed items and their ancestors get new objects.
 */
import { newId, newRowId } from './ids.js'
import * as Y from 'yjs'
import { DocModel, type OpenOptions } from './doc.js'
import {
  type Conflict,
  type ConflictChoice,
  type EntityRef,
  type EntityState,
  type Problem,
  type RowInit,
  Reader,
  byId,
  byPath,
  applyPatch,
  createContainers,
  markDeleted,
  markRestored,
  nestedRef,
  replaceText,
  validatePatch,
} from './entity.js'
import { ModelError } from './errors.js'
import { isJsonObject } from './json.js'
import { fieldEntries, writeRegister } from './register.js'
import { type Ordered, type Placement, byOrder, isDeleted, liveRows, orderFor, orderOf } from './rows.js'
import { DELETED, POSITION } from './schema.js'
import { checkSealedRows } from './sealing.js'
import type {
  CollectionInit,
  CollectionPatch,
  CollectionSnapshot,
  FolderInit,
  FolderPatch,
  FolderSnapshot,
  ItemSnapshot,
  RequestInit,
  RequestPatch,
  RequestSnapshot,
  ResponseInit,
  ResponsePatch,
  SavedResponse,
} from './types.js'
import { parseQuery, pathVariableNames, withQuery } from './url.js'
import type { YType } from './yjs-items.js'

export type ItemKind = 'folder' | 'request'
/** Lists of a request, folder or the collection, addressed by field name. */
export type RequestList = 'headers' | 'query' | 'pathVariables' | 'urlencoded' | 'formdata'
export type CollectionList = RequestList | 'variables'
/** Texts that an editor can bind to directly (character-level merge). */
export type TextField = 'description' | 'prerequest' | 'test' | 'bodyRaw' | 'graphqlQuery' | 'graphqlVariables' | 'body'

export interface Where {
  /** The folder to put it in; null or absent for the collection's top level. */
  readonly parent?: string | null
  readonly placement?: Placement
}

interface ItemInfo {
  readonly kind: ItemKind
  readonly state: EntityState
}

const EMPTY: readonly never[] = Object.freeze([])

export class CollectionModel extends DocModel<CollectionSnapshot> {
  private readonly items: Y.Map<unknown>
  private readonly responses: Y.Map<unknown>

  // Derived state, updated incrementally from the ids each transaction touched.
  private readonly dirty = new Set<string>()
  private fullRebuild = true
  private readonly info = new Map<string, ItemInfo>()
  private readonly responseState = new Map<string, EntityState>()
  private readonly parentOf = new Map<string, string | null>()
  private readonly childrenOf = new Map<string | null, readonly string[]>()
  private readonly responsesOf = new Map<string, readonly string[]>()
  private readonly nodes = new Map<string, ItemSnapshot>()
  private readonly responseNodes = new Map<string, SavedResponse>()
  private readonly structuralConflicts = new Map<string, Conflict>()
  /** Items and responses with conflicts or problems, so a snapshot need not scan every item for them. */
  private readonly withIssues = new Map<string, EntityState>()
  private readonly structuralProblems: Problem[] = []
  /** Entries of `items` and `responses` that are not well-formed entities, by id. */
  private readonly strays = new Map<string, Problem>()
  private last: CollectionSnapshot | undefined
  /** Items placed by this handle in the running transaction, not yet in `childrenOf` (bulk creation, import). */
  private readonly placedInTransaction = new Map<string | null, Ordered[]>()
  private readonly responsesPlacedInTransaction = new Map<string, Ordered[]>()

  private constructor(doc: Y.Doc, options?: OpenOptions) {
    super(doc, 'collection', 'collection', options)
    this.items = doc.getMap('items')
    this.responses = doc.getMap('responses')
  }

  /** Opens a collection doc (empty, local, or synced from elsewhere). */
  static open(doc: Y.Doc, options?: OpenOptions): CollectionModel {
    return new CollectionModel(doc, options)
  }

  /** Creates a new collection in an empty doc. */
  static create(doc: Y.Doc, init: CollectionInit & { readonly id?: string } = {}, options?: OpenOptions): CollectionModel {
    validatePatch('collection', init, 'collection', true)
    checkSealedRows(doc, 'collection', init.variables, 'collection')
    const model = new CollectionModel(doc, options)
    model.transact(() => {
      doc.getMap<unknown>('meta').set('id', init.id ?? newId())
      applyPatch(model.root!, init, model.ctx)
    })
    model.clearUndoHistory()
    return model
  }

  get id(): string {
    return this.root!.id
  }

  protected extraUndoScope(): YType[] {
    return [this.doc.getMap('items'), this.doc.getMap('responses')]
  }

  protected override locateTop(kind: string, id: string): EntityRef | undefined {
    if (kind === 'folder' || kind === 'request') {
      const map = this.items.get(id)
      return map instanceof Y.Map && map.get('kind') === kind ? nestedRef(map, kind, id, '') : undefined
    }
    if (kind === 'response') {
      const map = this.responses.get(id)
      return map instanceof Y.Map ? nestedRef(map, 'response', id, '') : undefined
    }
    return super.locateTop(kind, id)
  }

  protected override onChanged(ids: ReadonlySet<string>): void {
    for (const id of ids) this.dirty.add(id)
    this.placedInTransaction.clear()
    this.responsesPlacedInTransaction.clear()
  }

  // -------------------------------------------------------------------------------------------- reading

  /** The whole collection as plain data. Unchanged items keep their object identity across snapshots. */
  snapshot(): CollectionSnapshot {
    if (this.last && this.dirty.size === 0) return this.last
    const rebuild = new Set<string>()
    let structure = this.fullRebuild
    let responsesChanged = this.fullRebuild
    const ids = this.fullRebuild ? [...this.items.keys(), ...this.responses.keys()] : [...this.dirty]
    this.dirty.clear()
    if (this.fullRebuild) {
      this.info.clear()
      this.withIssues.clear()
    }

    const added: string[] = []
    for (const id of ids) {
      const item = this.items.get(id)
      this.strays.delete(id)
      if (item instanceof Y.Map) {
        const prev = this.info.get(id)
        const kind = itemKind(item)
        if (item.get('kind') !== kind) this.strays.set(id, { path: `item:${id}/kind`, message: 'unknown item kind: read as a request' })
        const state = this.reader.entity(nestedRef(item, kind, id, ''))
        this.info.set(id, { kind, state })
        this.noteIssues(id, state)
        if (!prev && !state.deleted && !structure) added.push(id)
        else if (!prev || prev.state.deleted !== state.deleted || prev.state.position !== state.position || prev.kind !== kind)
          structure = true
        rebuild.add(id)
        continue
      }
      const response = this.responses.get(id)
      if (response instanceof Y.Map) {
        const prev = this.responseState.get(id)
        const state = this.reader.entity(nestedRef(response, 'response', id, ''))
        this.responseState.set(id, state)
        this.noteIssues(id, state)
        this.responseNodes.delete(id)
        if (!prev || prev.deleted !== state.deleted || prev.position !== state.position) responsesChanged = true
        const owner = ownerOf(state)
        if (owner) rebuild.add(owner)
        continue
      }
      if (this.info.delete(id)) structure = true // removed by a malformed peer: treat as gone
      if (this.responseState.delete(id)) responsesChanged = true
      if (item !== undefined) this.strays.set(id, { path: `items:${id}`, message: 'expected an item: ignored' })
      else if (this.responses.has(id)) this.strays.set(id, { path: `responses:${id}`, message: 'expected a saved response: ignored' })
      this.withIssues.delete(id)
    }

    if (responsesChanged) this.indexResponses(rebuild)
    if (!structure && added.length && !this.placeAdded(added, rebuild)) structure = true
    if (structure) this.computeStructure(rebuild)

    // Rebuild changed nodes and every ancestor, deepest first.
    const depthOf = (id: string) => {
      let d = 0
      for (let p = this.parentOf.get(id); p != null; p = this.parentOf.get(p)) d++
      return d
    }
    const withAncestors = new Set<string>()
    let rootChanged = this.fullRebuild || structure
    for (const id of rebuild) {
      if (!this.parentOf.has(id)) {
        this.nodes.delete(id)
        continue
      }
      for (let p: string | null | undefined = id; p != null; p = this.parentOf.get(p)) {
        if (withAncestors.has(p)) break
        withAncestors.add(p)
      }
    }
    const order = [...withAncestors].map((id) => [id, depthOf(id)] as const).sort((a, b) => b[1] - a[1])
    for (const [id] of order) {
      this.nodes.set(id, this.buildNode(id))
      if (this.parentOf.get(id) === null) rootChanged = true
    }

    const root = this.reader.entity(this.root!)
    const prev = this.last
    const items = rootChanged || !prev ? this.childNodes(null) : prev.items
    const conflicts: Conflict[] = [...root.conflicts]
    const problems: Problem[] = [...root.problems, ...this.structuralProblems]
    for (const state of this.withIssues.values()) {
      conflicts.push(...state.conflicts)
      problems.push(...state.problems)
    }
    conflicts.push(...this.structuralConflicts.values())
    problems.push(...this.strays.values())
    conflicts.sort(byId)
    problems.sort(byPath)
    this.fullRebuild = false
    this.last = {
      ...(root.value as Omit<CollectionSnapshot, 'items' | 'conflicts' | 'problems'>),
      items,
      conflicts: prev && sameList(prev.conflicts, conflicts) ? prev.conflicts : conflicts,
      problems: prev && sameList(prev.problems, problems) ? prev.problems : problems,
    }
    return this.last
  }

  private noteIssues(id: string, state: EntityState): void {
    if (state.conflicts.length || state.problems.length) this.withIssues.set(id, state)
    else this.withIssues.delete(id)
  }

  /** One item's current snapshot (folders include their subtree), or undefined if absent or deleted. */
  get(id: string): ItemSnapshot | undefined {
    this.snapshot()
    return this.nodes.get(id)
  }

  /** The id of the folder holding an item (null at the top level), as the tree currently shows it. */
  parentId(id: string): string | null | undefined {
    this.snapshot()
    return this.parentOf.get(id)
  }

  conflicts(): readonly Conflict[] {
    return this.snapshot().conflicts
  }

  /** The Y.Text behind a text field, for binding an editor (CodeMirror, Monaco) with character merge. */
  text(id: string, field: TextField): Y.Text {
    const ref = id === this.id ? this.root! : this.ref(id)
    const t = ref.container(field)
    if (!(t instanceof Y.Text)) throw new ModelError('INVALID_VALUE', `${ref.kind} has no text ${field}`, ref.path)
    return t
  }

  private childNodes(parent: string | null): readonly ItemSnapshot[] {
    const ids = this.childrenOf.get(parent) ?? EMPTY
    return ids.map((id) => this.nodes.get(id)!).filter(Boolean)
  }

  private buildNode(id: string): ItemSnapshot {
    const { kind, state } = this.info.get(id)!
    if (kind === 'folder') return { kind, ...(state.value as Omit<FolderSnapshot, 'kind' | 'items'>), items: this.childNodes(id) }
    const responses = (this.responsesOf.get(id) ?? EMPTY).map((rid) => {
      let node = this.responseNodes.get(rid)
      if (!node) this.responseNodes.set(rid, (node = this.responseState.get(rid)!.value as unknown as SavedResponse))
      return node
    })
    const prev = this.nodes.get(id) as RequestSnapshot | undefined
    return {
      kind,
      ...(state.value as Omit<RequestSnapshot, 'kind' | 'responses'>),
      responses: prev && sameList(prev.responses, responses) ? prev.responses : responses,
    }
  }

  private indexResponses(rebuild: Set<string>): void {
    const by = new Map<string, Ordered[]>()
    for (const [id, state] of this.responseState) {
      const owner = ownerOf(state)
      if (state.deleted || !owner) continue
      const list = by.get(owner) ?? []
      list.push({ id, order: isJsonObject(state.position) && typeof state.position.order === 'string' ? state.position.order : '' })
      by.set(owner, list)
    }
    const next = new Map<string, readonly string[]>()
    for (const [owner, list] of by) next.set(owner, list.sort(byOrder).map((r) => r.id))
    for (const owner of new Set([...next.keys(), ...this.responsesOf.keys()])) {
      if (!sameList(next.get(owner) ?? EMPTY, this.responsesOf.get(owner) ?? EMPTY)) rebuild.add(owner)
    }
    this.responsesOf.clear()
    for (const [k, v] of next) this.responsesOf.set(k, v)
  }

  /**
   * The common case of new items under live folders (creation, import, a teammate's new requests): slot them
   * into their siblings without recomputing the whole structure. Returns false if a full pass is needed.
   */
  private placeAdded(added: readonly string[], rebuild: Set<string>): boolean {
    if (this.structuralProblems.length) return false
    let pending = [...added]
    while (pending.length) {
      const deferred: string[] = []
      for (const id of pending) {
        const pos = this.info.get(id)!.state.position
        const p = isJsonObject(pos) && typeof pos.parent === 'string' ? pos.parent : null
        if (p !== null && !this.parentOf.has(p)) {
          deferred.push(id)
          continue
        }
        if (p !== null && this.info.get(p)?.kind !== 'folder') return false
        const entry = { id, order: orderOf(this.items.get(id) as Y.Map<unknown>) }
        const siblings = this.childrenOf.get(p) ?? EMPTY
        let lo = 0
        let hi = siblings.length
        while (lo < hi) {
          const mid = (lo + hi) >> 1
          const s = siblings[mid]!
          if (byOrder({ id: s, order: orderOf(this.items.get(s) as Y.Map<unknown>) }, entry) < 0) lo = mid + 1
          else hi = mid
        }
        this.childrenOf.set(p, [...siblings.slice(0, lo), id, ...siblings.slice(lo)])
        this.parentOf.set(id, p)
        if (p !== null) rebuild.add(p)
      }
      if (deferred.length === pending.length) return false
      pending = deferred
    }
    return true
  }

  /** Derives parents and sibling order from positions: cycles broken, orphans surfaced. Deterministic. */
  private computeStructure(rebuild: Set<string>): void {
    const parent = new Map<string, string | null>()
    const orphans = new Map<string, string>()
    this.structuralProblems.length = 0
    const isLiveFolder = (id: string) => {
      const i = this.info.get(id)
      return i !== undefined && i.kind === 'folder' && !i.state.deleted
    }
    for (const [id, { state }] of this.info) {
      if (state.deleted) continue
      const pos = state.position
      const p = isJsonObject(pos) && typeof pos.parent === 'string' ? pos.parent : null
      if (p === null) parent.set(id, null)
      else if (isLiveFolder(p)) parent.set(id, p)
      else {
        parent.set(id, null)
        const target = this.info.get(p)
        if (target && target.kind === 'folder') orphans.set(id, p)
        else this.structuralProblems.push({ path: `item:${id}/position`, message: `parent ${p} is not a folder here; shown at the top level` })
      }
    }
    // Break cycles: in each cycle, the item whose winning move is the latest goes back to where it came from.
    const rank = (id: string) => this.info.get(id)!.state.positionRank ?? [0, 0]
    for (;;) {
      const cycle = findCycle(parent)
      if (!cycle) break
      let latest = cycle[0]!
      for (const id of cycle) {
        const [n, c] = rank(id)
        const [ln, lc] = rank(latest)
        if (n > ln || (n === ln && c > lc)) latest = id
      }
      const pos = this.info.get(latest)!.state.position
      const from = isJsonObject(pos) && typeof pos.from === 'string' ? pos.from : null
      parent.set(latest, from !== null && isLiveFolder(from) && !reaches(parent, from, latest) ? from : null)
    }
    const groups = new Map<string | null, Ordered[]>()
    for (const [id, p] of parent) {
      const list = groups.get(p) ?? []
      list.push({ id, order: orderOf(this.items.get(id) as Y.Map<unknown>) })
      groups.set(p, list)
    }
    const nextChildren = new Map<string | null, readonly string[]>()
    for (const [p, list] of groups) nextChildren.set(p, list.sort(byOrder).map((o) => o.id))
    for (const p of new Set([...nextChildren.keys(), ...this.childrenOf.keys()])) {
      const prev = this.childrenOf.get(p)
      const next = nextChildren.get(p)
      if (prev && next && sameList(prev, next)) nextChildren.set(p, prev)
      else if (p !== null) rebuild.add(p)
    }
    for (const [id, p] of parent) if (this.parentOf.get(id) !== p) rebuild.add(id)
    for (const id of this.parentOf.keys()) if (!parent.has(id)) rebuild.add(id)
    this.parentOf.clear()
    for (const [k, v] of parent) this.parentOf.set(k, v)
    this.childrenOf.clear()
    for (const [k, v] of nextChildren) this.childrenOf.set(k, v)
    this.structuralConflicts.clear()
    for (const [id, folder] of orphans) {
      const path = `${this.info.get(id)!.kind}:${encodeURIComponent(id)}`
      this.structuralConflicts.set(id, {
        id: `${path}#orphan`,
        kind: 'orphan',
        entityId: id,
        entityKind: this.info.get(id)!.kind,
        ownerId: id,
        path,
        field: POSITION,
        alternatives: [{ value: folder, winner: true }],
        choices: ['restore-parent', 'move-to-root', 'delete'],
      })
    }
  }

  // -------------------------------------------------------------------------------------------- writing

  updateCollection(patch: CollectionPatch): void {
    this.patch(this.root!, patch)
  }

  createFolder(init: FolderInit = {}, where: Where = {}): string {
    return this.createItem('folder', init, where)
  }

  createRequest(init: RequestInit = {}, where: Where = {}): string {
    return this.createItem('request', init, where)
  }

  /** Edits a folder's or request's fields (not lists: use the row operations). */
  updateItem(id: string, patch: RequestPatch | FolderPatch): void {
    const ref = this.ref(id)
    validatePatch(ref.kind, patch, ref.path, false)
    this.transact(() => {
      applyPatch(ref, patch, this.ctx)
      const raw = (patch as RequestPatch).url?.raw
      if (ref.kind === 'request' && raw !== undefined) this.syncUrlParts(ref, raw)
    })
  }

  /** Edits part of a text: what a keystroke does. */
  editText(id: string, field: TextField, index: number, deleteCount: number, insert = ''): void {
    const ref = this.writable(id) // refuses deleted or unknown items
    const t = this.text(id, field)
    if (!Number.isInteger(index) || index < 0 || index > t.length || !Number.isInteger(deleteCount) || deleteCount < 0)
      throw new ModelError('INVALID_VALUE', 'index or deleteCount out of range', `${ref.path}/${field}`)
    this.transact(() => {
      if (deleteCount) t.delete(index, Math.min(deleteCount, t.length - index))
      if (insert) t.insert(index, insert)
    })
  }

  /** Moves an item into a folder (or the top level) at a place among its new siblings. */
  move(id: string, where: Where): void {
    this.transact(() => {
      const ref = this.ref(id)
      const parent = this.checkParent(where.parent ?? null)
      for (let p: string | null = parent; p !== null; p = this.parentId(p) ?? null) {
        if (p === id) throw new ModelError('CYCLE', 'cannot move a folder into itself or its subtree', ref.path)
      }
      const from = this.parentId(id) ?? null
      const order = this.orderIn(parent, where.placement, id, ref.path)
      writeRegister(ref.map, POSITION, { parent, order, from }, this.ctx)
      this.placed(parent, id, order)
    })
  }

  /** Deletes an item and its subtree (soft: restorable, and concurrent edits surface as conflicts). */
  delete(id: string): void {
    this.snapshot()
    this.transact(() => {
      const ref = this.ref(id)
      const subtree = (fid: string): string[] => (this.childrenOf.get(fid) ?? EMPTY).flatMap((c) => [c, ...subtree(c)])
      markDeleted(this.doc, ref, this.ctx)
      for (const child of subtree(id)) {
        const map = this.items.get(child) as Y.Map<unknown>
        markDeleted(this.doc, nestedRef(map, this.info.get(child)!.kind, child, ''), this.ctx, id)
      }
    })
  }

  /** Restores a deleted item, the folders above it, and what was deleted together with it. */
  restore(id: string): void {
    this.transact(() => {
      const map = this.items.get(id)
      if (!(map instanceof Y.Map)) throw new ModelError('NOT_FOUND', `no item ${id}`, `item:${encodeURIComponent(id)}`)
      this.restoreEntity(nestedRef(map, itemKind(map), id, ''))
    })
  }

  protected override restoreEntity(ref: EntityRef): void {
    if (ref.kind !== 'folder' && ref.kind !== 'request') return super.restoreEntity(ref)
    markRestored(ref, this.ctx)
    // What the same deletion took along comes back with it.
    this.items.forEach((map, id) => {
      if (!(map instanceof Y.Map)) return
      const del = fieldEntries(map, DELETED)[0]?.v
      if (isJsonObject(del) && del.cascadeFrom === ref.id) markRestored(nestedRef(map, itemKind(map), id, ''), this.ctx)
    })
    // And the folders above it, so it goes back where it was.
    const pos = this.reader.entity(ref).position
    const parent = isJsonObject(pos) && typeof pos.parent === 'string' ? pos.parent : null
    const pmap = parent !== null ? this.items.get(parent) : undefined
    if (pmap instanceof Y.Map && isDeleted(pmap)) this.restoreEntity(nestedRef(pmap, 'folder', parent!, ''))
  }

  protected override applyChoice(conflict: Conflict, choice: ConflictChoice): void {
    if (conflict.kind !== 'orphan') return super.applyChoice(conflict, choice)
    const id = conflict.entityId
    const folder = conflict.alternatives[0]!.value as string
    if (choice === 'restore-parent') return this.restoreEntity(nestedRef(this.items.get(folder) as Y.Map<unknown>, 'folder', folder, ''))
    const ref = this.ref(id)
    if (choice === 'move-to-root') {
      writeRegister(ref.map, POSITION, { parent: null, order: orderFor(this.siblings(null, id), undefined, ref.path), from: folder }, this.ctx)
      return
    }
    if (choice === 'delete') return markDeleted(this.doc, ref, this.ctx)
    throw new ModelError('BAD_CHOICE', `choose one of ${conflict.choices.join(', ')}`, conflict.path)
  }

  // Rows: headers, query params, path variables, form rows of requests; variables of folders and the collection.

  addRow(ownerId: string, list: CollectionList, row: RowInit, placement?: Placement): string {
    return this.transact(() => {
      const id = this.rowAdd(ownerId, list, row, placement)
      if (list === 'query') this.syncRawFromQuery(ownerId)
      return id
    })
  }
  updateRow(ownerId: string, list: CollectionList, rowId: string, patch: object): void {
    this.transact(() => {
      this.rowUpdate(ownerId, list, rowId, patch)
      if (list === 'query') this.syncRawFromQuery(ownerId)
    })
  }
  removeRow(ownerId: string, list: CollectionList, rowId: string): void {
    this.transact(() => {
      this.rowRemove(ownerId, list, rowId)
      if (list === 'query') this.syncRawFromQuery(ownerId)
    })
  }
  moveRow(ownerId: string, list: CollectionList, rowId: string, placement: Placement): void {
    this.transact(() => {
      this.rowMove(ownerId, list, rowId, placement)
      if (list === 'query') this.syncRawFromQuery(ownerId)
    })
  }

  // Saved responses (examples) of a request.

  addResponse(requestId: string, init: ResponseInit = {}, placement?: Placement): string {
    return this.transact(() => {
      const req = this.ref(requestId)
      if (req.kind !== 'request') throw new ModelError('WRONG_KIND', 'saved responses belong to requests', req.path)
      validatePatch('response', init, 'response', true)
      const id = init.id ?? newId()
      if (this.responses.has(id)) throw new ModelError('INVALID_VALUE', `response id ${id} exists`, `response:${encodeURIComponent(id)}`)
      this.snapshot()
      // Responses added earlier in this transaction (an import) are not in `responsesOf` yet.
      const placedHere = this.responsesPlacedInTransaction.get(requestId) ?? []
      const siblings: Ordered[] = [
        ...(this.responsesOf.get(requestId) ?? EMPTY).map((rid) => ({ id: rid, order: orderOf(this.responses.get(rid) as Y.Map<unknown>) })),
        ...placedHere,
      ].sort(byOrder)
      const map = new Y.Map<unknown>()
      this.responses.set(id, map)
      map.set('id', id)
      createContainers(map, 'response')
      const ref = nestedRef(map, 'response', id, '')
      const order = orderFor(siblings, placement, ref.path)
      writeRegister(map, POSITION, { parent: requestId, order }, this.ctx, true)
      applyPatch(ref, init, this.ctx, true)
      placedHere.push({ id, order })
      this.responsesPlacedInTransaction.set(requestId, placedHere)
      return id
    })
  }
  updateResponse(id: string, patch: ResponsePatch): void {
    this.patch(this.ref(id), patch)
  }
  deleteResponse(id: string): void {
    this.transact(() => markDeleted(this.doc, this.ref(id), this.ctx))
  }

  // ------------------------------------------------------------------------------------------- internals

  protected writable(id: string): EntityRef {
    return id === this.id ? this.root! : this.ref(id)
  }

  private ref(id: string): EntityRef {
    const item = this.items.get(id)
    if (item instanceof Y.Map) {
      const kind = itemKind(item)
      if (isDeleted(item)) throw new ModelError('DELETED', `${kind} ${id} is deleted: restore it first`, `${kind}:${encodeURIComponent(id)}`)
      return nestedRef(item, kind, id, '')
    }
    const response = this.responses.get(id)
    if (response instanceof Y.Map) {
      if (isDeleted(response)) throw new ModelError('DELETED', `response ${id} is deleted`, `response:${encodeURIComponent(id)}`)
      return nestedRef(response, 'response', id, '')
    }
    throw new ModelError('NOT_FOUND', `no item ${id} in this collection`, `item:${encodeURIComponent(id)}`)
  }

  private checkParent(parent: string | null): string | null {
    if (parent === null) return null
    const ref = this.ref(parent)
    if (ref.kind !== 'folder') throw new ModelError('WRONG_KIND', `${parent} is not a folder`, ref.path)
    return parent
  }

  /** The order key for a new position; appending (the common case) looks only at the last sibling. */
  private orderIn(parent: string | null, placement: Placement, except: string | undefined, path: string): string {
    if (placement !== undefined) return orderFor(this.siblings(parent, except), placement, path)
    this.snapshot()
    const children = this.childrenOf.get(parent) ?? EMPTY
    let last: string | null = null
    for (let i = children.length - 1; i >= 0 && last === null; i--) {
      if (children[i] !== except) last = orderOf(this.items.get(children[i]!) as Y.Map<unknown>)
    }
    for (const p of this.placedInTransaction.get(parent) ?? EMPTY) if (p.id !== except && (last === null || p.order > last)) last = p.order
    return orderFor(last === null ? [] : [{ id: '', order: last }], undefined, path)
  }

  private siblings(parent: string | null, except?: string): Ordered[] {
    this.snapshot()
    const placed = this.placedInTransaction.get(parent) ?? EMPTY
    const moved = new Set(placed.map((p) => p.id))
    const out = (this.childrenOf.get(parent) ?? EMPTY)
      .filter((id) => id !== except && !moved.has(id))
      .map((id) => ({ id, order: orderOf(this.items.get(id) as Y.Map<unknown>) }))
    if (!placed.length) return out
    return [...out, ...placed.filter((p) => p.id !== except)].sort(byOrder)
  }

  private placed(parent: string | null, id: string, order: string): void {
    for (const list of this.placedInTransaction.values()) {
      const at = list.findIndex((p) => p.id === id)
      if (at >= 0) list.splice(at, 1)
    }
    const list = this.placedInTransaction.get(parent) ?? []
    list.push({ id, order })
    this.placedInTransaction.set(parent, list)
  }

  private createItem(kind: ItemKind, init: RequestInit | FolderInit, where: Where): string {
    validatePatch(kind, init, kind, true)
    if (kind === 'folder') checkSealedRows(this.doc, 'collection', (init as FolderInit).variables, kind)
    return this.transact(() => {
      const parent = this.checkParent(where.parent ?? null)
      const id = init.id ?? newId()
      if (typeof id !== 'string' || this.items.has(id)) throw new ModelError('INVALID_VALUE', `item id ${id} exists`, `${kind}:${encodeURIComponent(String(id))}`)
      const order = this.orderIn(parent, where.placement, undefined, `${kind}:${id}`)
      const map = new Y.Map<unknown>()
      this.items.set(id, map)
      map.set('id', id)
      map.set('kind', kind)
      createContainers(map, kind)
      writeRegister(map, POSITION, { parent, order, from: parent }, this.ctx, true)
      this.placed(parent, id, order)
      const ref = nestedRef(map, kind, id, '')
      applyPatch(ref, init, this.ctx, true)
      const raw = (init as RequestInit).url?.raw
      if (kind === 'request' && raw !== undefined && !(init as RequestInit).url?.query && !(init as RequestInit).url?.variables)
        this.syncUrlParts(ref, raw)
      return id
    })
  }

  /** After the raw URL changed: enabled query rows follow its query string, path variables its `:names`. */
  private syncUrlParts(ref: EntityRef, raw: string): void {
    const query = ref.container('query') as Y.Map<unknown>
    const pairs = parseQuery(raw)
    const enabled = liveRows(query).filter((r) => this.reader.entity(nestedRef(query.get(r.id) as Y.Map<unknown>, 'queryParam', r.id, '')).value.enabled !== false)
    pairs.forEach((pair, i) => {
      const row = enabled[i]
      if (row) applyPatch(nestedRef(query.get(row.id) as Y.Map<unknown>, 'queryParam', row.id, ''), pair, this.ctx)
      else this.rowAddRaw(query, 'queryParam', { ...pair })
    })
    for (const row of enabled.slice(pairs.length)) markDeleted(this.doc, nestedRef(query.get(row.id) as Y.Map<unknown>, 'queryParam', row.id, ''), this.ctx)

    const vars = ref.container('pathVariables') as Y.Map<unknown>
    const names = pathVariableNames(raw)
    const existing = liveRows(vars).map((r) => ({ r, key: String(this.reader.entity(nestedRef(vars.get(r.id) as Y.Map<unknown>, 'pathVariable', r.id, '')).value.key) }))
    for (const name of names) if (!existing.some((e) => e.key === name)) this.rowAddRaw(vars, 'pathVariable', { key: name })
    for (const e of existing) if (!names.includes(e.key)) markDeleted(this.doc, nestedRef(vars.get(e.r.id) as Y.Map<unknown>, 'pathVariable', e.r.id, ''), this.ctx)
  }

  private rowAddRaw(list: Y.Map<unknown>, kind: 'queryParam' | 'pathVariable', row: RowInit): void {
    const rows = liveRows(list)
    const last = rows.length ? rows[rows.length - 1]!.order : null
    const map = new Y.Map<unknown>()
    const id = newRowId()
    list.set(id, map)
    map.set('id', id)
    createContainers(map, kind)
    writeRegister(map, POSITION, { order: orderFor(last === null ? [] : [{ id: '', order: last }], undefined, '') }, this.ctx, true)
    applyPatch(nestedRef(map, kind, id, ''), row, this.ctx, true)
  }

  /** After a query row changed: the raw URL's query string follows the enabled rows. */
  private syncRawFromQuery(requestId: string): void {
    const ref = this.ref(requestId)
    if (ref.kind !== 'request') return
    const query = ref.container('query') as Y.Map<unknown>
    // Rows written earlier in this transaction are not in the reader's cache yet: read them afresh.
    const fresh = new Reader()
    const pairs = liveRows(query)
      .map((r) => fresh.entity(nestedRef(query.get(r.id) as Y.Map<unknown>, 'queryParam', r.id, '')).value)
      .filter((v) => v.enabled !== false)
      .map((v) => ({ key: String(v.key), value: String(v.value) }))
    const raw = String((fresh.entity(ref).value.url as { raw: string }).raw)
    const next = withQuery(raw, pairs)
    if (next !== raw) writeRegister(ref.map, 'url', next, this.ctx)
  }
}

const ownerOf = (state: EntityState): string | undefined => {
  const pos = state.position
  return isJsonObject(pos) && typeof pos.parent === 'string' ? pos.parent : undefined
}

const itemKind = (map: Y.Map<unknown>): ItemKind => (map.get('kind') === 'folder' ? 'folder' : 'request')

const sameList = <T>(a: readonly T[], b: readonly T[]) => a.length === b.length && a.every((x, i) => x === b[i])

/** A cycle in a parent map (each id's parent), if any, as the list of its members. */
const findCycle = (parent: ReadonlyMap<string, string | null>): string[] | undefined => {
  const done = new Set<string>()
  // In id order: which cycle is broken first can decide how the next one is, and map order differs by replica.
  for (const start of [...parent.keys()].sort()) {
    if (done.has(start)) continue
    const path: string[] = []
    const onPath = new Set<string>()
    let cur: string | null | undefined = start
    while (cur != null && !done.has(cur)) {
      if (onPath.has(cur)) return path.slice(path.indexOf(cur))
      onPath.add(cur)
      path.push(cur)
      cur = parent.get(cur)
    }
    for (const id of path) done.add(id)
  }
  return undefined
}

const reaches = (parent: ReadonlyMap<string, string | null>, from: string, target: string): boolean => {
  const seen = new Set<string>()
  for (let p: string | null | undefined = from; p != null && !seen.has(p); p = parent.get(p)) {
    if (p === target) return true
    seen.add(p)
  }
  return false
}
