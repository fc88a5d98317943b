/**
 * A request means one thing after any merge. The pairs of fields that must agree, and how each holds:
 *
 * - raw URL ↔ query rows ↔ path variables ↔ host and path: the URL is its parts (origin, path, hash registers;
 *   query rows; path variables by name), each merging on its own, and the raw URL is built from them (url.ts).
 *   The raw URL as typed is kept as formatting while it parses to exactly the parts. Query rows made by typing
 *   carry a tag (`key#n`) and path variables are known by name, so the same URL typed on two devices gives one
 *   row, and two values of one row give a conflict. Concurrent changes of one part (the path, a row's value,
 *   a row removed while edited) give one `url` conflict whose alternatives are whole URLs.
 * - path variables ↔ the path: the variables are the path's `:names`, in order; a value lives in the row of
 *   that name (rows of names not in the path are kept, hidden, and come back with the name).
 * - body mode ↔ its content: a mode switch records what its writer had seen of every mode's content; an edit
 *   of another mode's content it had not seen is a `bodyMode` conflict offering that mode, so no edit drops
 *   silently out of the request.
 * - auth type ↔ its params: one register (`{ type, [type]: params }`), checked on write, so they change together.
 */
import * as Y from 'yjs'
import {
  DERIVE,
  type Alternative,
  type Conflict,
  type DerivingState,
  type EntityRef,
  Reader,
  type RowGroup,
  type Writer,
  alternative,
  createContainers,
  deletedSeen,
  markDeleted,
  markRestored,
  nestedRef,
  poolEntries,
  writerOf,
} from './entity.js'
import { ModelError } from './errors.js'
import { type Json, isJsonObject, jsonEqual } from './json.js'
import { newRowId } from './ids.js'
import { orderBetween } from './order.js'
import { type Placement, checkNewRowId, isDeleted, orderFor } from './rows.js'
import { type RegisterEntry, type WriteContext, chosenEntries, entriesOf, isConflict, readEntries, writeRegister, writeRegisterAcross } from './register.js'
import { DELETED, MODE_CONTENT, POSITION, specOf } from './schema.js'
import type { PathVariable, QueryParam, Url } from './types.js'
import {
  type QueryPair,
  type UrlParts,
  buildUrl,
  isPathVariableName,
  parseUrl,
  pathVariableNames,
  removePathVariable,
  renamePathVariable,
} from './url.js'
import { type YType, changedInTransaction, unseenWriters } from './yjs-items.js'

export const URL_PARTS = ['urlOrigin', 'urlPath', 'urlHash'] as const
type PartField = (typeof URL_PARTS)[number]
const partOf = (p: UrlParts, f: PartField): string | null => (f === 'urlOrigin' ? p.origin : f === 'urlPath' ? p.path : p.hash)
const isPart = (f: PartField, v: Json | undefined): boolean => typeof v === 'string' || (f === 'urlHash' && v === null)
/** Query row fields that are part of the URL (the description is not). */
const URL_ROW_FIELDS = ['key', 'value', 'enabled'] as const

const parsed = new Map<string, UrlParts>()
/** Parses with a small cache: the same raw URL is read for each of its parts. */
const parseCached = (raw: string): UrlParts => {
  let p = parsed.get(raw)
  if (!p) {
    if (parsed.size > 256) parsed.clear()
    parsed.set(raw, (p = parseUrl(raw)))
  }
  return p
}

/**
 * A part register's entries: its own, or when no one has written it (a doc from before the parts, or a part no
 * one changed since the request was made) the raw URL's entries read through the parser.
 */
const partEntries = (byField: ReadonlyMap<string, readonly RegisterEntry[]>, f: PartField): readonly RegisterEntry[] => {
  const own = byField.get(f)
  if (own?.length) return own
  return (byField.get('url') ?? []).map((e) => ({ ...e, v: typeof e.v === 'string' ? partOf(parseCached(e.v), f) : f === 'urlHash' ? null : '' }))
}

const typedOf = (byField: ReadonlyMap<string, readonly RegisterEntry[]>): string => {
  const v = byField.get('url')?.[0]?.v
  return typeof v === 'string' ? v : ''
}

/** The current URL parts of a request (winners), besides its query rows. */
const currentParts = (byField: ReadonlyMap<string, readonly RegisterEntry[]>): { origin: string; path: string; hash: string | null } => {
  const typed = parseCached(typedOf(byField))
  // A part never written reads from the raw URL's winner, which is what partEntries' first entry gives.
  const win = (f: PartField) => {
    const v = byField.get(f)?.[0]?.v
    return isPart(f, v) ? (v as string | null) : partOf(typed, f)
  }
  return { origin: win('urlOrigin') as string, path: win('urlPath') as string, hash: win('urlHash') }
}

/** A request's URL registers as they read: the raw URL as typed and the parts (a part never written: from the raw URL). */
export const urlRegisters = (map: Y.Map<unknown>): { url: string; urlOrigin: string; urlPath: string; urlHash: string | null } => {
  const byField = urlEntries(map)
  const parts = currentParts(byField)
  return { url: typedOf(byField), urlOrigin: parts.origin, urlPath: parts.path, urlHash: parts.hash }
}

/** The entries of the URL's own registers (raw as typed and parts), without reading the rest of the request. */
const urlEntries = (map: Y.Map<unknown>): Map<string, RegisterEntry[]> => entriesOf(map, URL_FIELDS, 'url')
const URL_FIELDS: ReadonlySet<string> = new Set(['url', ...URL_PARTS])

const samePairs = (a: readonly QueryPair[], b: readonly QueryPair[]) =>
  a.length === b.length && a.every((p, i) => p.key === b[i]!.key && p.value === b[i]!.value)

const pairsOf = (rows: readonly QueryParam[]): QueryPair[] => rows.filter((r) => r.enabled !== false).map((r) => ({ key: r.key, value: r.value }))

/** The path variables a person sees: one per `:name` of the path, in order, with the value of its row. */
const variablesFor = (path: string, rows: readonly PathVariable[]): PathVariable[] =>
  pathVariableNames(path).map((key) => rows.find((r) => r.key === key) ?? { id: syntheticId(key), key, value: '', description: '', extra: {} })

/** The id a path variable without a row shows under; writing to it makes the row. */
const syntheticId = (key: string) => `:${key}`

// ------------------------------------------------------------------------------------------------ reading

const deriveRequest = (ref: EntityRef, st: DerivingState, reader: Reader): void => {
  const url = st.value.url as { raw: string; query: QueryParam[]; variables: PathVariable[]; extra: Json }
  const typed = typedOf(st.byField)
  const parts = currentParts(st.byField)
  const pairs = pairsOf(url.query)
  // The common case, read on every cold load: the raw URL as typed still says exactly the parts.
  const typedParts = parseCached(typed)
  url.raw =
    typedParts.origin === parts.origin && typedParts.path === parts.path && typedParts.hash === parts.hash && samePairs(typedParts.query, pairs)
      ? typed
      : buildUrl({ ...parts, query: pairs }, typed)
  // The variables of the raw URL's path as it reads (parts merged from two writers can read differently together).
  url.variables = variablesFor(parseCached(url.raw).path, url.variables)
  // The URL's own conflicts (its parts, its rows) become one conflict with whole URLs as alternatives.
  const queryPath = `${ref.path}/query/`
  const folded = (c: Conflict) =>
    (c.path === ref.path && (c.field === 'url' || (URL_PARTS as readonly string[]).includes(c.field))) ||
    (c.path.startsWith(queryPath) && (c.field === DELETED || c.field === 'tag' || (URL_ROW_FIELDS as readonly string[]).includes(c.field)))
  const virtualConflict = (byFieldHasVirtual(st.byField) && URL_PARTS.some((f) => !st.byField.get(f)?.length && isConflict(partEntries(st.byField, f))))
  if (virtualConflict || st.conflicts.some(folded)) {
    st.conflicts = st.conflicts.filter((c) => !folded(c))
    const plan = urlPlan(ref, st.byField, reader)
    if (plan) st.conflicts.push(plan.conflict)
  }
  deriveBodyMode(ref, st, reader)
}
DERIVE.request = deriveRequest

const byFieldHasVirtual = (byField: ReadonlyMap<string, readonly RegisterEntry[]>) => (byField.get('url')?.length ?? 0) > 1

/** One part of the URL that concurrent writes left with several values. */
interface Component {
  readonly winner: Json
  /** Each writer's value, by Yjs client. */
  readonly sides: ReadonlyMap<number, { readonly value: Json; readonly writer: Writer | undefined }>
  /** Writes `value` so that every alternative is superseded. */
  readonly apply: (value: Json, ctx: WriteContext) => void
  /** Where the value goes in a URL being assembled. */
  readonly place: (u: Assembling, value: Json) => void
}

interface Assembling {
  origin: string
  path: string
  hash: string | null
  rows: Map<string, { order: string; key: string; value: string; enabled: boolean }>
}

interface UrlPlan {
  readonly conflict: Conflict
  /** For each alternative, the value it gives each component. */
  readonly choices: readonly ((c: Component) => Json)[]
  readonly components: readonly Component[]
}

const sidesOf = (entries: readonly RegisterEntry[]) => {
  const sides = new Map<number, { value: Json; writer: Writer | undefined }>()
  for (const e of chosenEntries(entries)) if (!sides.has(e.client)) sides.set(e.client, { value: e.v, writer: writerOf(e) })
  return sides
}

/** The URL conflict of a request, if its parts or rows have concurrent values, with what each choice writes. */
export const urlPlan = (ref: EntityRef, byField: ReadonlyMap<string, readonly RegisterEntry[]>, reader: Reader): UrlPlan | undefined => {
  const components: Component[] = []
  for (const f of URL_PARTS) {
    const entries = partEntries(byField, f)
    if (!isConflict(entries)) continue
    components.push({
      winner: entries[0]!.v,
      sides: sidesOf(entries),
      apply: (v, ctx) => void writeRegister(ref.map, f, v, ctx, false, { force: true }),
      place: (u, v) => {
        if (!isPart(f, v)) return
        if (f === 'urlOrigin') u.origin = v as string
        else if (f === 'urlPath') u.path = v as string
        else u.hash = v as string | null
      },
    })
  }
  const list = ref.container('query')
  if (!(list instanceof Y.Map)) return undefined
  const rows = reader.rows(list, 'queryParam', `${ref.path}/query`, ref.ownerId)
  for (const g of rows.groups) {
    if (!g.state.conflicts.some((c) => (URL_ROW_FIELDS as readonly string[]).includes(c.field))) continue
    for (const field of URL_ROW_FIELDS) {
      const entries = poolEntries(g.refs.map((r) => readEntries(r.map).byField.get(field) ?? []))
      if (!isConflict(entries)) continue
      const maps = g.refs.map((r) => r.map)
      components.push({
        winner: entries[0]!.v,
        sides: sidesOf(entries),
        apply: (v, ctx) => void writeRegisterAcross(maps, maps[0]!, field, v, ctx, { force: true }),
        place: (u, v) => {
          const row = u.rows.get(g.id)
          if (!row) return
          if (field === 'enabled' && typeof v === 'boolean') row.enabled = v
          else if (field !== 'enabled' && typeof v === 'string') row[field] = v
        },
      })
    }
  }
  for (const d of rows.deleted) {
    const state = reader.entity(d)
    if (!state.conflicts.some((c) => c.field === DELETED)) continue
    const del = readEntries(d.map).byField.get(DELETED) ?? []
    const sides = new Map<number, { value: Json; writer: Writer | undefined }>()
    for (const e of del) if (!sides.has(e.client)) sides.set(e.client, { value: !e.v, writer: writerOf(e) })
    const seen = del.map((e) => deletedSeen(e.v)).reduce<Record<string, number> | undefined>((acc, x) => {
      if (!x) return acc
      const out = { ...acc }
      for (const [c, clock] of Object.entries(x)) if ((out[c] ?? 0) < clock) out[c] = clock
      return out
    }, undefined)
    if (seen) {
      const editors = new Map<number, number>()
      unseenWriters(d.map, seen, editors, (k) => k.startsWith(`${DELETED}@`))
      for (const client of editors.keys()) if (!sides.has(client)) sides.set(client, { value: true, writer: reader.who(client) })
    }
    const value = state.value as unknown as QueryParam
    const pos = state.position
    const order = isJsonObject(pos) && typeof pos.order === 'string' ? pos.order : ''
    components.push({
      winner: !state.deleted,
      sides,
      apply: (v, ctx) => {
        if (v === true) markRestored(d, ctx)
        else markDeleted(d.map.doc!, d, ctx)
      },
      place: (u, v) => {
        if (v === true) u.rows.set(d.id, { order, key: value.key, value: value.value, enabled: value.enabled !== false })
      },
    })
  }
  if (!components.length) return undefined

  const typed = typedOf(byField)
  const base = currentParts(byField)
  const assemble = (choose: (c: Component) => Json): Json => {
    const u: Assembling = { ...base, rows: new Map() }
    for (const g of rows.groups) {
      const v = g.state.value as unknown as QueryParam
      u.rows.set(g.id, { order: g.order, key: v.key, value: v.value, enabled: v.enabled !== false })
    }
    for (const c of components) c.place(u, choose(c))
    const ordered = [...u.rows.entries()].sort((a, b) => (a[1].order < b[1].order ? -1 : a[1].order > b[1].order ? 1 : a[0] < b[0] ? -1 : 1)).map((e) => e[1])
    const raw = buildUrl({ origin: u.origin, path: u.path, hash: u.hash, query: ordered.filter((r) => r.enabled).map((r) => ({ key: r.key, value: r.value })) }, typed)
    return { raw, query: ordered.map((r) => ({ key: r.key, value: r.value, enabled: r.enabled })) }
  }
  const clients = new Set<number>()
  for (const c of components) for (const client of c.sides.keys()) clients.add(client)
  const winnerChoice = (c: Component) => c.winner
  const winnerValue = assemble(winnerChoice)
  const alts: Alternative[] = []
  const choices: ((c: Component) => Json)[] = [winnerChoice]
  const values: Json[] = [winnerValue]
  let winnerWriter: Writer | undefined
  for (const client of [...clients].sort((a, b) => b - a)) {
    const choose = (c: Component) => (c.sides.has(client) ? c.sides.get(client)!.value : c.winner)
    const value = assemble(choose)
    let writer: Writer | undefined
    for (const c of components) writer ??= c.sides.get(client)?.writer
    if (jsonEqual(value, winnerValue)) {
      winnerWriter ??= writer
      continue
    }
    if (values.some((v) => jsonEqual(v, value))) continue
    values.push(value)
    choices.push(choose)
    alts.push(alternative(value, false, writer))
  }
  if (!alts.length) return undefined
  alts.unshift(alternative(winnerValue, true, winnerWriter))
  return {
    conflict: {
      id: `${ref.path}#url`,
      kind: 'value',
      entityId: ref.id,
      entityKind: ref.kind,
      ownerId: ref.ownerId,
      path: ref.path,
      field: 'url',
      alternatives: alts,
      choices: [],
    },
    choices,
    components,
  }
}

/**
 * Content of a mode other than the current one, edited by someone who had not seen the switch: the mode
 * switch and that edit are in conflict (otherwise the edit would silently not be part of the request).
 */
const deriveBodyMode = (ref: EntityRef, st: DerivingState, reader: Reader): void => {
  const entries = st.byField.get('bodyMode')
  const top = entries?.[0]
  if (!top?.s) return
  const current = top.v
  const edited: Alternative[] = []
  for (const mode in MODE_CONTENT) {
    if (mode === current) continue
    const editors = new Map<number, number>()
    for (const field of MODE_CONTENT[mode]!) {
      const fs = specOf('request')[field]!
      if (fs.kind === 'register') unseenWriters(ref.map, top.s, editors, (k) => !k.startsWith(`${field}@`))
      else {
        const c = ref.container(field)
        if (c instanceof Y.AbstractType) unseenWriters(c as YType, top.s, editors)
      }
    }
    editors.delete(top.client)
    // Named after one of its editors, the same one on every replica.
    const client = [...editors.keys()].sort((a, b) => a - b)[0]
    if (client !== undefined) edited.push(alternative(mode, false, reader.who(client)))
  }
  if (!edited.length) return
  const existing = st.conflicts.find((c) => c.path === ref.path && c.field === 'bodyMode')
  const alts = existing ? [...existing.alternatives] : [alternative(current, true, writerOf(top))]
  for (const e of edited) if (!alts.some((a) => jsonEqual(a.value, e.value))) alts.push(e)
  if (alts.length < 2) return
  const conflict: Conflict = {
    id: `${ref.path}#bodyMode`,
    kind: 'value',
    entityId: ref.id,
    entityKind: ref.kind,
    ownerId: ref.ownerId,
    path: ref.path,
    field: 'bodyMode',
    alternatives: alts,
    choices: [],
  }
  st.conflicts = existing ? st.conflicts.map((c) => (c === existing ? conflict : c)) : [...st.conflicts, conflict]
}

// ------------------------------------------------------------------------------------------------ writing

/**
 * The reader to read rows with while writing. The model's reader caches what it read until its transaction
 * ends: every write function below ends with `forgetUrlRows`, so that a second write in the same transaction
 * (an import, a bulk edit) reads what the first one wrote.
 */
const freshReader = (reader: Reader) => reader

/** Drops the reader's cache of a request's URL rows (after writing them). */
export const forgetUrlRows = (reader: Reader, ref: EntityRef): void => {
  for (const field of ['query', 'pathVariables']) {
    const list = ref.container(field)
    if (!(list instanceof Y.Map)) continue
    let changed = changedInTransaction(list)
    list.forEach((row) => {
      if (!changedInTransaction(row as YType)) return
      reader.invalidate(row as YType)
      changed = true
    })
    if (changed) reader.invalidate(list)
  }
  reader.invalidate(ref.map)
}

const queryRows = (ref: EntityRef, reader: Reader) => {
  const list = ref.container('query')
  if (!(list instanceof Y.Map)) throw new ModelError('INVALID_VALUE', 'this request has no query list', ref.path)
  return { list, rows: reader.rows(list, 'queryParam', `${ref.path}/query`, ref.ownerId) }
}
const variableRows = (ref: EntityRef, reader: Reader) => {
  const list = ref.container('pathVariables')
  if (!(list instanceof Y.Map)) throw new ModelError('INVALID_VALUE', 'this request has no path variables', ref.path)
  return { list, rows: reader.rows(list, 'pathVariable', `${ref.path}/pathVariables`, ref.ownerId) }
}

/** A tag no live query row has: `key#n`, the smallest free n (so two devices typing the same URL agree). */
const freeTag = (key: string, taken: Set<string>): string => {
  let n = 0
  while (taken.has(`${key}#${n}`)) n++
  const tag = `${key}#${n}`
  taken.add(tag)
  return tag
}
const tagsOf = (groups: readonly RowGroup[]) => new Set(groups.map((g) => g.state.hidden.tag).filter((t): t is string => typeof t === 'string' && t !== ''))

const newRow = (list: Y.Map<unknown>, kind: 'queryParam' | 'pathVariable', order: string, fields: Record<string, Json>, ctx: WriteContext): string => {
  const map = new Y.Map<unknown>()
  const id = newRowId()
  list.set(id, map)
  map.set('id', id)
  createContainers(map, kind)
  writeRegister(map, POSITION, { order }, ctx, true)
  for (const [field, v] of Object.entries(fields)) writeRegister(map, field, v, ctx, true)
  return id
}

const writeGroup = (g: RowGroup, field: string, value: Json, ctx: WriteContext, force = false): boolean =>
  writeRegisterAcross(
    g.refs.map((r) => r.map),
    g.refs[0]!.map,
    field,
    value,
    ctx,
    force ? { force: true } : undefined,
  )

/**
 * After a URL resolution: a query row's hidden tag may still hold the tags the alternatives' writers gave it
 * (the person chose keys and values; the tags followed them). Each such row gets one tag that fits the key it
 * now has, closing every entry, so no hidden register disagrees once the URL conflict is closed.
 */
const settleTags = (ref: EntityRef, ctx: WriteContext): void => {
  const list = ref.container('query')
  if (!(list instanceof Y.Map)) return
  const taken = new Set<string>()
  const unsettled: { row: Y.Map<unknown>; tags: RegisterEntry[] }[] = []
  list.forEach((row) => {
    if (!(row instanceof Y.Map) || isDeleted(row)) return
    const tags = chosenEntries(readEntries(row).byField.get('tag') ?? [])
    if (tags.some((e) => !jsonEqual(e.v, tags[0]!.v))) unsettled.push({ row, tags })
    else if (typeof tags[0]?.v === 'string') taken.add(tags[0].v)
  })
  for (const { row, tags } of unsettled) {
    const key = readEntries(row).byField.get('key')?.[0]?.v
    if (typeof key !== 'string') continue
    const fitting = tags.map((e) => e.v).find((t): t is string => typeof t === 'string' && t.slice(0, t.lastIndexOf('#')) === key && !taken.has(t))
    const tag = fitting ?? freeTag(key, taken)
    taken.add(tag)
    writeRegister(row, 'tag', tag, ctx, false, { force: true })
  }
}

/** Aligns rows with pairs: exact matches first, then same keys, then by position, never crossing. */
const align = (rows: readonly QueryPair[], pairs: readonly QueryPair[]): (number | undefined)[] => {
  // The common case, a value typed or edited: the same keys in the same order.
  if (rows.length === pairs.length && rows.every((r, i) => r.key === pairs[i]!.key)) return pairs.map((_, i) => i)
  const match: (number | undefined)[] = pairs.map(() => undefined)
  const lcs = (i0: number, i1: number, j0: number, j1: number, eq: (a: QueryPair, b: QueryPair) => boolean) => {
    const n = i1 - i0
    const m = j1 - j0
    const t: number[][] = Array.from({ length: n + 1 }, () => new Array<number>(m + 1).fill(0))
    for (let i = n - 1; i >= 0; i--)
      for (let j = m - 1; j >= 0; j--) t[i]![j] = eq(rows[i0 + i]!, pairs[j0 + j]!) ? t[i + 1]![j + 1]! + 1 : Math.max(t[i + 1]![j]!, t[i]![j + 1]!)
    const out: [number, number][] = []
    for (let i = 0, j = 0; i < n && j < m; ) {
      if (eq(rows[i0 + i]!, pairs[j0 + j]!)) {
        out.push([i0 + i, j0 + j])
        i++
        j++
      } else if (t[i + 1]![j]! >= t[i]![j + 1]!) i++
      else j++
    }
    return out
  }
  const gaps = (anchors: [number, number][], i0: number, i1: number, j0: number, j1: number, f: (i0: number, i1: number, j0: number, j1: number) => void) => {
    let pi = i0
    let pj = j0
    for (const [i, j] of anchors) {
      f(pi, i, pj, j)
      pi = i + 1
      pj = j + 1
    }
    f(pi, i1, pj, j1)
  }
  const exact = lcs(0, rows.length, 0, pairs.length, (a, b) => a.key === b.key && a.value === b.value)
  for (const [i, j] of exact) match[j] = i
  gaps(exact, 0, rows.length, 0, pairs.length, (i0, i1, j0, j1) => {
    const byKey = lcs(i0, i1, j0, j1, (a, b) => a.key === b.key)
    for (const [i, j] of byKey) match[j] = i
    gaps(byKey, i0, i1, j0, j1, (k0, k1, l0, l1) => {
      for (let d = 0; d < Math.min(k1 - k0, l1 - l0); d++) match[l0 + d] = k0 + d
    })
  })
  return match
}

export interface SetUrlOptions {
  /** Write every part even if unchanged, superseding every alternative (a resolution). */
  readonly force?: boolean
}

/**
 * Sets a request's URL from a raw URL: the parts that changed are written, query rows are matched to the new
 * pairs (edited in place, added, removed), a renamed path variable keeps its value, and the raw URL is kept as
 * formatting.
 */
export const setUrl = (ref: EntityRef, typed: string, ctx: WriteContext, reader: Reader, options: SetUrlOptions = {}): void => {
  const fresh = freshReader(reader)
  const cur = currentParts(urlEntries(ref.map))
  const next = parseCached(typed)
  const force = options.force === true
  const partOptions = force ? { force: true } : undefined
  if (force || next.origin !== cur.origin) writeRegister(ref.map, 'urlOrigin', next.origin, ctx, false, partOptions)
  if (force || next.path !== cur.path) writeRegister(ref.map, 'urlPath', next.path, ctx, false, partOptions)
  if (force || next.hash !== cur.hash) writeRegister(ref.map, 'urlHash', next.hash, ctx, false, partOptions)
  // Query rows.
  const { list, rows } = queryRows(ref, fresh)
  const enabled = rows.groups.filter((g) => (g.state.value as unknown as QueryParam).enabled !== false)
  const current = enabled.map((g) => {
    const v = g.state.value as unknown as QueryParam
    return { key: v.key, value: v.value }
  })
  if (!force && samePairs(current, next.query)) {
    // The query did not change (the path or the host did): nothing to do with the rows.
    renameIfOne(ref, fresh, cur.path, next.path, ctx)
    writeRegister(ref.map, 'url', typed, ctx)
    return
  }
  const match = align(current, next.query)
  const used = new Set(match.filter((i): i is number => i !== undefined))
  const taken = tagsOf(rows.groups)
  for (let i = 0; i < enabled.length; i++) if (!used.has(i)) for (const r of enabled[i]!.refs) markDeleted(r.map.doc!, r, ctx)
  const orders: (string | null)[] = next.query.map((_, j) => (match[j] !== undefined ? enabled[match[j]!]!.order : null))
  // Pairs typed after the last one kept go after every row (disabled ones included).
  const lastOrder = rows.groups.reduce<string | null>((m, g) => (m === null || g.order > m ? g.order : m), null)
  next.query.forEach((pair, j) => {
    const i = match[j]
    if (i !== undefined) {
      const g = enabled[i]!
      const v = g.state.value as unknown as QueryParam
      if (force || v.key !== pair.key) {
        writeGroup(g, 'key', pair.key, ctx, force)
        if (v.key !== pair.key) {
          const own = g.state.hidden.tag
          if (typeof own === 'string') taken.delete(own)
          writeGroup(g, 'tag', freeTag(pair.key, taken), ctx)
        }
      }
      if (force || v.value !== pair.value) writeGroup(g, 'value', pair.value, ctx, force)
      if (force) writeGroup(g, 'enabled', true, ctx, true)
      return
    }
    let before: string | null = null
    for (let k = j - 1; k >= 0 && before === null; k--) before = orders[k]!
    let after: string | null = null
    for (let k = j + 1; k < orders.length && after === null; k++) after = orders[k]!
    if (after === null && lastOrder !== null && (before === null || lastOrder > before)) before = lastOrder
    const order = before !== null && after !== null && before >= after ? orderBetween(before, null) : orderBetween(before, after)
    orders[j] = order
    newRow(list, 'queryParam', order, { key: pair.key, value: pair.value, tag: freeTag(pair.key, taken) }, ctx)
  })
  if (force) for (const d of rows.deleted) if (fresh.entity(d).conflicts.some((c) => c.field === DELETED)) markDeleted(d.map.doc!, d, ctx)
  renameIfOne(ref, fresh, cur.path, next.path, ctx)
  writeRegister(ref.map, 'url', typed, ctx)
}

/** A path variable renamed in place (`:id` → `:userId`) keeps its value. */
const renameIfOne = (ref: EntityRef, reader: Reader, was: string, path: string, ctx: WriteContext): void => {
  if (was === path) return
  const before = pathVariableNames(was)
  const now = pathVariableNames(path)
  if (before.length !== now.length || before.length === 0) return
  const changed = before.map((_, i) => i).filter((i) => before[i] !== now[i])
  if (changed.length === 1 && !now.includes(before[changed[0]!]!) && !before.includes(now[changed[0]!]!)) {
    renameVariableRows(ref, reader, before[changed[0]!]!, now[changed[0]!]!, ctx)
  }
}

const renameVariableRows = (ref: EntityRef, reader: Reader, from: string, to: string, ctx: WriteContext): void => {
  const { rows } = variableRows(ref, reader)
  if (rows.groups.some((g) => (g.state.value as unknown as PathVariable).key === to)) return
  const g = rows.groups.find((x) => (x.state.value as unknown as PathVariable).key === from)
  if (g) writeGroup(g, 'key', to, ctx)
}

/** Writes the path part (and the raw URL's formatting follows by itself). */
const setPath = (ref: EntityRef, path: string, ctx: WriteContext): void => {
  writeRegister(ref.map, 'urlPath', path, ctx)
}

// Rows of the URL, as the request editor's tables change them.

const groupOf = (groups: readonly RowGroup[], rowId: string, path: string): RowGroup => {
  const g = groups.find((x) => x.refs.some((r) => r.id === rowId))
  if (!g) throw new ModelError('NOT_FOUND', `no row ${rowId}`, path)
  return g
}

const checkRowPatch = (kind: 'queryParam' | 'pathVariable', patch: object, path: string) => {
  const spec = specOf(kind)
  for (const [k, v] of Object.entries(patch)) {
    if (v === undefined || k === 'id') continue
    const fs = spec[k]
    if (!fs || fs.kind !== 'register' || fs.hidden) throw new ModelError('INVALID_VALUE', `${kind} has no field ${k}`, path)
    if (!fs.check(v)) throw new ModelError('INVALID_VALUE', `${k} must be ${fs.expect}`, `${path}/${k}`)
  }
}

export const addQueryRow = (ref: EntityRef, init: Record<string, unknown>, placement: Placement, ctx: WriteContext, reader: Reader): string => {
  const path = `${ref.path}/query`
  checkRowPatch('queryParam', init, path)
  const { list, rows } = queryRows(ref, freshReader(reader))
  const order = orderFor(rows.groups.map((g) => ({ id: g.id, order: g.order })), placement, path)
  checkNewRowId(list, init.id, path)
  const key = typeof init.key === 'string' ? init.key : ''
  const fields: Record<string, Json> = { tag: freeTag(key, tagsOf(rows.groups)) }
  for (const [k, v] of Object.entries(init)) if (k !== 'id' && v !== undefined) fields[k] = v as Json
  if (typeof init.id === 'string' && init.id) return insertWithId(list, 'queryParam', init.id, order, fields, ctx)
  return newRow(list, 'queryParam', order, fields, ctx)
}

/** A row with a caller-given id, added to an existing list: under a key of its own (see row-ids.ts). */
const insertWithId = (list: Y.Map<unknown>, kind: 'queryParam' | 'pathVariable', id: string, order: string, fields: Record<string, Json>, ctx: WriteContext): string => {
  const map = new Y.Map<unknown>()
  list.set(newRowId(), map)
  map.set('id', id)
  createContainers(map, kind)
  writeRegister(map, POSITION, { order }, ctx, true)
  for (const [field, v] of Object.entries(fields)) writeRegister(map, field, v, ctx, true)
  return id
}

export const updateQueryRow = (ref: EntityRef, rowId: string, patch: Record<string, unknown>, ctx: WriteContext, reader: Reader): void => {
  const path = `${ref.path}/query`
  checkRowPatch('queryParam', patch, path)
  const { rows } = queryRows(ref, freshReader(reader))
  const g = groupOf([...rows.groups, ...rows.deleted.map(single)], rowId, path)
  const before = g.state.value as unknown as QueryParam
  for (const [k, v] of Object.entries(patch)) if (k !== 'id' && v !== undefined) writeGroup(g, k, v as Json, ctx)
  if (typeof patch.key === 'string' && patch.key !== before.key && !g.state.deleted) {
    const taken = tagsOf(rows.groups)
    const own = g.state.hidden.tag
    if (typeof own === 'string') taken.delete(own)
    writeGroup(g, 'tag', freeTag(patch.key, taken), ctx)
  }
}

const single = (ref: EntityRef): RowGroup => {
  const state = new Reader().entity(ref)
  return { id: ref.id, order: '', refs: [ref], states: [state], state }
}

export const removeQueryRow = (ref: EntityRef, rowId: string, ctx: WriteContext, reader: Reader): void => {
  const { rows } = queryRows(ref, freshReader(reader))
  const g = groupOf(rows.groups, rowId, `${ref.path}/query`)
  for (const r of g.refs) markDeleted(r.map.doc!, r, ctx)
}

/** Moves a (pooled) query row: every row of it gets the new place. */
export const moveQueryRow = (ref: EntityRef, rowId: string, placement: Placement, ctx: WriteContext, reader: Reader): void => {
  const path = `${ref.path}/query`
  const { rows } = queryRows(ref, freshReader(reader))
  const g = groupOf(rows.groups, rowId, path)
  const at = orderFor(rows.groups.filter((x) => x !== g).map((x) => ({ id: x.id, order: x.order })), placement, path)
  for (const r of g.refs) writeRegister(r.map, POSITION, { order: at }, ctx)
}

// Path variables: named by the path. Adding one appends `/:name` to the path, renaming one renames it in the
// path, removing one removes its segments; their order is the path's.

export const addPathVariable = (ref: EntityRef, init: Record<string, unknown>, ctx: WriteContext, reader: Reader): string => {
  const path = `${ref.path}/pathVariables`
  checkRowPatch('pathVariable', init, path)
  const key = init.key
  if (typeof key !== 'string' || !isPathVariableName(key)) throw new ModelError('INVALID_VALUE', 'a path variable needs a name that can stand in a path (no / ? # . { })', `${path}/key`)
  const fresh = freshReader(reader)
  const cur = currentParts(urlEntries(ref.map))
  if (pathVariableNames(cur.path).includes(key)) throw new ModelError('INVALID_VALUE', `path variable ${key} exists`, `${path}/key`)
  const { list, rows } = variableRows(ref, fresh)
  checkNewRowId(list, init.id, path)
  setPath(ref, `${cur.path.endsWith('/') ? cur.path : `${cur.path}/`}:${key}`, ctx)
  const existing = rows.groups.find((g) => (g.state.value as unknown as PathVariable).key === key)
  const fields: Record<string, Json> = {}
  for (const [k, v] of Object.entries(init)) if (k !== 'id' && v !== undefined) fields[k] = v as Json
  if (existing) {
    for (const [k, v] of Object.entries(fields)) writeGroup(existing, k, v, ctx)
    return existing.id
  }
  const last = rows.groups.reduce<string | null>((m, g) => (m === null || g.order > m ? g.order : m), null)
  const order = orderBetween(last, null)
  return typeof init.id === 'string' && init.id ? insertWithId(list, 'pathVariable', init.id, order, fields, ctx) : newRow(list, 'pathVariable', order, fields, ctx)
}

export const updatePathVariable = (ref: EntityRef, rowId: string, patch: Record<string, unknown>, ctx: WriteContext, reader: Reader): void => {
  const path = `${ref.path}/pathVariables`
  checkRowPatch('pathVariable', patch, path)
  const fresh = freshReader(reader)
  const { list, rows } = variableRows(ref, fresh)
  const cur = currentParts(urlEntries(ref.map))
  const names = pathVariableNames(cur.path)
  const g = rows.groups.find((x) => x.refs.some((r) => r.id === rowId)) ?? rows.deleted.map(single).find((x) => x.id === rowId)
  const key = g ? (g.state.value as unknown as PathVariable).key : rowId.startsWith(':') ? rowId.slice(1) : undefined
  if (key === undefined || (!g && !names.includes(key))) throw new ModelError('NOT_FOUND', `no row ${rowId}`, path)
  const rename = typeof patch.key === 'string' && patch.key !== key ? patch.key : undefined
  if (rename !== undefined) {
    if (!isPathVariableName(rename)) throw new ModelError('INVALID_VALUE', 'a path variable needs a name that can stand in a path (no / ? # . { })', `${path}/key`)
    if (names.includes(rename)) throw new ModelError('INVALID_VALUE', `path variable ${rename} exists`, `${path}/key`)
    if (names.includes(key)) setPath(ref, renamePathVariable(cur.path, key, rename), ctx)
  }
  const fields: Record<string, Json> = {}
  for (const [k, v] of Object.entries(patch)) if (k !== 'id' && v !== undefined) fields[k] = v as Json
  if (!g) {
    // A variable of the path without a row yet: this write makes it.
    const last = rows.groups.reduce<string | null>((m, x) => (m === null || x.order > m ? x.order : m), null)
    newRow(list, 'pathVariable', orderBetween(last, null), { key, ...fields }, ctx)
    return
  }
  for (const [k, v] of Object.entries(fields)) writeGroup(g, k, v, ctx)
}

export const removePathVariableRow = (ref: EntityRef, rowId: string, ctx: WriteContext, reader: Reader): void => {
  const path = `${ref.path}/pathVariables`
  const { rows } = variableRows(ref, freshReader(reader))
  const cur = currentParts(urlEntries(ref.map))
  const g = rows.groups.find((x) => x.refs.some((r) => r.id === rowId))
  const key = g ? (g.state.value as unknown as PathVariable).key : rowId.startsWith(':') ? rowId.slice(1) : undefined
  if (key === undefined || (!g && !pathVariableNames(cur.path).includes(key))) throw new ModelError('NOT_FOUND', `no row ${rowId}`, path)
  if (pathVariableNames(cur.path).includes(key)) setPath(ref, removePathVariable(cur.path, key), ctx)
  if (g) for (const r of g.refs) markDeleted(r.map.doc!, r, ctx)
}

/** Creates a request's URL rows from its init: the query rows as given (tagged) or parsed from the raw URL. */
export const initUrl = (ref: EntityRef, url: { readonly raw?: string; readonly query?: readonly object[] } | undefined, ctx: WriteContext): void => {
  const list = ref.container('query')
  if (!(list instanceof Y.Map) || !url) return
  const taken = new Set<string>()
  if (url.query) {
    // Rows were inserted by applyPatch: tag them.
    const rows: { id: string; key: string; order: string; map: Y.Map<unknown> }[] = []
    list.forEach((row, id) => {
      if (!(row instanceof Y.Map)) return
      const r = new Reader().entity(nestedRef(row, 'queryParam', id, ''))
      const pos = r.position
      rows.push({ id, key: String(r.value.key), order: isJsonObject(pos) && typeof pos.order === 'string' ? pos.order : '', map: row })
    })
    rows.sort((a, b) => (a.order < b.order ? -1 : a.order > b.order ? 1 : a.id < b.id ? -1 : 1))
    for (const r of rows) writeRegister(r.map, 'tag', freeTag(r.key, taken), ctx, true)
    return
  }
  if (url.raw === undefined) return
  let prev: string | null = null
  for (const pair of parseUrl(url.raw).query) {
    const order = orderBetween(prev, null)
    prev = order
    newRow(list, 'queryParam', order, { key: pair.key, value: pair.value, tag: freeTag(pair.key, taken) }, ctx)
  }
}

/** The URL a request's init gives, as the model will show it (what importers compare against). */
export const normalizeUrl = (url: { readonly raw: string; readonly query: readonly QueryParam[]; readonly variables: readonly PathVariable[]; readonly extra: Url['extra'] }): Url => {
  const parts = parseUrl(url.raw)
  const query = url.query
  const raw = buildUrl({ ...parts, query: pairsOf(query) }, url.raw)
  // Rows of one name are one variable (see POOL_BY), under the first id.
  const byKey = new Map<string, PathVariable>()
  for (const v of url.variables) {
    const had = byKey.get(v.key)
    if (!had || v.id < had.id) byKey.set(v.key, v)
  }
  return { raw, query, variables: variablesFor(parseUrl(raw).path, [...byKey.values()]), extra: url.extra }
}

/** For resolving: the plan of a request's URL conflict, read afresh. */
export const currentUrlPlan = (ref: EntityRef, reader: Reader): UrlPlan | undefined => urlPlan(ref, urlEntries(ref.map), freshReader(reader))

/** Resolves a request's URL conflict: alternative `pick`, or a whole new raw URL. */
export const resolveUrl = (ref: EntityRef, choice: { readonly pick: number } | { readonly value: Json }, ctx: WriteContext, reader: Reader): void => {
  const plan = currentUrlPlan(ref, reader)
  if ('pick' in choice) {
    const choose = plan?.choices[choice.pick]
    if (!plan || !choose) throw new ModelError('BAD_CHOICE', `no alternative ${choice.pick}`, `${ref.path}/url`)
    for (const c of plan.components) c.apply(choose(c), ctx)
    settleTags(ref, ctx)
    return
  }
  const v = choice.value
  const raw = typeof v === 'string' ? v : isJsonObject(v) && typeof v.raw === 'string' ? v.raw : undefined
  if (raw === undefined) throw new ModelError('INVALID_VALUE', 'a URL is a string (or { raw })', `${ref.path}/url`)
  setUrl(ref, raw, ctx, reader, { force: true })
  settleTags(ref, ctx)
  // Rows that were removed while edited: the new URL decides; a row it does not name stays removed.
}

export type { UrlPlan }
