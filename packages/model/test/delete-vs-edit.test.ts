/**
 * An edit that lands on a deleted item is never lost: whether the deletion arrives while someone types (an
 * editor bound to the item's Y.Text keeps writing into it) or the edit is made on a stale view through the API.
 * The edit is kept; a delete conflict names the item, where it was, and who deleted and who edited (account and
 * device); Restore brings the item, its edits and its folder back on every device; Keep deleted keeps it in the
 * trash with its edits.
 */
import { describe, expect, test } from 'vitest'
import type * as Y from 'yjs'
import { CollectionModel, type RequestSnapshot } from '@apisync/model'
import { docs, fork, syncAll } from './helpers.js'

/** Ann on her Desktop and Bob on his Laptop, both with "Shop" › "Auth" › "Login". */
const setup = () => {
  const [desk, lap] = docs(2) as [Y.Doc, Y.Doc]
  const ann = CollectionModel.create(desk, { name: 'Shop' }, { actor: 'ann', device: 'Desktop' })
  const auth = ann.createFolder({ name: 'Auth' })
  const login = ann.createRequest({ name: 'Login', url: { raw: 'https://x.test/login' }, scripts: { test: 'ok()' } }, { parent: auth })
  const other = ann.createRequest({ name: 'Other' }, { parent: auth })
  syncAll(desk, lap)
  const bob = CollectionModel.open(lap, { actor: 'bob', device: 'Laptop' })
  return { desk, lap, ann, bob, auth, login, other }
}

describe('the folder is deleted while someone types in one of its requests', () => {
  test('no typed character is lost; the conflict names the item, its folder and both devices', () => {
    const { desk, lap, ann, bob, auth, login } = setup()
    // Bob's editor is bound to the test script's Y.Text, and he types.
    const script = bob.text(login, 'test')
    script.insert(script.length, '\n// first')
    // Ann deletes the folder; it arrives at Bob's while he types on.
    ann.delete(auth)
    syncAll(desk, lap)
    expect(bob.get(login)).toBeUndefined()
    script.insert(script.length, '\n// second')
    bob.editText(login, 'test', 0, 0, '// top\n')
    bob.updateItem(login, { url: { raw: 'https://x.test/v2/login' } })
    syncAll(desk, lap)
    for (const m of [ann, bob]) {
      const deleted = m.getDeleted(login) as RequestSnapshot
      expect(deleted.scripts.test).toBe('// top\nok()\n// first\n// second')
      expect(deleted.url.raw).toBe('https://x.test/v2/login')
      const [c, ...rest] = m.conflicts()
      expect(rest).toEqual([])
      expect(c).toMatchObject({ kind: 'delete', entityId: login, name: 'Login', where: ['Auth'], choices: ['keep-deleted', 'restore'] })
      expect(c!.alternatives.map((a) => [a.value, a.by, a.device])).toEqual([
        ['deleted', 'ann', 'Desktop'],
        ['edited', 'bob', 'Laptop'],
      ])
    }
    expect(ann.conflicts()).toEqual(bob.conflicts())
  })

  test('Restore brings the request, its edits and its folder back, on every device', () => {
    const { desk, lap, ann, bob, auth, login, other } = setup()
    ann.delete(auth)
    syncAll(desk, lap)
    bob.editText(login, 'test', 0, 0, 'typed ')
    syncAll(desk, lap)
    bob.resolve(bob.conflicts()[0]!.id, 'restore')
    syncAll(desk, lap)
    for (const m of [ann, bob]) {
      expect(m.conflicts()).toEqual([])
      expect(m.parentId(login)).toBe(auth)
      expect(m.parentId(other)).toBe(auth)
      expect((m.get(login) as RequestSnapshot).scripts.test).toBe('typed ok()')
      expect(m.deletedItems()).toEqual([])
    }
  })

  test('Keep deleted keeps it in the trash, with the edits, on every device', () => {
    const { desk, lap, ann, bob, auth, login } = setup()
    ann.delete(auth)
    bob.updateItem(login, { name: 'Login v2' })
    syncAll(desk, lap)
    ann.resolve(ann.conflicts()[0]!.id, 'keep-deleted')
    syncAll(desk, lap)
    for (const m of [ann, bob]) {
      expect(m.conflicts()).toEqual([])
      expect(m.get(login)).toBeUndefined()
      expect(m.getDeleted(login)?.name).toBe('Login v2')
    }
  })

  test('an edit made on a stale view through the API is kept too, and the conflict says so', () => {
    const { desk, lap, ann, bob, login } = setup()
    ann.delete(login)
    syncAll(desk, lap)
    // Bob's screen still shows the request: his edit is not refused.
    bob.updateItem(login, { name: 'renamed late' })
    bob.addRow(login, 'headers', { key: 'X-Late', value: '1' })
    syncAll(desk, lap)
    for (const m of [ann, bob]) {
      expect(m.getDeleted(login)).toMatchObject({ name: 'renamed late', headers: [{ key: 'X-Late' }] })
      expect(m.conflicts().map((c) => [c.kind, c.entityId, c.alternatives.map((a) => a.device)])).toEqual([['delete', login, ['Desktop', 'Laptop']]])
    }
  })
})

describe('the trash: deleted items and their last content', () => {
  test('lists who deleted what, from which device, when and from where, latest first', () => {
    let clock = 100
    const [d] = docs(1)
    const m = CollectionModel.create(d!, { name: 'S' }, { actor: 'ann', device: 'Desktop', now: () => ++clock })
    const f = m.createFolder({ name: 'Auth' })
    const g = m.createFolder({ name: 'Inner' }, { parent: f })
    const r = m.createRequest({ name: 'Login' }, { parent: g })
    const solo = m.createRequest({ name: 'Solo' })
    m.delete(solo)
    m.delete(f)
    const trash = m.deletedItems()
    expect(trash.map((t) => [t.name, t.kind, t.where, t.deletedWith ?? null, t.deletedBy.by, t.deletedBy.device])).toEqual([
      ['Auth', 'folder', [], null, 'ann', 'Desktop'],
      ['Inner', 'folder', ['Auth'], f, 'ann', 'Desktop'],
      ['Login', 'request', ['Auth', 'Inner'], f, 'ann', 'Desktop'],
      ['Solo', 'request', [], null, 'ann', 'Desktop'],
    ])
    expect(trash[0]!.deletedBy.at).toBeGreaterThan(trash[3]!.deletedBy.at!)
    expect(trash.find((t) => t.id === r)!.parentId).toBe(g)
    // A deleted folder reads with what was deleted with it.
    expect(m.getDeleted(f)).toMatchObject({ name: 'Auth', items: [{ name: 'Inner', items: [{ name: 'Login' }] }] })
    expect(m.getDeleted(r)).toMatchObject({ kind: 'request', name: 'Login' })
    expect(m.getDeleted(solo)).toMatchObject({ name: 'Solo' })
    expect(m.getDeleted('nope')).toBeUndefined()
    expect(CollectionModel.open(fork(d!, 9)).deletedItems()).toEqual(trash)
  })
})

describe('conflict choices that mean what they say', () => {
  test('keep-deleted on a folder takes its subtree and what was added to it meanwhile, as delete(id) does', () => {
    const { desk, lap, ann, bob, auth } = setup()
    ann.delete(auth)
    bob.updateItem(auth, { name: 'Auth (renamed)' })
    const added = bob.createRequest({ name: 'Added meanwhile' }, { parent: auth })
    syncAll(desk, lap)
    expect(ann.conflicts().map((c) => c.kind).sort()).toEqual(['delete', 'orphan'])
    ann.resolve(ann.conflicts().find((c) => c.kind === 'delete')!.id, 'keep-deleted')
    syncAll(desk, lap)
    for (const m of [ann, bob]) {
      expect(m.conflicts()).toEqual([])
      expect(m.snapshot().items).toEqual([])
      expect(m.getDeleted(added)?.name).toBe('Added meanwhile')
    }
  })

  test('deleting an orphan through its conflict takes its subtree', () => {
    const { desk, lap, ann, bob, auth } = setup()
    ann.delete(auth)
    const g = bob.createFolder({ name: 'G' }, { parent: auth })
    const r = bob.createRequest({ name: 'r' }, { parent: g })
    syncAll(desk, lap)
    const orphan = ann.conflicts().find((c) => c.kind === 'orphan')!
    expect(orphan).toMatchObject({ entityId: g, name: 'G' })
    ann.resolve(orphan.id, 'delete')
    syncAll(desk, lap)
    for (const m of [ann, bob]) {
      expect(m.conflicts()).toEqual([])
      expect(m.get(g)).toBeUndefined()
      expect(m.get(r)).toBeUndefined()
    }
  })
})
