/**
 * A collection doc: the collection's own settings, its tree of folders and requests, and saved responses.
 *
 * The tree is flat in Yjs: `items` maps id → entity with a `position` register `{ parent, order, from }`, so a
 * move is one register write and never loses a concurrent edit. The tree shown is a pure function of the
 * doc's state (the same live as on a fresh open, on every replica):
 * - position writes carry a collection-wide Lamport counter (one above every position the writer has seen),
 *   so a move made after seeing another ranks above it, whichever items they moved;
 * - moves that form a cycle (concurrent moves, each valid where it was made) are broken by sending back the
 *   latest of each cycle (to its `from` folder, else the top level);
 * - a move also records, as derived entries, where the mover saw each folder above its target that such a
 *   break had displaced. The mover's tree is thereby what the doc says, so the move can never close a cycle
 *   with a displaced folder's old position and lose (a derived entry never beats a concurrent chosen one).
 * So the last valid move of an item holds, unless a concurrent move genuinely conflicts with it (moves of
 * the same item: a position conflict; moves that together form a cycle: the latest loses).
 * An item whose folder was deleted concurrently sits at the top level with an `orphan` conflict.
 * Snapshots are rebuilt incrementally: only changed items and their ancestors get new objects.
 */
import { newId } from './ids.js'
import { EntityIndex } from './item-index.js'
import * as Y from 'yjs'
import { DocModel, type OpenOptions } from './doc.js'
import {
  type Alternative,
  alternative,
  type Conflict,
  type ConflictChoice,
  type EntityRef,
  type EntityState,
  type Problem,
  type RowInit,
  type Writer,
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
import { ModelError, type ModelErrorCode } from './errors.js'
import { type Json, isJsonObject, jsonEqual } from './json.js'
import { type StoredEntry, fieldEntries, writeRegister } from './register.js'
import {
  addPathVariable,
  addQueryRow,
  forgetUrlRows,
  initUrl,
  moveQueryRow,
  removePathVariableRow,
  removeQueryRow,
  resolveUrl,
  setUrl,
  updatePathVariable,
  updateQueryRow,
} from './request.js'
import { type Ordered, type Placement, byOrder, isDeleted, orderFor, orderOf } from './rows.js'
import { DELETED, POSITION } from './schema.js'
import { rowAt } from './row-ids.js'
import { checkSealedRows } from './sealing.js'
import { type Restorer, allFields, checkSameDoc, restoreFields, restoreRowField, restorer, rowIn, schemaFieldsOf, scratchEntity, twoPass } from './restore.js'
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

/** A deleted folder or request, as a trash lists it. */
export interface DeletedItem {
  readonly id: string
  readonly kind: ItemKind
  readonly name: string
  /** Who deleted it (account), from which device, when. */
  readonly deletedBy: Writer
  /** The folder it was in (null: the top level). */
  readonly parentId: string | null
  /** The names of the folders it was in, outermost first. */
  readonly where: readonly string[]
  /** The folder whose deletion took it along (restoring that restores it too); absent when deleted itself. */
  readonly deletedWith?: string
}

const EMPTY: readonly never[] = Object.freeze([])

export class CollectionModel extends DocModel<CollectionSnapshot> {
  /** Folders and requests, and saved responses, by id (see item-index.ts: caller-given ids never collide). */
  private readonly items: EntityIndex
  private readonly responses: EntityIndex

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
  /** The highest position counter seen in this collection: the tree's Lamport clock. */
  private maxPositionN = 0
  /** Conflicts with the item's name and place added, by the conflict they came from. */
  private readonly named = new WeakMap<Conflict, { readonly key: string; readonly conflict: Conflict }>()

  private constructor(doc: Y.Doc, options?: OpenOptions) {
    super(doc, 'collection', 'collection', options)
    this.items = new EntityIndex(doc.getMap('items'))
    this.responses = new EntityIndex(doc.getMap('responses'))
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

  /** Conflicts for entities created with one id on two devices (see item-index.ts), the same on every replica. */
  private duplicateConflicts(): Conflict[] {
    const out: Conflict[] = []
    const groups = [...this.items.duplicates().map((ids) => ({ ids, index: this.items })), ...this.responses.duplicates().map((ids) => ({ ids, index: this.responses }))]
    for (const { ids, index } of groups) {
      const [first, ...others] = ids
      for (const id of others) {
        const info = index === this.items ? this.info.get(id) : undefined
        const state = info?.state ?? this.responseState.get(id)
        if (!state || state.deleted || state.hidden.keptBoth === true) continue
        const kind = info?.kind ?? 'response'
        const path = `${kind}:${encodeURIComponent(id)}`
        const who = (x: string) => {
          const client = index.creator(x)
          return client === undefined ? undefined : this.writerOf(client)
        }
        out.push({
          id: `${path}#duplicate`,
          kind: 'duplicate',
          entityId: id,
          entityKind: kind,
          ownerId: id,
          path,
          field: 'id',
          alternatives: [alternative(first!, true, who(first!)), alternative(id, false, who(id))],
          choices: ['keep-both', 'delete'],
        })
      }
    }
    return out
  }

  /** Whether an item or response id is in use (deleted ones included): caller-given ids must be new. */
  private idTaken(id: string): boolean {
    return this.items.taken(id) || this.responses.taken(id)
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

  protected override onChanged(ids: Set<string>, tr: Y.Transaction): void {
    const itemKeys = tr.changed.get(this.items.map as YType)
    const responseKeys = tr.changed.get(this.responses.map as YType)
    if (itemKeys) this.items.refresh([...itemKeys].filter((k): k is string => k !== null))
    if (responseKeys) this.responses.refresh([...responseKeys].filter((k): k is string => k !== null))
    // An entity's changes name it by its id; two created with one id answer to two ids (both are named: which
    // of them changed is not known here), and a removed entry is named by its key.
    const shownToo: string[] = []
    for (const id of ids) {
      this.dirty.add(id)
      for (const shown of this.items.idsFor(id)) shownToo.push(shown)
      for (const shown of this.responses.idsFor(id)) shownToo.push(shown)
      shownToo.push(this.items.shown(id), this.responses.shown(id))
    }
    for (const id of shownToo) {
      this.dirty.add(id)
      ids.add(id)
    }
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
    // The indexes were built on open and are kept up to date by onChanged: no second full pass here.
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
        if (state.positionMaxN > this.maxPositionN) this.maxPositionN = state.positionMaxN
        if (!prev && !state.deleted && !structure) added.push(id)
        else if (
          !prev ||
          prev.state.deleted !== state.deleted ||
          prev.state.position !== state.position ||
          !sameRank(prev.state.positionRank, state.positionRank) ||
          prev.kind !== kind
        )
          // A rank change alone (a resolution writing back an equal position) can change how a cycle breaks.
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
      for (const c of state.conflicts) conflicts.push(this.withName(c))
      problems.push(...state.problems)
    }
    for (const c of this.structuralConflicts.values()) conflicts.push(this.withName(c))
    for (const c of this.duplicateConflicts()) conflicts.push(this.withName(c))
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

  /**
   * A conflict with the name of the item it is on (or that holds it) and the folders around it, so that a
   * person can tell what it is about: "Login, in Auth". Position alternatives say when picking one is no
   * longer possible (its folder deleted meanwhile).
   */
  private withName(c: Conflict): Conflict {
    const info = this.info.get(c.ownerId)
    const response = info ? undefined : this.responseState.get(c.ownerId)
    const owner = response ? ownerOf(response) : undefined
    const named = info ?? (owner ? this.info.get(owner) : undefined)
    if (!named) return c
    const name = response ? String(response.value.name ?? '') : String(named.state.value.name ?? '')
    const where = response && owner ? [...this.whereOf(owner), String(named.state.value.name ?? '')] : this.whereOf(c.ownerId)
    const alts = c.kind === 'value' && c.field === POSITION && (c.entityKind === 'folder' || c.entityKind === 'request') ? c.alternatives.map((a) => this.checkedPosition(c.entityId, a)) : c.alternatives
    const key = `${name}\u0000${where.join('\u0000')}\u0000${alts.map((a) => a.invalid ?? '').join(',')}`
    const cached = this.named.get(c)
    if (cached?.key === key) return cached.conflict
    const conflict: Conflict = { ...c, alternatives: alts, name, where }
    this.named.set(c, { key, conflict })
    return conflict
  }

  /** The names of the folders holding an item, outermost first: as shown, or (deleted) as its positions say. */
  private whereOf(id: string): string[] {
    const names: string[] = []
    const seen = new Set<string>([id])
    let p = this.parentOf.has(id) ? this.parentOf.get(id)! : storedParent(this.info.get(id)?.state)
    while (p !== null && p !== undefined && !seen.has(p)) {
      seen.add(p)
      const info = this.info.get(p)
      if (!info) break
      names.unshift(String(info.state.value.name ?? ''))
      p = this.parentOf.has(p) ? this.parentOf.get(p)! : storedParent(info.state)
    }
    return names
  }

  /** A position alternative, marked with the code picking it would now be refused with. */
  private checkedPosition(id: string, alt: Alternative): Alternative {
    const code = this.positionProblem(id, alt.value)
    if (code === undefined) return alt.invalid === undefined ? alt : withoutInvalid(alt)
    return alt.invalid === code ? alt : { ...alt, invalid: code }
  }

  /** Why a position value cannot be written now (undefined: it can). */
  private positionProblem(id: string, value: Json, going?: ReadonlyMap<string, Json>): ModelErrorCode | undefined {
    if (!isJsonObject(value) || (value.parent !== null && typeof value.parent !== 'string') || (value.order !== undefined && typeof value.order !== 'string'))
      return 'INVALID_VALUE'
    const parent = value.parent
    if (parent === null) return undefined
    const info = this.info.get(parent)
    if (!info) return 'NOT_FOUND'
    if (info.kind !== 'folder') return 'WRONG_KIND'
    if (info.state.deleted) return 'DELETED'
    // `going`: where the other items of an undo step go back to (see stepPositions).
    const parentOf = (p: string): string | null | undefined => {
      const back = going?.get(p)
      return back !== undefined && isJsonObject(back) && (back.parent === null || typeof back.parent === 'string') ? back.parent : this.parentOf.get(p)
    }
    const seen = new Set<string>()
    for (let p: string | null | undefined = parent; p != null && !seen.has(p); p = parentOf(p)) {
      if (p === id) return 'CYCLE'
      seen.add(p)
    }
    return undefined
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

  /**
   * Deleted folders and requests, latest deletion first: what a trash lists. Each says who deleted it, from
   * which device and when, where it was, and (cascaded) which folder's deletion took it along.
   */
  deletedItems(): readonly DeletedItem[] {
    this.snapshot()
    const out: DeletedItem[] = []
    for (const [id, { kind, state }] of this.info) {
      if (!state.deleted) continue
      const del = fieldEntries(this.items.get(id) as Y.Map<unknown>, DELETED)[0]?.v
      const item: { -readonly [K in keyof DeletedItem]: DeletedItem[K] } = {
        id,
        kind,
        name: String(state.value.name ?? ''),
        deletedBy: state.deletedBy ?? {},
        parentId: storedParent(state),
        where: this.whereOf(id),
      }
      if (isJsonObject(del) && typeof del.cascadeFrom === 'string') item.deletedWith = del.cascadeFrom
      out.push(item)
    }
    // Latest deletion first; what one deletion took along right after the item deleted, outermost first.
    const at = new Map(out.map((d) => [d.id, d.deletedBy.at ?? 0]))
    const when = (d: DeletedItem) => (d.deletedWith !== undefined && at.has(d.deletedWith) ? at.get(d.deletedWith)! : (d.deletedBy.at ?? 0))
    const root = (d: DeletedItem) => (d.deletedWith !== undefined && at.has(d.deletedWith) ? d.deletedWith : d.id)
    return out.sort(
      (a, b) =>
        when(b) - when(a) ||
        (root(a) < root(b) ? -1 : root(a) > root(b) ? 1 : 0) ||
        a.where.length - b.where.length ||
        (a.id < b.id ? -1 : a.id > b.id ? 1 : 0),
    )
  }

  /**
   * A deleted item's last content, as it would read if restored (a folder with what was deleted along with it);
   * undefined when the item is not deleted (use get) or unknown.
   */
  getDeleted(id: string): ItemSnapshot | undefined {
    this.snapshot()
    const info = this.info.get(id)
    if (!info?.state.deleted) return undefined
    const build = (iid: string, seen: Set<string>): ItemSnapshot => {
      const { kind, state } = this.info.get(iid)!
      if (kind === 'request') {
        const responses = (this.responsesOf.get(iid) ?? EMPTY).map((rid) => this.responseState.get(rid)!.value as unknown as SavedResponse)
        return { kind, ...(state.value as Omit<RequestSnapshot, 'kind' | 'responses'>), responses }
      }
      seen.add(iid)
      const children: Ordered[] = []
      for (const [cid, c] of this.info) {
        if (c.state.deleted && !seen.has(cid) && storedParent(c.state) === iid) children.push({ id: cid, order: orderOf(this.items.get(cid) as Y.Map<unknown>) })
      }
      return { kind, ...(state.value as Omit<FolderSnapshot, 'kind' | 'items'>), items: children.sort(byOrder).map((c) => build(c.id, seen)) }
    }
    return build(id, new Set())
  }

  /** The Y.Text behind a text field, for binding an editor (CodeMirror, Monaco) with character merge. */
  text(id: string, field: TextField): Y.Text {
    const ref = id === this.id ? this.root! : this.ref(id, true)
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
        const entry = { id, order: this.itemOrder(id) }
        const siblings = this.childrenOf.get(p) ?? EMPTY
        let lo = 0
        let hi = siblings.length
        while (lo < hi) {
          const mid = (lo + hi) >> 1
          const s = siblings[mid]!
          if (byOrder({ id: s, order: this.itemOrder(s) }, entry) < 0) lo = mid + 1
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

  /** An item's order key, from the position its state already read (no second read of its entries). */
  private itemOrder(id: string): string {
    const pos = this.info.get(id)!.state.position
    return isJsonObject(pos) && typeof pos.order === 'string' ? pos.order : ''
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
      list.push({ id, order: this.itemOrder(id) })
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

  /**
   * Edits a folder's or request's fields (not lists: use the row operations). An item deleted meanwhile (on
   * another device, or while this view was stale) still takes the edit: it is kept, and the deletion and the
   * edit surface as a `delete` conflict (restore, or keep it deleted).
   */
  updateItem(id: string, patch: RequestPatch | FolderPatch): void {
    const ref = this.ref(id, true)
    validatePatch(ref.kind, patch, ref.path, false)
    this.transact(() => {
      const url = (patch as RequestPatch).url
      if (ref.kind === 'request' && url?.raw !== undefined) {
        const { url: _url, ...rest } = patch as RequestPatch
        const { raw, ...urlRest } = url
        applyPatch(ref, Object.keys(urlRest).length ? { ...rest, url: urlRest } : rest, this.ctx)
        this.urlWrite(ref, () => setUrl(ref, raw, this.ctx, this.reader))
      } else applyPatch(ref, patch, this.ctx)
    })
  }

  /** Edits part of a text: what a keystroke does. Kept on a deleted item, as updateItem. */
  editText(id: string, field: TextField, index: number, deleteCount: number, insert = ''): void {
    const ref = this.writable(id)
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
      const n = this.nextPositionN()
      this.writePosition(ref.map, { parent, order, from }, n)
      this.materialise(parent, n)
      this.placed(parent, id, order)
    })
  }

  protected override positionBack(map: Y.Map<unknown>, back: StoredEntry, current: StoredEntry): StoredEntry {
    const id = map.get('id')
    const v = back.v
    const n = this.nextPositionN()
    if (typeof id !== 'string' || !this.info.has(id) || !isJsonObject(v)) return { ...back, n }
    // Back into its own subtree (a folder above it was moved into it since): it stays where it is shown.
    const { f: _f, ...chosen } = back
    if (this.positionProblem(id, v, this.stepPositions()) === 'CYCLE') {
      const shown = this.parentOf.get(id) ?? null
      this.materialise(shown, n)
      return { ...chosen, v: { parent: shown, order: orderOf(map), from: shown }, n }
    }
    this.materialise(typeof v.parent === 'string' ? v.parent : null, n)
    return { ...chosen, n }
  }

  /** The counter of the next position write: above every position seen in the collection. */
  private nextPositionN(): number {
    this.snapshot()
    return this.maxPositionN + 1
  }

  private writePosition(map: Y.Map<unknown>, value: Json, n: number, derived = false): void {
    writeRegister(map, POSITION, value, this.ctx, false, derived ? { minN: n, derived } : { minN: n, force: true })
  }

  /**
   * Records where this replica shows each folder from `target` up to the top level, where that is not what
   * its position says (a cycle break displaced it): derived entries, ranked below any concurrent move.
   */
  private materialise(target: string | null, n: number, except?: ReadonlySet<string>): void {
    this.snapshot()
    for (let f = target; f !== null; f = this.parentOf.get(f) ?? null) {
      // Folders a restore puts in place itself (see restoreTree) are not displaced.
      if (except?.has(f)) return
      const info = this.info.get(f)
      if (!info || info.state.deleted) return
      const stored = storedParent(info.state)
      const shown = this.parentOf.get(f) ?? null
      if (stored === shown) continue
      // An item whose folder was deleted keeps its orphan conflict; a position naming no folder stays a problem.
      const target = stored === null ? undefined : this.info.get(stored)
      if (!target || target.kind !== 'folder' || target.state.deleted) continue
      const map = this.items.get(f) as Y.Map<unknown>
      this.writePosition(map, { parent: shown, order: orderOf(map), from: shown }, n, true)
    }
  }

  /** Deletes an item and its subtree (soft: restorable, and concurrent edits surface as conflicts). */
  delete(id: string): void {
    this.snapshot()
    this.transact(() => this.deleteTree(this.ref(id)))
  }

  /** Marks an item and what it holds deleted; the subtree remembers it went with the item. */
  private deleteTree(ref: EntityRef, cascadeFrom?: string): void {
    const subtree = (fid: string): string[] => (this.childrenOf.get(fid) ?? EMPTY).flatMap((c) => [c, ...subtree(c)])
    markDeleted(this.doc, ref, this.ctx, cascadeFrom)
    for (const child of subtree(ref.id)) {
      const map = this.items.get(child) as Y.Map<unknown>
      if (!isDeleted(map)) markDeleted(this.doc, nestedRef(map, this.info.get(child)!.kind, child, ''), this.ctx, cascadeFrom ?? ref.id)
    }
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
    this.snapshot()
    const restored = new Set<string>()
    this.restoreWith(ref, restored)
    this.placeRestored(restored)
  }

  private restoreWith(ref: EntityRef, restored: Set<string>): void {
    if (restored.has(ref.id)) return
    restored.add(ref.id)
    markRestored(ref, this.ctx)
    // What the same deletion took along comes back with it.
    this.items.forEach((map, id) => {
      if (!(map instanceof Y.Map) || restored.has(id)) return
      const del = fieldEntries(map, DELETED)[0]?.v
      if (isJsonObject(del) && del.cascadeFrom === ref.id) {
        restored.add(id)
        markRestored(nestedRef(map, itemKind(map), id, ''), this.ctx)
      }
    })
    // And the folders above it, so it goes back where it was.
    const parent = storedParent(this.info.get(ref.id)?.state)
    const pmap = parent !== null ? this.items.get(parent) : undefined
    if (pmap instanceof Y.Map && isDeleted(pmap)) this.restoreWith(nestedRef(pmap, 'folder', parent!, ''), restored)
  }

  /**
   * A restore is a move back: a restored folder whose old place is now inside itself (its folder was moved
   * into it meanwhile) goes to the top level instead, and the folders it goes back into are materialised.
   */
  private placeRestored(restored: ReadonlySet<string>): void {
    const n = this.nextPositionN()
    const parentOf = (id: string): string | null => {
      if (!restored.has(id)) return this.parentOf.get(id) ?? null
      const p = storedParent(this.info.get(id)?.state)
      if (p === null) return null
      const info = this.info.get(p)
      return info?.kind === 'folder' && (!info.state.deleted || restored.has(p)) ? p : null
    }
    const moved = new Set<string>()
    for (const id of restored) {
      if (this.info.get(id)?.kind !== 'folder') continue
      const seen = new Set<string>()
      for (let p = parentOf(id); p !== null && !seen.has(p); p = moved.has(p) ? null : parentOf(p)) {
        seen.add(p)
        if (p !== id) continue
        const map = this.items.get(id) as Y.Map<unknown>
        this.writePosition(map, { parent: null, order: this.orderIn(null, undefined, id, `folder:${id}`), from: null }, n)
        moved.add(id)
        break
      }
    }
    for (const id of restored) {
      const p = parentOf(id)
      if (p !== null && !restored.has(p)) this.materialise(p, n)
    }
  }

  protected override applyChoice(conflict: Conflict, choice: ConflictChoice): void {
    const isItem = conflict.entityKind === 'folder' || conflict.entityKind === 'request'
    if (conflict.kind === 'value' && conflict.field === POSITION && isItem) return this.choosePosition(conflict, choice)
    if (conflict.kind === 'value' && conflict.field === 'url' && conflict.entityKind === 'request' && typeof choice === 'object' && choice !== null) {
      const ref = this.ref(conflict.entityId, true)
      return this.urlWrite(ref, () => resolveUrl(ref, choice, this.ctx, this.reader))
    }
    if (conflict.kind === 'delete' && choice === 'keep-deleted' && isItem) {
      // Kept deleted as delete(id) deletes: with its subtree, and with what was added to it meanwhile.
      const ref = this.ref(conflict.entityId, true)
      markDeleted(this.doc, ref, this.ctx)
      for (const [id, { kind, state }] of this.info) {
        if (!state.deleted && storedParent(state) === ref.id) this.deleteTree(nestedRef(this.items.get(id) as Y.Map<unknown>, kind, id, ''), ref.id)
      }
      return
    }
    if (conflict.kind === 'duplicate') {
      const ref = this.ref(conflict.entityId, true)
      if (choice === 'keep-both') return void writeRegister(ref.map, 'keptBoth', true, this.ctx)
      if (choice === 'delete') return ref.kind === 'response' ? markDeleted(this.doc, ref, this.ctx) : this.deleteTree(ref)
      throw new ModelError('BAD_CHOICE', `choose one of ${conflict.choices.join(', ')}`, conflict.path)
    }
    if (conflict.kind !== 'orphan') return super.applyChoice(conflict, choice)
    const id = conflict.entityId
    const folder = conflict.alternatives[0]!.value as string
    if (choice === 'restore-parent') return this.restoreEntity(nestedRef(this.items.get(folder) as Y.Map<unknown>, 'folder', folder, ''))
    const ref = this.ref(id)
    if (choice === 'move-to-root') {
      this.writePosition(ref.map, { parent: null, order: orderFor(this.siblings(null, id), undefined, ref.path), from: folder }, this.nextPositionN())
      return
    }
    if (choice === 'delete') return this.deleteTree(ref)
    throw new ModelError('BAD_CHOICE', `choose one of ${conflict.choices.join(', ')}`, conflict.path)
  }

  /** Resolves a position conflict like a move: the place must exist, be a live folder and not inside the item. */
  private choosePosition(conflict: Conflict, choice: ConflictChoice): void {
    const ref = this.ref(conflict.entityId, true)
    let value: Json
    if (typeof choice === 'object' && choice !== null && 'pick' in choice) {
      const alt = conflict.alternatives[choice.pick]
      if (!alt) throw new ModelError('BAD_CHOICE', `no alternative ${choice.pick}`, conflict.path)
      value = alt.value
    } else if (typeof choice === 'object' && choice !== null && 'value' in choice) value = choice.value
    else throw new ModelError('BAD_CHOICE', 'a position conflict takes { pick } or { value }', conflict.path)
    if (!isJsonObject(value) || (value.parent !== null && typeof value.parent !== 'string') || (value.order !== undefined && typeof value.order !== 'string'))
      throw new ModelError('INVALID_VALUE', 'a position is { parent: folder id or null, order? }', `${ref.path}/position`)
    const parent = this.checkParent(value.parent as string | null)
    for (let p: string | null = parent; p !== null; p = this.parentId(p) ?? null) {
      if (p === ref.id) throw new ModelError('CYCLE', 'cannot move a folder into itself or its subtree', ref.path)
    }
    const order = typeof value.order === 'string' ? value.order : this.orderIn(parent, undefined, ref.id, ref.path)
    const n = this.nextPositionN()
    this.writePosition(ref.map, { parent, order, from: this.parentId(ref.id) ?? null }, n)
    this.materialise(parent, n)
  }

  // Rows: headers, query params, path variables, form rows of requests; variables of folders and the collection.
  // A URL's rows (query, path variables) are part of its URL: see request.ts.

  addRow(ownerId: string, list: CollectionList, row: RowInit, placement?: Placement): string {
    const ref = this.urlOwner(ownerId, list)
    if (!ref) return this.rowAdd(ownerId, list, row, placement)
    return this.transact(() =>
      this.urlWrite(ref, () => (list === 'query' ? addQueryRow(ref, row, placement, this.ctx, this.reader) : addPathVariable(ref, row, this.ctx, this.reader))),
    )
  }
  updateRow(ownerId: string, list: CollectionList, rowId: string, patch: object): void {
    const ref = this.urlOwner(ownerId, list)
    if (!ref) return this.rowUpdate(ownerId, list, rowId, patch)
    this.transact(() =>
      this.urlWrite(ref, () =>
        list === 'query'
          ? updateQueryRow(ref, rowId, patch as Record<string, unknown>, this.ctx, this.reader)
          : updatePathVariable(ref, rowId, patch as Record<string, unknown>, this.ctx, this.reader),
      ),
    )
  }
  removeRow(ownerId: string, list: CollectionList, rowId: string): void {
    const ref = this.urlOwner(ownerId, list)
    if (!ref) return this.rowRemove(ownerId, list, rowId)
    this.transact(() =>
      this.urlWrite(ref, () => (list === 'query' ? removeQueryRow(ref, rowId, this.ctx, this.reader) : removePathVariableRow(ref, rowId, this.ctx, this.reader))),
    )
  }
  moveRow(ownerId: string, list: CollectionList, rowId: string, placement: Placement): void {
    const ref = this.urlOwner(ownerId, list)
    if (!ref) return this.rowMove(ownerId, list, rowId, placement)
    if (list === 'pathVariables') throw new ModelError('INVALID_VALUE', 'path variables follow the order of the path', `${ref.path}/pathVariables`)
    this.transact(() => this.urlWrite(ref, () => moveQueryRow(ref, rowId, placement, this.ctx, this.reader)))
  }

  /** Runs a write of a request's URL rows; the reader forgets them after (see request.ts freshReader). */
  private urlWrite<T>(ref: EntityRef, write: () => T): T {
    try {
      return write()
    } finally {
      forgetUrlRows(this.reader, ref)
    }
  }

  /** The request whose URL rows `list` names, or undefined for other lists. */
  private urlOwner(ownerId: string, list: CollectionList): EntityRef | undefined {
    if (list !== 'query' && list !== 'pathVariables') return undefined
    const ref = this.writable(ownerId)
    if (ref.kind !== 'request') throw new ModelError('INVALID_VALUE', `${ref.kind} has no list ${list}`, ref.path)
    return ref
  }

  // Saved responses (examples) of a request.

  addResponse(requestId: string, init: ResponseInit = {}, placement?: Placement): string {
    return this.transact(() => {
      const req = this.ref(requestId, true)
      if (req.kind !== 'request') throw new ModelError('WRONG_KIND', 'saved responses belong to requests', req.path)
      validatePatch('response', init, 'response', true)
      const id = init.id ?? newId()
      if (this.idTaken(id)) throw new ModelError('INVALID_VALUE', `response id ${id} exists`, `response:${encodeURIComponent(id)}`)
      this.snapshot()
      // Responses added earlier in this transaction (an import) are not in `responsesOf` yet.
      const placedHere = this.responsesPlacedInTransaction.get(requestId) ?? []
      const siblings: Ordered[] = [
        ...(this.responsesOf.get(requestId) ?? EMPTY).map((rid) => ({ id: rid, order: orderOf(this.responses.get(rid) as Y.Map<unknown>) })),
        ...placedHere,
      ].sort(byOrder)
      const map = new Y.Map<unknown>()
      this.responses.add(id, map, init.id !== undefined)
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
    this.patch(this.ref(id, true), patch)
  }
  deleteResponse(id: string): void {
    this.transact(() => markDeleted(this.doc, this.ref(id), this.ctx))
  }

  // ------------------------------------------------------------------------------------- restore (history)

  /**
   * Brings one folder, request or saved response back as it was in `from` (an earlier version of this
   * collection, e.g. read-only from history): recreated or undeleted if it is gone, its content as it was, back
   * where it was (its deleted or missing folders above restored or recreated too). A folder comes back with its
   * subtree exactly as it was: what was inside it then comes back inside it, what was added to it since is
   * removed, what was moved into it since goes back where it was then. One transaction (one undo step).
   */
  restoreItem(from: DocModel<unknown>, id: string): void {
    const readOnly = this.openError
    if (readOnly) throw readOnly
    const src = this.versionOf(from)
    this.snapshot()
    if (src.responses.has(id)) return this.restoreResponse(src, id)
    const node = src.get(id)
    if (!node) throw new ModelError('NOT_FOUND', `${id} is not in that version (absent or deleted there)`, `item:${encodeURIComponent(id)}`)
    // The folders above it in `from` that are gone now come back; live ones stay where they are.
    const ancestors: string[] = []
    for (let p = src.parentOf.get(id) ?? null; p !== null; p = src.parentOf.get(p) ?? null) {
      const map = this.items.get(p)
      if (!(map instanceof Y.Map) || isDeleted(map)) ancestors.unshift(p)
    }
    const subtree = preOrder([node])
    const inSubtree = new Set(subtree)
    // What is in its folders now but was not then (wherever those folders are now), with what that holds.
    const extra: string[] = []
    const seen = new Set<string>()
    const walk = (fid: string) => {
      for (const c of this.childrenOf.get(fid) ?? EMPTY) {
        if (seen.has(c)) continue
        seen.add(c)
        if (!inSubtree.has(c)) extra.push(c)
        walk(c)
      }
    }
    for (const f of subtree) if (this.parentOf.has(f)) walk(f)
    const back = extra.filter((x) => src.get(x) !== undefined)
    const remove = extra.filter((x) => src.get(x) === undefined)
    this.restoreTree(src, { ancestors, items: subtree, back, remove })
  }

  /**
   * Restores one field of the collection (id '' or its id), a folder, a request, a saved response or a
   * collection variable as it was in `from`: exactly the `field` names a diff's changes carry (`method`, `url`,
   * `body`, `scripts.test`, `name`, a variable's `value`…). The item must be live now (restore it first).
   */
  restoreField(from: DocModel<unknown>, id: string, field: string): void {
    const readOnly = this.openError
    if (readOnly) throw readOnly
    const src = this.versionOf(from)
    this.snapshot()
    const run = (write: (r: Restorer) => void) => twoPass((dry) => restorer(this.doc, 'collection', this.ctx, dry), write, (fn) => this.transact(fn))
    if (id === '' || id === this.id) {
      const fields = schemaFieldsOf('collection', field, 'collection')
      return run((r) => restoreFields(r, src.root!, r.fromReader.entity(src.root!), this.root!, fields))
    }
    const fromVariables = src.root!.container('variables') as Y.Map<unknown>
    const variablesPath = `${this.root!.path}/variables`
    const variable = restorer(src.doc, 'collection', this.ctx, true)
    const inFrom = rowAt(fromVariables, id) !== undefined
    const g = inFrom ? rowIn(variable, fromVariables, 'variable', variablesPath, this.id, id) : undefined
    if (g || inFrom) {
      if (!g) throw new ModelError('NOT_FOUND', `variable ${id} is not in that version`, `${variablesPath}:${id}`)
      const fields = schemaFieldsOf('variable', field, `${variablesPath}:${id}`)
      return run((r) => restoreRowField(r, g, this.root!.container('variables') as Y.Map<unknown>, 'variable', variablesPath, this.id, id, fields))
    }
    const fromRef = src.versionRef(id)
    const liveRef = this.ref(id)
    const fields = schemaFieldsOf(liveRef.kind, field, liveRef.path)
    run((r) => restoreFields(r, fromRef, r.fromReader.entity(fromRef), liveRef, fields))
  }

  /**
   * Brings the whole collection back to `from`: its settings and variables, every folder, request and saved
   * response live there as it was and where it was (undeleted or recreated), and everything not live there
   * deleted (soft: the trash lists it). Open conflicts are not part of a version: a restored field has one value.
   */
  restoreAll(from: DocModel<unknown>): void {
    const readOnly = this.openError
    if (readOnly) throw readOnly
    const src = this.versionOf(from)
    this.snapshot()
    src.snapshot()
    const items = preOrder(src.snapshot().items)
    const keep = new Set(items)
    const remove: string[] = []
    for (const id of this.parentOf.keys()) if (!keep.has(id)) remove.push(id)
    this.restoreTree(src, { ancestors: [], items, back: [], remove, root: true })
  }

  /** `from` as a version of this collection (same kind, same id or an empty version), or a ModelError. */
  private versionOf(from: DocModel<unknown>): CollectionModel {
    if (!(from instanceof CollectionModel)) throw new ModelError('WRONG_KIND', `cannot restore a collection from a ${from.kind}`)
    checkSameDoc('collection', from.kind, this.id, from.id)
    from.snapshot()
    return from
  }

  /** An item or saved response of this version, live in it; NOT_FOUND otherwise. */
  private versionRef(id: string): EntityRef {
    this.snapshot()
    const item = this.items.get(id)
    if (item instanceof Y.Map && this.parentOf.has(id)) return nestedRef(item, itemKind(item), id, '')
    const response = this.responses.get(id)
    const owner = response instanceof Y.Map ? ownerOf(this.responseState.get(id)!) : undefined
    if (response instanceof Y.Map && owner && (this.responsesOf.get(owner) ?? EMPTY).includes(id) && this.parentOf.has(owner))
      return nestedRef(response, 'response', id, '')
    throw new ModelError('NOT_FOUND', `${id} is not in that version (absent or deleted there)`, `item:${encodeURIComponent(id)}`)
  }

  /** A saved response back as it was, on its request (which must be live now). */
  private restoreResponse(src: CollectionModel, id: string): void {
    const fromRef = src.versionRef(id)
    const owner = ownerOf(src.responseState.get(id)!)!
    const request = this.items.get(owner)
    if (!(request instanceof Y.Map) || isDeleted(request))
      throw new ModelError('DELETED', `its request ${owner} is not live now: restore the request (restoreItem)`, `response:${encodeURIComponent(id)}`)
    twoPass(
      (dry) => restorer(this.doc, 'collection', this.ctx, dry),
      (r) => !r.dry && this.restoreResponseIn(r, src, fromRef),
      (fn) => this.transact(fn),
    )
  }

  private restoreResponseIn(r: Restorer, src: CollectionModel, fromRef: EntityRef): void {
    const id = fromRef.id
    let map = this.responses.get(id)
    if (!(map instanceof Y.Map)) {
      map = new Y.Map<unknown>()
      this.responses.add(id, map as Y.Map<unknown>, src.responses.key(id) !== id)
      createContainers(map as Y.Map<unknown>, 'response')
    }
    const ref = nestedRef(map as Y.Map<unknown>, 'response', id, '')
    const fromState = r.fromReader.entity(fromRef)
    restoreFields(r, fromRef, fromState, ref, allFields('response'))
    if (!jsonEqual(r.liveReader.entity(ref).position, fromState.position ?? null)) writeRegister(ref.map, POSITION, fromState.position ?? null, this.ctx)
    if (isDeleted(ref.map)) markRestored(ref, this.ctx)
  }

  /**
   * The restore of items: `ancestors` (gone now) come back where they were, `items` come back as they were in
   * `src` (content, saved responses, place), `back` go back to where they were, `remove` are deleted; `root`:
   * the collection's own fields and variables too. Dry first (sealing checks), then in one transaction.
   */
  private restoreTree(src: CollectionModel, plan: { ancestors: readonly string[]; items: readonly string[]; back: readonly string[]; remove: readonly string[]; root?: boolean }): void {
    twoPass(
      (dry) => restorer(this.doc, 'collection', this.ctx, dry),
      (r) => {
        if (plan.root) restoreFields(r, src.root!, r.fromReader.entity(src.root!), this.root!, allFields('collection'))
        const n = r.dry ? 0 : this.nextPositionN()
        const placed = new Map<string, string | null>()
        const liveMap = (id: string, recreate: boolean): Y.Map<unknown> | undefined => {
          const existing = this.items.get(id)
          if (existing instanceof Y.Map || !recreate || r.dry) return existing instanceof Y.Map ? existing : undefined
          const fromMap = src.items.get(id) as Y.Map<unknown>
          const map = new Y.Map<unknown>()
          this.items.add(id, map, src.items.key(id) !== id)
          map.set('kind', itemKind(fromMap))
          createContainers(map, itemKind(fromMap))
          return map
        }
        const putBack = (id: string, map: Y.Map<unknown>, parent: string | null, order: string) => {
          const pos = fieldEntries(map, POSITION)[0]?.v
          const same = isJsonObject(pos) && pos.parent === parent && pos.order === order && this.parentOf.get(id) === parent
          placed.set(id, parent)
          if (!same) this.writePosition(map, { parent, order, from: this.parentOf.get(id) ?? parent }, n)
        }
        const fromPlace = (id: string) => ({ parent: src.parentOf.get(id) ?? null, order: orderOf(src.items.get(id) as Y.Map<unknown>) })
        for (const id of plan.ancestors) {
          const absent = !(this.items.get(id) instanceof Y.Map)
          const map = liveMap(id, true)
          if (absent) {
            const fromRef = nestedRef(src.items.get(id) as Y.Map<unknown>, 'folder', id, '')
            restoreFields(r, fromRef, r.fromReader.entity(fromRef), map ? nestedRef(map, 'folder', id, '') : scratchEntity('folder', id), allFields('folder'))
          }
          if (r.dry || !map) continue
          const { parent, order } = fromPlace(id)
          putBack(id, map, parent, order)
          if (isDeleted(map)) markRestored(nestedRef(map, 'folder', id, ''), this.ctx)
        }
        for (const id of plan.items) {
          const fromMap = src.items.get(id) as Y.Map<unknown>
          const kind = itemKind(fromMap)
          // Dry: only a folder's variables have anything to check (sealing).
          if (r.dry && kind !== 'folder') continue
          const fromRef = nestedRef(fromMap, kind, id, '')
          const map = liveMap(id, true)
          // What reads the same (content and saved responses) is not rewritten: a restore writes only differences.
          const same = map !== undefined && sameItem(src.nodes.get(id), this.nodes.get(id))
          if (!same) {
            // Dry: check what would be written into a fresh item against an empty one.
            const liveRef = map ? nestedRef(map, kind, id, '') : scratchEntity(kind, id)
            restoreFields(r, fromRef, r.fromReader.entity(fromRef), liveRef, allFields(kind))
          }
          if (r.dry || !map) continue
          const { parent, order } = fromPlace(id)
          putBack(id, map, parent, order)
          if (isDeleted(map)) markRestored(nestedRef(map, kind, id, ''), this.ctx)
          if (kind !== 'request' || same) continue
          const responses = new Set(src.responsesOf.get(id) ?? EMPTY)
          for (const rid of responses) this.restoreResponseIn(r, src, nestedRef(src.responses.get(rid) as Y.Map<unknown>, 'response', rid, ''))
          for (const rid of this.responsesOf.get(id) ?? EMPTY) if (!responses.has(rid)) markDeleted(this.doc, { map: this.responses.get(rid) as Y.Map<unknown> }, this.ctx)
        }
        if (r.dry) return
        for (const id of plan.back) {
          const { parent, order } = fromPlace(id)
          const live = parent === null || placed.has(parent) || (this.parentOf.has(parent) && !plan.remove.includes(parent))
          putBack(id, this.items.get(id) as Y.Map<unknown>, live ? parent : null, order)
        }
        const removed = new Set(plan.remove)
        for (const id of plan.remove) {
          const map = this.items.get(id) as Y.Map<unknown>
          if (isDeleted(map)) continue
          // What goes with a folder removed here is marked as taken along (the trash groups it, restore brings it back).
          let top: string | undefined
          for (let p = this.parentOf.get(id) ?? null; p !== null; p = this.parentOf.get(p) ?? null) if (removed.has(p)) top = p
          markDeleted(this.doc, { map }, this.ctx, top)
        }
        this.settlePlaced(placed, removed, n)
      },
      (fn) => this.transact(fn),
    )
  }

  /**
   * After a restore placed items: no cycle (a live folder above a restored one may have been moved into its
   * subtree since: the restored item then goes to the top level), and the folders they went into materialised.
   */
  private settlePlaced(placed: Map<string, string | null>, removed: ReadonlySet<string>, n: number): void {
    const parentOf = (id: string): string | null => (placed.has(id) ? placed.get(id)! : (this.parentOf.get(id) ?? null))
    for (const id of placed.keys()) {
      const seen = new Set<string>()
      for (let p = parentOf(id); p !== null && !seen.has(p); p = parentOf(p)) {
        seen.add(p)
        if (p !== id) continue
        const map = this.items.get(id) as Y.Map<unknown>
        this.writePosition(map, { parent: null, order: orderOf(map), from: this.parentOf.get(id) ?? null }, n)
        placed.set(id, null)
        break
      }
    }
    const targets = new Set<string>()
    for (const p of placed.values()) if (p !== null && !placed.has(p) && !removed.has(p)) targets.add(p)
    for (const p of targets) this.materialise(p, n, new Set(placed.keys()))
  }

  // ------------------------------------------------------------------------------------------- internals

  /** Edits of content are kept on deleted entities (they surface as delete conflicts). */
  protected writable(id: string): EntityRef {
    return id === this.id ? this.root! : this.ref(id, true)
  }

  /** The entity `id`; deleted ones are refused (moves, deletes, new children) unless `allowDeleted` (edits). */
  private ref(id: string, allowDeleted = false): EntityRef {
    const item = this.items.get(id)
    if (item instanceof Y.Map) {
      const kind = itemKind(item)
      if (!allowDeleted && isDeleted(item)) throw new ModelError('DELETED', `${kind} ${id} is deleted: restore it first`, `${kind}:${encodeURIComponent(id)}`)
      return nestedRef(item, kind, id, '')
    }
    const response = this.responses.get(id)
    if (response instanceof Y.Map) {
      if (!allowDeleted && isDeleted(response)) throw new ModelError('DELETED', `response ${id} is deleted`, `response:${encodeURIComponent(id)}`)
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
      if (typeof id !== 'string' || this.idTaken(id)) throw new ModelError('INVALID_VALUE', `item id ${id} exists`, `${kind}:${encodeURIComponent(String(id))}`)
      const order = this.orderIn(parent, where.placement, undefined, `${kind}:${id}`)
      const n = this.nextPositionN()
      const map = new Y.Map<unknown>()
      this.items.add(id, map, init.id !== undefined)
      map.set('kind', kind)
      createContainers(map, kind)
      writeRegister(map, POSITION, { parent, order, from: parent }, this.ctx, true, { minN: n })
      this.placed(parent, id, order)
      const ref = nestedRef(map, kind, id, '')
      applyPatch(ref, init, this.ctx, true)
      if (kind === 'request') initUrl(ref, (init as RequestInit).url, this.ctx)
      return id
    })
  }
}

/** Whether two item snapshots read the same (a folder: apart from what it holds; a request: with its saved responses). */
const sameItem = (a: ItemSnapshot | undefined, b: ItemSnapshot | undefined): boolean => {
  if (!a || !b || a.kind !== b.kind) return false
  if (a.kind === 'request') return jsonEqual(a as unknown as Json, b as unknown as Json)
  const { items: _a, ...fa } = a
  const { items: _b, ...fb } = b as FolderSnapshot
  return jsonEqual(fa as unknown as Json, fb as unknown as Json)
}

/** Item ids of a tree, each folder before what it holds. */
const preOrder = (nodes: readonly ItemSnapshot[]): string[] => {
  const out: string[] = []
  const walk = (list: readonly ItemSnapshot[]) => {
    for (const node of list) {
      out.push(node.id)
      if (node.kind === 'folder') walk(node.items)
    }
  }
  walk(nodes)
  return out
}

const ownerOf = (state: EntityState): string | undefined => {
  const pos = state.position
  return isJsonObject(pos) && typeof pos.parent === 'string' ? pos.parent : undefined
}

const itemKind = (map: Y.Map<unknown>): ItemKind => (map.get('kind') === 'folder' ? 'folder' : 'request')

/** The folder an item's position names (null: the top level), whatever the tree shows. */
const storedParent = (state: EntityState | undefined): string | null => {
  const pos = state?.position
  return isJsonObject(pos) && typeof pos.parent === 'string' ? pos.parent : null
}

const sameRank = (a: readonly number[] | undefined, b: readonly number[] | undefined): boolean =>
  a === b || (a !== undefined && b !== undefined && a.length === b.length && a.every((x, i) => x === b[i]))

const withoutInvalid = (alt: Alternative): Alternative => {
  const { invalid: _invalid, ...rest } = alt
  return rest
}

const sameList = <T>(a: readonly T[], b: readonly T[]) => a.length === b.length && a.every((x, i) => x === b[i])

/** A cycle in a parent map (each id's parent), if any, as the list of its members. */
const findCycle = (parent: ReadonlyMap<string, string | null>): string[] | undefined => {
  // walk.get(id): the index of the walk that visited id; one map for all walks, no set per walk.
  const walk = new Map<string, number>()
  // In id order: which cycle is broken first can decide how the next one is, and map order differs by replica.
  // An item at the top level is in no cycle, and a walk that reaches it ends there anyway: skip it as a start.
  const starts: string[] = []
  for (const [id, p] of parent) if (p != null) starts.push(id)
  starts.sort()
  const path: string[] = []
  for (let w = 0; w < starts.length; w++) {
    const start = starts[w]!
    if (walk.has(start)) continue
    path.length = 0
    let cur: string | null | undefined = start
    while (cur != null) {
      const seen = walk.get(cur)
      if (seen === w) return path.slice(path.indexOf(cur))
      if (seen !== undefined) break
      walk.set(cur, w)
      path.push(cur)
      cur = parent.get(cur)
    }
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
