import { describe, expect, test } from 'vitest'
import * as Y from 'yjs'
import { CollectionModel, type ChangeEvent, type FolderSnapshot, type RequestSnapshot } from '@apisync/model'
import { countUpdates, docs, send, syncAll } from './helpers.js'

const tree = () => {
  const [a, b] = docs(2)
  const m = CollectionModel.create(a!, { name: 'S' })
  const F = m.createFolder({ name: 'F' })
  const r1 = m.createRequest({ name: 'r1', headers: [{ key: 'A' }, { key: 'B' }] }, { parent: F })
  const r2 = m.createRequest({ name: 'r2' }, { parent: F })
  const G = m.createFolder({ name: 'G' })
  const r3 = m.createRequest({ name: 'r3' }, { parent: G })
  const r4 = m.createRequest({ name: 'r4' })
  syncAll(a!, b!)
  const mb = CollectionModel.open(b!)
  return { a: a!, b: b!, m, mb, F, G, r1, r2, r3, r4 }
}
const folder = (m: CollectionModel, id: string) => m.get(id) as FolderSnapshot
const request = (m: CollectionModel, id: string) => m.get(id) as RequestSnapshot

describe('structural sharing', () => {
  test('no change, same snapshot object', () => {
    const { m } = tree()
    expect(m.snapshot()).toBe(m.snapshot())
  })

  test('an edit renews the item and its ancestors only; lists and rows that did not change are kept', () => {
    const { m, F, G, r1, r2, r3, r4 } = tree()
    const s1 = m.snapshot()
    const before = { F: folder(m, F), G: folder(m, G), r1: request(m, r1), r2: request(m, r2), r3: request(m, r3), r4: request(m, r4) }
    m.updateItem(r1, { name: 'r1!' })
    const s2 = m.snapshot()
    expect(s2).not.toBe(s1)
    expect(folder(m, F)).not.toBe(before.F)
    expect(request(m, r1)).not.toBe(before.r1)
    expect(request(m, r2)).toBe(before.r2)
    expect(folder(m, G)).toBe(before.G)
    expect(request(m, r3)).toBe(before.r3)
    expect(request(m, r4)).toBe(before.r4)
    expect(request(m, r1).headers).toBe(before.r1.headers)
    expect(request(m, r1).body).toEqual(before.r1.body)
    // The snapshot tree holds exactly these objects.
    expect(s2.items[0]).toBe(folder(m, F))
    expect((s2.items[0] as FolderSnapshot).items[1]).toBe(before.r2)
    expect(s2.items[1]).toBe(before.G)
    expect(s2.conflicts).toBe(s1.conflicts)
    expect(s2.problems).toBe(s1.problems)
  })

  test('a row edit renews the row and its owner; sibling rows are kept', () => {
    const { m, r1, r2 } = tree()
    const before = request(m, r1)
    const other = request(m, r2)
    m.updateRow(r1, 'headers', before.headers[1]!.id, { value: 'v' })
    const after = request(m, r1)
    expect(after).not.toBe(before)
    expect(after.headers).not.toBe(before.headers)
    expect(after.headers[0]).toBe(before.headers[0])
    expect(after.headers[1]).not.toBe(before.headers[1])
    expect(request(m, r2)).toBe(other)
  })

  test('a move renews the item and both folders; the rest is kept', () => {
    const { m, F, G, r1, r3, r4 } = tree()
    const before = { F: folder(m, F), G: folder(m, G), r1: request(m, r1), r4: request(m, r4) }
    m.move(r3, { parent: F })
    expect(folder(m, F)).not.toBe(before.F)
    expect(folder(m, G)).not.toBe(before.G)
    expect(folder(m, G).items).toEqual([])
    expect(request(m, r1)).toBe(before.r1)
    expect(request(m, r4)).toBe(before.r4)
  })

  test('a saved response change renews its request only', () => {
    const { m, r1, r2 } = tree()
    const resp = m.addResponse(r1, { name: 'ok' })
    const before = { r1: request(m, r1), r2: request(m, r2) }
    m.updateResponse(resp, { code: 200 })
    expect(request(m, r1)).not.toBe(before.r1)
    expect(request(m, r1).responses[0]!.code).toBe(200)
    expect(request(m, r2)).toBe(before.r2)
    m.updateItem(r1, { name: 'renamed' })
    expect(request(m, r1).responses).toBe(request(m, r1).responses)
  })

  test('remote changes are shared the same way', () => {
    const { a, b, m, mb, F, G, r2, r4 } = tree()
    const before = { F: folder(mb, F), G: folder(mb, G), r4: request(mb, r4) }
    m.updateItem(r2, { method: 'POST' })
    send(a, b)
    expect(folder(mb, F)).not.toBe(before.F)
    expect(request(mb, r2).method).toBe('POST')
    expect(folder(mb, G)).toBe(before.G)
    expect(request(mb, r4)).toBe(before.r4)
  })

  test('a deletion renews the parent; restoring brings the item back', () => {
    const { m, F, G, r1, r2 } = tree()
    const g = folder(m, G)
    const kept = request(m, r2)
    m.delete(r1)
    expect(folder(m, F).items.map((i) => i.id)).toEqual([r2])
    expect(request(m, r2)).toBe(kept)
    expect(folder(m, G)).toBe(g)
    m.restore(r1)
    expect(folder(m, F).items.map((i) => i.id)).toEqual([r1, r2])
  })
})

describe('change events', () => {
  test('subscribe reports the changed ids, local or remote; unsubscribe stops it', () => {
    const { a, b, m, mb, r1, r2, r4 } = tree()
    const local: ChangeEvent[] = []
    const remote: ChangeEvent[] = []
    const off = m.subscribe((e) => local.push(e))
    mb.subscribe((e) => remote.push(e))
    m.updateItem(r1, { name: 'x' })
    expect(local).toEqual([{ ids: new Set([r1]), local: true }])
    const h = m.addRow(r4, 'headers', { key: 'k' })
    expect(local[1]).toEqual({ ids: new Set([r4, h]), local: true })
    m.updateRow(r4, 'headers', h, { value: 'v' })
    expect(local[2]).toEqual({ ids: new Set([r4, h]), local: true })
    const created = m.createRequest({ name: 'new' })
    expect(local[3]!.ids).toEqual(new Set([created]))
    m.updateCollection({ name: 'S2' })
    expect(local[4]!.ids).toEqual(new Set([m.id]))
    m.editText(m.id, 'description', 0, 0, 'd')
    expect(local[5]!.ids).toEqual(new Set([m.id]))
    send(a, b)
    expect(remote).toHaveLength(1)
    expect(remote[0]!.local).toBe(false)
    expect(remote[0]!.ids).toEqual(new Set([r1, r4, h, created, m.id]))
    m.undo()
    expect(local[6]).toMatchObject({ local: true })
    off()
    m.updateItem(r2, { name: 'unheard' })
    expect(local).toHaveLength(7)
  })

  test('a transaction outside the model that touches nothing of it reports nothing', () => {
    const { a, m } = tree()
    const events: ChangeEvent[] = []
    m.subscribe((e) => events.push(e))
    a.getMap('unrelated').set('x', 1)
    expect(events).toEqual([])
  })
})

describe('one transaction per action', () => {
  test('every API call is exactly one update', () => {
    const { a, m, F, r1, r2 } = tree()
    const one = (label: string, fn: () => void) => expect([label, countUpdates(a, fn)]).toEqual([label, 1])
    let id = ''
    one('createRequest', () => (id = m.createRequest({ name: 'n', url: { raw: 'https://x/:id?a=1&b=2' }, headers: [{ key: 'A' }], body: { mode: 'formdata', formdata: [{ key: 'f', type: 'file' }] } }, { parent: F })))
    one('createFolder', () => m.createFolder({ name: 'G', variables: [{ key: 'v' }] }))
    one('updateItem', () => m.updateItem(id, { name: 'n2', method: 'PUT', url: { raw: 'https://x/:other?c=3' }, description: 'd', scripts: { test: 't' } }))
    one('editText', () => m.editText(id, 'test', 0, 1, 'T'))
    one('updateCollection', () => m.updateCollection({ name: 'S2', description: 'x' }))
    const q = (m.get(id) as RequestSnapshot).url.query[0]!.id
    one('addRow query', () => m.addRow(id, 'query', { key: 'z' }))
    one('updateRow query', () => m.updateRow(id, 'query', q, { value: '4' }))
    one('moveRow query', () => m.moveRow(id, 'query', q, { index: 5 }))
    one('removeRow query', () => m.removeRow(id, 'query', q))
    one('move', () => m.move(id, { parent: null, placement: { index: 0 } }))
    let resp = ''
    one('addResponse', () => (resp = m.addResponse(id, { name: 'ok', headers: [{ key: 'h' }] })))
    one('updateResponse', () => m.updateResponse(resp, { code: 200, body: 'b' }))
    one('deleteResponse', () => m.deleteResponse(resp))
    one('delete folder', () => m.delete(F))
    one('restore folder', () => m.restore(F))
    one('undo', () => m.undo())
    one('redo', () => m.redo())
    expect(m.get(r1)).toBeDefined()
    expect(m.get(r2)).toBeDefined()
  })

  test('a resolution is one update', () => {
    const { a, b, m, mb, r1 } = tree()
    m.updateItem(r1, { name: 'a' })
    mb.updateItem(r1, { name: 'b' })
    syncAll(a, b)
    expect(countUpdates(a, () => m.resolve(m.conflicts()[0]!.id, { pick: 1 }))).toBe(1)
  })

  test('a write that changes nothing emits nothing', () => {
    const { a, m, r1 } = tree()
    const h = (m.get(r1) as RequestSnapshot).headers[0]!
    expect(countUpdates(a, () => m.updateItem(r1, { name: 'r1' }))).toBe(0)
    expect(countUpdates(a, () => m.updateRow(r1, 'headers', h.id, { key: h.key }))).toBe(0)
    expect(Y.encodeStateVector(a)).toEqual(Y.encodeStateVector(a))
  })
})
