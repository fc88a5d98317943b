/**
 * Restore: making entities of the live doc read as they did in an earlier version (`from`, a model of that
 * version), as a new forward change. History is never rewritten: the live doc gets ordinary register writes,
 * text splices, soft deletions and restorations, so a restore syncs, merges with concurrent edits (a
 * concurrent write of the same field is a conflict, as for any write) and undoes in one step.
 *
 * Only what differs is written. Values are copied as stored: a sealed variable value goes back as the same
 * ciphertext (never opened); a value that would come back in clear where the doc must seal it is refused
 * (NOT_SEALED) by a first, dry pass, before anything is written. Rows pooled as one (POOL_BY) are restored as
 * the one row a person saw: its first row takes the pooled values, the others are removed.
 *
 * The tree (where items go, with the collection's Lamport counter) is the collection's business
 * (collection.ts); this module restores an entity's own fields and lists.
 */
import * as Y from 'yjs'
import type { DocKind } from './doc.js'
import { type EntityRef, type EntityState, Reader, type RowGroup, createContainers, markDeleted, markRestored, nestedRef, replaceText, writeOptions } from './entity.js'
import { ModelError } from './errors.js'
import { historyField } from './history-fields.js'
import { type Json, jsonEqual } from './json.js'
import { type WriteContext, writeRegister } from './register.js'
import { urlRegisters } from './request.js'
import { isDeleted } from './rows.js'
import { rowKeyOf, shownRowIds } from './row-ids.js'
import { type EntityKind, POSITION, type RegisterSpec, specOf } from './schema.js'
import { checkSealedRow, variableRowState } from './sealing.js'

export interface Restorer {
  readonly doc: Y.Doc
  readonly docKind: DocKind
  readonly ctx: WriteContext
  /** The first pass: check every value that would be written (sealing), write nothing. */
  readonly dry: boolean
  /** Reads `from` (its own reader: the version is another doc). */
  readonly fromReader: Reader
  /** Reads the live doc as it was before this restore (read each entity before writing it). */
  readonly liveReader: Reader
}

/**
 * Runs a restore twice: dry (every check, nothing written), then for real. The passes share their readers: the
 * dry one writes nothing, and the real one reads each entity before writing it.
 */
export const twoPass = (make: (dry: boolean) => Restorer, run: (r: Restorer) => void, transact: (fn: () => void) => void): void => {
  const dry = make(true)
  run(dry)
  transact(() => run({ ...make(false), fromReader: dry.fromReader, liveReader: dry.liveReader }))
}

/** The schema fields an entity of `kind` has (hidden ones included: a query row's tag, the URL's parts). */
export const allFields = (kind: EntityKind): string[] => Object.keys(specOf(kind))

/** The schema fields a history field name covers for `kind`, or a ModelError. */
export const schemaFieldsOf = (kind: EntityKind, field: string, path: string): readonly string[] => {
  const hf = historyField(kind, field)
  if (!hf) throw new ModelError('INVALID_VALUE', `a ${kind} has no field ${field} to restore`, path)
  return hf.schema
}

const URL_REGISTERS = new Set(['url', 'urlOrigin', 'urlPath', 'urlHash'])

/** A register's value as a read shows it (its fallback when unwritten or malformed), from the entity's state. */
const registerValue = (ref: EntityRef, state: EntityState, field: string, fs: RegisterSpec): Json => {
  if (ref.kind === 'request' && URL_REGISTERS.has(field)) return urlRegisters(ref.map)[field as 'url']
  if (fs.hidden) return state.hidden[field] ?? fs.fallback
  let v: unknown = state.value
  for (const k of fs.at) v = typeof v === 'object' && v !== null ? (v as Record<string, unknown>)[k] : undefined
  return v === undefined ? fs.fallback : (v as Json)
}

/**
 * Makes `live` read like `from` in `fields` (schema fields). `fromState` is what to copy: the entity's own, or
 * a pooled row's pooled state.
 */
export const restoreFields = (r: Restorer, from: EntityRef, fromState: EntityState, live: EntityRef, fields: readonly string[]): void => {
  const spec = specOf(live.kind)
  const liveState = r.liveReader.entity(live)
  for (const field of fields) {
    const fs = spec[field]
    if (!fs) continue
    if (fs.kind === 'register') {
      const value = registerValue(from, fromState, field, fs)
      if (jsonEqual(value, registerValue(live, liveState, field, fs))) continue
      if (!r.dry) writeRegister(live.map, field, value, r.ctx, false, writeOptions(live, field))
    } else if (fs.kind === 'text') {
      const ft = from.container(field)
      const lt = live.container(field)
      if (!r.dry && lt instanceof Y.Text) replaceText(lt, ft instanceof Y.Text ? ft.toString() : '')
    } else {
      const fl = from.container(field)
      const ll = live.container(field)
      if (ll instanceof Y.Map) restoreList(r, fl instanceof Y.Map ? fl : undefined, ll, fs.row, `${live.path}/${field}`, live.ownerId)
    }
  }
}

/**
 * Makes a list read like it did in `from`: each row a person saw there comes back (undeleted, or recreated
 * with its id) with its values and place; rows not shown there are removed.
 */
export const restoreList = (r: Restorer, from: Y.Map<unknown> | undefined, live: Y.Map<unknown>, kind: EntityKind, path: string, ownerId: string): void => {
  const groups = from ? r.fromReader.rows(from, kind, path, ownerId).groups : []
  // Rows are matched by key (a version of this doc keeps its rows under the same keys; the ids they answer to
  // can differ, when a row made with the same id arrived since).
  const primary = new Set(groups.map((g) => keyIn(g.refs[0]!)))
  // Rows not shown on their own in `from` (removed, absent, or pooled under another row): removed.
  live.forEach((row, key) => {
    if (primary.has(key) || !(row instanceof Y.Map) || isDeleted(row)) return
    if (!r.dry) markDeleted(r.doc, { map: row }, r.ctx)
  })
  for (const g of groups) restoreRow(r, g, live, kind, path, ownerId)
}

/** The key a row of `from` is kept under (in `from`, and in this doc when the row is here). */
const keyIn = (ref: EntityRef): string => rowKeyOf(ref.map) ?? ref.id

/** The row a person saw in `from` as `rowId` (a pooled row answers to any of its ids), or undefined. */
export const rowIn = (r: Restorer, from: Y.Map<unknown> | undefined, kind: EntityKind, path: string, ownerId: string, rowId: string): RowGroup | undefined =>
  from ? r.fromReader.rows(from, kind, path, ownerId).groups.find((g) => g.refs.some((ref) => ref.id === rowId)) : undefined

/** Brings one row back as `from` showed it (group `g`): undeleted or recreated with its id, its values, its place. */
export const restoreRow = (r: Restorer, g: RowGroup, live: Y.Map<unknown>, kind: EntityKind, path: string, ownerId: string): void => {
  const fromRef = g.refs[0]!
  const key = keyIn(fromRef)
  const existing = live.get(key)
  const liveRef = existing instanceof Y.Map ? nestedRef(existing, kind, shownRowIds(live)?.get(key) ?? key, path, ownerId) : undefined
  if (kind === 'variable') checkVariable(r, g.state, liveRef, path)
  if (r.dry) return
  let ref = liveRef
  if (!ref) {
    const map = new Y.Map<unknown>()
    live.set(key, map)
    const id = fromRef.map.get('id')
    map.set('id', typeof id === 'string' ? id : key)
    createContainers(map, kind)
    ref = nestedRef(map, kind, shownRowIds(live)?.get(key) ?? key, path, ownerId)
  }
  restoreFields(r, fromRef, g.state, ref, allFields(kind))
  // The place a person saw: a pooled row's is the first of its rows' orders.
  const place = g.refs.length > 1 ? { order: g.order } : (g.state.position ?? { order: g.order })
  if (!jsonEqual(r.liveReader.entity(ref).position, place)) writeRegister(ref.map, POSITION, place, r.ctx)
  if (isDeleted(ref.map)) markRestored(ref, r.ctx)
}

/** A variable row that comes back, or whose type or value changes, must not bring a clear value where sealing is required. */
const checkVariable = (r: Restorer, from: EntityState, live: EntityRef | undefined, path: string): void => {
  const v = from.value as { type?: unknown; value?: Json; key?: unknown }
  const type = typeof v.type === 'string' ? v.type : 'default'
  const now = live ? r.liveReader.entity(live) : undefined
  const nowValue = now?.value as { type?: unknown; value?: Json } | undefined
  const same = now && !now.deleted && nowValue?.type === type && jsonEqual(nowValue.value, v.value ?? '')
  if (!same) checkSealedRow(r.doc, r.docKind, undefined, { type, value: v.value ?? '', key: v.key }, `${path}:${from.id}`)
}

/**
 * Restores one field of a row (a variable's `value`…): the row must be shown in `from` and live now. A variable's
 * value or type is checked like any write of it (sealing).
 */
export const restoreRowField = (r: Restorer, g: RowGroup, live: Y.Map<unknown>, kind: EntityKind, path: string, ownerId: string, rowId: string, fields: readonly string[]): void => {
  const map = live.get(keyIn(g.refs[0]!))
  if (!(map instanceof Y.Map)) throw new ModelError('NOT_FOUND', `no row ${rowId} now: restore it whole (restoreItem)`, `${path}:${rowId}`)
  if (isDeleted(map)) throw new ModelError('DELETED', `row ${rowId} is removed now: restore it whole (restoreItem)`, `${path}:${rowId}`)
  const ref = nestedRef(map, kind, rowId, path, ownerId)
  if (kind === 'variable' && (fields.includes('value') || fields.includes('type'))) {
    const v = g.state.value as { type?: unknown; value?: Json }
    const patch: Record<string, unknown> = {}
    if (fields.includes('value')) patch.value = v.value ?? ''
    if (fields.includes('type')) patch.type = typeof v.type === 'string' ? v.type : 'default'
    checkSealedRow(r.doc, r.docKind, variableRowState(map), patch, `${path}:${rowId}`)
  }
  restoreFields(r, g.refs[0]!, g.state, ref, fields)
}

/** A fresh pair of readers for a restore. */
export const restorer = (doc: Y.Doc, docKind: DocKind, ctx: WriteContext, dry: boolean): Restorer => ({
  doc,
  docKind,
  ctx,
  dry,
  fromReader: new Reader(),
  liveReader: new Reader(),
})

/**
 * An empty entity of `kind` in a scratch doc: what the dry pass compares against for an entity a restore would
 * recreate (so the values it would write are checked like the others).
 */
export const scratchEntity = (kind: EntityKind, id: string): EntityRef => {
  const doc = new Y.Doc()
  const map = new Y.Map<unknown>()
  doc.transact(() => {
    doc.getMap('scratch').set(id, map)
    createContainers(map, kind)
  })
  return nestedRef(map, kind, id, '')
}

/** Refuses a `from` that is not a version of this doc. */
export const checkSameDoc = (kind: DocKind, fromKind: DocKind, id: string, fromId: string): void => {
  if (fromKind !== kind) throw new ModelError('WRONG_KIND', `cannot restore a ${kind} from a ${fromKind}`)
  if (fromId !== id && fromId !== '') throw new ModelError('INVALID_VALUE', `that version is of another ${kind} (${fromId}), not of this one (${id})`)
}

