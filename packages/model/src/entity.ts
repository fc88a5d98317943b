/**
 * Entities: a Y.Map of register entries (see register.ts) plus Y.Text and list containers, read into plain
 * snapshot objects and written through validated patches. Everything that is not tree- or doc-specific lives
 * here: defensive reading, conflicts, soft deletion with delete-vs-edit detection, list rows.
 */
import * as Y from 'yjs'
import { ModelError, type ModelErrorCode } from './errors.js'
import { type Json, isJsonObject } from './json.js'
import { newRowId } from './ids.js'
import { orderBetween } from './order.js'
import { type RegisterEntry, type WriteContext, type WriteOptions, chosenEntries, compareEntries, isConflict, readEntries, writeRegister } from './register.js'
import { DELETED, type EntityKind, type FieldSpec, POSITION, type Spec, specOf } from './schema.js'
import { forEachRow } from './row-ids.js'
import { type YType, entryItems, seenClocks, unseenWriters } from './yjs-items.js'

export interface Problem {
  /** e.g. `request:7f3a…/headers:c1d2…/key` */
  readonly path: string
  readonly message: string
}

export interface Alternative {
  readonly value: Json
  /** The writer's actor name (an account id), when the writer gave one. */
  readonly by?: string
  /** The writer's device (session) name, when given: two devices of one person read "you, on Laptop" / "you, on Desktop". */
  readonly device?: string
  /** The writer's wall clock when writing (informational: never used to decide). */
  readonly at?: number
  readonly winner: boolean
  /**
   * Picking this alternative now would be refused with this code: its folder is deleted (`DELETED`) or gone
   * (`NOT_FOUND`), or it would put a folder inside itself (`CYCLE`). Say so next to it.
   */
  readonly invalid?: ModelErrorCode
}

/** Who wrote something: what a register entry or a session record says of its writer. */
export interface Writer {
  readonly by?: string
  readonly device?: string
  readonly at?: number
}

/**
 * An open conflict. `value`: concurrent writes of one field (the winner is what snapshots show); a request's
 * `url` conflict gathers every part of its URL (its alternatives are whole URLs).
 * `delete`: an entity deleted while someone edited it (or restored it): alternatives `deleted` (by the deleter)
 * and `edited` / `restored` (by the others); choices `keep-deleted` / `restore`.
 * `orphan`: an item whose folder was deleted while it was added or moved there: choices `restore-parent` /
 * `move-to-root` / `delete`.
 * `duplicate`: two folders, requests or saved responses created with one caller-given id on two devices at
 * once. Both are kept: the first answers to the id, this one to `id~…`; choices `keep-both` / `delete`.
 */
export interface Conflict {
  readonly id: string
  readonly kind: 'value' | 'delete' | 'orphan' | 'duplicate'
  /** The entity (or list row) the conflict is on. */
  readonly entityId: string
  readonly entityKind: EntityKind | 'folder' | 'request'
  /** The top-level entity holding it: the request for a header row. */
  readonly ownerId: string
  readonly path: string
  readonly field: string
  /** The concurrent values (winner first): for `value` conflicts, pick one or write a new value. */
  readonly alternatives: readonly Alternative[]
  /** The named choices `resolve` accepts besides `{ pick }` / `{ value }` (empty for `value` conflicts). */
  readonly choices: readonly ConflictChoiceName[]
  /** Collections: the name of the folder or request it is on (or that holds it: a header's request). */
  readonly name?: string
  /** Collections: the folders holding that item (or that held it, when deleted), outermost first. */
  readonly where?: readonly string[]
}

export type ConflictChoiceName = 'keep-deleted' | 'restore' | 'restore-parent' | 'move-to-root' | 'delete' | 'keep-both'
/** How to resolve: pick an alternative, write a new value, or one of the conflict's named choices. */
export type ConflictChoice = { readonly pick: number } | { readonly value: Json } | ConflictChoiceName

/** How to reach an entity's containers: nested entities keep them as map keys, root entities as root types. */
export interface EntityRef {
  readonly map: Y.Map<unknown>
  readonly kind: EntityKind
  readonly container: (field: string) => unknown
  readonly path: string
  readonly ownerId: string
  readonly id: string
}

export interface EntityState {
  readonly id: string
  /** The projected snapshot: fields placed at their `at` paths, plus `id`. */
  readonly value: Record<string, unknown>
  readonly deleted: boolean
  /** Who deleted it (the winning deletion's writer), while deleted. */
  readonly deletedBy: Writer | undefined
  readonly position: Json | undefined
  /**
   * The winning position write's Lamport counter, client and whether it was derived: the latest move loses
   * when moves form a cycle, and a rank change can change which one that is.
   */
  readonly positionRank: readonly [number, number, number] | undefined
  /** The highest counter among the live position entries (the tree's Lamport clock). */
  readonly positionMaxN: number
  /** Hidden registers' winners (schema `hidden`), by field. */
  readonly hidden: Readonly<Record<string, Json>>
  readonly conflicts: readonly Conflict[]
  readonly problems: readonly Problem[]
}

export interface RowsState {
  readonly rows: readonly Record<string, unknown>[]
  readonly conflicts: readonly Conflict[]
  readonly problems: readonly Problem[]
  /** The live rows as a person sees them (pooled rows as one), in order. */
  readonly groups: readonly RowGroup[]
  /** Deleted rows. */
  readonly deleted: readonly EntityRef[]
}

/** One row as a person sees it: one entity, or several pooled (POOL_BY), the first by id naming them. */
export interface RowGroup {
  id: string
  order: string
  readonly refs: readonly EntityRef[]
  readonly states: readonly EntityState[]
  state: EntityState
}

/**
 * Rows of these kinds that share an identity are one row to a person (two devices that typed the same URL
 * each made a `sort` query row; two that set `:id`'s value each made an `id` path variable): their register
 * entries pool, so equal values read as one row and different ones as a conflict, and nothing is lost.
 * Query rows pool by a tag given at creation (`key#n`), path variables by key.
 */
export const POOL_BY: Partial<Record<EntityKind, string>> = { queryParam: 'tag', pathVariable: 'key' }

/**
 * Entity kinds whose snapshot is completed by a function of their own (the request: its URL and body mode),
 * registered by the module that owns it.
 */
export const DERIVE: Partial<Record<EntityKind, (ref: EntityRef, state: DerivingState, reader: Reader) => void>> = {}

/** An entity's state while a DERIVE function completes it. */
export interface DerivingState {
  readonly byField: ReadonlyMap<string, readonly RegisterEntry[]>
  readonly value: Record<string, unknown>
  conflicts: Conflict[]
  readonly problems: Problem[]
}

export const nestedRef = (
  map: Y.Map<unknown>,
  kind: EntityKind,
  id: string,
  parentPath: string,
  ownerId?: string,
): EntityRef => ({
  map,
  kind,
  id,
  container: (field) => map.get(field),
  path: parentPath ? `${parentPath}/${kind}:${encodeURIComponent(id)}` : `${kind}:${encodeURIComponent(id)}`,
  ownerId: ownerId ?? id,
})

const setAt = (target: Record<string, unknown>, at: readonly string[], value: unknown) => {
  let obj = target
  for (let i = 0; i < at.length - 1; i++) {
    const k = at[i]!
    obj = (obj[k] ??= {}) as Record<string, unknown>
  }
  obj[at[at.length - 1]!] = value
}

const compareStrings = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0)
export const byId = (a: Conflict, b: Conflict): number => compareStrings(a.id, b.id)
export const byPath = (a: Problem, b: Problem): number => compareStrings(a.path, b.path) || compareStrings(a.message, b.message)

type MutableAlternative = { -readonly [K in keyof Alternative]: Alternative[K] }

/** An alternative with its writer's name, device and time. */
export const alternative = (value: Json, winner: boolean, who: Writer | undefined): Alternative => {
  const alt: MutableAlternative = { value, winner }
  if (who?.by !== undefined) alt.by = who.by
  if (who?.device !== undefined) alt.device = who.device
  if (who?.at !== undefined) alt.at = who.at
  return alt
}

export const writerOf = (e: RegisterEntry): Writer => {
  const w: { -readonly [K in keyof Writer]: Writer[K] } = {}
  if (e.a !== undefined) w.by = e.a
  if (e.d !== undefined) w.device = e.d
  if (e.t !== undefined) w.at = e.t
  return w
}

export const alternatives = (entries: readonly RegisterEntry[]): Alternative[] =>
  chosenEntries(entries).map((e, i) => alternative(e.v, i === 0, writerOf(e)))

/** Merges the entries of pooled rows: one per client (a client's own entries are never concurrent), winner first. */
export const poolEntries = (lists: readonly (readonly RegisterEntry[])[]): RegisterEntry[] => {
  const best = new Map<number, RegisterEntry>()
  for (const list of lists) for (const e of list) {
    const b = best.get(e.client)
    if (!b || compareEntries(e, b) < 0) best.set(e.client, e)
  }
  return [...best.values()].sort(compareEntries)
}

/** The clocks seen by any of a deletion register's deleting entries. */
const seenByAny = (del: readonly RegisterEntry[]): Record<string, number> | undefined => {
  let out: Record<string, number> | undefined
  for (const e of del) {
    const seen = deletedSeen(e.v)
    if (!seen) continue
    if (!out) out = { ...seen }
    else for (const [c, clock] of Object.entries(seen)) if ((out[c] ?? 0) < clock) out[c] = clock
  }
  return out
}

/** The deletion register's value: false, or the clocks the deleter had seen (to spot concurrent edits). */
export const deletedSeen = (v: Json | undefined): Record<string, number> | undefined =>
  isJsonObject(v) && isJsonObject(v.seen) ? (v.seen as Record<string, number>) : undefined

/**
 * Reads entities with a cache keyed by Y type. The owner of a Reader drops cache entries of every type a
 * transaction touched (and its ancestors): an unchanged entity keeps its snapshot object.
 */
const SWEEP_FROM = 1024

export class Reader {
  /**
   * Keyed by Y type. A plain Map, not a WeakMap: a cold open of a big collection caches tens of thousands of
   * entities and lists, and a WeakMap that size costs the garbage collector more than the reading itself. Types
   * dropped from the doc (an entry overwritten by a concurrent one) are swept out as the cache grows.
   */
  private readonly cache = new Map<YType, EntityState | RowsState>()
  private sweepAt = SWEEP_FROM

  /** `identify`: who a Yjs client was (its session record), for naming the editors of a deleted entity. */
  constructor(private readonly identify: (client: number) => Writer | undefined = () => undefined) {}

  private remember(type: YType, state: EntityState | RowsState): void {
    this.cache.set(type, state)
    if (this.cache.size < this.sweepAt) return
    // A deleted item's type (and every type inside it, deleted with it) is gone from the doc for good.
    for (const t of this.cache.keys()) if (t._item?.deleted) this.cache.delete(t)
    this.sweepAt = Math.max(SWEEP_FROM, this.cache.size * 2)
  }

  invalidate(type: YType): void {
    this.cache.delete(type)
  }

  entity(ref: EntityRef): EntityState {
    const cached = this.cache.get(ref.map) as EntityState | undefined
    // A row's id can change without its map changing: a row made with the same id on another replica arrived
    // and answers to it first (row-ids.ts).
    if (cached && cached.id === ref.id) return cached
    const { byField, malformed } = readEntries(ref.map)
    const state = this.build(ref, byField, malformed)
    this.remember(ref.map, state)
    return state
  }

  /** The state of rows pooled as one (see POOL_BY), under the first one's id. */
  pooled(refs: readonly EntityRef[]): EntityState {
    const byField = new Map<string, RegisterEntry[]>()
    const malformed: string[] = []
    const lists = new Map<string, RegisterEntry[][]>()
    for (const ref of refs) {
      const read = readEntries(ref.map)
      malformed.push(...read.malformed)
      for (const [field, entries] of read.byField) lists.set(field, [...(lists.get(field) ?? []), entries])
    }
    for (const [field, l] of lists) byField.set(field, poolEntries(l))
    return this.build(refs[0]!, byField, malformed)
  }

  private build(ref: EntityRef, byField: ReadonlyMap<string, readonly RegisterEntry[]>, malformed: readonly string[]): EntityState {
    const spec = specOf(ref.kind)
    const problems: Problem[] = []
    let conflicts: Conflict[] = []
    const value: Record<string, unknown> = { id: ref.id }
    const hidden: Record<string, Json> = {}
    for (const key of malformed) problems.push({ path: `${ref.path}/${key}`, message: 'malformed register entry ignored' })
    const conflict = (field: string, entries: readonly RegisterEntry[]) =>
      conflicts.push({
        id: `${ref.path}#${field}`,
        kind: 'value',
        entityId: ref.id,
        entityKind: ref.kind,
        ownerId: ref.ownerId,
        path: ref.path,
        field,
        alternatives: alternatives(entries),
        choices: [],
      })

    for (const field in spec) {
      const fs = spec[field] as FieldSpec
      if (fs.kind === 'register') {
        const entries = byField.get(field)
        let v: Json = fs.fallback
        if (entries) {
          const winner = entries[0]!.v
          if (fs.check(winner)) v = winner
          else problems.push({ path: `${ref.path}/${field}`, message: `expected ${fs.expect}` })
          if (isConflict(entries)) conflict(field, entries)
        }
        if (fs.hidden) hidden[field] = v
        else setAt(value, fs.at, v)
      } else if (fs.kind === 'text') {
        const t = ref.container(field)
        if (t instanceof Y.Text) setAt(value, fs.at, t.toString())
        else {
          if (t !== undefined) problems.push({ path: `${ref.path}/${field}`, message: 'expected a text' })
          setAt(value, fs.at, '')
        }
      } else {
        const m = ref.container(field)
        if (m instanceof Y.Map) {
          const rows = this.rows(m, fs.row, `${ref.path}/${field}`, ref.ownerId)
          setAt(value, fs.at, rows.rows)
          conflicts.push(...rows.conflicts)
          problems.push(...rows.problems)
        } else {
          if (m !== undefined) problems.push({ path: `${ref.path}/${field}`, message: 'expected a list' })
          setAt(value, fs.at, [])
        }
      }
    }

    const position = byField.get(POSITION)
    if (position && isConflict(position)) conflict(POSITION, position)
    const del = byField.get(DELETED)
    let deleted = false
    let deletedBy: Writer | undefined
    if (del) {
      deleted = Boolean(del[0]!.v)
      if (deleted) deletedBy = writerOf(del[0]!)
      const deleteConflict = this.deleteConflict(ref, del, deleted)
      if (deleteConflict) conflicts.push(deleteConflict)
    }
    let positionMaxN = 0
    for (const e of position ?? []) if (e.n > positionMaxN) positionMaxN = e.n
    const top = position?.[0]
    const derive = DERIVE[ref.kind]
    if (derive) {
      const deriving: DerivingState = { byField, value, conflicts, problems }
      derive(ref, deriving, this)
      conflicts = deriving.conflicts
    }
    return {
      id: ref.id,
      value,
      deleted,
      deletedBy,
      position: top?.v,
      positionRank: top ? [top.n, top.client, top.f === 1 ? 1 : 0] : undefined,
      positionMaxN,
      hidden,
      // Map order differs by replica: sort so that every replica lists the same.
      conflicts: conflicts.sort(byId),
      problems: problems.sort(byPath),
    }
  }

  /**
   * A deletion is in conflict when someone restored the entity concurrently (the entries disagree), or wrote
   * into it without having seen the deletion (a concurrent edit, or an edit made on a stale view or while the
   * deletion arrived): then nothing of it is lost, and the person chooses.
   */
  private deleteConflict(ref: EntityRef, del: readonly RegisterEntry[], deleted: boolean): Conflict | undefined {
    const alts: Alternative[] = []
    const deletion = del.find((e) => Boolean(e.v))
    const restorations = del.filter((e) => !e.v)
    if (deleted) {
      alts.push(alternative('deleted', true, writerOf(del[0]!)))
      // What any of the (concurrent) deletions had seen: an edit one of its deleters knew of was deleted knowingly.
      const seen = seenByAny(del)
      for (const r of restorations) alts.push(alternative('restored', false, writerOf(r)))
      if (seen) {
        const editors = new Map<number, number>()
        const skip = (key: string) => key.startsWith(DELETED + '@')
        unseenWriters(ref.map, seen, editors, skip)
        // Root entities keep texts and lists as root types, outside their map.
        for (const field in specOf(ref.kind)) {
          const c = ref.container(field)
          if (c instanceof Y.AbstractType && c._item === null) unseenWriters(c, seen, editors)
        }
        for (const client of [...editors.keys()].sort((a, b) => a - b)) alts.push(alternative('edited', false, this.identify(client)))
      }
    } else if (deletion) {
      alts.push(alternative('restored', true, writerOf(del[0]!)))
      for (const d of del) if (d.v) alts.push(alternative('deleted', false, writerOf(d)))
    }
    if (alts.length < 2) return undefined
    return {
      id: `${ref.path}#${DELETED}`,
      kind: 'delete',
      entityId: ref.id,
      entityKind: ref.kind,
      ownerId: ref.ownerId,
      path: ref.path,
      field: DELETED,
      alternatives: alts,
      choices: ['keep-deleted', 'restore'],
    }
  }

  rows(list: Y.Map<unknown>, kind: EntityKind, path: string, ownerId: string): RowsState {
    const cached = this.cache.get(list) as RowsState | undefined
    if (cached) return cached
    const conflicts: Conflict[] = []
    const problems: Problem[] = []
    const poolBy = POOL_BY[kind]
    const groups = new Map<string, RowGroup>()
    const live: RowGroup[] = []
    const deleted: EntityRef[] = []
    forEachRow(list, (row, id) => {
      if (!(row instanceof Y.Map)) {
        problems.push({ path: `${path}:${id}`, message: 'expected a row' })
        return
      }
      const ref = nestedRef(row, kind, id, path, ownerId)
      const state = this.entity(ref)
      const pos = state.position
      const order = isJsonObject(pos) && typeof pos.order === 'string' ? pos.order : ''
      if (state.deleted) {
        deleted.push(ref)
        conflicts.push(...state.conflicts)
        problems.push(...state.problems)
        return
      }
      const identity = poolBy ? poolIdentity(state, poolBy) : undefined
      const group = identity === undefined ? undefined : groups.get(identity)
      if (group) {
        ;(group.refs as EntityRef[]).push(ref)
        ;(group.states as EntityState[]).push(state)
        if (order < group.order) group.order = order
        return
      }
      const g: RowGroup = { id, order, refs: [ref], states: [state], state }
      if (identity !== undefined) groups.set(identity, g)
      live.push(g)
    })
    for (const g of live) {
      if (g.refs.length > 1) {
        const pairs = g.refs.map((ref, i) => [ref, g.states[i]!] as const).sort((a, b) => (a[0].id < b[0].id ? -1 : 1))
        ;(g as { refs: readonly EntityRef[] }).refs = pairs.map((p) => p[0])
        ;(g as { states: readonly EntityState[] }).states = pairs.map((p) => p[1])
        g.state = this.pooled(g.refs)
        g.id = g.state.id
      }
      conflicts.push(...g.state.conflicts)
      problems.push(...g.state.problems)
    }
    live.sort((a, b) => (a.order < b.order ? -1 : a.order > b.order ? 1 : a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
    const state: RowsState = { rows: live.map((g) => g.state.value), conflicts: conflicts.sort(byId), problems, groups: live, deleted }
    this.remember(list, state)
    return state
  }

  /** Who a Yjs client was, as its session recorded it. */
  who(client: number): Writer | undefined {
    return this.identify(client)
  }
}

/** The identity a pooled row shares with others (see POOL_BY); undefined: a row of its own. */
export const poolIdentity = (state: EntityState, field: string): string | undefined => {
  const v = field in state.hidden ? state.hidden[field] : (state.value as Record<string, unknown>)[field]
  return typeof v === 'string' && (field !== 'tag' || v !== '') ? v : undefined
}

// ---------------------------------------------------------------------------------------------- writing

/** Validates one register value against its spec; throws INVALID_VALUE naming the path. */
export const checkValue = (kind: EntityKind, field: string, value: unknown, path: string): Json => {
  const fs = specOf(kind)[field]
  if (!fs || fs.kind !== 'register') throw new ModelError('INVALID_VALUE', `${kind} has no field ${field}`, path)
  if (!fs.check(value)) throw new ModelError('INVALID_VALUE', `${field} must be ${fs.expect}`, `${path}/${field}`)
  return value as Json
}

/**
 * Replaces a text's content with the smallest edit (common prefix and suffix kept), so a whole-value write
 * from a form field still merges character-wise with a concurrent edit elsewhere in the text.
 */
export const replaceText = (text: Y.Text, next: string): void => {
  const prev = text.toString()
  if (prev === next) return
  let start = 0
  const max = Math.min(prev.length, next.length)
  while (start < max && prev.charCodeAt(start) === next.charCodeAt(start)) start++
  let end = 0
  while (end < max - start && prev.charCodeAt(prev.length - 1 - end) === next.charCodeAt(next.length - 1 - end)) end++
  // Do not split a surrogate pair.
  if (start > 0 && isHighSurrogate(prev.charCodeAt(start - 1))) start--
  const removed = prev.length - start - end
  if (removed > 0) text.delete(start, removed)
  const inserted = next.slice(start, next.length - end)
  if (inserted) text.insert(start, inserted)
}
const isHighSurrogate = (c: number) => c >= 0xd800 && c <= 0xdbff

/** Row input for creating lists: the row's snapshot fields, optionally with its id. */
export type RowInit = { readonly id?: string } & Readonly<Record<string, unknown>>

/** A patch's shape, per kind: which keys lead to which field (fields sit at paths like `body.mode`). */
interface PatchNode {
  readonly field?: string
  readonly children: Map<string, PatchNode>
}
const patchTrees = new Map<EntityKind, PatchNode>()
const patchTree = (kind: EntityKind): PatchNode => {
  let tree = patchTrees.get(kind)
  if (tree) return tree
  tree = { children: new Map() }
  const spec = specOf(kind)
  for (const field in spec) {
    const fs = spec[field]!
    if (fs.kind === 'register' && fs.hidden) continue
    let node = tree
    for (const key of spec[field]!.at) {
      let next = node.children.get(key)
      if (!next) node.children.set(key, (next = { children: new Map() }))
      node = next
    }
    ;(node as { field?: string }).field = field
  }
  patchTrees.set(kind, tree)
  return tree
}

/** Calls `visit(field, value)` for every field a patch sets; throws INVALID_VALUE for keys the kind lacks. */
const eachPatchField = (kind: EntityKind, patch: object, path: string, visit: (field: string, value: unknown) => void) => {
  const walk = (node: PatchNode, obj: object, at: string) => {
    for (const key in obj) {
      const value = (obj as Record<string, unknown>)[key]
      if (value === undefined || (key === 'id' && node === root)) continue
      const child = node.children.get(key)
      if (!child) throw new ModelError('INVALID_VALUE', `${kind} has no field ${at ? `${at}.` : ''}${key}`, path)
      if (child.field !== undefined) visit(child.field, value)
      else if (typeof value === 'object' && value !== null && !Array.isArray(value)) walk(child, value, at ? `${at}.${key}` : key)
      else throw new ModelError('INVALID_VALUE', `${at ? `${at}.` : ''}${key} must be an object`, path)
    }
  }
  const root = patchTree(kind)
  walk(root, patch, '')
}

/**
 * Validates a whole patch before anything is written, so that a bad value throws with nothing half-applied.
 * Lists are allowed only when `withLists` (creation); later they change through row operations.
 */
export const validatePatch = (kind: EntityKind, patch: unknown, path: string, withLists: boolean): void => {
  if (typeof patch !== 'object' || patch === null || Array.isArray(patch))
    throw new ModelError('INVALID_VALUE', 'expected an object', path)
  const spec = specOf(kind)
  eachPatchField(kind, patch, path, (field, v) => {
    const fs = spec[field]!
    if (fs.kind === 'register') checkValue(kind, field, v, path)
    else if (fs.kind === 'text') {
      if (typeof v !== 'string') throw new ModelError('INVALID_VALUE', `${field} must be a string`, `${path}/${field}`)
    } else {
      if (!withLists) throw new ModelError('INVALID_VALUE', `${field} is a list: use its row operations`, `${path}/${field}`)
      if (!Array.isArray(v)) throw new ModelError('INVALID_VALUE', `${field} must be an array`, `${path}/${field}`)
      v.forEach((row, i) => validatePatch(fs.row, row, `${path}/${field}[${i}]`, true))
    }
  })
}

/** The clocks the writer has seen of `fields` of an entity (for a register spec's `seenOf`). */
export const contentSeen = (ref: EntityRef, fields: readonly string[]): Record<string, number> => {
  const containers: YType[] = []
  const prefixes: string[] = []
  const spec = specOf(ref.kind)
  for (const f of fields) {
    const fs = spec[f]
    if (!fs) continue
    if (fs.kind === 'register') prefixes.push(f + '@')
    else {
      const c = ref.container(f)
      if (c instanceof Y.AbstractType) containers.push(c)
    }
  }
  const doc = ref.map.doc
  if (!doc) return {}
  return seenClocks(doc, containers, entryItems(ref.map, (key) => prefixes.some((p) => key.startsWith(p))))
}

/** Options for writing a register: what its spec asks to record besides the value. */
export const writeOptions = (ref: EntityRef, field: string, extra?: WriteOptions): WriteOptions | undefined => {
  const fs = specOf(ref.kind)[field]
  if (!fs || fs.kind !== 'register' || !fs.seenOf) return extra
  return { ...extra, seen: contentSeen(ref, fs.seenOf) }
}

/** Writes the fields present in `patch` (already validated). Returns whether anything changed. */
export const applyPatch = (ref: EntityRef, patch: object, ctx: WriteContext, fresh = false): boolean => {
  const spec = specOf(ref.kind)
  let changed = false
  eachPatchField(ref.kind, patch, ref.path, (field, v) => {
    const fs = spec[field]!
    if (fs.kind === 'register') changed = writeRegister(ref.map, field, v as Json, ctx, fresh, writeOptions(ref, field)) || changed
    else if (fs.kind === 'text') {
      const t = ref.container(field)
      if (t instanceof Y.Text && t.toString() !== v) {
        replaceText(t, v as string)
        changed = true
      }
    } else {
      const list = ref.container(field)
      if (!(list instanceof Y.Map)) return
      let prev: string | null = null
      for (const row of v as RowInit[]) {
        const order = orderBetween(prev, null)
        insertRow(list, fs.row, row, order, ctx)
        prev = order
        changed = true
      }
    }
  })
  return changed
}

/** Creates the text and list containers of a nested entity: creating them later could race another replica. */
export const createContainers = (map: Y.Map<unknown>, kind: EntityKind): void => {
  const spec = specOf(kind)
  for (const field in spec) {
    const fs = spec[field]!
    if (fs.kind === 'text') map.set(field, new Y.Text())
    else if (fs.kind === 'list') map.set(field, new Y.Map())
  }
}

/**
 * Inserts a row. `existing`: the list was there before this transaction, so another replica could add a row with
 * the same caller-given id at once: such a row gets a key of its own (see row-ids.ts). Rows made with their
 * owner (a new list) are kept under their id.
 */
export const insertRow = (list: Y.Map<unknown>, kind: EntityKind, init: RowInit, order: string, ctx: WriteContext, existing = false): string => {
  const given = typeof init.id === 'string' && init.id ? init.id : undefined
  const id = given ?? newRowId()
  const row = new Y.Map<unknown>()
  list.set(given !== undefined && existing ? newRowId() : id, row)
  row.set('id', id)
  createContainers(row, kind)
  writeRegister(row, POSITION, { order }, ctx, true)
  applyPatch(nestedRef(row, kind, id, ''), init, ctx, true)
  return id
}

/** Soft delete: the entity stays, marked with what its deleter had seen, so concurrent edits surface. */
export const markDeleted = (doc: Y.Doc, ref: Pick<EntityRef, 'map'>, ctx: WriteContext, cascadeFrom?: string): void => {
  const seen = seenClocks(doc, ref.map)
  writeRegister(ref.map, DELETED, cascadeFrom === undefined ? { seen } : { seen, cascadeFrom }, ctx, false, { force: true })
}

export const markRestored = (ref: EntityRef, ctx: WriteContext): void => {
  writeRegister(ref.map, DELETED, false, ctx)
}
