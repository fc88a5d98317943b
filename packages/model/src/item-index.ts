/**
 * Entities kept in a root map (a collection's `items` and `responses`), addressed by id.
 *
 * An id the model makes (random) is the entity's key in the map. An id a caller gives (an import keeping a
 * file's ids, a script) could be given on two replicas at once: two Y.Maps set under one key would collide,
 * and Yjs would keep one and drop the other with all its content. So an entity with a caller-given id is kept
 * under a key of its own, the id in its `id` field, and this index finds it. Two entities created with the same
 * id on two replicas are then both kept: the first (by key) answers to the id, each other one to
 * `id~key`, and both carry a `duplicate` conflict until someone decides (see collection.ts).
 */
import * as Y from 'yjs'
import { newRowId } from './ids.js'

/** The id an entity map says it has. */
const idOf = (value: unknown): string | undefined => (value instanceof Y.Map && typeof value.get('id') === 'string' ? (value.get('id') as string) : undefined)

export class EntityIndex {
  /** Shown id → key, where they differ. */
  private readonly keyOf = new Map<string, string>()
  /** Key → shown id, where they differ. */
  private readonly shownOf = new Map<string, string>()
  /** Id → keys holding an entity with that id, where some key differs from its id. */
  private readonly byId = new Map<string, string[]>()
  /** Key → the id it is listed under in byId. */
  private readonly listedAs = new Map<string, string>()
  /** Ids held by more than one entity. */
  private readonly shared = new Set<string>()

  constructor(readonly map: Y.Map<unknown>) {
    this.refresh()
  }

  /** Rebuilds the index for `keys` (changed keys of the map), or from scratch. */
  refresh(keys?: Iterable<string>): void {
    if (!keys) {
      this.keyOf.clear()
      this.shownOf.clear()
      this.byId.clear()
      this.listedAs.clear()
      this.shared.clear()
      this.map.forEach((value, key) => this.note(key, idOf(value)))
      for (const id of this.byId.keys()) this.settle(id)
      return
    }
    const touched = new Set<string>()
    for (const key of keys) {
      const shown = this.shownOf.get(key)
      if (shown !== undefined) {
        this.shownOf.delete(key)
        this.keyOf.delete(shown)
      }
      const listed = this.listedAs.get(key)
      if (listed !== undefined) {
        const list = this.byId.get(listed)
        const at = list ? list.indexOf(key) : -1
        if (at >= 0) list!.splice(at, 1)
        this.listedAs.delete(key)
        touched.add(listed)
      }
      const id = idOf(this.map.get(key))
      if (this.note(key, id)) touched.add(id!)
    }
    for (const id of touched) this.settle(id)
  }

  /** Records a key whose entity's id differs from it (or shares its id with such a key). */
  private note(key: string, id: string | undefined): boolean {
    if (id === undefined || (id === key && !this.byId.has(id))) return false
    const list = this.byId.get(id) ?? []
    if (!list.includes(key)) list.push(key)
    this.byId.set(id, list)
    this.listedAs.set(key, id)
    return true
  }

  /** Who answers to `id`: the first key (the id itself if it is one), the others to `id~key`. */
  private settle(id: string): void {
    const list = this.byId.get(id)
    if (!list) return
    for (const key of list) {
      const shown = this.shownOf.get(key)
      if (shown !== undefined) this.keyOf.delete(shown)
      this.shownOf.delete(key)
    }
    if (this.map.get(id) !== undefined && idOf(this.map.get(id)) === id && !list.includes(id)) {
      list.push(id)
      this.listedAs.set(id, id)
    }
    if (list.length > 1) this.shared.add(id)
    else this.shared.delete(id)
    if (list.length === 0) {
      this.byId.delete(id)
      return
    }
    list.sort((a, b) => (a === id ? -1 : b === id ? 1 : a < b ? -1 : a > b ? 1 : 0))
    list.forEach((key, i) => {
      const shown = i === 0 ? id : `${id}~${key}`
      if (shown === key) return
      this.keyOf.set(shown, key)
      this.shownOf.set(key, shown)
    })
    if (list.length === 1 && list[0] === id) {
      this.byId.delete(id)
      this.listedAs.delete(id)
    }
  }

  /** The key an id is kept under. */
  key(id: string): string {
    return this.keyOf.get(id) ?? id
  }

  get(id: string): unknown {
    const key = this.keyOf.get(id)
    if (key !== undefined) return this.map.get(key)
    // A key that is shown under another id (the second of two entities with one id) does not answer to itself.
    return this.shownOf.has(id) ? undefined : this.map.get(id)
  }

  has(id: string): boolean {
    return this.get(id) !== undefined
  }

  /** Whether an entity answers to `id`, or was created with it (then `id~…` answers too). */
  taken(id: string): boolean {
    return this.has(id) || this.byId.has(id)
  }

  /** The Yjs client that created the entity answering to `id`. */
  creator(id: string): number | undefined {
    const key = this.key(id)
    return this.map._map.get(key)?.id.client
  }

  /** The id a key's entity answers to. */
  shown(key: string): string {
    return this.shownOf.get(key) ?? key
  }

  keys(): string[] {
    return this.ids()
  }

  /** Every id answered to, and the ids of the entities sharing an id with another (`id~key`). */
  ids(): string[] {
    const out: string[] = []
    this.map.forEach((_, key) => out.push(this.shown(key)))
    return out
  }

  /** Groups of ids answered to by entities created with one id on two replicas at once (first: the id). */
  duplicates(): string[][] {
    const out: string[][] = []
    for (const id of this.shared) out.push(this.byId.get(id)!.map((key) => this.shown(key)))
    return out
  }

  /** The ids answered to by entities created with `id` (one, unless two replicas created it at once). */
  idsFor(id: string): string[] {
    const list = this.byId.get(id)
    return list ? list.map((key) => this.shown(key)) : [id]
  }

  forEach(f: (value: unknown, id: string) => void): void {
    this.map.forEach((value, key) => f(value, this.shown(key)))
  }

  /** Adds an entity: under its own id, or (`callerGiven`) under a new key, the id in its `id` field. */
  add(id: string, value: Y.Map<unknown>, callerGiven: boolean): string {
    const key = callerGiven ? `${newRowId()}` : id
    this.map.set(key, value)
    value.set('id', id)
    if (key !== id) {
      this.note(key, id)
      this.settle(id)
    }
    return key
  }
}
