import { describe, expect, test } from 'vitest'
import { WorkspaceModel, docName, parseDocName } from '@apisync/model'
import { docs, expectRefused, fork, syncAll } from './helpers.js'

describe('workspace manifest', () => {
  test('name, index of collections and environments, header presets with their headers read back', () => {
    const [d] = docs(1)
    const w = WorkspaceModel.create(d!, {
      id: 'ws',
      name: 'Team',
      collections: [{ id: 'i1', docId: 'col-1', name: 'Shop' }],
      environments: [{ docId: 'env-1', name: 'Staging', extra: { color: 'red' } }],
      headerPresets: [
        { id: 'p1', name: 'JSON', headers: [{ key: 'Accept', value: 'application/json' }, { key: 'Content-Type', value: 'application/json' }] },
        { name: 'empty' },
      ],
      extra: { info: 'x' },
    })
    for (const m of [w, WorkspaceModel.open(fork(d!, 4))]) {
      const s = m.snapshot()
      expect(s).toMatchObject({ id: 'ws', name: 'Team', extra: { info: 'x' }, conflicts: [], problems: [] })
      expect(s.collections).toEqual([{ id: 'i1', docId: 'col-1', name: 'Shop', extra: {} }])
      expect(s.environments).toMatchObject([{ docId: 'env-1', name: 'Staging', extra: { color: 'red' } }])
      expect(s.headerPresets.map((p) => [p.id === 'p1', p.name, p.headers.map((h) => [h.key, h.value])])).toEqual([
        [true, 'JSON', [['Accept', 'application/json'], ['Content-Type', 'application/json']]],
        [false, 'empty', []],
      ])
    }
  })

  test('index rows and nested preset headers change through row operations', () => {
    const [d] = docs(1)
    const w = WorkspaceModel.create(d!, { name: 'Team', headerPresets: [{ id: 'p', name: 'Auth' }] })
    const c = w.addRow('collections', { docId: 'c1', name: 'One' })
    w.addRow('collections', { docId: 'c2', name: 'Two' }, { index: 0 })
    w.updateRow('collections', c, { name: 'Uno' })
    const e = w.addRow('environments', { docId: 'e1', name: 'Prod' })
    w.removeRow('environments', e)
    const h1 = w.addRow('headerPresets/p/headers', { key: 'Authorization', value: 'Bearer {{t}}' })
    const h2 = w.addRow('headerPresets/p/headers', { key: 'X-Tenant', value: 'acme' }, { index: 0 })
    w.updateRow('headerPresets/p/headers', h1, { enabled: false })
    w.moveRow('headerPresets/p/headers', h2, { after: h1 })
    w.updateRow('headerPresets', 'p', { name: 'Auth headers' })
    w.update({ name: 'Team 2' })
    const s = WorkspaceModel.open(fork(d!, 4)).snapshot()
    expect(s.name).toBe('Team 2')
    expect(s.collections.map((x) => [x.docId, x.name])).toEqual([['c2', 'Two'], ['c1', 'Uno']])
    expect(s.environments).toEqual([])
    expect(s.headerPresets).toMatchObject([{ id: 'p', name: 'Auth headers' }])
    expect(s.headerPresets[0]!.headers.map((h) => [h.id, h.key, h.enabled])).toEqual([
      [h1, 'Authorization', false],
      [h2, 'X-Tenant', true],
    ])
    w.removeRow('headerPresets/p/headers', h1)
    expect(w.snapshot().headerPresets[0]!.headers.map((h) => h.id)).toEqual([h2])
  })

  test('nested preset headers: invalid addresses and values are refused without writing', () => {
    const [d] = docs(1)
    const w = WorkspaceModel.create(d!, { id: 'ws', name: 'Team', headerPresets: [{ id: 'p', name: 'P' }, { id: 'gone', name: 'G' }] })
    w.removeRow('headerPresets', 'gone')
    expectRefused(d!, () => w.addRow('headerPresets/nope/headers', { key: 'a' }), 'NOT_FOUND')
    expectRefused(d!, () => w.addRow('headerPresets/gone/headers', { key: 'a' }), 'NOT_FOUND')
    expectRefused(d!, () => w.addRow('headerPresets/p/headers', { key: ['a'] }), 'INVALID_VALUE', 'workspace:ws/headerPresets/headerPreset:p/headers/key')
    expectRefused(d!, () => w.addRow('headerPresets/p/nothing' as never, { key: 'a' }), 'INVALID_VALUE')
    expectRefused(d!, () => w.updateRow('collections', 'nope', { name: 'x' }), 'NOT_FOUND')
    expectRefused(d!, () => w.update({ collections: [] } as never), 'INVALID_VALUE', 'workspace:ws/collections')
  })

  test('concurrent edits of a nested preset header conflict, and the resolution reaches it by path', () => {
    const [a, b] = docs(2)
    const wa = WorkspaceModel.create(a!, { id: 'ws', name: 'Team', headerPresets: [{ id: 'p', name: 'P', headers: [{ id: 'h', key: 'Accept', value: '*/*' }] }] })
    syncAll(a!, b!)
    const wb = WorkspaceModel.open(b!)
    wa.updateRow('headerPresets/p/headers', 'h', { value: 'a' })
    wb.updateRow('headerPresets/p/headers', 'h', { value: 'b' })
    wa.addRow('collections', { docId: 'x', name: 'X' })
    wb.addRow('collections', { docId: 'y', name: 'Y' })
    syncAll(a!, b!)
    expect(wa.snapshot()).toEqual(wb.snapshot())
    expect(wa.snapshot().collections).toHaveLength(2)
    const [c] = wb.conflicts()
    expect(c).toMatchObject({ kind: 'value', entityId: 'h', entityKind: 'header', ownerId: 'ws', path: 'workspace:ws/headerPresets/headerPreset:p/headers/header:h' })
    wb.resolve(c!.id, { value: 'c' })
    syncAll(a!, b!)
    expect(wa.conflicts()).toEqual([])
    expect(wa.snapshot().headerPresets[0]!.headers[0]!.value).toBe('c')
  })

  test('a preset removed while one of its headers is edited: delete conflict on the preset', () => {
    const [a, b] = docs(2)
    const wa = WorkspaceModel.create(a!, { id: 'ws', name: 'Team', headerPresets: [{ id: 'p', name: 'P', headers: [{ id: 'h', key: 'A' }] }] })
    syncAll(a!, b!)
    const wb = WorkspaceModel.open(b!)
    wa.removeRow('headerPresets', 'p')
    wb.updateRow('headerPresets/p/headers', 'h', { value: 'x' })
    syncAll(a!, b!)
    const [c] = wa.conflicts()
    expect(c).toMatchObject({ kind: 'delete', entityId: 'p', entityKind: 'headerPreset' })
    wa.resolve(c!.id, 'restore')
    syncAll(a!, b!)
    expect(wb.snapshot().headerPresets[0]!.headers[0]!.value).toBe('x')
    expect(wb.conflicts()).toEqual([])
  })
})

describe('doc names', () => {
  test('docName and parseDocName round-trip every kind', () => {
    const addresses = [
      { workspaceId: 'w1', kind: 'manifest' },
      { workspaceId: 'w1', kind: 'globals' },
      { workspaceId: 'w1', kind: 'collection', id: 'c-1' },
      { workspaceId: 'w_1', kind: 'environment', id: 'E' },
      { workspaceId: 'w1', kind: 'runs', id: 'c-1' },
    ] as const
    for (const a of addresses) expect(parseDocName(docName(a))).toEqual(a)
    expect(docName({ workspaceId: 'w1', kind: 'collection', id: 'c' })).toBe('w1/collection/c')
  })

  test('unsafe ids are refused; malformed names parse to undefined', () => {
    expect(() => docName({ workspaceId: '../x', kind: 'manifest' })).toThrow(expect.objectContaining({ code: 'INVALID_VALUE' }))
    expect(() => docName({ workspaceId: 'w', kind: 'collection', id: 'a/b' })).toThrow(expect.objectContaining({ code: 'INVALID_VALUE' }))
    expect(() => docName({ workspaceId: 'w', kind: 'collection', id: '' })).toThrow(expect.objectContaining({ code: 'INVALID_VALUE' }))
    for (const bad of ['', 'w', 'w/manifest/x', 'w/collection', 'w/collection/a/b', 'w/other/x', 'w x/manifest', `${'a'.repeat(129)}/manifest`])
      expect(parseDocName(bad)).toBeUndefined()
  })
})
