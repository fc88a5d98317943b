import * as Y from 'yjs'
import { expect } from 'vitest'
import { type CollectionSnapshot, CollectionModel, ModelError, type ModelErrorCode } from '@apisync/model'

/** Exchanges every missing update between the docs, both ways, until all are equal. */
export const syncAll = (...docs: Y.Doc[]): void => {
  for (const a of docs) for (const b of docs) if (a !== b) Y.applyUpdate(b, Y.encodeStateAsUpdate(a, Y.encodeStateVector(b)))
}

/** Sends what `from` has and `to` lacks, one way only. */
export const send = (from: Y.Doc, to: Y.Doc): void => {
  Y.applyUpdate(to, Y.encodeStateAsUpdate(from, Y.encodeStateVector(to)))
}

/** Fresh docs with fixed client ids, so failures reproduce. */
export const docs = (n: number, firstClient = 1): Y.Doc[] =>
  Array.from({ length: n }, (_, i) => {
    const d = new Y.Doc({ gc: true })
    d.clientID = firstClient + i
    return d
  })

/** A copy of `source` in a new doc with the given client id. */
export const fork = (source: Y.Doc, client: number): Y.Doc => {
  const d = new Y.Doc()
  d.clientID = client
  Y.applyUpdate(d, Y.encodeStateAsUpdate(source))
  return d
}

/** The ModelError `fn` throws; fails the test if it throws anything else or nothing. */
export const modelError = (fn: () => unknown): ModelError => {
  try {
    fn()
  } catch (e) {
    if (e instanceof ModelError) return e
    throw e
  }
  throw new Error('expected a ModelError, nothing was thrown')
}

/**
 * Asserts that `fn` throws a ModelError with `code` (and `path`, when given) and leaves the doc untouched:
 * same state vector, same delete set, no update emitted.
 */
export const expectRefused = (doc: Y.Doc, fn: () => unknown, code: ModelErrorCode, path?: string | RegExp): ModelError => {
  const before = Y.encodeStateAsUpdate(doc)
  let updates = 0
  const count = () => updates++
  doc.on('update', count)
  try {
    const err = modelError(fn)
    expect(err.code).toBe(code)
    if (typeof path === 'string') expect(err.path).toBe(path)
    else if (path) expect(err.path).toMatch(path)
    expect(updates).toBe(0)
    expect(Y.encodeStateAsUpdate(doc)).toEqual(before)
    return err
  } finally {
    doc.off('update', count)
  }
}

/** Counts the 'update' events (one per transaction that changed something) while `fn` runs. */
export const countUpdates = (doc: Y.Doc, fn: () => void): number => {
  let n = 0
  const count = () => n++
  doc.on('update', count)
  try {
    fn()
  } finally {
    doc.off('update', count)
  }
  return n
}

/**
 * The items of a collection doc by id. An item created with a caller-given id is kept under a key of its own
 * (see src/item-index.ts), so tests that look under the model find items by their `id` field.
 */
export const itemsById = (doc: Y.Doc): Map<string, Y.Map<unknown>> => {
  const out = new Map<string, Y.Map<unknown>>()
  doc.getMap('items').forEach((map) => {
    if (map instanceof Y.Map && typeof map.get('id') === 'string') out.set(map.get('id') as string, map)
  })
  return out
}

/** A read-only copy of `m` as it is now: what a version from the relay's history opens as. */
export const version = (m: CollectionModel): CollectionModel => {
  const d = new Y.Doc()
  Y.applyUpdate(d, Y.encodeStateAsUpdate(m.doc))
  return CollectionModel.open(d, { readOnly: true })
}

/** A snapshot without what a version does not carry (conflicts, problems). */
export const content = (s: CollectionSnapshot) => {
  const { conflicts: _c, problems: _p, ...rest } = s
  return rest
}
