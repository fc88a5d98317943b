/**
 * History properties. From a base version `a`, a random sequence of edits (create, rename, move, delete and
 * restore items; fields, header rows, query rows through the URL, saved responses, collection and folder
 * variables) gives `b`. Then:
 * - diffDocs(a, b) lists exactly the net changes, checked against an oracle computed from the two snapshots in
 *   the plainest way (flatten both trees, compare field by field); moves within a folder are checked to be a
 *   fewest set of moves that turns a's order into b's;
 * - restoreAll(a) makes the live snapshot equal to a's (open conflicts and problems aside: a version has none
 *   here, and a restore closes none it did not write), undoes in one step back to b, redoes;
 * - restoreItem / restoreField of a random item / change restore exactly that and nothing else;
 * - a restore concurrent with another replica's edits converges on both, and keeps what the other created.
 */
import fc from 'fast-check'
import { expect, test } from 'vitest'
import * as Y from 'yjs'
import { type Change, type CollectionSnapshot, CollectionModel, type FolderSnapshot, type ItemSnapshot, ModelError, diffDocs } from '@apisync/model'
import { content, fork, syncAll, version } from './helpers.js'

const RUNS = Number(process.env.APISYNC_HISTORY_RUNS ?? 60)

const names = ['a', 'b', 'c']
const idx = fc.nat({ max: 30 })
const op = fc.oneof(
  fc.record({ t: fc.constant('folder' as const), parent: fc.option(idx), name: fc.constantFrom(...names) }),
  fc.record({ t: fc.constant('request' as const), parent: fc.option(idx), name: fc.constantFrom(...names) }),
  fc.record({ t: fc.constant('rename' as const), item: idx, name: fc.constantFrom(...names, 'd') }),
  fc.record({ t: fc.constant('method' as const), item: idx, method: fc.constantFrom('GET', 'POST', 'PUT') }),
  fc.record({ t: fc.constant('url' as const), item: idx, raw: fc.constantFrom('https://a.test', 'https://a.test/:id?x=1', 'https://b.test?x=2&y', '') }),
  fc.record({ t: fc.constant('text' as const), item: idx, field: fc.constantFrom('test' as const, 'description' as const), insert: fc.constantFrom('x', 'yz') }),
  fc.record({ t: fc.constant('body' as const), item: idx, mode: fc.constantFrom(null, 'raw', 'urlencoded') }),
  fc.record({ t: fc.constant('addHeader' as const), item: idx, key: fc.constantFrom(...names) }),
  fc.record({ t: fc.constant('header' as const), item: idx, row: idx, value: fc.constantFrom(...names) }),
  fc.record({ t: fc.constant('removeHeader' as const), item: idx, row: idx }),
  fc.record({ t: fc.constant('move' as const), item: idx, parent: fc.option(idx), at: fc.nat({ max: 4 }) }),
  fc.record({ t: fc.constant('delete' as const), item: idx }),
  fc.record({ t: fc.constant('restore' as const), item: idx }),
  fc.record({ t: fc.constant('addResponse' as const), item: idx, name: fc.constantFrom(...names) }),
  fc.record({ t: fc.constant('response' as const), item: idx, code: fc.constantFrom(200, 404) }),
  fc.record({ t: fc.constant('deleteResponse' as const), item: idx }),
  fc.record({ t: fc.constant('variable' as const), owner: fc.option(idx), key: fc.constantFrom(...names), value: fc.constantFrom('1', '2') }),
  fc.record({ t: fc.constant('editVariable' as const), owner: fc.option(idx), row: idx, key: fc.option(fc.constantFrom(...names)), value: fc.constantFrom('1', '3') }),
  fc.record({ t: fc.constant('removeVariable' as const), owner: fc.option(idx), row: idx }),
  fc.record({ t: fc.constant('collection' as const), name: fc.constantFrom('S', 'T') }),
)
type Op = typeof op extends fc.Arbitrary<infer T> ? T : never

/** Every item id ever made in the doc (deleted ones too), by id (ids are random: each run picks its targets afresh). */
const allItems = (m: CollectionModel): string[] => {
  const ids: string[] = []
  m.doc.getMap('items').forEach((v) => {
    if (v instanceof Y.Map && typeof v.get('id') === 'string') ids.push(v.get('id') as string)
  })
  return ids.sort()
}
const pick = <T>(list: readonly T[], i: number): T | undefined => (list.length ? list[i % list.length] : undefined)

const apply = (m: CollectionModel, o: Op): void => {
  const items = allItems(m)
  const item = 'item' in o ? pick(items, o.item)! : ''
  const node = item ? m.get(item) : undefined
  const folders = items.filter((id) => m.get(id)?.kind === 'folder')
  const parentOf = (p: number | null) => (p === null ? null : (pick(folders, p) ?? null))
  try {
    switch (o.t) {
      case 'folder': return void m.createFolder({ name: o.name }, { parent: parentOf(o.parent) })
      case 'request': return void m.createRequest({ name: o.name, url: { raw: 'https://a.test?q=1' }, headers: [{ key: 'h', value: 'v' }] }, { parent: parentOf(o.parent) })
      case 'rename': return void (node && m.updateItem(item, { name: o.name }))
      case 'method': return void (node?.kind === 'request' && m.updateItem(item, { method: o.method }))
      case 'url': return void (node?.kind === 'request' && m.updateItem(item, { url: { raw: o.raw } }))
      case 'text': return void (node && m.editText(item, o.field, 0, 0, o.insert))
      case 'body': return void (node?.kind === 'request' && m.updateItem(item, { body: { mode: o.mode } }))
      case 'addHeader': return void (node?.kind === 'request' && m.addRow(item, 'headers', { key: o.key }))
      case 'header': {
        const row = node?.kind === 'request' ? pick(node.headers, o.row) : undefined
        return void (row && m.updateRow(item, 'headers', row.id, { value: o.value }))
      }
      case 'removeHeader': {
        const row = node?.kind === 'request' ? pick(node.headers, o.row) : undefined
        return void (row && m.removeRow(item, 'headers', row.id))
      }
      case 'move': return void (node && m.move(item, { parent: parentOf(o.parent), placement: { index: o.at } }))
      case 'delete': return void (node && m.delete(item))
      case 'restore': return void (!node && item && m.restore(item))
      case 'addResponse': return void (node?.kind === 'request' && m.addResponse(item, { name: o.name }))
      case 'response': {
        const r = node?.kind === 'request' ? node.responses[0] : undefined
        return void (r && m.updateResponse(r.id, { code: o.code }))
      }
      case 'deleteResponse': {
        const r = node?.kind === 'request' ? node.responses[0] : undefined
        return void (r && m.deleteResponse(r.id))
      }
      case 'variable':
      case 'editVariable':
      case 'removeVariable': {
        const owner = o.owner === null ? m.id : pick(folders, o.owner)
        if (!owner) return
        const vars = owner === m.id ? m.snapshot().variables : (m.get(owner) as FolderSnapshot).variables
        if (o.t === 'variable') return void m.addRow(owner, 'variables', { key: o.key, value: o.value })
        const row = pick(vars, o.row)
        if (!row) return
        if (o.t === 'removeVariable') return void m.removeRow(owner, 'variables', row.id)
        return void m.updateRow(owner, 'variables', row.id, o.key === null ? { value: o.value } : { key: o.key, value: o.value })
      }
      case 'collection': return void m.updateCollection({ name: o.name })
    }
  } catch (e) {
    // Moves into their own subtree, edits of what the op could not see: refused as any write, nothing written.
    if (!(e instanceof ModelError)) throw e
  }
}


// ------------------------------------------------------------------------------------------------ oracle

/** JSON with the ids of rows (objects in arrays) left out: how a person compares lists. */
const strip = (v: unknown, inArray = false): unknown =>
  Array.isArray(v)
    ? v.map((x) => strip(x, true))
    : typeof v === 'object' && v !== null
      ? Object.fromEntries(Object.entries(v).filter(([k]) => !(inArray && k === 'id')).map(([k, x]) => [k, strip(x)]))
      : v
const plain = (v: unknown): string => JSON.stringify(strip(v))

const FIELDS: Record<string, string[]> = {
  request: ['method', 'url', 'headers', 'body', 'auth', 'scripts.prerequest', 'scripts.test', 'description', 'protocolProfileBehavior', 'extra'],
  folder: ['description', 'auth', 'variables', 'scripts.prerequest', 'scripts.test', 'protocolProfileBehavior', 'extra'],
  response: ['status', 'code', 'headers', 'body', 'cookies', 'responseTime', 'originalRequest', 'extra'],
  collection: ['description', 'version', 'auth', 'scripts.prerequest', 'scripts.test', 'protocolProfileBehavior', 'extra'],
  variable: ['value', 'type', 'enabled', 'description', 'extra'],
}
const get = (o: unknown, path: string): unknown => path.split('.').reduce<unknown>((x, k) => (x as Record<string, unknown>)?.[k], o)

interface Flat {
  kind: string
  name: string
  parent: string | null
  value: unknown
}
const flatten = (s: CollectionSnapshot): Map<string, Flat> => {
  const out = new Map<string, Flat>()
  const walk = (items: readonly ItemSnapshot[], parent: string | null) => {
    for (const i of items) {
      out.set(i.id, { kind: i.kind, name: i.name, parent, value: i })
      if (i.kind === 'folder') walk(i.items, i.id)
      else for (const r of i.responses) out.set(r.id, { kind: 'response', name: r.name, parent: i.id, value: r })
    }
  }
  walk(s.items, null)
  for (const v of s.variables) out.set(v.id, { kind: 'variable', name: v.key, parent: null, value: v })
  out.set('', { kind: 'collection', name: s.name, parent: null, value: s })
  return out
}

/** The net changes, as `kind entity id field` lines (moves within a folder left out: checked on their own). */
const oracle = (a: CollectionSnapshot, b: CollectionSnapshot): string[] => {
  const fa = flatten(a)
  const fb = flatten(b)
  const out: string[] = []
  for (const [id, x] of fb) {
    const w = fa.get(id)
    if (!w) {
      out.push(`added ${x.kind} ${id}`)
      continue
    }
    if (x.kind !== 'response' && x.kind !== 'variable' && w.parent !== x.parent) out.push(`moved ${x.kind} ${id}`)
    if (w.name !== x.name) out.push(`renamed ${x.kind} ${id} name`)
    for (const f of FIELDS[x.kind]!) if (plain(get(w.value, f)) !== plain(get(x.value, f))) out.push(`changed ${x.kind} ${id} ${f}`)
  }
  for (const [id, w] of fa) if (!fb.has(id)) out.push(`removed ${w.kind} ${id}`)
  return out.sort()
}

const line = (c: Change) => `${c.kind} ${c.entity} ${c.id}${c.field ? ` ${c.field}` : ''}`

/** The children order of each folder (null: the top level). */
const orders = (s: CollectionSnapshot): Map<string | null, string[]> => {
  const out = new Map<string | null, string[]>()
  const walk = (items: readonly ItemSnapshot[], parent: string | null) => {
    out.set(parent, items.map((i) => i.id))
    for (const i of items) if (i.kind === 'folder') walk(i.items, i.id)
  }
  walk(s.items, null)
  return out
}
const lcs = (x: readonly string[], y: readonly string[]): number => {
  const t = Array.from({ length: x.length + 1 }, () => new Array<number>(y.length + 1).fill(0))
  for (let i = x.length - 1; i >= 0; i--) for (let j = y.length - 1; j >= 0; j--) t[i]![j] = x[i] === y[j] ? t[i + 1]![j + 1]! + 1 : Math.max(t[i + 1]![j]!, t[i]![j + 1]!)
  return t[0]![0]!
}

// ---------------------------------------------------------------------------------------------- property

const baseDoc = (): CollectionModel => {
  const doc = new Y.Doc()
  doc.clientID = 1
  const m = CollectionModel.create(doc, { name: 'S', variables: [{ key: 'base', value: 'x' }] })
  const f = m.createFolder({ name: 'F', variables: [{ key: 'v', value: '1' }] })
  const r = m.createRequest({ name: 'R', url: { raw: 'https://a.test/:id?x=1' }, headers: [{ key: 'h', value: 'v' }] }, { parent: f })
  m.addResponse(r, { name: 'ok', code: 200 })
  m.createRequest({ name: 'T' })
  m.createFolder({ name: 'G' }, { parent: f })
  return m
}

test('diffDocs lists exactly the net changes; restores restore exactly; restores sync and merge', () => {
  fc.assert(
    fc.property(fc.array(op, { maxLength: 8 }), fc.array(op, { minLength: 1, maxLength: 25 }), fc.array(op, { maxLength: 6 }), fc.nat(), (before, edits, concurrent, seed) => {
      const m = baseDoc()
      for (const o of before) apply(m, o)
      const a = version(m)
      for (const o of edits) apply(m, o)
      m.clearUndoHistory()
      const sa = a.snapshot()
      const sb = m.snapshot()

      // 1. The diff: exactly the oracle's changes, plus moves within a folder that are a fewest set.
      const diff = diffDocs(a, m)
      expect(diff.changes.filter((c) => !c.reordered).map(line).sort()).toEqual(oracle(sa, sb))
      const oa = orders(sa)
      for (const [parent, now] of orders(sb)) {
        const was = oa.get(parent)
        if (!was) continue
        const stayedA = was.filter((id) => now.includes(id))
        const stayedB = now.filter((id) => was.includes(id))
        const moved = new Set(diff.changes.filter((c) => c.reordered && (c.after as { parentId: string | null }).parentId === parent).map((c) => c.id))
        expect(moved.size).toBe(stayedA.length - lcs(stayedA, stayedB))
        // The others kept their order.
        expect(stayedA.filter((id) => !moved.has(id))).toEqual(stayedB.filter((id) => !moved.has(id)))
      }
      for (const c of diff.changes) if (c.kind === 'changed' && c.entity === 'request' && c.field === 'method') {
        expect([c.before, c.after]).toEqual([(get(flatten(sa).get(c.id)!.value, 'method')), get(flatten(sb).get(c.id)!.value, 'method')])
      }

      // 2. restoreField of one change: that change gone, nothing else changed.
      const fields = diff.changes.filter((c) => c.field !== undefined)
      const one = pick(fields, seed)
      if (one) {
        const copy = CollectionModel.open(fork(m.doc, 5))
        copy.restoreField(a, one.id, one.field!)
        // Without the names around each change (restoring a rename changes the names others carry).
        const unnamed = (v: unknown) => (typeof v === 'object' && v !== null && 'where' in v ? { ...v, where: [] } : v)
        const bare = (list: readonly Change[]) =>
          list.filter((x) => !(x.id === one.id && x.field === one.field)).map(({ name: _n, where: _w, ...rest }) => ({ ...rest, before: unnamed(rest.before), after: unnamed(rest.after) }))
        expect(bare(diffDocs(a, copy).changes)).toEqual(bare(diff.changes))
      }

      // 3. restoreItem of one item of `a`: it reads as it did in `a`.
      const items = [...flatten(sa).entries()].filter(([, x]) => x.kind === 'folder' || x.kind === 'request')
      const item = pick(items, seed)
      if (item) {
        const copy = CollectionModel.open(fork(m.doc, 6))
        copy.restoreItem(a, item[0])
        expect(copy.get(item[0])).toEqual(a.get(item[0]))
        expect(copy.parentId(item[0])).toBe(a.parentId(item[0]))
      }

      // 4. restoreAll, concurrent with another replica's edits; then undo and redo on the restoring replica.
      const other = CollectionModel.open(fork(m.doc, 7))
      m.restoreAll(a)
      expect(content(m.snapshot())).toEqual(content(sa))
      expect(diffDocs(a, m).changes).toEqual([])
      const undone = version(m)
      m.undo()
      expect(content(m.snapshot())).toEqual(content(sb))
      m.redo()
      expect(content(m.snapshot())).toEqual(content(undone.snapshot()))
      const mine = new Set(allItems(other))
      for (const o of concurrent) apply(other, o)
      const created = allItems(other).filter((id) => !mine.has(id) && other.get(id) !== undefined)
      syncAll(m.doc, other.doc)
      expect(content(other.snapshot())).toEqual(content(m.snapshot()))
      expect(other.conflicts()).toEqual(m.conflicts())
      // What the other replica created concurrently is kept (the restore could not have known it).
      for (const id of created) expect(other.get(id)).toBeDefined()
    }),
    { numRuns: RUNS },
  )
})
