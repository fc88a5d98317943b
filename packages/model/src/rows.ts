/**
 * List rows (headers, params, form rows, variables, presets): entities in a Y.Map keyed by row id (a caller-given
 * id added later: by a key of its own, see row-ids.ts), ordered by a fractional `position.order` register.
 * Concurrent inserts are both kept; a reorder is one register write, so it never loses a concurrent edit of the
 * row; a removal is a soft delete, so it never does either.
 */
import * as Y from 'yjs'
import { type RowInit, applyPatch, insertRow, markDeleted, nestedRef, validatePatch } from './entity.js'
import { ModelError } from './errors.js'
import { isJsonObject } from './json.js'
import { orderBetween } from './order.js'
import { type WriteContext, fieldEntries, writeRegister } from './register.js'
import { DELETED, type EntityKind, POSITION } from './schema.js'
import { forEachRow, rowAt, rowKey } from './row-ids.js'

/** Where to put a row or item among its live siblings. Default: at the end. */
export type Placement = { readonly before: string } | { readonly after: string } | { readonly index: number } | undefined

export interface Ordered {
  readonly id: string
  readonly order: string
}

export const byOrder = (a: Ordered, b: Ordered): number =>
  a.order < b.order ? -1 : a.order > b.order ? 1 : a.id < b.id ? -1 : a.id > b.id ? 1 : 0

const winner = (map: Y.Map<unknown>, field: string) => fieldEntries(map, field)[0]?.v

export const orderOf = (map: Y.Map<unknown>): string => {
  const pos = winner(map, POSITION)
  return isJsonObject(pos) && typeof pos.order === 'string' ? pos.order : ''
}

export const isDeleted = (map: Y.Map<unknown>): boolean => Boolean(winner(map, DELETED))

/** Live rows of a list in display order. */
export const liveRows = (list: Y.Map<unknown>): Ordered[] => {
  const out: Ordered[] = []
  forEachRow(list, (row, id) => {
    if (row instanceof Y.Map && !isDeleted(row)) out.push({ id, order: orderOf(row) })
  })
  return out.sort(byOrder)
}

/** The order key for a new position among `siblings` (sorted, excluding the moved one). */
export const orderFor = (siblings: readonly Ordered[], placement: Placement, path: string): string => {
  let index = siblings.length
  if (placement && 'index' in placement) {
    if (!Number.isInteger(placement.index) || placement.index < 0)
      throw new ModelError('INVALID_VALUE', 'index must be a non-negative integer', path)
    index = Math.min(placement.index, siblings.length)
  } else if (placement) {
    const ref = 'before' in placement ? placement.before : placement.after
    const at = siblings.findIndex((s) => s.id === ref)
    if (at < 0) throw new ModelError('NOT_FOUND', `no sibling ${ref}`, path)
    index = 'before' in placement ? at : at + 1
  }
  const before = index > 0 ? siblings[index - 1]!.order : null
  const after = index < siblings.length ? siblings[index]!.order : null
  // Equal neighbour keys (a concurrent insert at the same spot) leave no room between: go after both.
  return before !== null && after !== null && before >= after ? orderBetween(after, null) : orderBetween(before, after)
}

/**
 * A row to write to. Edits of a deleted row are kept (removed on another device while someone typed into it):
 * they surface as a delete conflict on the row. Moving or removing it again is refused.
 */
export const rowMap = (list: Y.Map<unknown>, rowId: string, path: string, allowDeleted = false): Y.Map<unknown> => {
  const row = rowAt(list, rowId)
  if (!(row instanceof Y.Map)) throw new ModelError('NOT_FOUND', `no row ${rowId}`, path)
  if (!allowDeleted && isDeleted(row)) throw new ModelError('DELETED', `row ${rowId} is deleted`, path)
  return row
}

export const addRow = (
  list: Y.Map<unknown>,
  kind: EntityKind,
  init: RowInit,
  placement: Placement,
  ctx: WriteContext,
  path: string,
): string => {
  validatePatch(kind, init, path, true)
  checkNewRowId(list, init.id, path)
  const order = placement === undefined ? appendOrder(list) : orderFor(liveRows(list), placement, path)
  const last = lastOrders.get(list)
  if (last === undefined || order > last) lastOrders.set(list, order)
  return insertRow(list, kind, init, order, ctx, true)
}

/** Refuses a caller-given row id that a row of the list (live or deleted) answers to. */
export const checkNewRowId = (list: Y.Map<unknown>, id: unknown, path: string): void => {
  if (id !== undefined && (typeof id !== 'string' || rowKey(list, id) !== undefined))
    throw new ModelError('INVALID_VALUE', 'row id must be a new string', path)
}

/**
 * The highest order key in each list, so that appending (the common case: import, typing a new header) does not
 * scan the list. An entry is dropped whenever a transaction touches its list (see `forgetLastOrder`).
 */
const lastOrders = new WeakMap<Y.Map<unknown>, string>()
export const forgetLastOrder = (list: object): void => {
  lastOrders.delete(list as Y.Map<unknown>)
}

const appendOrder = (list: Y.Map<unknown>): string => {
  let last = lastOrders.get(list)
  if (last === undefined) {
    last = ''
    list.forEach((row) => {
      if (row instanceof Y.Map) {
        const order = orderOf(row)
        if (order > last!) last = order
      }
    })
  }
  return orderFor(last ? [{ id: '', order: last }] : [], undefined, '')
}

export const updateRow = (
  list: Y.Map<unknown>,
  kind: EntityKind,
  rowId: string,
  patch: object,
  ctx: WriteContext,
  path: string,
): boolean => {
  validatePatch(kind, patch, path, false)
  return applyPatch(nestedRef(rowMap(list, rowId, path, true), kind, rowId, path), patch, ctx)
}

export const removeRow = (doc: Y.Doc, list: Y.Map<unknown>, kind: EntityKind, rowId: string, ctx: WriteContext, path: string) => {
  markDeleted(doc, nestedRef(rowMap(list, rowId, path), kind, rowId, path), ctx)
}

export const moveRow = (list: Y.Map<unknown>, rowId: string, placement: Placement, ctx: WriteContext, path: string) => {
  const row = rowMap(list, rowId, path)
  const siblings = liveRows(list).filter((r) => r.id !== rowId)
  const order = orderFor(siblings, placement, path)
  writeRegister(row, POSITION, { order }, ctx)
  const last = lastOrders.get(list)
  if (last !== undefined && order > last) lastOrders.set(list, order)
}
