/**
 * Entities: a Y.Map of register entries (see register.ts) plus Y.Text and list containers, read into plain
 * snapshot objects and written through validated patches. Everything that is not tree- or doc-specific lives
 * here: defensive reading, conflicts, soft deletion with delete-vs-edit detection, list rows.
 */
import * as Y from 'yjs'
import { ModelError } from './errors.js'
import { type Json, isJsonObject } from './json.js'
import { newRowId } from './ids.js'
import { orderBetween } from './order.js'
import { type RegisterEntry, type WriteContext, isConflict, readEntries, writeRegister } from './register.js'
import { DELETED, type EntityKind, type FieldSpec, POSITION, type Spec, specOf } from './schema.js'
import { hasUnseenItems, seenClocks } from './yjs-items.js'

export interface Problem {
  /** e.g. `request:7f3a…/headers:c1d2…/key` */
  readonly path: string
  readonly message: string
}

export interface Alternative {
  readonly value: Json
  /** The writer's actor name, when the writer gave one. */
  readonly by?: string
  /** The writer's wall clock when writing (informational: never used to decide). */
  readonly at?: number
  readonly winner: boolean
}

/**
 * An open conflict. `value`: concurrent writes of one field (the winner is what snapshots show).
 * `delete`: an entity deleted while someone edited it (or restored it): choices `keep-deleted` / `restore`.
 * `orphan`: an item whose folder was deleted while it was added or moved there: choices `restore-parent` /
 * `move-to-root` / `delete`.
 */
export interface Conflict {
  readonly id: string
  readonly kind: 'value' | 'delete' | 'orphan'
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
}

export type ConflictChoiceName = 'keep-deleted' | 'restore' | 'restore-parent' | 'move-to-root' | 'delete'
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
  readonly position: Json | undefined
  /** The winning position write's Lamport counter and client: the latest move loses when moves form a cycle. */
  readonly positionRank: readonly [number, number] | undefined
  readonly conflicts: readonly Conflict[]
  readonly problems: readonly Problem[]
}

interface RowsState {
  readonly rows: readonly Record<string, unknown>[]
  readonly conflicts: readonly Conflict[]
  readonly problems: readonly Problem[]
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

const alternatives = (entries: readonly RegisterEntry[]): Alternative[] =>
  entries.map((e, i) => {
    const alt: { value: Json; by?: string; at?: number; winner: boolean } = { value: e.v, winner: i === 0 }
    if (typeof e.a === 'string') alt.by = e.a
    if (typeof e.t === 'number') alt.at = e.t
    return alt
  })

/** The deletion register's value: false, or the clocks the deleter had seen (to spot concurrent edits). */
export const deletedSeen = (v: Json | undefined): Record<string, number> | undefined =>
  isJsonObject(v) && isJsonObject(v.seen) ? (v.seen as Record<string, number>) : undefined

/**
 * Reads entities with a cache keyed by Y type. The owner of a Reader drops cache entries of every type a
 * transaction touched (and its ancestors): an unchanged entity keeps its snapshot object.
 */
export class Reader {
  readonly cache = new WeakMap<object, EntityState | RowsState>()

  invalidate(type: object): void {
    this.cache.delete(type)
  }

  entity(ref: EntityRef): EntityState {
    const cached = this.cache.get(ref.map) as EntityState | undefined
    if (cached) return cached
    const state = this.readEntity(ref)
    this.cache.set(ref.map, state)
    return state
  }

  private readEntity(ref: EntityRef): EntityState {
    const spec = specOf(ref.kind)
    const problems: Problem[] = []
    const conflicts: Conflict[] = []
    const value: Record<string, unknown> = { id: ref.id }
    const { byField, malformed } = readEntries(ref.map)
    for (const key of malformed) problems.push({ path: `${ref.path}/${key}`, message: 'malformed register entry ignored' })
    const conflict = (kind: Conflict['kind'], field: string, entries: readonly RegisterEntry[]) =>
      conflicts.push({
        id: `${ref.path}#${field}`,
        kind,
        entityId: ref.id,
        entityKind: ref.kind,
        ownerId: ref.ownerId,
        path: ref.path,
        field,
        alternatives: alternatives(entries),
        choices: kind === 'delete' ? ['keep-deleted', 'restore'] : [],
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
          if (isConflict(entries)) conflict('value', field, entries)
        }
        setAt(value, fs.at, v)
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
    if (position && isConflict(position)) conflict('value', POSITION, position)
    const del = byField.get(DELETED)
    let deleted = false
    if (del) {
      deleted = Boolean(del[0]!.v)
      const seen = deletedSeen(del[0]!.v)
      const disagree = del.some((e) => Boolean(e.v) !== deleted)
      const editedConcurrently =
        deleted &&
        seen !== undefined &&
        this.editedSince(ref, seen)
      if (disagree || editedConcurrently) conflict('delete', DELETED, del)
    }
    const top = position?.[0]
    return {
      id: ref.id,
      value,
      deleted,
      position: top?.v,
      positionRank: top ? [top.n, top.client] : undefined,
      // Map order differs by replica: sort so that every replica lists the same.
      conflicts: conflicts.sort(byId),
      problems: problems.sort(byPath),
    }
  }

  /** Whether anything in the entity was written by someone who had not seen its deletion. */
  private editedSince(ref: EntityRef, seen: Record<string, number>): boolean {
    const skip = (key: string) => key.startsWith(DELETED + '@')
    if (hasUnseenItems(ref.map, seen, skip)) return true
    // Root entities keep texts and lists as root types, outside their map.
    for (const field in specOf(ref.kind)) {
      const c = ref.container(field)
      if (c instanceof Y.AbstractType && c._item === null && hasUnseenItems(c, seen)) return true
    }
    return false
  }

  rows(list: Y.Map<unknown>, kind: EntityKind, path: string, ownerId: string): RowsState {
    const cached = this.cache.get(list) as RowsState | undefined
    if (cached) return cached
    const live: { order: string; id: string; value: Record<string, unknown> }[] = []
    const conflicts: Conflict[] = []
    const problems: Problem[] = []
    list.forEach((row, id) => {
      if (!(row instanceof Y.Map)) {
        problems.push({ path: `${path}:${id}`, message: 'expected a row' })
        return
      }
      const state = this.entity(nestedRef(row, kind, id, path, ownerId))
      conflicts.push(...state.conflicts)
      problems.push(...state.problems)
      if (state.deleted) return
      const pos = state.position
      const order = isJsonObject(pos) && typeof pos.order === 'string' ? pos.order : ''
      live.push({ order, id, value: state.value })
    })
    live.sort((a, b) => (a.order < b.order ? -1 : a.order > b.order ? 1 : a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
    const state: RowsState = { rows: live.map((r) => r.value), conflicts, problems }
    this.cache.set(list, state)
    return state
  }
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

/** Writes the fields present in `patch` (already validated). Returns whether anything changed. */
export const applyPatch = (ref: EntityRef, patch: object, ctx: WriteContext, fresh = false): boolean => {
  const spec = specOf(ref.kind)
  let changed = false
  eachPatchField(ref.kind, patch, ref.path, (field, v) => {
    const fs = spec[field]!
    if (fs.kind === 'register') changed = writeRegister(ref.map, field, v as Json, ctx, fresh) || changed
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

export const insertRow = (list: Y.Map<unknown>, kind: EntityKind, init: RowInit, order: string, ctx: WriteContext): string => {
  const id = typeof init.id === 'string' && init.id ? init.id : newRowId()
  const row = new Y.Map<unknown>()
  list.set(id, row)
  row.set('id', id)
  createContainers(row, kind)
  writeRegister(row, POSITION, { order }, ctx, true)
  applyPatch(nestedRef(row, kind, id, ''), init, ctx, true)
  return id
}

/** Soft delete: the entity stays, marked with what its deleter had seen, so concurrent edits surface. */
export const markDeleted = (doc: Y.Doc, ref: Pick<EntityRef, 'map'>, ctx: WriteContext, cascadeFrom?: string): void => {
  const seen = seenClocks(doc, ref.map)
  writeRegister(ref.map, DELETED, cascadeFrom === undefined ? { seen } : { seen, cascadeFrom }, ctx)
}

export const markRestored = (ref: EntityRef, ctx: WriteContext): void => {
  writeRegister(ref.map, DELETED, false, ctx)
}
