/** What a collection's Trash lists: recent deletions, each with what it took along (a folder's subtree). */
import type { DeletedItem } from '@apisync/model'

/** How long the Trash looks back. */
export const TRASH_DAYS = 30
const DAY = 86_400_000

export interface TrashEntry {
  readonly item: DeletedItem
  /** What the same deletion took along (a folder's subtree), outermost first. */
  readonly along: readonly DeletedItem[]
}

/**
 * The Trash's entries: deletions of the last `days` days (by the deleter's clock; a deletion with no time, from
 * an older writer, is kept), each with what it took along. `deleted` is `deletedItems()`: latest first.
 */
export function trashEntries(deleted: readonly DeletedItem[], now: number, days = TRASH_DAYS): TrashEntry[] {
  const ids = new Set(deleted.map((d) => d.id))
  const along = new Map<string, DeletedItem[]>()
  const roots: DeletedItem[] = []
  for (const d of deleted) {
    if (d.deletedWith !== undefined && ids.has(d.deletedWith)) {
      // Nested cascades all point at the folder deleted itself.
      const list = along.get(d.deletedWith) ?? []
      list.push(d)
      along.set(d.deletedWith, list)
    } else roots.push(d)
  }
  const since = now - days * DAY
  return roots.filter((d) => d.deletedBy.at === undefined || d.deletedBy.at >= since).map((item) => ({ item, along: along.get(item.id) ?? [] }))
}
