import { describe, expect, test } from 'vitest'
import { CollectionModel, EnvironmentModel, WorkspaceModel, type RequestSnapshot } from '@apisync/model'
import { docs, send, syncAll } from './helpers.js'

/** `a` writes as client 1 and `b` as client 2, or the other way round with `swap`. */
const setup = (swap = false) => {
  const [a, b] = swap ? docs(2).reverse() : docs(2)
  const ma = CollectionModel.create(a!, { name: 'S' }, { actor: 'ann' })
  const r = ma.createRequest({ name: 'r', method: 'GET', headers: [{ key: 'A', value: '1' }] })
  syncAll(a!, b!)
  ma.clearUndoHistory()
  const mb = CollectionModel.open(b!, { actor: 'bob' })
  const req = (m: CollectionModel, id = r) => m.get(id) as RequestSnapshot | undefined
  return { a: a!, b: b!, ma, mb, r, req }
}

describe('undo and redo', () => {
  test('nothing to undo after create or open', () => {
    const { ma, mb } = setup()
    expect(ma.canUndo()).toBe(false)
    expect(ma.undo()).toBe(false)
    expect(mb.canUndo()).toBe(false)
    expect(mb.redo()).toBe(false)
  })

  test('each action is one step: undo and redo walk them back and forth', () => {
    const { ma, r, req } = setup()
    ma.updateItem(r, { name: 'one', method: 'POST' })
    ma.updateItem(r, { name: 'two' })
    ma.editText(r, 'test', 0, 0, 'abc')
    expect(ma.undo()).toBe(true)
    expect(req(ma)).toMatchObject({ name: 'two', method: 'POST', scripts: { test: '' } })
    expect(ma.undo()).toBe(true)
    expect(req(ma)).toMatchObject({ name: 'one', method: 'POST' })
    expect(ma.undo()).toBe(true)
    expect(req(ma)).toMatchObject({ name: 'r', method: 'GET' })
    expect(ma.canUndo()).toBe(false)
    expect(ma.redo()).toBe(true)
    expect(ma.redo()).toBe(true)
    expect(ma.redo()).toBe(true)
    expect(req(ma)).toMatchObject({ name: 'two', method: 'POST', scripts: { test: 'abc' } })
    expect(ma.canRedo()).toBe(false)
    expect(ma.conflicts()).toEqual([])
  })

  test('a new action clears the redo stack', () => {
    const { ma, r } = setup()
    ma.updateItem(r, { name: 'one' })
    ma.undo()
    expect(ma.canRedo()).toBe(true)
    ma.updateItem(r, { name: 'other' })
    expect(ma.canRedo()).toBe(false)
  })

  test('undo reverts rows, moves, deletes and creations', () => {
    const { ma, r, req } = setup()
    const f = ma.createFolder({ name: 'F' })
    ma.move(r, { parent: f })
    const h = ma.addRow(r, 'headers', { key: 'B' })
    ma.delete(f)
    expect(req(ma)).toBeUndefined()
    ma.undo() // delete
    expect(ma.parentId(r)).toBe(f)
    ma.undo() // addRow
    expect(req(ma)!.headers.map((x) => x.key)).toEqual(['A'])
    expect(req(ma)!.headers.some((x) => x.id === h)).toBe(false)
    ma.undo() // move
    expect(ma.parentId(r)).toBeNull()
    ma.undo() // createFolder
    expect(ma.get(f)).toBeUndefined()
    expect(ma.snapshot().items.map((i) => i.id)).toEqual([r])
    ma.redo()
    expect(ma.get(f)).toMatchObject({ name: 'F' })
  })

  test('undo only reverts the local user’s actions, never a remote change', () => {
    const { a, b, ma, mb, r, req } = setup()
    const r2 = ma.createRequest({ name: 'mine' })
    mb.updateItem(r, { name: 'bob renamed' })
    mb.addRow(r, 'headers', { key: 'bob header' })
    send(b, a)
    expect(mb.canUndo()).toBe(true)
    expect(ma.undo()).toBe(true) // the creation of r2
    expect(ma.get(r2)).toBeUndefined()
    expect(req(ma)).toMatchObject({ name: 'bob renamed' })
    expect(req(ma)!.headers.map((h) => h.key)).toEqual(['A', 'bob header'])
    expect(ma.undo()).toBe(false)
    syncAll(a, b)
    expect(ma.snapshot()).toEqual(mb.snapshot())
  })

  test('undoing an edit that a peer already overwrote leaves the peer’s value', () => {
    const { a, b, ma, mb, r, req } = setup()
    ma.updateItem(r, { name: 'ann' })
    syncAll(a, b)
    mb.updateItem(r, { name: 'bob' })
    syncAll(a, b)
    ma.undo()
    syncAll(a, b)
    for (const m of [ma, mb]) {
      expect(req(m)!.name).toBe('bob')
      expect(m.conflicts()).toEqual([])
    }
  })

  test.each([false, true])('undo of an edit, concurrent with a peer’s edit of the same field, does not lose the peer’s edit (swap ids: %s)', (swap) => {
    const { a, b, ma, mb, r, req } = setup(swap)
    mb.updateItem(r, { name: 'bob 1' })
    syncAll(a, b)
    ma.updateItem(r, { name: 'ann' }) // replaces bob's entry
    syncAll(a, b)
    ma.undo() // brings back "bob 1"…
    mb.updateItem(r, { name: 'bob 2' }) // …while bob writes again
    syncAll(a, b)
    expect(ma.snapshot()).toEqual(mb.snapshot())
    const names = [req(ma)!.name, ...ma.conflicts().flatMap((c) => c.alternatives.map((x) => x.value))]
    expect(names).toContain('bob 2')
  })

  test('undo of a creation, concurrent with a peer’s edit of the new item, surfaces as a delete conflict', () => {
    const { a, b, ma, mb } = setup()
    const r2 = ma.createRequest({ name: 'new', headers: [{ key: 'H' }] })
    syncAll(a, b)
    mb.updateItem(r2, { name: 'bob renamed it' })
    ma.undo()
    syncAll(a, b)
    for (const m of [ma, mb]) {
      expect(m.get(r2)).toBeUndefined()
      expect(m.conflicts()).toMatchObject([{ kind: 'delete', entityId: r2 }])
    }
    mb.resolve(mb.conflicts()[0]!.id, 'restore')
    syncAll(a, b)
    for (const m of [ma, mb]) {
      expect(m.get(r2)).toMatchObject({ name: 'bob renamed it', headers: [{ key: 'H' }] })
      expect(m.conflicts()).toEqual([])
    }
  })

  test('undo of a folder creation, while a peer adds an item to it, surfaces the item as an orphan', () => {
    const { a, b, ma, mb } = setup()
    const f = ma.createFolder({ name: 'F' })
    syncAll(a, b)
    const inside = mb.createRequest({ name: 'inside' }, { parent: f })
    ma.undo()
    syncAll(a, b)
    for (const m of [ma, mb]) {
      expect(m.conflicts()).toMatchObject([{ kind: 'orphan', entityId: inside }])
      expect(m.snapshot().problems).toEqual([])
    }
  })

  test('undo of a row added, concurrent with a peer’s edit of that row, surfaces as a delete conflict on the row', () => {
    const { a, b, ma, mb, r, req } = setup()
    const h = ma.addRow(r, 'headers', { key: 'X' })
    syncAll(a, b)
    mb.updateRow(r, 'headers', h, { value: 'bob' })
    ma.undo()
    syncAll(a, b)
    expect(req(ma)!.headers.map((x) => x.key)).toEqual(['A'])
    expect(ma.conflicts()).toMatchObject([{ kind: 'delete', entityId: h, ownerId: r }])
  })

  test('an undone creation keeps the whole entity: restoring it brings back its texts and rows', () => {
    const { ma } = setup()
    const r2 = ma.createRequest({ name: 'n', description: 'docs', scripts: { test: 'tests()' }, body: { raw: '{}' }, headers: [{ key: 'H' }] })
    ma.undo()
    expect(ma.get(r2)).toBeUndefined()
    ma.restore(r2)
    expect(ma.get(r2)).toMatchObject({ name: 'n', description: 'docs', scripts: { test: 'tests()' }, body: { raw: '{}' }, headers: [{ key: 'H' }] })
  })

  test('undo and redo of a creation go back and forth, one update each', () => {
    const { a, b, ma, mb } = setup()
    const f = ma.createFolder({ name: 'F' })
    const r2 = ma.createRequest({ name: 'in F' }, { parent: f })
    for (let i = 0; i < 3; i++) {
      ma.undo()
      expect(ma.get(r2)).toBeUndefined()
      expect(ma.get(f)).toMatchObject({ items: [] })
      ma.undo()
      expect(ma.get(f)).toBeUndefined()
      ma.redo()
      ma.redo()
      expect(ma.get(f)).toMatchObject({ name: 'F', items: [{ id: r2, name: 'in F' }] })
    }
    syncAll(a, b)
    expect(mb.snapshot()).toEqual(ma.snapshot())
    expect(ma.conflicts()).toEqual([])
  })

  test('undo of the first write of a field, then redo', () => {
    const { a, b, ma, mb, r, req } = setup()
    ma.updateItem(r, { auth: { type: 'basic' }, protocolProfileBehavior: { x: true } })
    ma.undo()
    expect(req(ma)).toMatchObject({ auth: null, protocolProfileBehavior: null })
    ma.redo()
    expect(req(ma)).toMatchObject({ auth: { type: 'basic' }, protocolProfileBehavior: { x: true } })
    ma.undo()
    ma.redo()
    syncAll(a, b)
    expect(req(mb)).toMatchObject({ auth: { type: 'basic' } })
    expect(mb.conflicts()).toEqual([])
  })

  test('undo of a write that resolved a conflict brings back the value it replaced', () => {
    const { a, b, ma, mb, r, req } = setup()
    ma.updateItem(r, { name: 'ann' })
    mb.updateItem(r, { name: 'bob' })
    syncAll(a, b)
    ma.resolve(ma.conflicts()[0]!.id, { value: 'agreed' })
    syncAll(a, b)
    ma.undo()
    syncAll(a, b)
    expect(ma.snapshot()).toEqual(mb.snapshot())
    expect(req(ma)!.name).not.toBe('agreed')
    expect(['ann', 'bob']).toContain(req(ma)!.name)
    ma.redo()
    syncAll(a, b)
    expect(req(mb)!.name).toBe('agreed')
  })

  test('redo after a peer overwrote the undone field keeps the peer’s value, with both listed', () => {
    const { a, b, ma, mb, r, req } = setup()
    ma.updateItem(r, { method: 'POST' })
    ma.undo()
    syncAll(a, b)
    mb.updateItem(r, { method: 'PUT' })
    syncAll(a, b)
    ma.redo()
    syncAll(a, b)
    expect(ma.snapshot()).toEqual(mb.snapshot())
    const values = [req(ma)!.method, ...ma.conflicts().flatMap((c) => c.alternatives.map((x) => x.value))]
    expect(values).toContain('PUT')
  })

  // Found by the property: the entries of consecutive writes sit next to each other in Yjs' store and merge;
  // the undo of the second write has to find the first one's entry among them.
  test('undo of consecutive writes of one field walks back through each value, then redo forward', () => {
    const { a, b, ma, mb, r, req } = setup()
    const urls = ['https://a.test', 'https://a.test/:id?x=1', 'https://a.test']
    for (const raw of urls) ma.updateItem(r, { url: { raw } })
    ma.undo()
    expect(req(ma)!.url).toMatchObject({ raw: urls[1], query: [{ key: 'x', value: '1' }], variables: [{ key: 'id' }] })
    ma.undo()
    expect(req(ma)!.url).toMatchObject({ raw: urls[0], query: [], variables: [] })
    ma.undo()
    expect(req(ma)!.url.raw).toBe('')
    for (const raw of urls) {
      ma.redo()
      expect(req(ma)!.url.raw).toBe(raw)
    }
    syncAll(a, b)
    expect(mb.snapshot()).toEqual(ma.snapshot())
  })

  test('undo works the same in environments and the workspace', () => {
    const [d, e] = docs(2)
    const env = EnvironmentModel.create(d!, { name: 'Dev' })
    const v = env.addRow('variables', { key: 'k', value: '1' })
    env.updateRow('variables', v, { value: '2' })
    env.undo()
    expect(env.snapshot().variables[0]!.value).toBe('1')
    env.undo()
    expect(env.snapshot().variables).toEqual([])
    const ws = WorkspaceModel.create(e!, { name: 'W', headerPresets: [{ id: 'p', name: 'P' }] })
    ws.addRow('headerPresets/p/headers', { key: 'h' })
    ws.update({ name: 'W2' })
    ws.undo()
    ws.undo()
    expect(ws.snapshot()).toMatchObject({ name: 'W', headerPresets: [{ id: 'p', headers: [] }] })
  })
})
