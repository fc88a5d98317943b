/**
 * Row ids given by the caller (row-ids.ts): a row added to an existing list with a given id is kept under a key
 * of its own, so the same id added on two replicas at once keeps both rows (Yjs would keep one of two maps set
 * under one key); the first by key answers to the id, the other to `id~key`. An id in use is refused.
 */
import fc from 'fast-check'
import { describe, expect, test } from 'vitest'
import * as Y from 'yjs'
import { CollectionModel, EnvironmentModel, ModelError, type RequestSnapshot, type Variable, WorkspaceModel } from '@apisync/model'
import { docs, expectRefused, fork, syncAll } from './helpers.js'

const RUNS = Number(process.env.APISYNC_PROPERTY_RUNS ?? 500)

/** Two replicas of one environment, with one variable `base` made with it. */
const twoEnvs = () => {
  const [a, b] = docs(2) as [Y.Doc, Y.Doc]
  const ea = EnvironmentModel.create(a, { id: 'e', name: 'Dev', variables: [{ id: 'base', key: 'base', value: 'x' }] }, { actor: 'ann' })
  syncAll(a, b)
  const eb = EnvironmentModel.open(b, { actor: 'bob' })
  return { a, b, ea, eb }
}
const variables = (m: EnvironmentModel) => m.snapshot().variables
/** twoEnvs, and a variable `token` added on both at once (laptop, desktop), synced: `other` is the id~key one. */
const twoTokens = () => {
  const envs = twoEnvs()
  envs.ea.addRow('variables', { id: 'token', key: 'token', value: 'laptop' })
  envs.eb.addRow('variables', { id: 'token', key: 'token', value: 'desktop' })
  syncAll(envs.a, envs.b)
  return { ...envs, other: variables(envs.ea).find((v) => v.id.startsWith('token~'))!.id }
}
const byId = (m: EnvironmentModel, id: string) => variables(m).find((v) => v.id === id)
const version = (m: EnvironmentModel) => EnvironmentModel.open(fork(m.doc, 4242), { readOnly: true })

describe('the same row id added on two replicas at once', () => {
  test('environment variables: both kept, the first answers to the id, the other to id~key; no conflict, the same everywhere', () => {
    const { a, b, ea, eb } = twoEnvs()
    expect(ea.addRow('variables', { id: 'token', key: 'token', value: 'laptop' })).toBe('token')
    expect(eb.addRow('variables', { id: 'token', key: 'token', value: 'desktop' })).toBe('token')
    syncAll(a, b)
    expect(ea.snapshot()).toEqual(eb.snapshot())
    expect(EnvironmentModel.open(fork(a, 99)).snapshot()).toEqual(ea.snapshot())
    const tokens = variables(ea).filter((v) => v.key === 'token')
    expect(tokens.map((v) => v.value).sort()).toEqual(['desktop', 'laptop'])
    const ids = tokens.map((v) => v.id).sort()
    expect(ids[0]).toBe('token')
    expect(ids[1]).toMatch(/^token~./)
    expect(ea.conflicts()).toEqual([])
    // The row made with the environment keeps its id as its key: docs read as before.
    expect(byId(ea, 'base')?.value).toBe('x')
    expect(a.getMap('environment.variables').get('base')).toBeInstanceOf(Y.Map)
  })

  test('each is updated, moved and removed by the id it shows, on any replica', () => {
    const { a, b, ea, eb, other } = twoTokens()
    const first = byId(ea, 'token')!.value
    ea.updateRow('variables', 'token', { value: 'one' })
    eb.updateRow('variables', other, { value: 'two' })
    syncAll(a, b)
    expect(byId(eb, 'token')?.value).toBe('one')
    expect(byId(ea, other)?.value).toBe('two')
    expect(first).not.toBe(undefined)
    eb.moveRow('variables', other, { index: 0 })
    syncAll(a, b)
    expect(variables(ea).map((v) => v.id)).toEqual([other, 'base', 'token'])
    ea.removeRow('variables', other)
    syncAll(a, b)
    expect(variables(eb).map((v) => v.id)).toEqual(['base', 'token'])
    eb.removeRow('variables', 'token')
    syncAll(a, b)
    expect(variables(ea).map((v) => v.id)).toEqual(['base'])
    expect(ea.snapshot()).toEqual(eb.snapshot())
  })

  test('change events name each by the id it shows, on the replica that wrote and on the one that received', () => {
    const { a, b, ea, eb, other } = twoTokens()
    const seen: { on: string; local: boolean; ids: string[] }[] = []
    ea.subscribe((e) => seen.push({ on: 'a', local: e.local, ids: [...e.ids].filter((id) => id.startsWith('token')) }))
    eb.subscribe((e) => seen.push({ on: 'b', local: e.local, ids: [...e.ids].filter((id) => id.startsWith('token')) }))
    eb.updateRow('variables', other, { value: 'two' })
    syncAll(a, b)
    ea.updateRow('variables', 'token', { value: 'one' })
    syncAll(a, b)
    ea.removeRow('variables', other)
    syncAll(a, b)
    expect(seen).toEqual([
      { on: 'b', local: true, ids: [other] },
      { on: 'a', local: false, ids: [other] },
      { on: 'a', local: true, ids: ['token'] },
      { on: 'b', local: false, ids: ['token'] },
      { on: 'a', local: true, ids: [other] },
      { on: 'b', local: false, ids: [other] },
    ])
  })

  test('restoreItem and restoreField bring back each of the two by the id it shows', () => {
    const { a, b, ea, eb, other } = twoTokens()
    const was = { token: byId(ea, 'token')!.value, [other]: byId(ea, other)!.value }
    const v = version(ea)
    ea.updateRow('variables', 'token', { value: 'changed' })
    ea.removeRow('variables', other)
    syncAll(a, b)
    eb.restoreItem(v, other)
    eb.restoreField(v, 'token', 'value')
    syncAll(a, b)
    for (const m of [ea, eb]) {
      expect(byId(m, 'token')?.value).toBe(was.token)
      expect(byId(m, other)?.value).toBe(was[other])
    }
    expect(ea.snapshot()).toEqual(eb.snapshot())
  })

  test('a version taken before the second arrived restores the row it showed, not the one now answering to its id', () => {
    const [a, b] = docs(2, 1) as [Y.Doc, Y.Doc]
    const ea = EnvironmentModel.create(a, { id: 'e', name: 'Dev' })
    syncAll(a, b)
    const eb = EnvironmentModel.open(b)
    ea.addRow('variables', { id: 'token', key: 'token', value: 'laptop' })
    eb.addRow('variables', { id: 'token', key: 'token', value: 'desktop' })
    // A version of each side alone: there, the side's own row answers to `token`.
    const va = version(ea)
    const vb = version(eb)
    syncAll(a, b)
    ea.updateRow('variables', 'token', { value: 'changed' })
    const other = variables(ea).find((v) => v.id.startsWith('token~'))!.id
    ea.updateRow('variables', other, { value: 'changed' })
    ea.restoreField(va, 'token', 'value')
    ea.restoreField(vb, 'token', 'value')
    expect(variables(ea).map((v) => v.value).sort()).toEqual(['desktop', 'laptop'])
  })

  test('request headers, query rows and path variables', () => {
    const [a, b] = docs(2) as [Y.Doc, Y.Doc]
    const ma = CollectionModel.create(a, { name: 'S' })
    const r = ma.createRequest({ name: 'r', url: { raw: 'https://x.test/users' } })
    syncAll(a, b)
    const mb = CollectionModel.open(b)
    ma.addRow(r, 'headers', { id: 'h', key: 'X', value: 'a' })
    mb.addRow(r, 'headers', { id: 'h', key: 'X', value: 'b' })
    ma.addRow(r, 'query', { id: 'q', key: 'page', value: '1' })
    mb.addRow(r, 'query', { id: 'q', key: 'page', value: '2' })
    // The same path variable from both: one variable (pooled by key), both values offered.
    ma.addRow(r, 'pathVariables', { id: 'p', key: 'id', value: '7' })
    mb.addRow(r, 'pathVariables', { id: 'p', key: 'id', value: '8' })
    syncAll(a, b)
    expect(ma.snapshot()).toEqual(mb.snapshot())
    expect(CollectionModel.open(fork(a, 99)).snapshot()).toEqual(ma.snapshot())
    const req = ma.get(r) as RequestSnapshot
    expect(req.headers.map((h) => h.value).sort()).toEqual(['a', 'b'])
    expect(req.headers.map((h) => h.id).sort()[0]).toBe('h')
    // Query rows of one key made at once pool as one row (both tagged `page#0`): both values in the URL conflict.
    expect(req.url.query).toHaveLength(1)
    expect(req.url.query[0]!.id).toBe('q')
    const url = ma.conflicts().find((c) => c.field === 'url')!
    expect(JSON.stringify(url.alternatives)).toContain('page=1')
    expect(JSON.stringify(url.alternatives)).toContain('page=2')
    expect(req.url.variables.map((v) => v.id)).toEqual(['p'])
    const vars = ma.conflicts().find((c) => c.entityKind === 'pathVariable')!
    expect(vars.alternatives.map((x) => x.value).sort()).toEqual(['7', '8'])
    // Each header answers to its id.
    const second = req.headers.find((h) => h.id !== 'h')!.id
    ma.updateRow(r, 'headers', second, { value: 'B' })
    mb.removeRow(r, 'headers', 'h')
    syncAll(a, b)
    expect((mb.get(r) as RequestSnapshot).headers.map((h) => [h.id, h.value])).toEqual([[second, 'B']])
  })

  test('folder variables, workspace index entries, header presets and the headers of a duplicated preset', () => {
    const [a, b] = docs(2) as [Y.Doc, Y.Doc]
    const ma = CollectionModel.create(a, { name: 'S' })
    const f = ma.createFolder({ name: 'F' })
    const wa = WorkspaceModel.create(new Y.Doc(), { name: 'Team' })
    const [wda, wdb] = [wa.doc, fork(wa.doc, 77)]
    syncAll(a, b)
    const mb = CollectionModel.open(b)
    const wb = WorkspaceModel.open(wdb)
    ma.addRow(f, 'variables', { id: 'v', key: 'k', value: 'a' })
    mb.addRow(f, 'variables', { id: 'v', key: 'k', value: 'b' })
    wa.addRow('collections', { id: 'c', docId: 'c1', name: 'One' })
    wb.addRow('collections', { id: 'c', docId: 'c2', name: 'Two' })
    wa.addRow('headerPresets', { id: 'p', name: 'Auth (a)' })
    wb.addRow('headerPresets', { id: 'p', name: 'Auth (b)' })
    syncAll(a, b)
    syncAll(wda, wdb)
    const vs = (m: CollectionModel) => (m.get(f) as { variables: readonly Variable[] }).variables
    expect(vs(ma).map((v) => v.value).sort()).toEqual(['a', 'b'])
    expect(vs(ma)).toEqual(vs(mb))
    expect(wa.snapshot()).toEqual(wb.snapshot())
    expect(wa.snapshot().collections.map((c) => c.docId).sort()).toEqual(['c1', 'c2'])
    const presets = wa.snapshot().headerPresets
    expect(presets.map((p) => p.name).sort()).toEqual(['Auth (a)', 'Auth (b)'])
    // A nested list is reached through the id its preset shows.
    for (const p of presets) wa.addRow(`headerPresets/${p.id}/headers`, { key: 'X-Preset', value: p.name })
    syncAll(wda, wdb)
    for (const p of wb.snapshot().headerPresets) expect(p.headers.map((h) => h.value)).toEqual([p.name])
  })
})

describe('a caller-given row id in use is refused', () => {
  test('live or deleted, given or shown (id~key), in every kind of list', () => {
    const { a, b, ea, eb } = twoEnvs()
    ea.addRow('variables', { id: 'gone', key: 'g' })
    ea.removeRow('variables', 'gone')
    expectRefused(a, () => ea.addRow('variables', { id: 'base', key: 'again' }), 'INVALID_VALUE')
    expectRefused(a, () => ea.addRow('variables', { id: 'gone', key: 'again' }), 'INVALID_VALUE')
    ea.addRow('variables', { id: 'token', key: 't' })
    eb.addRow('variables', { id: 'token', key: 't' })
    syncAll(a, b)
    const other = variables(ea).find((v) => v.id.startsWith('token~'))!.id
    expectRefused(a, () => ea.addRow('variables', { id: 'token', key: 'again' }), 'INVALID_VALUE')
    expectRefused(a, () => ea.addRow('variables', { id: other, key: 'again' }), 'INVALID_VALUE')

    const [c] = docs(1, 7) as [Y.Doc]
    const m = CollectionModel.create(c, { name: 'S' })
    const r = m.createRequest({ name: 'r', url: { raw: 'https://x.test/:id?a=1' }, headers: [{ id: '0', key: 'A' }] })
    const q = (m.get(r) as RequestSnapshot).url.query[0]!.id
    // A variable of the path has no row until written (it shows as `:id`): writing it makes one.
    m.updateRow(r, 'pathVariables', ':id', { value: '1' })
    const p = (m.get(r) as RequestSnapshot).url.variables[0]!.id
    expect(p).not.toBe(':id')
    m.addRow(r, 'pathVariables', { id: 'pv', key: 'other' })
    expectRefused(c, () => m.addRow(r, 'pathVariables', { id: 'pv', key: 'third' }), 'INVALID_VALUE')
    expectRefused(c, () => m.addRow(r, 'headers', { id: '0', key: 'B' }), 'INVALID_VALUE')
    expectRefused(c, () => m.addRow(r, 'query', { id: q, key: 'b' }), 'INVALID_VALUE')
    expectRefused(c, () => m.addRow(r, 'pathVariables', { id: p, key: 'other' }), 'INVALID_VALUE')
    m.addRow(r, 'headers', { id: 'h', key: 'H' })
    m.removeRow(r, 'headers', 'h')
    expectRefused(c, () => m.addRow(r, 'headers', { id: 'h', key: 'H' }), 'INVALID_VALUE')
  })
})

// --------------------------------------------------------------------------------- the property

const given = ['x', 'y']
const op = fc.oneof(
  fc.record({ t: fc.constant('add' as const), r: fc.nat({ max: 2 }), id: fc.option(fc.constantFrom(...given), { freq: 3 }) }),
  fc.record({ t: fc.constant('update' as const), r: fc.nat({ max: 2 }), row: fc.nat({ max: 9 }) }),
  fc.record({ t: fc.constant('remove' as const), r: fc.nat({ max: 2 }), row: fc.nat({ max: 9 }) }),
  fc.record({ t: fc.constant('sync' as const), from: fc.nat({ max: 2 }), to: fc.nat({ max: 2 }) }),
)

test('property: rows added with a small pool of given ids on 2-3 replicas are all kept, each answering to one id, the same everywhere', () => {
  fc.assert(
    fc.property(fc.integer({ min: 2, max: 3 }), fc.array(op, { maxLength: 30 }), (n, ops) => {
      const ds = docs(n)
      const e0 = EnvironmentModel.create(ds[0]!, { id: 'e', name: 'Dev' })
      for (const d of ds.slice(1)) syncAll(ds[0]!, d)
      const ms = [e0, ...ds.slice(1).map((d) => EnvironmentModel.open(d))]
      // Every value added (each unique), so that a lost row shows.
      const added: string[] = []
      let k = 0
      for (const o of ops) {
        if (o.t === 'sync') {
          const from = ds[o.from % n]!
          const to = ds[o.to % n]!
          if (from !== to) Y.applyUpdate(to, Y.encodeStateAsUpdate(from, Y.encodeStateVector(to)))
          continue
        }
        const m = ms[o.r % n]!
        const rows = variables(m)
        try {
          if (o.t === 'add') {
            const value = `v${k++}`
            m.addRow('variables', { ...(o.id === null ? {} : { id: o.id }), key: 'k', value })
            added.push(value)
          } else if (rows.length > 0) {
            const row = rows[o.row % rows.length]!
            if (o.t === 'update') m.updateRow('variables', row.id, { description: `d${k++}` })
            else m.removeRow('variables', row.id)
          }
        } catch (e) {
          // Only a given id already in use on this replica is refused.
          if (!(e instanceof ModelError) || o.t !== 'add' || e.code !== 'INVALID_VALUE') throw e
        }
      }
      syncAll(...ds)
      const snap = ms[0]!.snapshot()
      for (const m of ms) expect(m.snapshot()).toEqual(snap)
      expect(EnvironmentModel.open(fork(ds[0]!, 999)).snapshot()).toEqual(snap)
      // No row is lost: every value added is in a row map of the list (removed rows are soft-deleted).
      const kept: string[] = []
      ds[0]!.getMap('environment.variables').forEach((row) => {
        if (row instanceof Y.Map) for (const [key, v] of row.entries()) if (key.startsWith('value@')) kept.push((v as { v: string }).v)
      })
      expect(kept.sort()).toEqual([...added].sort())
      // Each live row answers to an id of its own, and every one is found by it.
      const ids = snap.variables.map((v) => v.id)
      expect(new Set(ids).size).toBe(ids.length)
      for (const id of ids) ms[0]!.updateRow('variables', id, { enabled: false })
      expect(ms[0]!.snapshot().variables.every((v) => !v.enabled)).toBe(true)
    }),
    { numRuns: RUNS },
  )
})
