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

/** What one register entry stores. `a` (actor) and `t` (wall time) are informational only. */
export interface StoredEntry {
  readonly v: Json
  readonly n: number
  readonly a?: string
  readonly t?: number
}

/** A live entry of a register, as read back. */
export interface RegisterEntry extends StoredEntry {
  readonly client: number
  /** The Y.Map key holding it, `field@client`. */
  readonly key: string
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

/** Winner first: highest n, then highest client. */
export const compareEntries = (a: RegisterEntry, b: RegisterEntry): number => b.n - a.n || b.client - a.client

/**
 * Groups the live register entries of an entity map by field, winner first. Entries that are not well formed
 * (written by a buggy or hostile peer) are returned in `malformed` and otherwise ignored.
 */
export const readEntries = (map: Y.Map<unknown>) => {
  // Runs for every entity a snapshot reads: walk the map's items directly, no iterator or spread per entry.
  const byField = new Map<string, RegisterEntry[]>()
  const malformed: string[] = []
  for (const [key, item] of map._map) {
    if (item.deleted) continue
    const at = key.lastIndexOf(SEP)
    if (at <= 0 || !isClientSuffix(key, at + 1)) continue
    const content = item.content.getContent()
    const value = content[content.length - 1]
    if (!isStoredEntry(value)) {
      malformed.push(key)
      continue
    }
    const entry = toEntry(value, Number(key.slice(at + 1)), key)
    const field = key.slice(0, at)
    const list = byField.get(field)
    if (list) list.push(entry)
    else byField.set(field, [entry])
  }
  for (const list of byField.values()) if (list.length > 1) list.sort(compareEntries)
  return { byField, malformed }
}

const toEntry = (stored: StoredEntry, client: number, key: string): RegisterEntry => {
  const entry: { v: Json; n: number; a?: string; t?: number; client: number; key: string } = { v: stored.v, n: stored.n, client, key }
  if (stored.a !== undefined) entry.a = stored.a
  if (stored.t !== undefined) entry.t = stored.t
  return entry
}

/** Live entries of one field, winner first. */
export const fieldEntries = (map: Y.Map<unknown>, field: string): RegisterEntry[] => {
  const prefix = field + SEP
  const out: RegisterEntry[] = []
  for (const [key, item] of map._map) {
    if (item.deleted || !key.startsWith(prefix)) continue
    const value = map.get(key)
    const parsed = parseEntryKey(key)
    if (parsed && parsed.field === field && isStoredEntry(value)) out.push(toEntry(value, parsed.client, key))
  }
  return out.length > 1 ? out.sort(compareEntries) : out
}

/** Whether the entries disagree: equal values written concurrently are not a conflict. */
export const isConflict = (entries: readonly RegisterEntry[]): boolean =>
  entries.length > 1 && entries.some((e) => !jsonEqual(e.v, entries[0]!.v))

export interface WriteContext {
  readonly client: number
  readonly actor?: string
  readonly now?: () => number
}

/**
 * Writes `value` to register `field`, superseding every entry the writer can see (that is what closes a
 * conflict). Returns false and writes nothing if the value is already the single current value.
 * Must run inside a transaction.
 */
export const writeRegister = (map: Y.Map<unknown>, field: string, value: Json, ctx: WriteContext, fresh = false): boolean => {
  if (fresh) {
    // An entity created in this transaction has no entries yet: nothing to scan or supersede.
    map.set(entryKey(field, ctx.client), newEntry(value, 1, ctx))
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
    if (isStoredEntry(stored) && stored.n > n) n = stored.n
    if (key !== own) superseded.push(key)
  }
  if (count === 1 && isStoredEntry(only) && jsonEqual(only.v, value)) return false
  for (const key of superseded) map.delete(key)
  map.set(own, newEntry(value, n + 1, ctx))
  return true
}

const newEntry = (value: Json, n: number, ctx: WriteContext): StoredEntry => {
  const entry: { v: Json; n: number; a?: string; t?: number } = { v: value, n }
  if (ctx.actor !== undefined) entry.a = ctx.actor
  if (ctx.now) entry.t = ctx.now()
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
