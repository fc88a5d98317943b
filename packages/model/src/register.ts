/**
 * Multi-value registers over a Y.Map, the heart of the conflict model.
 *
 * A register `f` of an entity is stored as one map key per writing client: `f@<clientID>`. A write deletes
 * every entry of `f` the writer can see and sets its own. Yjs deletes exactly the items the writer saw, so:
 * - a write that saw the previous one replaces it (one entry left: no conflict);
 * - two writes that did not see each other both survive (two entries: a conflict), on every replica alike.
 * Concurrency is thereby decided from causality, never from clocks. The winner among concurrent entries is the
 * highest Lamport counter `n`, then the highest client id: the same on every replica.
 */
import type * as Y from 'yjs'
import { type Json, jsonEqual } from './json.js'

/**
 * What one register entry stores. `a` (actor), `d` (device) and `t` (wall time) are informational only.
 * `f` marks a derived entry: one the model wrote to record what its writer saw rather than what a person chose
 * (the tree's materialised positions, see collection.ts). A derived entry never beats a concurrent chosen one
 * and never makes a conflict. `s`: the clocks the writer had seen of some content (the body mode's, see
 * request.ts), for telling which later edits it did not know about.
 */
export interface StoredEntry {
  readonly v: Json
  readonly n: number
  readonly a?: string
  readonly d?: string
  readonly t?: number
  readonly f?: 1
  readonly s?: Readonly<Record<string, number>>
  /**
   * Alternatives brought back by undoing a resolution, each with its writer's client `c`: they read as entries
   * of their own (the conflict is open again), until their writer writes the register again. Kept inside the
   * undoer's own entry, because writing under another writer's key could collide with that writer's next write.
   */
  readonly x?: readonly RestoredEntry[]
  /** The entry only carries `x` (its own `v` and `n` are those of its first alternative). */
  readonly r?: 1
}

export interface RestoredEntry {
  readonly v: Json
  readonly n: number
  readonly c: number
  readonly a?: string
  readonly d?: string
  readonly t?: number
}

/** A live entry of a register, as read back. */
export interface RegisterEntry extends StoredEntry {
  readonly client: number
  /** The Y.Map key holding it, `field@client`. */
  readonly key: string
  /** Read from another entry's `x`: an alternative brought back by an undo. */
  readonly restored?: true
}

export const SEP = '@'
export const entryKey = (field: string, client: number): string => `${field}${SEP}${client}`

/** Splits `field@client`; undefined for keys that are not register entries (texts, lists, `id`). */
export const parseEntryKey = (key: string): { field: string; client: number } | undefined => {
  const at = key.lastIndexOf(SEP)
  if (at <= 0) return undefined
  const client = Number(key.slice(at + 1))
  return Number.isSafeInteger(client) ? { field: key.slice(0, at), client } : undefined
}

export const isStoredEntry = (v: unknown): v is StoredEntry =>
  typeof v === 'object' && v !== null && 'v' in v && Number.isSafeInteger((v as StoredEntry).n)

/** Winner first: chosen before derived, then highest n, then highest client. */
export const compareEntries = (a: RegisterEntry, b: RegisterEntry): number =>
  (a.f === 1 ? 1 : 0) - (b.f === 1 ? 1 : 0) || b.n - a.n || b.client - a.client

/**
 * Groups the live register entries of an entity map by field, winner first. Entries that are not well formed
 * (written by a buggy or hostile peer) are returned in `malformed` and otherwise ignored.
 */
export const readEntries = (map: Y.Map<unknown>): { byField: Map<string, RegisterEntry[]>; malformed: readonly string[] } => {
  // Runs for every entity a snapshot reads (tens of thousands on opening a big collection): walk the map's items
  // with forEach (no entry array per key), parse the client while checking it, allocate `malformed` only if needed.
  const byField = new Map<string, RegisterEntry[]>()
  let malformed: string[] | undefined
  let settling = false
  map._map.forEach((item, key) => {
    if (item.deleted) return
    const at = key.lastIndexOf(SEP)
    if (at <= 0) return
    const client = clientSuffix(key, at + 1)
    if (client < 0) return
    const content = item.content.getContent()
    const value = content[content.length - 1]
    if (!isStoredEntry(value)) {
      ;(malformed ??= []).push(key)
      return
    }
    const field = key.slice(0, at)
    const list = byField.get(field)
    if (list) {
      pushEntries(list, value, client, key)
      settling = true
    } else {
      const fresh = pushEntries([], value, client, key)
      byField.set(field, fresh)
      if (fresh.length > 1) settling = true
    }
  })
  if (settling) for (const [field, list] of byField) if (list.length > 1) byField.set(field, settle(list))
  return { byField, malformed: malformed ?? NONE }
}
const NONE: readonly string[] = Object.freeze([])

/** The client id a key's suffix from `from` names (decimal digits only), or -1. */
const clientSuffix = (key: string, from: number): number => {
  const len = key.length
  if (from >= len) return -1
  let n = 0
  for (let i = from; i < len; i++) {
    const c = key.charCodeAt(i)
    if (c < 48 || c > 57) return -1
    n = n * 10 + (c - 48)
  }
  // Past 15 digits the running sum could round differently from Number(): read those as Number() does.
  return len - from > 15 ? Number(key.slice(from)) : n
}

/** Adds a stored entry to `list`, with the alternatives it brings back (see StoredEntry.x). */
const pushEntries = (list: RegisterEntry[], stored: StoredEntry, client: number, key: string): RegisterEntry[] => {
  const carrier = stored.r === 1 && Array.isArray(stored.x) && stored.x.length > 0
  if (!carrier) list.push(toEntry(stored, client, key))
  if (Array.isArray(stored.x)) {
    for (const r of stored.x) {
      if (!isRestored(r)) continue
      const e: { -readonly [K in keyof RegisterEntry]: RegisterEntry[K] } = { v: r.v, n: r.n, client: r.c, key, restored: true }
      if (typeof r.a === 'string') e.a = r.a
      if (typeof r.d === 'string') e.d = r.d
      if (typeof r.t === 'number') e.t = r.t
      list.push(e)
    }
  }
  return list
}

const isRestored = (r: unknown): r is RestoredEntry =>
  typeof r === 'object' && r !== null && 'v' in r && Number.isSafeInteger((r as RestoredEntry).n) && Number.isSafeInteger((r as RestoredEntry).c)

/**
 * Sorts entries winner first, without the alternatives an undo brought back that their writer has written
 * over since (its own later entry), and without duplicates of one restored entry.
 */
const settle = (list: RegisterEntry[]): RegisterEntry[] => {
  let out = list
  if (list.some((e) => e.restored)) {
    const latest = new Map<number, number>()
    for (const e of list) if (!e.restored && (latest.get(e.client) ?? -1) < e.n) latest.set(e.client, e.n)
    const seen = new Set<string>()
    out = list.filter((e) => {
      if (!e.restored) return true
      if ((latest.get(e.client) ?? -1) >= e.n) return false
      const id = `${e.client}:${e.n}`
      if (seen.has(id)) return false
      seen.add(id)
      return true
    })
  }
  return out.length > 1 ? out.sort(compareEntries) : out
}

const toEntry = (stored: StoredEntry, client: number, key: string): RegisterEntry => {
  const entry: { -readonly [K in keyof RegisterEntry]: RegisterEntry[K] } = { v: stored.v, n: stored.n, client, key }
  if (typeof stored.a === 'string') entry.a = stored.a
  if (typeof stored.d === 'string') entry.d = stored.d
  if (typeof stored.t === 'number') entry.t = stored.t
  if (stored.f === 1) entry.f = 1
  if (isSeen(stored.s)) entry.s = stored.s
  return entry
}

const isSeen = (s: unknown): s is Record<string, number> =>
  typeof s === 'object' && s !== null && !Array.isArray(s) && Object.values(s).every((c) => Number.isSafeInteger(c))

/** Live entries of some fields, by field, winner first: one pass over the map. */
export const entriesOf = (map: Y.Map<unknown>, fields: ReadonlySet<string>, prefix = ''): Map<string, RegisterEntry[]> => {
  const out = new Map<string, RegisterEntry[]>()
  for (const [key, item] of map._map) {
    if (item.deleted || (prefix && !key.startsWith(prefix))) continue
    const at = key.lastIndexOf(SEP)
    if (at <= 0 || !fields.has(key.slice(0, at)) || !isClientSuffix(key, at + 1)) continue
    const value = map.get(key)
    if (!isStoredEntry(value)) continue
    const field = key.slice(0, at)
    const list = out.get(field)
    const client = Number(key.slice(at + 1))
    if (list) pushEntries(list, value, client, key)
    else out.set(field, pushEntries([], value, client, key))
  }
  for (const [field, list] of out) if (list.length > 1) out.set(field, settle(list))
  return out
}

/** Live entries of one field, winner first. */
export const fieldEntries = (map: Y.Map<unknown>, field: string): RegisterEntry[] => {
  const prefix = field + SEP
  const out: RegisterEntry[] = []
  for (const [key, item] of map._map) {
    if (item.deleted || !key.startsWith(prefix)) continue
    const value = map.get(key)
    const parsed = parseEntryKey(key)
    if (parsed && parsed.field === field && isStoredEntry(value)) pushEntries(out, value, parsed.client, key)
  }
  return out.length > 1 ? settle(out) : out
}

/**
 * Whether the chosen entries disagree: equal values written concurrently are not a conflict, and derived
 * entries never are (they only lose to a concurrent chosen one).
 */
export const isConflict = (entries: readonly RegisterEntry[]): boolean => {
  if (entries.length < 2 || entries[1]!.f === 1) return false
  const first = entries[0]!.v
  for (let i = 1; i < entries.length && entries[i]!.f !== 1; i++) if (!jsonEqual(entries[i]!.v, first)) return true
  return false
}

/** The entries a conflict offers: the chosen ones (winner first). */
export const chosenEntries = (entries: readonly RegisterEntry[]): RegisterEntry[] => entries.filter((e) => e.f !== 1)

export interface WriteContext {
  readonly client: number
  readonly actor?: string
  /** The writer's device (session) name, shown with alternatives: "you, on Laptop". */
  readonly device?: string
  readonly now?: () => number
}

export interface WriteOptions {
  /** The counter is at least this (the tree's doc-wide Lamport clock). */
  readonly minN?: number
  /** A derived entry (see StoredEntry.f). */
  readonly derived?: boolean
  /** Clocks the writer had seen (see StoredEntry.s). */
  readonly seen?: Readonly<Record<string, number>>
  /** Write even when the value is already the single current one (a resolution that must close a conflict). */
  readonly force?: boolean
}

/**
 * Writes `value` to register `field`, superseding every entry the writer can see (that is what closes a
 * conflict). Returns false and writes nothing if the value is already the single current value.
 * Must run inside a transaction.
 */
export const writeRegister = (
  map: Y.Map<unknown>,
  field: string,
  value: Json,
  ctx: WriteContext,
  fresh = false,
  options?: WriteOptions,
): boolean => {
  if (fresh) {
    // An entity created in this transaction has no entries yet: nothing to scan or supersede.
    map.set(entryKey(field, ctx.client), newEntry(value, Math.max(1, options?.minN ?? 1), ctx, options))
    return true
  }
  // One pass over the map's keys (this runs on every edit): find this field's live entries, their highest
  // counter, and the ones to supersede. Malformed leftovers of the field are superseded too.
  const prefix = field + SEP
  const own = entryKey(field, ctx.client)
  let n = 0
  let count = 0
  let only: unknown
  const superseded: string[] = []
  for (const [key, item] of map._map) {
    if (item.deleted || !key.startsWith(prefix) || !isClientSuffix(key, prefix.length)) continue
    const stored = map.get(key)
    count++
    only = stored
    n = Math.max(n, highest(stored))
    if (key !== own) superseded.push(key)
  }
  if (count === 1 && unchanged(only, value, options)) return false
  for (const key of superseded) map.delete(key)
  map.set(own, newEntry(value, Math.max(n + 1, options?.minN ?? 0), ctx, options))
  return true
}

/** The highest counter in a stored entry, its restored alternatives included. */
const highest = (stored: unknown): number => {
  if (!isStoredEntry(stored)) return 0
  let n = stored.n
  if (Array.isArray(stored.x)) for (const r of stored.x) if (isRestored(r) && r.n > n) n = r.n
  return n
}

const unchanged = (only: unknown, value: Json, options: WriteOptions | undefined): boolean =>
  isStoredEntry(only) && !only.x && jsonEqual(only.v, value) && !options?.force && (only.f === 1) === (options?.derived === true)

/**
 * Writes a register that several entity maps hold together (rows pooled as one, see entity.ts POOL_BY): every
 * entry of `field` in any of them is superseded, the new one goes into `target`.
 */
export const writeRegisterAcross = (
  maps: readonly Y.Map<unknown>[],
  target: Y.Map<unknown>,
  field: string,
  value: Json,
  ctx: WriteContext,
  options?: WriteOptions,
): boolean => {
  if (maps.length <= 1) return writeRegister(target, field, value, ctx, false, options)
  const prefix = field + SEP
  const own = entryKey(field, ctx.client)
  let n = 0
  let count = 0
  let only: unknown
  const superseded: [Y.Map<unknown>, string][] = []
  for (const map of maps) {
    for (const [key, item] of map._map) {
      if (item.deleted || !key.startsWith(prefix) || !isClientSuffix(key, prefix.length)) continue
      const stored = map.get(key)
      count++
      only = stored
      n = Math.max(n, highest(stored))
      if (map !== target || key !== own) superseded.push([map, key])
    }
  }
  if (count === 1 && unchanged(only, value, options)) return false
  for (const [map, key] of superseded) map.delete(key)
  target.set(own, newEntry(value, Math.max(n + 1, options?.minN ?? 0), ctx, options))
  return true
}

const newEntry = (value: Json, n: number, ctx: WriteContext, options?: WriteOptions): StoredEntry => {
  const entry: { -readonly [K in keyof StoredEntry]: StoredEntry[K] } = { v: value, n }
  if (ctx.actor !== undefined) entry.a = ctx.actor
  if (ctx.device !== undefined) entry.d = ctx.device
  if (ctx.now) entry.t = ctx.now()
  if (options?.derived) entry.f = 1
  if (options?.seen) entry.s = options.seen
  return entry
}

const isClientSuffix = (key: string, from: number): boolean => {
  if (from >= key.length) return false
  for (let i = from; i < key.length; i++) {
    const c = key.charCodeAt(i)
    if (c < 48 || c > 57) return false
  }
  return true
}
