import { describe, expect, test } from 'vitest'
import * as Y from 'yjs'
import { CollectionModel, EnvironmentModel, WorkspaceModel, type RequestSnapshot } from '@apisync/model'
import { docs, fork, itemsById, send, syncAll } from './helpers.js'

/** A healthy collection on `a`, and an evil peer (a raw Y.Doc) that writes whatever it likes. */
const setup = () => {
  const [a] = docs(1)
  const m = CollectionModel.create(a!, { id: 'c', name: 'Shop', description: 'fine' })
  const f = m.createFolder({ id: 'f', name: 'F' })
  const r = m.createRequest({ id: 'r', name: 'Login', method: 'POST', url: { raw: 'https://x.test' }, headers: [{ id: 'h1', key: 'A', value: '1' }, { id: 'h2', key: 'B', value: '2' }] }, { parent: f })
  const other = m.createRequest({ id: 'other', name: 'Other' })
  const evil = fork(a!, 666)
  const item = (id: string) => itemsById(evil).get(id)!
  const deliver = () => send(evil, a!)
  return { a: a!, m, f, r, other, evil, item, deliver }
}
const paths = (m: { snapshot(): { problems: readonly { path: string }[] } }) => m.snapshot().problems.map((p) => p.path)

describe('malformed content from a peer reads defensively', () => {
  test('a register entry that is not an entry is reported and ignored; the field keeps its value', () => {
    const { m, r, item, deliver } = setup()
    item(r).set('name@666', 'just a string')
    item(r).set('method@666', { v: 'PUT' }) // no counter
    deliver()
    expect(paths(m)).toEqual(['request:r/method@666', 'request:r/name@666'].sort())
    expect(m.get(r)).toMatchObject({ name: 'Login', method: 'POST' })
  })

  test('a winning value of the wrong type falls back to the default, reported at the field', () => {
    const { m, r, item, deliver } = setup()
    item(r).set('method@666', { v: 42, n: 100 })
    item(r).set('auth@666', { v: 'not an object', n: 100 })
    item(r).set('extra@666', { v: [1, 2], n: 100 })
    deliver()
    expect(paths(m).sort()).toEqual(['request:r/auth', 'request:r/extra', 'request:r/method'])
    expect(m.snapshot().problems.find((p) => p.path === 'request:r/method')!.message).toMatch(/HTTP method/)
    expect(m.get(r)).toMatchObject({ method: 'GET', auth: null, extra: {}, name: 'Login' })
    // A local write of the field replaces the bad entry and the problem goes away.
    m.updateItem(r, { method: 'PATCH' })
    expect(paths(m).sort()).toEqual(['request:r/auth', 'request:r/extra'])
    expect(m.get(r)).toMatchObject({ method: 'PATCH' })
  })

  test('a text or a list replaced by a value of another type reads as empty, reported', () => {
    const { m, r, item, deliver } = setup()
    item(r).set('description', 'a plain string, not a Y.Text')
    item(r).set('headers', 5)
    item(r).set('formdata', new Y.Array())
    deliver()
    expect(paths(m).sort()).toEqual(['request:r/description', 'request:r/formdata', 'request:r/headers'])
    expect(m.get(r)).toMatchObject({ description: '', headers: [], body: { formdata: [] }, name: 'Login' })
    expect(() => m.editText(r, 'description', 0, 0, 'x')).toThrow(expect.objectContaining({ code: 'INVALID_VALUE' }))
    expect(() => m.addRow(r, 'headers', { key: 'x' })).toThrow(expect.objectContaining({ code: 'INVALID_VALUE' }))
    m.updateItem(r, { name: 'still editable' })
    expect(m.get(r)).toMatchObject({ name: 'still editable' })
  })

  test('a list row that is not a map is reported and skipped; the other rows read', () => {
    const { m, r, item, deliver } = setup()
    ;(item(r).get('headers') as Y.Map<unknown>).set('junk', 'row?')
    deliver()
    expect(paths(m)).toEqual(['request:r/headers:junk'])
    expect((m.get(r) as RequestSnapshot).headers.map((h) => h.id)).toEqual(['h1', 'h2'])
  })

  test('a bad field inside a row is reported with the row path', () => {
    const { m, r, item, deliver } = setup()
    const h1 = (item(r).get('headers') as Y.Map<unknown>).get('h1') as Y.Map<unknown>
    h1.set('enabled@666', { v: 'yes', n: 50 })
    deliver()
    expect(paths(m)).toEqual(['request:r/headers/header:h1/enabled'])
    expect((m.get(r) as RequestSnapshot).headers[0]).toMatchObject({ key: 'A', enabled: true })
  })

  test('an item that is not a map is reported; the tree reads', () => {
    const { m, evil, deliver } = setup()
    evil.getMap('items').set('junk', 42)
    deliver()
    expect(paths(m)).toEqual(['items:junk'])
    expect(m.snapshot().items.map((i) => i.id)).toEqual(['f', 'other'])
  })

  test('an item under an unknown parent is shown at the top level and reported', () => {
    const { m, r, item, deliver } = setup()
    item(r).set('position@666', { v: { parent: 'nowhere', order: 'a0' }, n: 100 })
    deliver()
    expect(m.parentId(r)).toBeNull()
    expect(paths(m)).toEqual(['item:r/position'])
    expect(m.snapshot().items.map((i) => i.id).sort()).toEqual(['f', 'other', 'r'])
  })

  test('malformed collection fields, with the rest readable', () => {
    const { m, evil, deliver } = setup()
    evil.getMap('collection').set('name@666', { v: { no: 'string' }, n: 100 })
    evil.getMap('collection').set('version@666', { v: 1 }) // not an entry
    deliver()
    expect(paths(m).sort()).toEqual(['collection:c/name', 'collection:c/version@666'])
    expect(m.snapshot()).toMatchObject({ name: '', description: 'fine' })
    expect(m.snapshot().items).toHaveLength(2)
  })

  test('counters that are not integers are malformed: the same winner on every replica', () => {
    const [a, b] = docs(2)
    const ma = CollectionModel.create(a!, { id: 'c', name: 'S' })
    const r = ma.createRequest({ id: 'r', name: 'r' })
    syncAll(a!, b!)
    const mb = CollectionModel.open(b!)
    const [e1, e2] = [fork(a!, 700), fork(a!, 800)]
    ;itemsById(e1).get(r)!.set('name@700', { v: 'nan', n: Number.NaN })
    ;itemsById(e2).get(r)!.set('name@800', { v: 'inf', n: Number.POSITIVE_INFINITY })
    // a learns e1 then e2, b the other way round: their maps list the keys in different orders.
    send(e1, a!)
    send(e2, a!)
    send(e2, b!)
    send(e1, b!)
    expect(ma.snapshot()).toEqual(mb.snapshot())
    expect(ma.get(r)).toMatchObject({ name: 'r' })
  })

  test('replicas that received the same malformed content in different orders report the same problems', () => {
    const [a, b] = docs(2)
    const ma = CollectionModel.create(a!, { id: 'c', name: 'S' })
    syncAll(a!, b!)
    const mb = CollectionModel.open(b!)
    const r1 = ma.createRequest({ id: 'z-made-on-a' })
    const r2 = mb.createRequest({ id: 'a-made-on-b' })
    ma.snapshot()
    mb.snapshot()
    syncAll(a!, b!)
    const [e1, e2] = [fork(a!, 700), fork(a!, 800)]
    ;itemsById(e1).get(r1)!.set('method@700', 'bad')
    ;itemsById(e2).get(r1)!.set('name@800', 'bad')
    ;itemsById(e2).get(r2)!.set('name@800', 'bad')
    ;itemsById(e2).get(r1)!.set('position@800', { v: { parent: 'ghost' }, n: 9 })
    send(e1, a!)
    send(e2, a!)
    send(e2, b!)
    send(e1, b!)
    expect(ma.snapshot().problems).toHaveLength(4)
    expect(ma.snapshot()).toEqual(mb.snapshot())
    expect(CollectionModel.open(fork(b!, 5)).snapshot()).toEqual(mb.snapshot())
  })

  test('an unknown item kind reads as a request and is reported', () => {
    const { m, evil, deliver } = setup()
    const x = new Y.Map<unknown>()
    evil.getMap('items').set('x', x)
    x.set('id', 'x')
    x.set('kind', 'spaceship')
    deliver()
    expect(m.get('x')).toMatchObject({ kind: 'request', id: 'x' })
    expect(paths(m)).toEqual(['item:x/kind'])
  })

  test('malformed environment and workspace content', () => {
    const [a] = docs(1)
    const env = EnvironmentModel.create(a!, { id: 'e', name: 'Dev', variables: [{ id: 'v', key: 'k', value: 'x' }] })
    const evil = fork(a!, 666)
    const v = evil.getMap('environment.variables').get('v') as Y.Map<unknown>
    v.set('type@666', { v: 5, n: 9 })
    evil.getMap('environment').set('name@666', null)
    evil.getMap('environment.variables').set('w', [1, 2])
    send(evil, a!)
    expect(paths(env).sort()).toEqual(['environment:e/name@666', 'environment:e/variables/variable:v/type', 'environment:e/variables:w'])
    expect(env.snapshot()).toMatchObject({ name: 'Dev', variables: [{ id: 'v', key: 'k', value: 'x', type: 'default' }] })

    const [b] = docs(1)
    const ws = WorkspaceModel.create(b!, { id: 'w', name: 'Team', headerPresets: [{ id: 'p', name: 'P', headers: [{ id: 'h', key: 'A' }] }] })
    const evil2 = fork(b!, 667)
    ;(evil2.getMap('workspace.headerPresets').get('p') as Y.Map<unknown>).set('headers', 'nope')
    send(evil2, b!)
    expect(paths(ws)).toEqual(['workspace:w/headerPresets/headerPreset:p/headers'])
    expect(ws.snapshot().headerPresets).toMatchObject([{ id: 'p', name: 'P', headers: [] }])
  })

  test('nothing malformed throws from any read', () => {
    const { m, r, evil, item, deliver } = setup()
    item(r).set('deleted@666', { v: { seen: 'not clocks' }, n: 100 })
    item('f').set('position@666', { v: 'nonsense', n: 100 })
    evil.getMap('responses').set('resp', new Y.Map())
    evil.getMap('meta').set('id', 12)
    deliver()
    expect(() => m.snapshot()).not.toThrow()
    expect(() => m.conflicts()).not.toThrow()
    expect(() => m.get(r)).not.toThrow()
    expect(m.get('other')).toMatchObject({ name: 'Other' })
  })
})
