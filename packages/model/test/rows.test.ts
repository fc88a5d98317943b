import { describe, expect, test } from 'vitest'
import { CollectionModel, type FolderSnapshot, type RequestSnapshot } from '@apisync/model'
import { docs, expectRefused, syncAll } from './helpers.js'

const two = () => {
  const [a, b] = docs(2)
  const ca = CollectionModel.create(a!, { name: 'S' }, { actor: 'ann' })
  const r = ca.createRequest({ name: 'r', headers: [{ key: 'A', value: '1' }, { key: 'B', value: '2' }] })
  syncAll(a!, b!)
  const cb = CollectionModel.open(b!, { actor: 'bob' })
  const headers = (m: CollectionModel) => (m.get(r) as RequestSnapshot).headers
  const keys = (m: CollectionModel) => headers(m).map((h) => h.key)
  return { a: a!, b: b!, ca, cb, r, headers, keys, ids: headers(ca).map((h) => h.id) }
}

describe('rows', () => {
  test('add at the end, at an index, before and after a row; ids given or generated', () => {
    const { ca, r, keys, ids } = two()
    ca.addRow(r, 'headers', { key: 'C' })
    ca.addRow(r, 'headers', { key: 'first' }, { index: 0 })
    ca.addRow(r, 'headers', { key: 'beforeB' }, { before: ids[1]! })
    const given = ca.addRow(r, 'headers', { id: 'my-row', key: 'afterA' }, { after: ids[0]! })
    expect(given).toBe('my-row')
    expect(keys(ca)).toEqual(['first', 'A', 'afterA', 'beforeB', 'B', 'C'])
  })

  test('update, move and remove', () => {
    const { ca, r, keys, headers, ids } = two()
    ca.updateRow(r, 'headers', ids[0]!, { value: 'one', enabled: false, description: 'd', extra: { type: 'text' } })
    expect(headers(ca)[0]).toEqual({ id: ids[0], key: 'A', value: 'one', enabled: false, description: 'd', extra: { type: 'text' } })
    ca.moveRow(r, 'headers', ids[0]!, { after: ids[1]! })
    expect(keys(ca)).toEqual(['B', 'A'])
    ca.moveRow(r, 'headers', ids[0]!, { index: 0 })
    expect(keys(ca)).toEqual(['A', 'B'])
    ca.removeRow(r, 'headers', ids[0]!)
    expect(keys(ca)).toEqual(['B'])
  })

  test('concurrent inserts at the same place are both kept, in the same order everywhere', () => {
    const { a, b, ca, cb, r, keys, ids } = two()
    ca.addRow(r, 'headers', { key: 'from a' }, { after: ids[0]! })
    cb.addRow(r, 'headers', { key: 'from b' }, { after: ids[0]! })
    cb.addRow(r, 'headers', { key: 'b at end' })
    ca.addRow(r, 'headers', { key: 'a at end' })
    syncAll(a, b)
    expect(keys(ca)).toEqual(keys(cb))
    expect(keys(ca)).toHaveLength(6)
    expect(keys(ca).slice(0, 1)).toEqual(['A'])
    expect(new Set(keys(ca).slice(1, 3))).toEqual(new Set(['from a', 'from b']))
    expect(ca.conflicts()).toEqual([])
    // Equal order keys leave no room between them: the next insert there still gets a place.
    const [x, y] = (ca.get(r) as RequestSnapshot).headers.slice(1, 3)
    ca.addRow(r, 'headers', { key: 'between' }, { after: x!.id })
    expect(keys(ca).indexOf('between')).toBeGreaterThan(keys(ca).indexOf(x!.key))
    expect(keys(ca)).toContain(y!.key)
  })

  test('appending goes after every row: after a row moved to the end, after rows from a peer', () => {
    const { a, b, ca, cb, r, keys, ids } = two()
    ca.moveRow(r, 'headers', ids[0]!, { index: 5 })
    ca.addRow(r, 'headers', { key: 'x' })
    expect(keys(ca)).toEqual(['B', 'A', 'x'])
    syncAll(a, b)
    cb.addRow(r, 'headers', { key: 'from b 1' })
    cb.addRow(r, 'headers', { key: 'from b 2' })
    syncAll(a, b)
    ca.addRow(r, 'headers', { key: 'y' })
    ca.undo()
    ca.moveRow(r, 'headers', ids[1]!, { index: 9 })
    ca.undo()
    ca.addRow(r, 'headers', { key: 'z' })
    expect(keys(ca)).toEqual(['B', 'A', 'x', 'from b 1', 'from b 2', 'z'])
  })

  test('concurrent edits of different fields of one row are both kept', () => {
    const { a, b, ca, cb, r, headers, ids } = two()
    ca.updateRow(r, 'headers', ids[0]!, { key: 'Accept' })
    cb.updateRow(r, 'headers', ids[0]!, { value: 'text/html' })
    syncAll(a, b)
    expect(headers(ca)[0]).toMatchObject({ key: 'Accept', value: 'text/html' })
    expect(ca.conflicts()).toEqual([])
  })

  test('a row edited while removed concurrently: a delete conflict on the row, resolvable either way', () => {
    for (const choice of ['restore', 'keep-deleted'] as const) {
      const { a, b, ca, cb, r, keys, ids } = two()
      ca.removeRow(r, 'headers', ids[0]!)
      cb.updateRow(r, 'headers', ids[0]!, { value: 'edited' })
      syncAll(a, b)
      for (const m of [ca, cb]) {
        expect(keys(m)).toEqual(['B'])
        expect(m.conflicts()).toHaveLength(1)
        expect(m.conflicts()[0]).toMatchObject({
          kind: 'delete',
          entityId: ids[0],
          entityKind: 'header',
          ownerId: r,
          path: `request:${r}/headers/header:${ids[0]}`,
          choices: ['keep-deleted', 'restore'],
        })
      }
      cb.resolve(cb.conflicts()[0]!.id, choice)
      syncAll(a, b)
      for (const m of [ca, cb]) {
        expect(m.conflicts()).toEqual([])
        expect(keys(m)).toEqual(choice === 'restore' ? ['A', 'B'] : ['B'])
      }
      if (choice === 'restore') expect((ca.get(r) as RequestSnapshot).headers[0]!.value).toBe('edited')
    }
  })

  test('concurrent removal of one row twice: no conflict', () => {
    const { a, b, ca, cb, r, keys, ids } = two()
    ca.removeRow(r, 'headers', ids[1]!)
    cb.removeRow(r, 'headers', ids[1]!)
    syncAll(a, b)
    expect(keys(ca)).toEqual(['A'])
    expect(ca.conflicts()).toEqual([])
  })

  test('a reorder concurrent with an edit of the row keeps both', () => {
    const { a, b, ca, cb, r, headers, ids } = two()
    ca.moveRow(r, 'headers', ids[0]!, { index: 5 })
    cb.updateRow(r, 'headers', ids[0]!, { value: 'v' })
    syncAll(a, b)
    expect(headers(cb).map((h) => [h.key, h.value])).toEqual([
      ['B', '2'],
      ['A', 'v'],
    ])
  })

  test('invalid row operations throw and write nothing', () => {
    const { a, ca, r, ids } = two()
    ca.removeRow(r, 'headers', ids[1]!)
    const path = `request:${r}/headers`
    expectRefused(a, () => ca.addRow(r, 'headers', { key: 5 }), 'INVALID_VALUE', `${path}/key`)
    expectRefused(a, () => ca.addRow(r, 'headers', { enabled: 'yes' }), 'INVALID_VALUE', `${path}/enabled`)
    expectRefused(a, () => ca.addRow(r, 'headers', { id: ids[0]!, key: 'dup' }), 'INVALID_VALUE', path)
    expectRefused(a, () => ca.addRow(r, 'headers', { key: 'x' }, { before: 'nope' }), 'NOT_FOUND', path)
    expectRefused(a, () => ca.addRow(r, 'headers', { key: 'x' }, { index: -2 }), 'INVALID_VALUE', path)
    expectRefused(a, () => ca.updateRow(r, 'headers', 'nope', { key: 'x' }), 'NOT_FOUND', path)
    expectRefused(a, () => ca.updateRow(r, 'headers', ids[0]!, { value: null }), 'INVALID_VALUE', `${path}/value`)
    expectRefused(a, () => ca.updateRow(r, 'headers', ids[0]!, { extra: [] }), 'INVALID_VALUE', `${path}/extra`)
    expectRefused(a, () => ca.removeRow(r, 'headers', ids[1]!), 'DELETED', path)
    expectRefused(a, () => ca.moveRow(r, 'headers', 'nope', { index: 0 }), 'NOT_FOUND', path)
    expectRefused(a, () => ca.addRow('nope', 'headers', { key: 'x' }), 'NOT_FOUND')
    const f = ca.createFolder({ name: 'F' })
    expectRefused(a, () => ca.addRow(f, 'headers', { key: 'x' }), 'INVALID_VALUE', `folder:${f}`)
    expectRefused(a, () => ca.addRow(ca.id, 'formdata', { key: 'x' }), 'INVALID_VALUE')
  })

  test('variables of folders and of the collection are rows too', () => {
    const { a, b, ca, cb } = two()
    const f = ca.createFolder({ name: 'F', variables: [{ key: 'x', value: 1 }] })
    syncAll(a, b)
    const v = (ca.get(f) as FolderSnapshot).variables[0]!.id
    ca.updateRow(f, 'variables', v, { value: 2 })
    cb.updateRow(f, 'variables', v, { value: 3 })
    cb.addRow(cb.id, 'variables', { key: 'token', value: 'abc', type: 'secret' })
    syncAll(a, b)
    expect(ca.conflicts().map((c) => [c.entityKind, c.field, c.ownerId])).toEqual([['variable', 'value', f]])
    expect(ca.snapshot().variables).toMatchObject([{ key: 'token', value: 'abc', type: 'secret' }])
  })
})
