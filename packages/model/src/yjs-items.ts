/**
 * The few places where the model looks below Yjs' public API: walking the items of a type to tell whether an
 * entity was edited concurrently with its deletion. Kept in one module so a Yjs upgrade has one place to check.
 */
import * as Y from 'yjs'

type Clocks = Readonly<Record<string, number>>
/** Any Yjs type. Yjs types are invariant in their event type, so `any` is the only common supertype. */
export type YType = Y.AbstractType<any>

const unseen = (item: Y.Item, seen: Clocks): boolean =>
  item.id.clock + item.length - 1 >= (seen[item.id.client] ?? 0)

/**
 * Whether `type` (recursively) holds a live item the writer of `seen` had not seen. Map keys for which
 * `skip(key)` is true are ignored (the deletion's own entries).
 */
export const hasUnseenItems = (type: YType, seen: Clocks, skip?: (key: string) => boolean): boolean => {
  if (type instanceof Y.Map) {
    for (const [key, item] of type._map) {
      if (item.deleted || (skip && skip(key))) continue
      if (unseen(item, seen)) return true
      if (item.content instanceof Y.ContentType && hasUnseenItems(item.content.type, seen)) return true
    }
    return false
  }
  for (let item = type._start; item !== null; item = item.right) {
    if (item.deleted) continue
    if (unseen(item, seen)) return true
    if (item.content instanceof Y.ContentType && hasUnseenItems(item.content.type, seen)) return true
  }
  return false
}

/**
 * The clients that wrote live items into `type` (recursively) beyond `seen`, into `out`, with the latest clock
 * of each. Map keys for which `skip(key)` is true are ignored.
 */
export const unseenWriters = (type: YType, seen: Clocks, out: Map<number, number>, skip?: (key: string) => boolean): void => {
  const visit = (item: Y.Item) => {
    if (unseen(item, seen)) {
      const last = item.id.clock + item.length - 1
      if ((out.get(item.id.client) ?? -1) < last) out.set(item.id.client, last)
    }
    if (item.content instanceof Y.ContentType) unseenWriters(item.content.type, seen, out)
  }
  if (type instanceof Y.Map) {
    for (const [key, item] of type._map) if (!item.deleted && !(skip && skip(key))) visit(item)
    return
  }
  for (let item = type._start; item !== null; item = item.right) if (!item.deleted) visit(item)
}

/** The live items of `map` under the given keys: what their writers had done, for `seenClocks`. */
export const entryItems = (map: Y.Map<unknown>, keys: (key: string) => boolean): Y.Item[] => {
  const out: Y.Item[] = []
  for (const [key, item] of map._map) if (!item.deleted && keys(key)) out.push(item)
  return out
}

/** The clocks a writer has seen of every client that wrote live items into the types (and the given items). */
export const seenClocks = (doc: Y.Doc, type: YType | readonly YType[], items: readonly Y.Item[] = []): Record<string, number> => {
  const clients = new Set<number>()
  for (const item of items) clients.add(item.id.client)
  const collect = (t: YType) => {
    const visit = (item: Y.Item) => {
      clients.add(item.id.client)
      if (item.content instanceof Y.ContentType) collect(item.content.type)
    }
    if (t instanceof Y.Map) {
      for (const item of t._map.values()) if (!item.deleted) visit(item)
    } else {
      for (let item = t._start; item !== null; item = item.right) if (!item.deleted) visit(item)
    }
  }
  for (const t of Array.isArray(type) ? type : [type as YType]) collect(t)
  const out: Record<string, number> = {}
  for (const client of clients) out[client] = Y.getState(doc.store, client)
  return out
}

/** The key under which `type` sits in its parent map, and that parent; undefined at the root. */
export const parentOf = (type: YType): { parent: YType; key: string | null } | undefined => {
  const item = type._item
  if (!item) return undefined
  return { parent: item.parent as YType, key: item.parentSub }
}

type DeleteSet = ReturnType<typeof Y.createDeleteSet>
/** One step of a Y.UndoManager stack. */
export type StackItem = Y.UndoManager['undoStack'][number]

/** The Y.Map an item is an entry of, and its key; undefined for items of texts and arrays. */
export const mapEntryOf = (item: Y.Item): { map: Y.Map<unknown>; key: string } | undefined =>
  item.parent instanceof Y.Map && typeof item.parentSub === 'string' ? { map: item.parent, key: item.parentSub } : undefined

/** The live value an item holds in its map (a register entry's content). */
export const entryContent = (item: Y.Item): unknown => (item.content instanceof Y.ContentAny ? item.content.getContent()[0] : undefined)

/** The item currently holding `key` in `map`, live or not. */
export const currentItem = (map: Y.Map<unknown>, key: string): Y.Item | undefined => map._map.get(key)

/** Whether `item` was written in `tr` (not merely deleted by it). */
export const insertedBy = (tr: Y.Transaction, item: Y.Item): boolean => item.id.clock >= (tr.beforeState.get(item.id.client) ?? 0)

/** The outermost entity map (a Y.Map with a string `id`), among `item` and its ancestors, that `insertions` created. */
export const outermostInserted = (item: Y.Item, insertions: DeleteSet): Y.Item | undefined => {
  let found: Y.Item | undefined
  for (let t: Y.Item | null = item; t !== null; t = (t.parent as YType)._item) {
    const type = t.content instanceof Y.ContentType ? t.content.type : undefined
    if (type instanceof Y.Map && typeof type.get('id') === 'string' && Y.isDeleted(insertions, t.id)) found = t
  }
  return found
}

/**
 * Records that the (deleted) item `from` was brought back as `to`, as Y.UndoManager does when it restores an item,
 * so that an older undo step that inserted `from` acts on `to`. Splits `from` out of any struct it was merged into.
 */
export const markRedone = (tr: Y.Transaction, from: Y.ID, to: Y.ID): void => {
  let item: Y.Item | Y.GC = Y.getItemCleanStart(tr, from)
  if (item.length > 1) {
    Y.getItemCleanEnd(tr, tr.doc.store, from)
    item = Y.getItemCleanStart(tr, from)
  }
  if (item instanceof Y.Item) item.redone = to
}

/** A copy of `ds` without the given structs (map entries: one clock each). */
export const deleteSetWithout = (ds: DeleteSet, drop: readonly Y.ID[]): DeleteSet => {
  const out = Y.createDeleteSet()
  for (const [client, ranges] of ds.clients) {
    const clocks = drop.filter((id) => id.client === client).map((id) => id.clock).sort((a, b) => a - b)
    const kept: { clock: number; len: number }[] = []
    for (const range of ranges) {
      let start = range.clock
      const end = range.clock + range.len
      for (const c of clocks) {
        if (c < start || c >= end) continue
        if (c > start) kept.push({ clock: start, len: c - start })
        start = c + 1
      }
      if (start < end) kept.push({ clock: start, len: end - start })
    }
    if (kept.length) out.clients.set(client, kept)
  }
  return out
}

/** Whether the running transaction of `type`'s doc has changed `type` itself (its keys or content) so far. */
export const changedInTransaction = (type: YType): boolean => {
  const tr = type.doc?._transaction
  return tr ? tr.changed.has(type) : false
}
