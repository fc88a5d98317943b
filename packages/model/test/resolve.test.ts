/**
 * Resolving: choices are validated like any write, alternatives say who (account and device) and whether they
 * can still be picked, undoing a resolution brings the whole conflict back, and ids given by callers never
 * silently collide.
 */
import { describe, expect, test } from 'vitest'
import type * as Y from 'yjs'
import { CollectionModel } from '@apisync/model'
import { docs, expectRefused, syncAll } from './helpers.js'

const two = () => {
  const [a, b] = docs(2) as [Y.Doc, Y.Doc]
  const ma = CollectionModel.create(a, { name: 'S' }, { actor: 'ann', device: 'Laptop' })
  const F = ma.createFolder({ name: 'F' })
  const G = ma.createFolder({ name: 'G' })
  const r = ma.createRequest({ name: 'r' })
  syncAll(a, b)
  const mb = CollectionModel.open(b, { actor: 'ann', device: 'Desktop' })
  return { a, b, ma, mb, F, G, r }
}

describe('a person on two devices', () => {
  test('alternatives carry the device as well as the account', () => {
    const { a, b, ma, mb, r } = two()
    ma.updateItem(r, { name: 'from the laptop' })
    mb.updateItem(r, { name: 'from the desktop' })
    syncAll(a, b)
    const [c] = ma.conflicts()
    expect(c!.alternatives.map((x) => [x.value, x.by, x.device]).sort()).toEqual([
      ['from the desktop', 'ann', 'Desktop'],
      ['from the laptop', 'ann', 'Laptop'],
    ])
    expect(c).toMatchObject({ name: 'from the desktop', where: [] })
  })
})

describe('position conflicts resolve like moves', () => {
  const positionConflict = () => {
    const t = two()
    t.ma.move(t.r, { parent: t.F })
    t.mb.move(t.r, { parent: t.G })
    syncAll(t.a, t.b)
    const c = t.ma.conflicts()[0]!
    expect(c).toMatchObject({ kind: 'value', field: 'position', entityId: t.r, name: 'r' })
    return { ...t, c }
  }

  test('a value must be a place that exists, is a live folder and is not inside the item', () => {
    const { a, ma, mb, b, F, G, r, c } = positionConflict()
    expectRefused(a, () => ma.resolve(c.id, { value: 42 }), 'INVALID_VALUE')
    expectRefused(a, () => ma.resolve(c.id, { value: { parent: 7 } }), 'INVALID_VALUE')
    expectRefused(a, () => ma.resolve(c.id, { value: { parent: 'missing' } }), 'NOT_FOUND')
    const other = ma.createRequest({ name: 'other' })
    expectRefused(a, () => ma.resolve(c.id, { value: { parent: other } }), 'WRONG_KIND')
    // A folder's position conflict: into itself or its subtree is a cycle.
    const inner = ma.createFolder({ name: 'inner' }, { parent: F })
    syncAll(a, b)
    ma.move(F, { parent: G })
    mb.move(F, { parent: null, placement: { index: 0 } })
    syncAll(a, b)
    const fc = ma.conflicts().find((x) => x.entityId === F)!
    expectRefused(a, () => ma.resolve(fc.id, { value: { parent: inner } }), 'CYCLE')
    expectRefused(a, () => ma.resolve(fc.id, { value: { parent: F } }), 'CYCLE')
    ma.resolve(c.id, { value: { parent: null } })
    syncAll(a, b)
    expect(mb.parentId(r)).toBeNull()
  })

  test('an alternative whose folder was deleted meanwhile says so, and picking it is refused', () => {
    const { a, b, ma, mb, G, c } = positionConflict()
    const intoG = c.alternatives.findIndex((x) => (x.value as { parent: string }).parent === G)
    mb.delete(G)
    syncAll(a, b)
    const again = ma.conflicts().find((x) => x.id === c.id)!
    expect(again.alternatives[intoG]!.invalid).toBe('DELETED')
    expect(again.alternatives.filter((x) => x.invalid === undefined)).toHaveLength(1)
    expectRefused(a, () => ma.resolve(c.id, { pick: intoG }), 'DELETED')
  })
})

describe('undoing a resolution brings the whole conflict back', () => {
  test('a value conflict: both alternatives again, on every replica; redo closes it again', () => {
    const { a, b, ma, mb, r } = two()
    ma.updateItem(r, { name: 'one' })
    mb.updateItem(r, { name: 'two' })
    syncAll(a, b)
    const before = ma.conflicts()
    ma.resolve(before[0]!.id, { pick: 1 })
    syncAll(a, b)
    expect(mb.conflicts()).toEqual([])
    ma.undo()
    syncAll(a, b)
    expect(ma.conflicts()).toEqual(before)
    expect(mb.conflicts()).toEqual(before)
    // A later write by either side closes it as usual.
    mb.updateItem(r, { name: 'three' })
    syncAll(a, b)
    expect(ma.conflicts()).toEqual([])
    expect(ma.get(r)?.name).toBe('three')
  })

  test('the undone resolution and a concurrent write by one side: that side’s old value is gone, the others stay', () => {
    const { a, b, ma, mb, r } = two()
    const [c] = docs(1, 3)
    syncAll(a, c!)
    const mc = CollectionModel.open(c!, { actor: 'cat' })
    ma.updateItem(r, { name: 'ann' })
    mb.updateItem(r, { name: 'bob' })
    mc.updateItem(r, { name: 'cat' })
    syncAll(a, b, c!)
    ma.resolve(ma.conflicts()[0]!.id, { pick: 0 })
    syncAll(a, b, c!)
    ma.undo()
    mb.updateItem(r, { name: 'bob again' }) // concurrent with the undo
    syncAll(a, b, c!)
    const values = ma.conflicts()[0]!.alternatives.map((x) => x.value).sort()
    expect(values).toEqual(['ann', 'bob again', 'cat'])
    expect(mb.conflicts()).toEqual(ma.conflicts())
  })

  test('a delete conflict: keep-deleted undone, the conflict is open again', () => {
    const { a, b, ma, mb, r } = two()
    ma.delete(r)
    mb.updateItem(r, { name: 'edited' })
    syncAll(a, b)
    const before = ma.conflicts()
    expect(before[0]!.kind).toBe('delete')
    ma.resolve(before[0]!.id, 'keep-deleted')
    expect(ma.conflicts()).toEqual([])
    ma.undo()
    syncAll(a, b)
    expect(ma.conflicts().map((c) => c.kind)).toEqual(['delete'])
    expect(mb.conflicts()).toEqual(ma.conflicts())
  })

  test('a position conflict: the two places again', () => {
    const { a, b, ma, mb, F, G, r } = two()
    ma.move(r, { parent: F })
    mb.move(r, { parent: G })
    syncAll(a, b)
    const before = ma.conflicts()
    mb.resolve(before[0]!.id, { pick: 1 })
    syncAll(a, b)
    expect(ma.conflicts()).toEqual([])
    mb.undo()
    syncAll(a, b)
    expect(ma.conflicts().map((c) => c.alternatives.map((x) => (x.value as { parent: string }).parent).sort())).toEqual([[F, G].sort()])
    expect(mb.snapshot()).toEqual(ma.snapshot())
  })
})

describe('ids given by the caller', () => {
  test('an id in use is refused, deleted items included', () => {
    const [a] = docs(1)
    const m = CollectionModel.create(a!, { name: 'S' })
    m.createRequest({ id: 'login' })
    m.createFolder({ id: 'gone' })
    m.delete('gone')
    expectRefused(a!, () => m.createRequest({ id: 'login' }), 'INVALID_VALUE')
    expectRefused(a!, () => m.createFolder({ id: 'gone' }), 'INVALID_VALUE')
    expectRefused(a!, () => m.addResponse('login', { id: 'login' }), 'INVALID_VALUE')
  })

  test('the same id created on two devices at once: both kept, a duplicate conflict, the same everywhere', () => {
    const { a, b, ma, mb } = two()
    ma.createRequest({ id: 'login', name: 'Login (laptop)', url: { raw: 'https://x.test/a' } })
    mb.createRequest({ id: 'login', name: 'Login (desktop)', url: { raw: 'https://x.test/b' } })
    mb.editText('login', 'test', 0, 0, 'typed on the desktop')
    syncAll(a, b)
    expect(ma.snapshot()).toEqual(mb.snapshot())
    const names = ma.snapshot().items.filter((i) => i.name.startsWith('Login')).map((i) => i.name).sort()
    expect(names).toEqual(['Login (desktop)', 'Login (laptop)'])
    const [c, ...rest] = ma.conflicts()
    expect(rest).toEqual([])
    expect(c).toMatchObject({ kind: 'duplicate', choices: ['keep-both', 'delete'] })
    expect(c!.entityId).toMatch(/^login~/)
    expect(c!.alternatives.map((x) => x.value)).toEqual(['login', c!.entityId])
    expect(c!.alternatives.map((x) => x.device).sort()).toEqual(['Desktop', 'Laptop'])
    // Both answer to their ids, for edits too.
    ma.updateItem(c!.entityId, { method: 'POST' })
    ma.updateItem('login', { method: 'PUT' })
    syncAll(a, b)
    expect(mb.get(c!.entityId)?.kind === 'request' && (mb.get(c!.entityId) as { method: string }).method).toBe('POST')
    mb.resolve(c!.id, 'keep-both')
    syncAll(a, b)
    expect(ma.conflicts()).toEqual([])
    expect(ma.snapshot().items.filter((i) => i.name.startsWith('Login'))).toHaveLength(2)
    // Change events name what readers find by: an edit of the second one names its id~key, here and there.
    const named: string[][] = []
    ma.subscribe((e) => named.push([...e.ids].filter((id) => id.startsWith('login'))))
    mb.subscribe((e) => named.push([...e.ids].filter((id) => id.startsWith('login'))))
    ma.updateItem(c!.entityId, { method: 'PATCH' })
    syncAll(a, b)
    expect(named).toHaveLength(2)
    for (const ids of named) expect(ids).toContain(c!.entityId)
  })

  // Rows too (row-ids.ts): a row added with a caller-given id is kept under a key of its own, so both are kept.
  test('the same row id added on two devices at once: both rows kept (headers and query rows)', () => {
    const { a, b, ma, mb, r } = two()
    ma.addRow(r, 'headers', { id: 'h1', key: 'X-From', value: 'laptop' })
    mb.addRow(r, 'headers', { id: 'h1', key: 'X-From', value: 'desktop' })
    ma.addRow(r, 'query', { id: 'q1', key: 'a', value: '1' })
    mb.addRow(r, 'query', { id: 'q1', key: 'b', value: '2' })
    syncAll(a, b)
    expect(ma.snapshot()).toEqual(mb.snapshot())
    const req = ma.get(r)
    if (req?.kind !== 'request') throw new Error('expected a request')
    const values = [...req.headers.map((h) => h.value), ...req.url.query.map((q) => `${q.key}=${q.value}`)]
    const conflictValues = ma.conflicts().flatMap((c) => c.alternatives.map((x) => JSON.stringify(x.value)))
    // Nothing typed on either device is gone: each value is a row, or an alternative of a conflict.
    for (const v of ['laptop', 'desktop', 'a=1', 'b=2']) expect(values.includes(v) || conflictValues.some((c) => c.includes(v))).toBe(true)
  })

  test('choosing delete for the duplicate removes it (restorable), on every device', () => {
    const { a, b, ma, mb } = two()
    ma.createFolder({ id: 'auth', name: 'Auth' })
    mb.createFolder({ id: 'auth', name: 'Auth' })
    syncAll(a, b)
    const c = mb.conflicts()[0]!
    mb.resolve(c.id, 'delete')
    syncAll(a, b)
    for (const m of [ma, mb]) {
      expect(m.conflicts()).toEqual([])
      expect(m.snapshot().items.filter((i) => i.name === 'Auth')).toHaveLength(1)
      expect(m.get('auth')).toBeDefined()
      expect(m.deletedItems().map((d) => d.id)).toEqual([c.entityId])
    }
  })
})
