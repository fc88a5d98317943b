/**
 * The request invariants property: 2–4 replicas make random concurrent edits of URLs (typed whole or key by
 * key), query rows, path variables, auth and body, resolve conflicts and undo, and exchange updates with random
 * partial, duplicated and reordered delivery. After every full exchange every replica shows the same
 * collection, and every request of every replica exports as a Postman request that means one thing:
 * - its raw URL parses (Postman's own parser) to exactly its enabled query rows, as Postman writes them;
 * - its path variables are the `:names` of its raw URL's path, in order; its host and path are its raw URL's;
 * - its auth has a type, and Postman's SDK reads it as that type;
 * - its body mode is the model's, and an edit of another mode's content that the winning mode switch had not
 *   seen (made on another device) is offered back by a `bodyMode` conflict: never silently dropped.
 * APISYNC_INVARIANT_RUNS=20000 runs it longer.
 */
import { Request, Url } from 'postman-collection'
import fc from 'fast-check'
import { expect, test } from 'vitest'
import * as Y from 'yjs'
import { CollectionModel, type Json, ModelError, type RequestSnapshot } from '@apisync/model'
import { exportCollection } from '@apisync/postman'
import { REMOTE, Replicas, resolveOne } from '../../model/test/replicas.js'

const RUNS = Number(process.env.APISYNC_INVARIANT_RUNS ?? 500)

const BASES = ['https://shop.test', '{{base}}', 'http://localhost:8080']
const PATHS = ['/products', '/v2/products', '/users/:id', '/users/:id/posts/:postId.json', '/:a/:a', '']
const QUERIES = ['', '?limit=10', '?limit=20', '?sort=asc&limit=10', '?limit=10&sort=desc', '?', '?a={{x#y}}', '?q=a%26b', '?x&&y', '?limit=10&limit=20']
const HASHES = ['', '#top']
const KEYS = ['limit', 'sort', 'k=1', 'a&b', '', 'debug']
const VALUES = ['v', 'x&b=1', 'a#b', '{{v}}', '', '20', '10']
const VAR_KEYS = ['id', 'uid', 'postId', 'a/b', 'new']
const AUTHS: Json[] = [
  null,
  { type: 'bearer', bearer: [{ key: 'token', value: 't', type: 'string' }] },
  { type: 'basic', basic: [{ key: 'username', value: 'u', type: 'string' }, { key: 'password', value: 'p', type: 'string' }] },
  { type: 'apikey', apikey: [{ key: 'key', value: 'X-Key', type: 'string' }] },
  { type: 'noauth' },
]
const MODES = [null, 'raw', 'urlencoded', 'formdata', 'graphql', 'none']
const REQUESTS = ['R0', 'R1', 'R2']

const idx = fc.nat({ max: 40 })
const replica = fc.nat({ max: 3 })
const url = fc.tuple(fc.nat(), fc.nat(), fc.nat(), fc.nat()).map(([b, p, q, h]) => BASES[b % BASES.length]! + PATHS[p % PATHS.length]! + QUERIES[q % QUERIES.length]! + HASHES[h % HASHES.length]!)
const op = fc.oneof(
  { arbitrary: fc.record({ t: fc.constant('url' as const), r: replica, q: idx, url }), weight: 6 },
  // Typing: the URL as it is after some keystrokes towards a target.
  { arbitrary: fc.record({ t: fc.constant('type' as const), r: replica, q: idx, url, cut: fc.nat({ max: 6 }) }), weight: 3 },
  { arbitrary: fc.record({ t: fc.constant('addQuery' as const), r: replica, q: idx, key: idx, value: idx, enabled: fc.boolean(), at: fc.option(fc.nat({ max: 3 })) }), weight: 3 },
  {
    arbitrary: fc.record({
      t: fc.constant('updateQuery' as const),
      r: replica,
      q: idx,
      row: idx,
      patch: fc.oneof(idx.map((k) => ({ key: KEYS[k % KEYS.length]! })), idx.map((v) => ({ value: VALUES[v % VALUES.length]! })), fc.boolean().map((enabled) => ({ enabled }))),
    }),
    weight: 5,
  },
  { arbitrary: fc.record({ t: fc.constant('removeQuery' as const), r: replica, q: idx, row: idx }), weight: 2 },
  { arbitrary: fc.record({ t: fc.constant('moveQuery' as const), r: replica, q: idx, row: idx, to: fc.nat({ max: 3 }) }), weight: 1 },
  { arbitrary: fc.record({ t: fc.constant('addVar' as const), r: replica, q: idx, key: idx, value: idx }), weight: 1 },
  { arbitrary: fc.record({ t: fc.constant('updateVar' as const), r: replica, q: idx, row: idx, key: fc.option(idx), value: idx }), weight: 3 },
  { arbitrary: fc.record({ t: fc.constant('removeVar' as const), r: replica, q: idx, row: idx }), weight: 1 },
  { arbitrary: fc.record({ t: fc.constant('auth' as const), r: replica, q: idx, auth: idx }), weight: 2 },
  { arbitrary: fc.record({ t: fc.constant('mode' as const), r: replica, q: idx, mode: idx }), weight: 3 },
  { arbitrary: fc.record({ t: fc.constant('bodyText' as const), r: replica, q: idx, text: fc.constantFrom('{"a":1}', 'x', '') }), weight: 3 },
  { arbitrary: fc.record({ t: fc.constant('form' as const), r: replica, q: idx, key: idx }), weight: 1 },
  { arbitrary: fc.record({ t: fc.constant('resolve' as const), r: replica, conflict: idx, choice: idx }), weight: 3 },
  { arbitrary: fc.record({ t: fc.constant('undo' as const), r: replica }), weight: 2 },
  { arbitrary: fc.record({ t: fc.constant('redo' as const), r: replica }), weight: 1 },
  { arbitrary: fc.record({ t: fc.constant('deliver' as const), from: replica, to: replica, picks: fc.option(fc.array(fc.nat(), { maxLength: 8 }), { freq: 3 }) }), weight: 5 },
  { arbitrary: fc.record({ t: fc.constant('exchange' as const) }), weight: 3 },
)
type Op = typeof op extends fc.Arbitrary<infer T> ? T : never

/** A local transaction: who, what it had seen, and (for the body check) what it did to bodies. */
interface Tx {
  readonly client: number
  readonly from: number
  readonly to: number
  readonly saw: ReadonlyMap<number, number>
  /** Request id → modes whose content it edited. */
  readonly edited: ReadonlyMap<string, ReadonlySet<string>>
}
const CONTENT_MODE: Record<string, string> = { bodyRaw: 'raw', urlencoded: 'urlencoded', formdata: 'formdata', graphqlQuery: 'graphql', graphqlVariables: 'graphql' }

const seed = () => {
  const d = new Y.Doc()
  d.clientID = 1000
  const m = CollectionModel.create(d, { id: 'col', name: 'Shop' })
  m.createRequest({ id: 'R0', name: 'list', url: { raw: 'https://shop.test/products?limit=10&sort=asc' }, body: { mode: 'raw', raw: '{}' } })
  m.createRequest({ id: 'R1', name: 'get', url: { raw: '{{base}}/users/:id?debug=1' }, auth: { type: 'bearer', bearer: [{ key: 'token', value: 't', type: 'string' }] } })
  m.createRequest({ id: 'R2', name: 'form', url: { raw: 'http://localhost:8080/:a' }, body: { mode: 'urlencoded', urlencoded: [{ key: 'k', value: 'v' }] } })
  m.addRow('R1', 'query', { key: 'off', value: '1', enabled: false })
  m.destroy()
  return Y.encodeStateAsUpdate(d)
}
const SEED = seed()

class World extends Replicas {
  readonly models: CollectionModel[]
  readonly txs: Tx[] = []

  constructor(n: number) {
    super(n, SEED)
    for (const d of this.docs) d.on('afterTransaction', (tr: Y.Transaction) => this.record(d, tr))
    this.models = this.docs.map((d, i) => CollectionModel.open(d, { actor: `u${i}`, device: `d${i}` }))
  }

  private record(d: Y.Doc, tr: Y.Transaction): void {
    if (tr.origin === REMOTE) return
    const from = tr.beforeState.get(d.clientID) ?? 0
    const to = tr.afterState.get(d.clientID) ?? 0
    if (to === from) return
    const edited = new Map<string, Set<string>>()
    const items = d.getMap('items')
    for (const type of tr.changedParentTypes.keys()) {
      // A changed text or list of a request's body: find which, and which request.
      const item = type._item
      if (!item || !(item.parent instanceof Y.Map) || item.parent.parent !== items || typeof item.parentSub !== 'string') continue
      const mode = CONTENT_MODE[item.parentSub]
      if (!mode) continue
      const id = item.parent.get('id') as string
      edited.set(id, (edited.get(id) ?? new Set()).add(mode))
    }
    this.txs.push({ client: d.clientID, from, to, saw: new Map(tr.beforeState), edited })
  }

  apply(o: Op): void {
    if (o.t === 'exchange') return this.exchange()
    if (o.t === 'deliver') {
      this.deliver(o.from, o.to, o.picks)
      return
    }
    const m = this.models[o.r % this.models.length]!
    const q = 'q' in o ? REQUESTS[o.q % REQUESTS.length]! : ''
    const req = () => (m.get(q) ?? m.getDeleted(q)) as RequestSnapshot | undefined
    const row = <T>(list: readonly T[], i: number) => list[i % Math.max(1, list.length)]
    try {
      switch (o.t) {
        case 'url':
          m.updateItem(q, { url: { raw: o.url } })
          break
        case 'type': {
          // A few keystrokes towards the target, each one a write, as a URL field that writes as one types.
          const cur = req()?.url.raw ?? ''
          let common = 0
          while (common < cur.length && common < o.url.length && cur[common] === o.url[common]) common++
          const steps = Math.min(o.cut, o.url.length - common)
          m.updateItem(q, { url: { raw: cur.slice(0, common) } })
          for (let i = 1; i <= steps; i++) m.updateItem(q, { url: { raw: o.url.slice(0, common + i) } })
          break
        }
        case 'addQuery':
          m.addRow(q, 'query', { key: KEYS[o.key % KEYS.length]!, value: VALUES[o.value % VALUES.length]!, enabled: o.enabled }, o.at === null ? undefined : { index: o.at })
          break
        case 'updateQuery': {
          const r = row(req()?.url.query ?? [], o.row)
          if (r) m.updateRow(q, 'query', r.id, o.patch)
          break
        }
        case 'removeQuery': {
          const r = row(req()?.url.query ?? [], o.row)
          if (r) m.removeRow(q, 'query', r.id)
          break
        }
        case 'moveQuery': {
          const r = row(req()?.url.query ?? [], o.row)
          if (r) m.moveRow(q, 'query', r.id, { index: o.to })
          break
        }
        case 'addVar':
          m.addRow(q, 'pathVariables', { key: VAR_KEYS[o.key % VAR_KEYS.length]!, value: VALUES[o.value % VALUES.length]! })
          break
        case 'updateVar': {
          const r = row(req()?.url.variables ?? [], o.row)
          if (r) m.updateRow(q, 'pathVariables', r.id, o.key === null ? { value: VALUES[o.value % VALUES.length]! } : { key: VAR_KEYS[o.key % VAR_KEYS.length]! })
          break
        }
        case 'removeVar': {
          const r = row(req()?.url.variables ?? [], o.row)
          if (r) m.removeRow(q, 'pathVariables', r.id)
          break
        }
        case 'auth':
          m.updateItem(q, { auth: AUTHS[o.auth % AUTHS.length] as never })
          break
        case 'mode':
          m.updateItem(q, { body: { mode: MODES[o.mode % MODES.length]! } })
          break
        case 'bodyText':
          m.updateItem(q, { body: { raw: o.text } })
          break
        case 'form':
          m.addRow(q, 'urlencoded', { key: KEYS[o.key % KEYS.length]! })
          break
        case 'resolve':
          resolveOne(m, o.conflict, o.choice)
          break
        case 'undo':
          m.undo()
          break
        case 'redo':
          m.redo()
          break
      }
    } catch (e) {
      if (!(e instanceof ModelError)) throw e
    }
  }
}

// ------------------------------------------------------------------------------------------- checks

const encode = (s: string, equals: boolean) => {
  let out = ''
  let at = 0
  for (const m of s.matchAll(/{{[^{}]*}}/g)) {
    out += enc(s.slice(at, m.index), equals) + m[0]
    at = m.index + m[0].length
  }
  return out + enc(s.slice(at), equals)
}
const enc = (s: string, equals: boolean) => {
  const r = s.replace(/&/g, '%26').replace(/#/g, '%23')
  return equals ? r.replace(/=/g, '%3D') : r
}

type Exported = { name: string; request: { url?: unknown; auth?: { type?: unknown }; body?: { mode?: unknown } } }

/** One exported request means one thing. */
const checkRequest = (item: Exported, model: RequestSnapshot) => {
  const u = item.request.url
  const raw = typeof u === 'string' ? u : (u as { raw?: string } | undefined)?.raw ?? ''
  expect(raw).toBe(model.url.raw)
  const parsed = Url.parse(raw) as { query?: { key: string | null; value: string | null }[]; variable?: { key: string }[]; host?: string[]; path?: string[] }
  const query = (parsed.query ?? []).map((p) => [p.key ?? '', p.value ?? ''])
  if (typeof u === 'object' && u !== null) {
    const o = u as { query?: { key: string | null; value: string | null; disabled?: boolean }[]; variable?: { key: string }[]; host?: string[]; path?: string[] }
    const rows = (o.query ?? []).filter((q) => q.disabled !== true).map((q) => [encode(q.key ?? '', true), encode(q.value ?? '', false)])
    expect(query, `raw ${raw} and its query rows`).toEqual(rows)
    expect((o.variable ?? []).map((v) => v.key), `raw ${raw} and its path variables`).toEqual((parsed.variable ?? []).map((v) => v.key))
    expect(o.host).toEqual(parsed.host)
    expect(o.path).toEqual(parsed.path)
  } else {
    expect(model.url.query.filter((q) => q.enabled).map((q) => [encode(q.key, true), encode(q.value, false)])).toEqual(query)
    expect(model.url.variables.map((v) => v.key)).toEqual((parsed.variable ?? []).map((v) => v.key))
  }
  // The SDK reads the same request.
  const sdk = new Request(item.request as never)
  expect(sdk.url.query.all().filter((q) => !q.disabled).length).toBe(query.length)
  // Auth: a type, read by the SDK as that type.
  const auth = item.request.auth
  if (model.auth === null) expect(auth).toBeUndefined()
  else {
    expect(typeof auth?.type).toBe('string')
    expect(sdk.auth?.type).toBe(auth!.type)
  }
  // Body: the model's mode.
  expect(item.request.body?.mode ?? null).toBe(model.body.mode === null ? null : model.body.mode)
}

const sawTx = (a: Tx, b: Tx) => (a.saw.get(b.client) ?? 0) > b.from

/** Whether `t` left live content in a mode's fields (an edit undone since, or one that only deleted, did not). */
const leftContent = (map: Y.Map<unknown>, mode: string, t: Tx): boolean => {
  const mine = (item: Y.Item) => !item.deleted && item.id.client === t.client && item.id.clock >= t.from && item.id.clock < t.to
  const walk = (type: Y.AbstractType<unknown>): boolean => {
    if (type instanceof Y.Map) {
      for (const item of type._map.values()) if (mine(item) || (item.content instanceof Y.ContentType && !item.deleted && walk(item.content.type))) return true
      return false
    }
    for (let item = type._start; item; item = item.right) if (mine(item) || (item.content instanceof Y.ContentType && !item.deleted && walk(item.content.type))) return true
    return false
  }
  return Object.entries(CONTENT_MODE).some(([field, m]) => m === mode && map.get(field) instanceof Y.AbstractType && walk(map.get(field) as Y.AbstractType<unknown>))
}

/** An edit of a mode's content that the winning mode switch had not seen, from another device, is offered back. */
const checkBodyEdits = (w: World) => {
  const m = w.models[0]!
  const items = new Map<string, Y.Map<unknown>>()
  w.docs[0]!.getMap('items').forEach((map) => map instanceof Y.Map && items.set(map.get('id') as string, map))
  for (const id of REQUESTS) {
    const map = items.get(id)!
    let winner: { client: number; clock: number; n: number; v: Json } | undefined
    for (const [key, item] of map._map) {
      if (item.deleted || !key.startsWith('bodyMode@')) continue
      const e = map.get(key) as { v: Json; n: number }
      if (!winner || e.n > winner.n || (e.n === winner.n && item.id.client > winner.client)) winner = { client: item.id.client, clock: item.id.clock, n: e.n, v: e.v }
    }
    if (!winner) continue
    const switcher = w.txs.find((t) => t.client === winner!.client && t.from <= winner!.clock && winner!.clock < t.to)
    if (!switcher) continue
    const snap = m.get(id) ?? m.getDeleted(id)
    const offered = m.conflicts().find((c) => c.entityId === id && c.field === 'bodyMode')?.alternatives.map((a) => a.value) ?? []
    for (const t of w.txs) {
      if (t.client === switcher.client || sawTx(switcher, t)) continue
      for (const mode of t.edited.get(id) ?? []) {
        if (mode === winner.v || !snap || !leftContent(map, mode, t)) continue
        expect(offered, `${id}: ${mode} content edited while the mode became ${String(winner.v)}`).toContain(mode)
      }
    }
  }
}

const check = (w: World) => {
  const first = w.models[0]!.snapshot()
  for (const m of w.models.slice(1)) expect(m.snapshot()).toEqual(first)
  for (const m of w.models) {
    const out = exportCollection(m) as { item: Exported[] }
    const byName = new Map(out.item.map((i) => [i.name, i]))
    for (const r of m.snapshot().items) if (r.kind === 'request') checkRequest(byName.get(r.name)!, r)
  }
  checkBodyEdits(w)
}

const run = (n: number, ops: readonly Op[]) => {
  const w = new World(n)
  for (const o of ops) {
    w.apply(o)
    if (o.t === 'exchange') check(w)
  }
  w.exchange()
  check(w)
}

test(`every request means one thing after any merge (${RUNS} runs)`, { timeout: Math.max(600_000, RUNS * 200) }, () => {
  fc.assert(
    fc.property(fc.integer({ min: 2, max: 4 }), fc.array(op, { minLength: 1, maxLength: 30 }), (n, ops) => run(n, ops)),
    { numRuns: RUNS },
  )
})
