/**
 * The changes between two versions of one doc, in the terms a person uses: a request added, removed, moved or
 * renamed, which of its fields changed with the old and new values; folders, saved responses and variables
 * alike; the workspace's collections, environments, header presets and members; runs added.
 *
 * Computed from the two snapshots (plain data), so it never touches Yjs internals and costs one pass over each
 * tree. Row ids are not content: two lists that read the same are the same list. Sealed values are compared
 * as ciphertext (never opened) and the change says `sealed: true`.
 */
import type { DocKind, DocModel } from './doc.js'
import { ModelError } from './errors.js'
import { type HistoryField, HISTORY_FIELDS, NAME_FIELD, valueAt } from './history-fields.js'
import type { Json } from './json.js'
import type { RunsSnapshot } from './runs.js'
import type { EntityKind } from './schema.js'
import { isSealedValue } from './sealing.js'
import type { CollectionSnapshot, EnvironmentSnapshot, ItemSnapshot, SavedResponse, WorkspaceSnapshot } from './types.js'

export type ChangeKind = 'added' | 'removed' | 'moved' | 'renamed' | 'changed'
export type ChangeEntity =
  | 'collection'
  | 'folder'
  | 'request'
  | 'response'
  | 'variable'
  | 'environment'
  | 'globals'
  | 'workspace'
  | 'headerPreset'
  | 'member'
  | 'keyWrap'
  | 'run'

export interface Change {
  readonly kind: ChangeKind
  readonly entity: ChangeEntity
  /** The entity's id; '' for the doc's root entity (the collection, environment, globals or workspace). */
  readonly id: string
  /** Its name in b (in a when removed). */
  readonly name: string
  /** The names of the folders above it, outermost first (a saved response: its request's too), in b (a when removed). */
  readonly where: readonly string[]
  /**
   * `changed`: the field as a person names it and as `restoreField` takes it (`method`, `url`, `headers`,
   * `body`, `auth`, `scripts.test`, a variable's `value`…); `renamed`: `name`.
   */
  readonly field?: string
  /** The old value (changed, renamed; moved: `{ parentId, where, index }`; removed rows: the row). */
  readonly before?: Json
  /** The new value (changed, renamed; moved: `{ parentId, where, index }`; added rows: the row). */
  readonly after?: Json
  /** A variable value that is sealed (ciphertext) on either side: compared as is, never opened. */
  readonly sealed?: true
  /** A move within the same folder or list (its place among its siblings changed). */
  readonly reordered?: true
}

export interface DocDiff {
  readonly kind: DocKind
  /** Tree order of b (removed entities where they were in a), then by entity. */
  readonly changes: readonly Change[]
  /** Entities changed, per `entity.kind` (`request.changed`): an entity with three changed fields counts once. */
  readonly counts: Readonly<Record<string, number>>
  /** e.g. "2 requests changed, 1 folder added"; "no changes". */
  readonly summary: string
}

type AnyModel = DocModel<unknown>

/** The changes from version `a` to version `b` of one doc (both models of the same kind, e.g. read-only versions). */
export const diffDocs = (a: AnyModel, b: AnyModel): DocDiff => {
  if (a.kind !== b.kind) throw new ModelError('WRONG_KIND', `cannot compare a ${a.kind} with a ${b.kind}`)
  return diffSnapshots(a.kind, a.snapshot(), b.snapshot())
}

/**
 * diffDocs on two snapshots of a doc of `kind` (what its model's `snapshot()` returned): for a caller that
 * keeps versions as snapshots rather than models (the client's history cursor).
 */
export const diffSnapshots = (kind: DocKind, sa: unknown, sb: unknown): DocDiff => {
  const ia = (sa as { id?: unknown }).id
  const ib = (sb as { id?: unknown }).id
  // A version before the doc was made (empty) has no id yet.
  if (typeof ia === 'string' && typeof ib === 'string' && ia !== '' && ib !== '' && ia !== ib)
    throw new ModelError('INVALID_VALUE', `these are two different ${kind} docs (${ia}, ${ib}), not two versions of one`)
  const out: Change[] = []
  switch (kind) {
    case 'collection':
      diffCollection(sa as CollectionSnapshot, sb as CollectionSnapshot, out)
      break
    case 'environment':
    case 'globals':
      diffEnvironment(kind, sa as EnvironmentSnapshot, sb as EnvironmentSnapshot, out)
      break
    case 'manifest':
      diffWorkspace(sa as WorkspaceSnapshot, sb as WorkspaceSnapshot, out)
      break
    case 'runs':
      diffRuns(sa as RunsSnapshot, sb as RunsSnapshot, out)
      break
  }
  const counts = countChanges(out)
  return { kind, changes: out, counts, summary: summarise(counts) }
}

// ------------------------------------------------------------------------------------------- comparing

/** Deep equality of snapshot values, where the `id` of a row (an object in an array) is not content. */
export const sameContent = (a: unknown, b: unknown, inArray = false): boolean => {
  if (a === b) return true
  if (a === null || b === null || typeof a !== 'object' || typeof b !== 'object') return false
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false
    for (let i = 0; i < a.length; i++) if (!sameContent(a[i], b[i], true)) return false
    return true
  }
  if (Array.isArray(b)) return false
  const ao = a as Record<string, unknown>
  const bo = b as Record<string, unknown>
  let na = 0
  for (const k in ao) {
    if (inArray && k === 'id') continue
    na++
    if (!(k in bo) || !sameContent(ao[k], bo[k])) return false
  }
  let nb = 0
  for (const k in bo) if (!(inArray && k === 'id')) nb++
  return na === nb
}

const json = (v: unknown): Json => (v === undefined ? null : (v as Json))

/**
 * The doc's root entity: created between the two versions (a is the empty version, before the doc was made)
 * is one `added`, not a rename from '' and a change of every field.
 */
const diffRoot = (kind: EntityKind, entity: ChangeEntity, a: { id?: unknown }, b: { id?: unknown }, out: Change[]): void => {
  const nameField = NAME_FIELD[kind]
  if (!a.id && b.id) out.push({ kind: 'added', entity, id: '', name: nameField === undefined ? '' : String(valueAt(b, [nameField]) ?? ''), where: [] })
  else diffFields(kind, entity, '', [], a, b, out)
}

/** Changes of an entity's fields (its name: `renamed`; the others: `changed`, one per field). */
const diffFields = (
  kind: EntityKind,
  entity: ChangeEntity,
  id: string,
  where: readonly string[],
  a: object,
  b: object,
  out: Change[],
  fields: readonly HistoryField[] | undefined = HISTORY_FIELDS[kind],
): void => {
  const nameField = NAME_FIELD[kind]
  const name = nameField === undefined ? '' : String(valueAt(b, [nameField]) ?? '')
  if (nameField !== undefined) {
    const before = valueAt(a, [nameField])
    if (before !== valueAt(b, [nameField])) out.push({ kind: 'renamed', entity, id, name, where, field: 'name', before: json(before), after: name })
  }
  for (const field of fields ?? []) {
    const before = valueAt(a, field.at)
    const after = valueAt(b, field.at)
    if (sameContent(before, after)) continue
    const change: { -readonly [K in keyof Change]: Change[K] } = { kind: 'changed', entity, id, name, where, field: field.name, before: json(before), after: json(after) }
    if (kind === 'variable' && field.name === 'value' && (isSealedValue(before) || isSealedValue(after))) change.sealed = true
    out.push(change)
  }
}

/**
 * The members of `a` (in a's order) that changed place among the members common to both: the fewest that,
 * moved, turn a's order into b's (what is not in a longest increasing subsequence).
 */
export const reordered = (a: readonly string[], b: readonly string[]): Set<string> => {
  const inB = new Map<string, number>()
  b.forEach((id, i) => inB.set(id, i))
  const common = a.filter((id) => inB.has(id))
  const seq = common.map((id) => inB.get(id)!)
  // Patience sorting: tails[k] = index in seq of the smallest tail of an increasing run of length k + 1.
  const tails: number[] = []
  const prev = new Array<number>(seq.length).fill(-1)
  for (let i = 0; i < seq.length; i++) {
    let lo = 0
    let hi = tails.length
    while (lo < hi) {
      const mid = (lo + hi) >> 1
      if (seq[tails[mid]!]! < seq[i]!) lo = mid + 1
      else hi = mid
    }
    if (lo > 0) prev[i] = tails[lo - 1]!
    tails[lo] = i
  }
  const keep = new Set<string>()
  for (let i = tails.length ? tails[tails.length - 1]! : -1; i >= 0; i = prev[i]!) keep.add(common[i]!)
  return new Set(common.filter((id) => !keep.has(id)))
}

// ----------------------------------------------------------------------------------------- collections

interface Placed {
  readonly node: ItemSnapshot
  readonly parentId: string | null
  readonly where: readonly string[]
  readonly index: number
}

const flatten = (items: readonly ItemSnapshot[]): { items: Map<string, Placed>; children: Map<string | null, string[]> } => {
  const out = new Map<string, Placed>()
  const children = new Map<string | null, string[]>()
  const walk = (list: readonly ItemSnapshot[], parentId: string | null, where: readonly string[]) => {
    const ids: string[] = []
    list.forEach((node, index) => {
      ids.push(node.id)
      out.set(node.id, { node, parentId, where, index })
      if (node.kind === 'folder' && node.items.length) walk(node.items, node.id, [...where, node.name])
    })
    children.set(parentId, ids)
  }
  walk(items, null, [])
  return { items: out, children }
}

interface PlacedResponse {
  readonly response: SavedResponse
  readonly requestId: string
  readonly where: readonly string[]
}

const responsesOf = (items: ReadonlyMap<string, Placed>): Map<string, PlacedResponse> => {
  const out = new Map<string, PlacedResponse>()
  for (const [id, p] of items) {
    if (p.node.kind !== 'request' || !p.node.responses.length) continue
    const where = [...p.where, p.node.name]
    for (const response of p.node.responses) out.set(response.id, { response, requestId: id, where })
  }
  return out
}

const place = (p: Placed): Json => ({ parentId: p.parentId, where: p.where as Json, index: p.index })

const diffCollection = (a: CollectionSnapshot, b: CollectionSnapshot, out: Change[]): void => {
  diffRoot('collection', 'collection', a, b, out)
  diffRows('variable', 'variable', [], a.variables, b.variables, out)
  const fa = flatten(a.items)
  const fb = flatten(b.items)
  // Within a folder present in both, the items kept there that changed place among their siblings.
  const moved = new Set<string>()
  for (const [parent, idsB] of fb.children) {
    const idsA = fa.children.get(parent)
    if (!idsA) continue
    const stayed = (ids: readonly string[], other: ReadonlyMap<string, Placed>) => ids.filter((id) => other.get(id)?.parentId === parent)
    for (const id of reordered(stayed(idsA, fb.items), stayed(idsB, fa.items))) moved.add(id)
  }
  const ra = responsesOf(fa.items)
  const rb = responsesOf(fb.items)
  const responsesUnder = new Map<string, string[]>()
  for (const [rid, r] of rb) responsesUnder.set(r.requestId, [...(responsesUnder.get(r.requestId) ?? []), rid])
  const responseChanges = (requestId: string) => {
    for (const rid of responsesUnder.get(requestId) ?? []) {
      const now = rb.get(rid)!
      const was = ra.get(rid)
      if (!was) out.push({ kind: 'added', entity: 'response', id: rid, name: now.response.name, where: now.where })
      else diffFields('response', 'response', rid, now.where, was.response, now.response, out)
    }
  }
  for (const [id, now] of fb.items) {
    const kind = now.node.kind
    const was = fa.items.get(id)
    if (!was || was.node.kind !== kind) {
      if (was) out.push({ kind: 'removed', entity: was.node.kind, id, name: was.node.name, where: was.where })
      out.push({ kind: 'added', entity: kind, id, name: now.node.name, where: now.where })
      if (kind === 'request') responseChanges(id)
      continue
    }
    if (was.parentId !== now.parentId) out.push({ kind: 'moved', entity: kind, id, name: now.node.name, where: now.where, before: place(was), after: place(now) })
    else if (moved.has(id)) out.push({ kind: 'moved', entity: kind, id, name: now.node.name, where: now.where, before: place(was), after: place(now), reordered: true })
    if (was.node !== now.node) diffFields(kind, kind, id, now.where, was.node, now.node, out)
    if (kind === 'request') responseChanges(id)
  }
  for (const [id, was] of fa.items) {
    if (!fb.items.has(id)) out.push({ kind: 'removed', entity: was.node.kind, id, name: was.node.name, where: was.where })
  }
  for (const [rid, was] of ra) {
    if (!rb.has(rid)) out.push({ kind: 'removed', entity: 'response', id: rid, name: was.response.name, where: was.where })
  }
}

// ------------------------------------------------------------------------------------ rows as entities

type Row = { readonly id: string }

/** Rows a person knows one by one (variables, index entries, presets, members): added, removed, moved, changed. */
const diffRows = (kind: EntityKind, entity: ChangeEntity, where: readonly string[], a: readonly Row[], b: readonly Row[], out: Change[]): void => {
  const byA = new Map(a.map((r) => [r.id, r]))
  const byB = new Map(b.map((r) => [r.id, r]))
  const moved = reordered(
    a.map((r) => r.id),
    b.map((r) => r.id),
  )
  const nameOf = (r: Row) => {
    const f = NAME_FIELD[kind]
    return f === undefined ? '' : String(valueAt(r, [f]) ?? '')
  }
  b.forEach((row, index) => {
    const was = byA.get(row.id)
    if (!was) return void out.push({ kind: 'added', entity, id: row.id, name: nameOf(row), where, after: row as unknown as Json })
    if (moved.has(row.id))
      out.push({
        kind: 'moved',
        entity,
        id: row.id,
        name: nameOf(row),
        where,
        before: { index: a.indexOf(was) },
        after: { index },
        reordered: true,
      })
    diffFields(kind, entity, row.id, where, was, row, out)
  })
  for (const row of a) if (!byB.has(row.id)) out.push({ kind: 'removed', entity, id: row.id, name: nameOf(row), where, before: row as unknown as Json })
}

const diffEnvironment = (kind: 'environment' | 'globals', a: EnvironmentSnapshot, b: EnvironmentSnapshot, out: Change[]): void => {
  diffRoot(kind, kind, a, b, out)
  diffRows('variable', 'variable', [], a.variables, b.variables, out)
}

const diffWorkspace = (a: WorkspaceSnapshot, b: WorkspaceSnapshot, out: Change[]): void => {
  diffRoot('workspace', 'workspace', a, b, out)
  diffRows('indexEntry', 'collection', [], a.collections, b.collections, out)
  diffRows('indexEntry', 'environment', [], a.environments, b.environments, out)
  diffRows('headerPreset', 'headerPreset', [], a.headerPresets, b.headerPresets, out)
  diffRows('member', 'member', [], a.members, b.members, out)
  diffRows('keyWrap', 'keyWrap', [], a.keyWraps, b.keyWraps, out)
}

/** Runs are facts appended once: a run is added (or, rarely, gone: an interrupted record replaced by its result). */
const diffRuns = (a: RunsSnapshot, b: RunsSnapshot, out: Change[]): void => {
  const name = (r: RunsSnapshot['runs'][number]) => `${r.environmentName ?? 'no environment'}, ${new Date(r.startedAt).toISOString()}`
  const byA = new Map(a.runs.map((r) => [r.id, r]))
  const byB = new Map(b.runs.map((r) => [r.id, r]))
  for (const r of b.runs) {
    const was = byA.get(r.id)
    if (!was) out.push({ kind: 'added', entity: 'run', id: r.id, name: name(r), where: [], after: r as unknown as Json })
    else if (!sameContent(was, r)) out.push({ kind: 'changed', entity: 'run', id: r.id, name: name(r), where: [], field: 'result', before: was as unknown as Json, after: r as unknown as Json })
  }
  for (const r of a.runs) if (!byB.has(r.id)) out.push({ kind: 'removed', entity: 'run', id: r.id, name: name(r), where: [], before: r as unknown as Json })
}

// ------------------------------------------------------------------------------------------ summaries

const countChanges = (changes: readonly Change[]): Record<string, number> => {
  const seen = new Map<string, Set<string>>()
  for (const c of changes) {
    const key = `${c.entity}.${c.kind}`
    const ids = seen.get(key) ?? new Set<string>()
    ids.add(c.id)
    seen.set(key, ids)
  }
  const counts: Record<string, number> = {}
  for (const [key, ids] of seen) counts[key] = ids.size
  return counts
}

const NOUNS: Record<ChangeEntity, readonly [string, string]> = {
  collection: ['collection', 'collections'],
  workspace: ['workspace', 'workspaces'],
  environment: ['environment', 'environments'],
  globals: ['globals', 'globals'],
  folder: ['folder', 'folders'],
  request: ['request', 'requests'],
  response: ['saved response', 'saved responses'],
  variable: ['variable', 'variables'],
  headerPreset: ['header preset', 'header presets'],
  member: ['member', 'members'],
  keyWrap: ['key record', 'key records'],
  run: ['run', 'runs'],
}
const ENTITY_ORDER = Object.keys(NOUNS) as ChangeEntity[]
const KIND_ORDER: readonly ChangeKind[] = ['added', 'removed', 'moved', 'renamed', 'changed']

/** "2 requests changed, 1 folder added": most first. */
const summarise = (counts: Readonly<Record<string, number>>): string => {
  const parts = Object.entries(counts).map(([key, n]) => {
    const [entity, kind] = key.split('.') as [ChangeEntity, ChangeKind]
    return { entity, kind, n }
  })
  if (!parts.length) return 'no changes'
  parts.sort((x, y) => y.n - x.n || ENTITY_ORDER.indexOf(x.entity) - ENTITY_ORDER.indexOf(y.entity) || KIND_ORDER.indexOf(x.kind) - KIND_ORDER.indexOf(y.kind))
  return parts.map(({ entity, kind, n }) => `${n} ${NOUNS[entity][n === 1 ? 0 : 1]} ${kind}`).join(', ')
}

