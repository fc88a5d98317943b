/**
 * Row ids. A list is a Y.Map of rows. A row the model makes (random id), or one made with its owner in one
 * transaction (an import's rows: the list is new, so no other replica writes into it yet), is kept under its id.
 * A row added to an existing list with a caller-given id could be added on two replicas at once: two Y.Maps set
 * under one key collide, and Yjs keeps one and drops the other with its values. So such a row is kept under a
 * key of its own (random), its id in its `id` field, and rows are found through these functions, never by
 * `list.get(id)`.
 *
 * Rows made with one id are all kept: the first by key (the row kept under the id itself first) answers to the
 * id, each other one to `id~key`. They are rows of the list like any two rows added at once (rows pooled by
 * identity, POOL_BY, still read as one), so this is no conflict. Lists are small: a scan is fine, and the
 * common case (a row kept under its id) is one lookup.
 */
import * as Y from 'yjs'

/** The id a row was made with: its `id` field, or (a malformed row) its key. */
const madeWith = (row: unknown, key: string): string => {
  if (row instanceof Y.Map) {
    const id = row.get('id')
    if (typeof id === 'string') return id
  }
  return key
}

/** The key a row map is kept under in its list. */
export const rowKeyOf = (row: Y.Map<unknown>): string | undefined => row._item?.parentSub ?? undefined

/** Key → the id its row answers to, for the keys where they differ (undefined: every row answers to its key). */
export const shownRowIds = (list: Y.Map<unknown>): ReadonlyMap<string, string> | undefined => {
  let byId: Map<string, string[]> | undefined
  list.forEach((row, key) => {
    const id = madeWith(row, key)
    if (id === key) return
    byId ??= new Map()
    const keys = byId.get(id)
    if (keys) keys.push(key)
    else byId.set(id, [key])
  })
  if (!byId) return undefined
  const out = new Map<string, string>()
  for (const [id, keys] of byId) {
    keys.sort()
    const under = list.get(id)
    const taken = under !== undefined && madeWith(under, id) === id
    keys.forEach((key, i) => out.set(key, i === 0 && !taken ? id : `${id}~${key}`))
  }
  return out
}

/** The key of the row answering to `id`, or undefined. */
export const rowKey = (list: Y.Map<unknown>, id: string): string | undefined => {
  const under = list.get(id)
  if (under !== undefined && madeWith(under, id) === id) return id
  const shown = shownRowIds(list)
  if (shown) for (const [key, s] of shown) if (s === id) return key
  return undefined
}

/** The row answering to `id` (live or deleted), or undefined. */
export const rowAt = (list: Y.Map<unknown>, id: string): unknown => {
  const key = rowKey(list, id)
  return key === undefined ? undefined : list.get(key)
}

/**
 * Calls `f` with each row, the id it answers to and its key. One pass in the common case (every row kept under
 * its id: it answers to its key); rows kept under a key of their own come after, once their ids are settled.
 * Callers never depend on the order (a Y.Map's order differs between replicas).
 */
export const forEachRow = (list: Y.Map<unknown>, f: (row: unknown, id: string, key: string) => void): void => {
  let own: string[] | undefined
  list.forEach((row, key) => {
    if (madeWith(row, key) === key) f(row, key, key)
    else (own ??= []).push(key)
  })
  if (!own) return
  const shown = shownRowIds(list)
  for (const key of own) f(list.get(key), shown?.get(key) ?? key, key)
}
