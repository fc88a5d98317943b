import { describe, expect, test } from 'vitest'
import * as Y from 'yjs'
import { CollectionModel, type Conflict, type RequestSnapshot } from '@apisync/model'
import { docs, expectRefused, syncAll } from './helpers.js'

/** Three replicas of one collection with one request, each with its own actor and clock. */
const three = () => {
  const [a, b, c] = docs(3)
  const ca = CollectionModel.create(a!, { name: 'S' }, { actor: 'ann', now: () => 1 })
  const r = ca.createRequest({ name: 'Login', method: 'GET', url: { raw: 'https://x.test' }, headers: [{ key: 'Accept', value: '*/*' }] })
  syncAll(a!, b!, c!)
  const cb = CollectionModel.open(b!, { actor: 'bob', now: () => 2 })
  const cc = CollectionModel.open(c!, { actor: 'cy', now: () => 3 })
  return { docs: [a!, b!, c!] as const, models: [ca, cb, cc] as const, r }
}
const req = (m: CollectionModel, id: string) => m.get(id) as RequestSnapshot
const only = (m: CollectionModel): Conflict => {
  const cs = m.conflicts()
  expect(cs).toHaveLength(1)
  return cs[0]!
}

describe('register conflicts', () => {
  test('concurrent writes: one conflict with every alternative and its writer, the same winner on every replica', () => {
    const { docs: ds, models, r } = three()
    const [ca, cb, cc] = models
    ca.updateItem(r, { method: 'POST' })
    cb.updateItem(r, { method: 'PUT' })
    cc.updateItem(r, { method: 'PATCH' })
    syncAll(...ds)
    const c = only(ca)
    expect(c).toMatchObject({ kind: 'value', entityId: r, entityKind: 'request', ownerId: r, field: 'method', choices: [] })
    // All three have counter 2: the highest client id (c = 3) wins.
    expect(c.alternatives).toEqual([
      { value: 'PATCH', by: 'cy', at: 3, winner: true },
      { value: 'PUT', by: 'bob', at: 2, winner: false },
      { value: 'POST', by: 'ann', at: 1, winner: false },
    ])
    for (const m of models) {
      expect(m.conflicts()).toEqual([c])
      expect(req(m, r).method).toBe('PATCH')
    }
    expect(ca.snapshot()).toEqual(cb.snapshot())
    expect(cb.snapshot()).toEqual(cc.snapshot())
  })

  test('the winner is decided by causality, not by who synced last', () => {
    const { docs: ds, models, r } = three()
    const [a, b] = ds
    const [ca, cb] = models
    cb.updateItem(r, { name: 'bob 1' })
    cb.updateItem(r, { name: 'bob 2' }) // counter 3
    ca.updateItem(r, { name: 'ann' }) // counter 2, written later in wall time
    Y.applyUpdate(a, Y.encodeStateAsUpdate(b))
    Y.applyUpdate(b, Y.encodeStateAsUpdate(a))
    expect(req(ca, r).name).toBe('bob 2')
    expect(req(cb, r).name).toBe('bob 2')
    expect(only(ca).alternatives.map((x) => x.value)).toEqual(['bob 2', 'ann'])
  })

  test('sequential writes on different replicas: no conflict', () => {
    const { docs: ds, models, r } = three()
    const [ca, cb, cc] = models
    ca.updateItem(r, { name: 'one' })
    syncAll(...ds)
    cb.updateItem(r, { name: 'two' })
    syncAll(...ds)
    cc.updateItem(r, { name: 'three' })
    syncAll(...ds)
    for (const m of models) {
      expect(m.conflicts()).toEqual([])
      expect(req(m, r).name).toBe('three')
    }
  })

  test('equal concurrent values: no conflict', () => {
    const { docs: ds, models, r } = three()
    const [ca, cb] = models
    ca.updateItem(r, { auth: { type: 'bearer', bearer: [{ key: 'token', value: 't' }] } })
    cb.updateItem(r, { auth: { bearer: [{ value: 't', key: 'token' }], type: 'bearer' } })
    syncAll(...ds)
    expect(ca.conflicts()).toEqual([])
    expect(cb.conflicts()).toEqual([])
  })

  test('concurrent writes of different fields of one entity: no conflict, both kept', () => {
    const { docs: ds, models, r } = three()
    const [ca, cb] = models
    ca.updateItem(r, { name: 'renamed' })
    cb.updateItem(r, { method: 'DELETE' })
    syncAll(...ds)
    expect(ca.conflicts()).toEqual([])
    expect(req(cb, r)).toMatchObject({ name: 'renamed', method: 'DELETE' })
  })

  test.each([
    ['pick the loser', { pick: 1 }, 'PUT'],
    ['pick the winner', { pick: 0 }, 'POST'],
    ['a new value', { value: 'OPTIONS' }, 'OPTIONS'],
  ] as const)('resolve by %s closes the conflict on every replica', (_, choice, expected) => {
    const { docs: ds, models, r } = three()
    const [ca, cb, cc] = models
    ca.updateItem(r, { method: 'PUT' })
    cb.updateItem(r, { method: 'POST' })
    syncAll(...ds)
    expect(only(cc).alternatives.map((x) => x.value)).toEqual(['POST', 'PUT'])
    cc.resolve(only(cc).id, choice)
    expect(cc.conflicts()).toEqual([])
    expect(ca.conflicts()).toHaveLength(1) // not yet received
    syncAll(...ds)
    for (const m of models) {
      expect(m.conflicts()).toEqual([])
      expect(req(m, r).method).toBe(expected)
    }
  })

  test('a resolution concurrent with a new write leaves a conflict with the two', () => {
    const { docs: ds, models, r } = three()
    const [ca, cb, cc] = models
    const [a, b, c] = ds
    ca.updateItem(r, { name: 'A' })
    cb.updateItem(r, { name: 'B' })
    syncAll(a, b)
    ca.resolve(only(ca).id, { pick: 0 })
    cc.updateItem(r, { name: 'C' })
    syncAll(a, b, c)
    expect(only(cb).alternatives.map((x) => x.value).sort()).toEqual(['B', 'C'])
  })

  test('conflicts on list rows name the row and its owner and resolve the same way', () => {
    const { docs: ds, models, r } = three()
    const [ca, cb] = models
    const h = req(ca, r).headers[0]!.id
    ca.updateRow(r, 'headers', h, { value: 'application/json' })
    cb.updateRow(r, 'headers', h, { value: 'text/html' })
    syncAll(...ds)
    const c = only(ca)
    expect(c).toMatchObject({ kind: 'value', entityId: h, entityKind: 'header', ownerId: r, field: 'value' })
    expect(c.path).toBe(`request:${r}/headers/header:${h}`)
    cb.resolve(c.id, { value: 'application/xml' })
    syncAll(...ds)
    expect(ca.conflicts()).toEqual([])
    expect(req(ca, r).headers[0]!.value).toBe('application/xml')
  })

  test('conflicts on the collection itself', () => {
    const { docs: ds, models } = three()
    const [ca, cb] = models
    ca.updateCollection({ name: 'Shop A' })
    cb.updateCollection({ name: 'Shop B' })
    syncAll(...ds)
    const c = only(cb)
    expect(c).toMatchObject({ entityId: ca.id, entityKind: 'collection', field: 'name' })
    ca.resolve(c.id, { pick: 1 })
    syncAll(...ds)
    expect(cb.snapshot()).toMatchObject({ name: 'Shop A', conflicts: [] })
  })

  test('resolve refuses unknown conflicts, bad choices and invalid values, writing nothing', () => {
    const { docs: ds, models, r } = three()
    const [ca, cb] = models
    ca.updateItem(r, { method: 'PUT' })
    cb.updateItem(r, { method: 'POST' })
    syncAll(...ds)
    const id = only(ca).id
    expectRefused(ds[0], () => ca.resolve('request:nope#name', { pick: 0 }), 'NO_SUCH_CONFLICT')
    expectRefused(ds[0], () => ca.resolve(id, { pick: 2 }), 'BAD_CHOICE')
    expectRefused(ds[0], () => ca.resolve(id, 'restore'), 'BAD_CHOICE')
    expectRefused(ds[0], () => ca.resolve(id, { value: 'NOT A TOKEN' }), 'INVALID_VALUE', `request:${r}/method`)
    expectRefused(ds[0], () => ca.resolve(id, { value: 42 }), 'INVALID_VALUE')
    ca.resolve(id, { pick: 0 })
    expectRefused(ds[0], () => ca.resolve(id, { pick: 0 }), 'NO_SUCH_CONFLICT')
  })
})

describe('texts', () => {
  test('concurrent edits of a script merge character-wise, no conflict', () => {
    const { docs: ds, models, r } = three()
    const [ca, cb, cc] = models
    ca.updateItem(r, { scripts: { test: 'pm.test("status", () => {})' } })
    syncAll(...ds)
    ca.editText(r, 'test', 0, 0, '// ann\n')
    cb.editText(r, 'test', 'pm.test("status", () => {})'.length, 0, '\n// bob')
    // A whole-value write from a form field only touches what it changed.
    cc.updateItem(r, { scripts: { test: 'pm.test("status code", () => {})' } })
    syncAll(...ds)
    for (const m of models) {
      expect(req(m, r).scripts.test).toBe('// ann\npm.test("status code", () => {})\n// bob')
      expect(m.conflicts()).toEqual([])
    }
  })

  test('descriptions, raw bodies and GraphQL queries merge too', () => {
    const { docs: ds, models, r } = three()
    const [ca, cb] = models
    ca.updateItem(r, { description: 'abc', body: { raw: '12', graphql: { query: '{ a }' } } })
    syncAll(...ds)
    ca.updateItem(r, { description: 'Xabc', body: { raw: '012', graphql: { query: '{ a b }' } } })
    cb.updateItem(r, { description: 'abcY', body: { raw: '123', graphql: { query: '{ c a }' } } })
    syncAll(...ds)
    expect(req(ca, r)).toMatchObject({ description: 'XabcY', body: { raw: '0123', graphql: { query: '{ c a b }' } } })
    expect(req(ca, r)).toEqual(req(cb, r))
    expect(ca.conflicts()).toEqual([])
  })

  test('a text write keeps surrogate pairs whole', () => {
    const { models, r } = three()
    const [ca] = models
    ca.updateItem(r, { description: 'a😀b' })
    ca.updateItem(r, { description: 'a😁b' })
    expect(req(ca, r).description).toBe('a😁b')
  })
})

describe('delete vs concurrent edit', () => {
  const deletedWhileEdited = () => {
    const t = three()
    const [ca, cb] = t.models
    ca.delete(t.r)
    cb.updateItem(t.r, { name: 'edited meanwhile' })
    syncAll(...t.docs)
    return t
  }

  test('surfaces a delete conflict offering keep-deleted and restore, the same everywhere', () => {
    const { models, r } = deletedWhileEdited()
    const c = only(models[2])
    expect(c).toMatchObject({ kind: 'delete', entityId: r, entityKind: 'request', field: 'deleted', choices: ['keep-deleted', 'restore'] })
    for (const m of models) {
      expect(m.conflicts()).toEqual([c])
      expect(m.get(r)).toBeUndefined() // the deletion wins until someone chooses
    }
  })

  test('keep-deleted closes it everywhere and the request stays deleted', () => {
    const { docs: ds, models, r } = deletedWhileEdited()
    models[1].resolve(only(models[1]).id, 'keep-deleted')
    syncAll(...ds)
    for (const m of models) {
      expect(m.conflicts()).toEqual([])
      expect(m.get(r)).toBeUndefined()
    }
  })

  test('restore closes it everywhere and brings the request back with the concurrent edit', () => {
    const { docs: ds, models, r } = deletedWhileEdited()
    models[0].resolve(only(models[0]).id, 'restore')
    syncAll(...ds)
    for (const m of models) {
      expect(m.conflicts()).toEqual([])
      expect(req(m, r).name).toBe('edited meanwhile')
    }
  })

  test('edits of rows and texts inside the request count as edits', () => {
    const { docs: ds, models, r } = three()
    const [ca, cb, cc] = models
    const h = req(ca, r).headers[0]!.id
    ca.delete(r)
    cb.updateRow(r, 'headers', h, { value: 'x' })
    syncAll(...ds)
    expect(only(cc).kind).toBe('delete')
    const t2 = three()
    t2.models[0].delete(t2.r)
    t2.models[1].editText(t2.r, 'prerequest', 0, 0, 'x')
    syncAll(...t2.docs)
    expect(only(t2.models[2]).kind).toBe('delete')
  })

  test('a delete that saw the edit is no conflict; an edit made on a stale view after it is kept, as a conflict', () => {
    const { docs: ds, models, r } = three()
    const [ca, cb] = models
    cb.updateItem(r, { name: 'edit first' })
    syncAll(...ds)
    ca.delete(r)
    syncAll(...ds)
    expect(ca.conflicts()).toEqual([])
    // The edit lands although the request is deleted: kept, and the person is asked.
    cb.updateItem(r, { name: 'too late' })
    syncAll(...ds)
    for (const m of models) {
      expect(m.get(r)).toBeUndefined()
      expect(m.getDeleted(r)).toMatchObject({ name: 'too late' })
      expect(only(m)).toMatchObject({ kind: 'delete', entityId: r })
    }
    cb.resolve(only(cb).id, 'restore')
    syncAll(...ds)
    for (const m of models) expect(req(m, r).name).toBe('too late')
  })

  test('delete concurrent with a restore is a conflict too', () => {
    const { docs: ds, models, r } = three()
    const [ca, cb] = models
    ca.delete(r)
    syncAll(...ds)
    cb.restore(r)
    ca.restore(r)
    ca.delete(r)
    syncAll(...ds)
    const c = only(cb)
    expect(c.kind).toBe('delete')
    expect(c.alternatives.map((x) => x.value).sort()).toEqual(['deleted', 'restored'])
    cb.resolve(c.id, 'restore')
    syncAll(...ds)
    expect(ca.conflicts()).toEqual([])
    expect(ca.get(r)).toBeDefined()
  })

  test('a deleted saved response edited concurrently surfaces too', () => {
    const { docs: ds, models, r } = three()
    const [ca, cb] = models
    const resp = ca.addResponse(r, { name: 'ok', code: 200 })
    syncAll(...ds)
    ca.deleteResponse(resp)
    cb.updateResponse(resp, { code: 201 })
    syncAll(...ds)
    const c = only(ca)
    expect(c).toMatchObject({ kind: 'delete', entityId: resp, entityKind: 'response' })
    ca.resolve(c.id, 'restore')
    syncAll(...ds)
    expect(req(cb, r).responses.map((x) => x.code)).toEqual([201])
    expect(cb.conflicts()).toEqual([])
  })

  test('restoring a folder brings back what was deleted with it, not what was deleted before', () => {
    const [a] = docs(1)
    const m = CollectionModel.create(a!, { name: 'S' })
    const f = m.createFolder({ name: 'F' })
    const g = m.createFolder({ name: 'G' }, { parent: f })
    const r1 = m.createRequest({ name: 'r1' }, { parent: g })
    const r2 = m.createRequest({ name: 'r2' }, { parent: f })
    const gone = m.createRequest({ name: 'deleted before' }, { parent: f })
    m.delete(gone)
    m.delete(f)
    expect(m.snapshot().items).toEqual([])
    for (const id of [f, g, r1, r2]) expect(m.get(id)).toBeUndefined()
    m.restore(f)
    expect(m.parentId(g)).toBe(f)
    expect(m.parentId(r1)).toBe(g)
    expect(m.parentId(r2)).toBe(f)
    expect(m.get(gone)).toBeUndefined()
  })

  test('restoring an item inside a deleted folder restores the folders above it', () => {
    const [a] = docs(1)
    const m = CollectionModel.create(a!, { name: 'S' })
    const f = m.createFolder({ name: 'F' })
    const r = m.createRequest({ name: 'r' }, { parent: f })
    m.delete(f)
    m.restore(r)
    expect(m.parentId(r)).toBe(f)
    expect(m.get(f)).toBeDefined()
  })

  test('a cascaded child edited concurrently with the folder deletion surfaces, and restore brings the tree back', () => {
    const { docs: ds, models, r } = three()
    const [ca, cb, cc] = models
    const f = ca.createFolder({ name: 'F' })
    ca.move(r, { parent: f })
    syncAll(...ds)
    ca.delete(f)
    cb.updateItem(r, { name: 'edited in F' })
    syncAll(...ds)
    const c = only(cc)
    expect(c).toMatchObject({ kind: 'delete', entityId: r })
    cc.resolve(c.id, 'restore')
    syncAll(...ds)
    for (const m of models) {
      expect(m.conflicts()).toEqual([])
      expect(m.parentId(r)).toBe(f)
      expect(req(m, r).name).toBe('edited in F')
    }
  })
})
