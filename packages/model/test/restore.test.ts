/** Restore: an item, a field, a whole doc, as a forward change that undoes in one step, syncs, and merges. */
import * as Y from 'yjs'
import { describe, expect, test } from 'vitest'
import { type Change, CollectionModel, EnvironmentModel, WorkspaceModel, diffDocs, requireSealedValues } from '@apisync/model'
import { content, countUpdates, fork, modelError, syncAll, version } from './helpers.js'


const base = () => {
  const doc = new Y.Doc()
  doc.clientID = 1
  const m = CollectionModel.create(doc, { name: 'Shop', variables: [{ key: 'base', value: 'https://x' }] }, { actor: 'ann' })
  const auth = m.createFolder({ name: 'Auth', variables: [{ key: 'tok', value: '1' }] })
  const login = m.createRequest(
    { name: 'Login', method: 'POST', url: { raw: '{{base}}/login/:id?v=1&w=2' }, headers: [{ key: 'Accept', value: 'json' }], body: { mode: 'raw', raw: '{"a":1}' } },
    { parent: auth },
  )
  m.updateRow(login, 'pathVariables', ':id', { value: '7' })
  const logout = m.createRequest({ name: 'Logout' }, { parent: auth })
  const list = m.createRequest({ name: 'List' })
  const ok = m.addResponse(login, { name: 'ok', code: 200 })
  m.clearUndoHistory()
  return { m, auth, login, logout, list, ok }
}

describe('restoreItem', () => {
  test('a deleted folder comes back with its subtree, where it was', () => {
    const { m, auth, login } = base()
    const a = version(m)
    m.updateItem(login, { method: 'GET' })
    m.delete(auth)
    m.restoreItem(a, auth)
    expect(m.get(auth)).toEqual(a.get(auth))
    expect(content(m.snapshot())).toEqual(content(a.snapshot()))
    expect(m.deletedItems()).toEqual([])
  })

  test('a request whose folder was deleted: the folder comes back too (only the path to it)', () => {
    const { m, auth, login, logout } = base()
    const a = version(m)
    m.delete(auth)
    m.restoreItem(a, login)
    expect(m.get(login)).toEqual(a.get(login))
    expect(m.parentId(login)).toBe(auth)
    expect(m.get(logout)).toBeUndefined() // taken along by the deletion, not part of the restore
  })

  test('a folder absent now (a version from another replica) is recreated with the same ids', () => {
    const { m, auth } = base()
    const other = CollectionModel.open(fork(m.doc, 9))
    const fresh = other.createFolder({ name: 'New' }, { parent: auth })
    const inner = other.createRequest({ name: 'Inner', url: { raw: 'https://a/b?c=d' } }, { parent: fresh })
    const v = version(other)
    m.restoreItem(v, fresh)
    expect(m.get(fresh)).toEqual(v.get(fresh))
    expect(m.get(inner)).toEqual(v.get(inner))
  })

  test('a folder comes back exactly: added since removed, moved in since moved back', () => {
    const { m, auth, list, logout } = base()
    const a = version(m)
    const added = m.createRequest({ name: 'Added' }, { parent: auth })
    m.move(list, { parent: auth })
    m.move(logout, { parent: null })
    m.updateItem(list, { name: 'List 2' })
    m.restoreItem(a, auth)
    expect(m.get(auth)).toEqual(a.get(auth))
    expect(m.get(added)).toBeUndefined()
    expect(m.parentId(list)).toBeNull()
    expect(m.get(list)!.name).toBe('List 2') // only the folder's subtree is restored: List's own content is not
  })

  test('only that item changes, one undo reverts it, redo does it again', () => {
    const { m, login, list, auth } = base()
    const a = version(m)
    m.updateItem(login, { method: 'PUT', url: { raw: 'https://other/x' } })
    m.updateItem(list, { method: 'DELETE' })
    m.delete(auth)
    const before = m.snapshot()
    expect(countUpdates(m.doc, () => m.restoreItem(a, login))).toBe(1)
    const after = m.snapshot()
    expect(after.items.find((i) => i.id === list)).toBe(before.items.find((i) => i.id === list))
    expect(m.get(login)).toEqual(a.get(login))
    expect(m.undo()).toBe(true)
    expect(content(m.snapshot())).toEqual(content(before))
    expect(m.redo()).toBe(true)
    expect(content(m.snapshot())).toEqual(content(after))
  })

  test('a saved response', () => {
    const { m, ok, login } = base()
    const a = version(m)
    m.updateResponse(ok, { code: 500 })
    m.deleteResponse(ok)
    m.restoreItem(a, ok)
    expect(m.get(login)).toEqual(a.get(login))
  })

  test('validation: unknown id, another kind, another doc', () => {
    const { m } = base()
    const a = version(m)
    expect(modelError(() => m.restoreItem(a, 'nope')).code).toBe('NOT_FOUND')
    const env = EnvironmentModel.create(new Y.Doc(), {})
    expect(modelError(() => m.restoreAll(env)).code).toBe('WRONG_KIND')
    const other = CollectionModel.create(new Y.Doc(), { name: 'Other' })
    expect(modelError(() => m.restoreAll(other)).code).toBe('INVALID_VALUE')
  })
})

describe('restoreField', () => {
  test('each field a diff emits restores exactly that field', () => {
    const { m, login, auth, ok } = base()
    const a = version(m)
    m.updateItem(login, { method: 'PUT', url: { raw: 'https://other/:uid?z=9' }, scripts: { test: 't' }, auth: { type: 'bearer' }, body: { mode: 'urlencoded' }, description: 'd' })
    m.addRow(login, 'headers', { key: 'X', value: 'y' })
    m.updateItem(auth, { name: 'Auth2', description: 'folder' })
    m.addRow(auth, 'variables', { key: 'k', value: 'v' })
    m.updateResponse(ok, { code: 201, status: 'Created' })
    m.updateCollection({ name: 'Shop 2', description: 'c' })
    m.updateRow(m.id, 'variables', m.snapshot().variables[0]!.id, { value: 'https://y', key: 'host' })
    const changes = diffDocs(a, m).changes
    expect(changes.length).toBeGreaterThan(10)
    // A change without the names around it (a rename restored changes the names the others carry).
    const bare = (list: readonly Change[]) => list.map(({ name: _n, where: _w, ...rest }) => rest)
    for (const c of changes) {
      const before = diffDocs(a, m).changes
      m.restoreField(a, c.id, c.field!)
      const after = diffDocs(a, m).changes
      // That change is gone, and nothing else changed.
      expect(bare(after)).toEqual(bare(before.filter((x) => !(x.id === c.id && x.field === c.field))))
    }
    expect(content(m.snapshot())).toEqual(content(a.snapshot()))
  })

  test('an unknown field, an item not live now', () => {
    const { m, login, list } = base()
    const a = version(m)
    expect(modelError(() => m.restoreField(a, login, 'colour')).code).toBe('INVALID_VALUE')
    m.delete(list)
    expect(modelError(() => m.restoreField(a, list, 'method')).code).toBe('DELETED')
  })
})

describe('restoreAll', () => {
  test('the collection as it was; undo in one step', () => {
    const { m, auth, login, list } = base()
    const a = version(m)
    m.updateCollection({ name: 'X' })
    m.createFolder({ name: 'New' })
    m.move(list, { parent: auth, placement: { index: 0 } })
    m.delete(login)
    m.addRow(m.id, 'variables', { key: 'more' })
    const before = m.snapshot()
    expect(countUpdates(m.doc, () => m.restoreAll(a))).toBe(1)
    expect(content(m.snapshot())).toEqual(content(a.snapshot()))
    expect(diffDocs(a, m).changes).toEqual([])
    m.undo()
    expect(content(m.snapshot())).toEqual(content(before))
    m.redo()
    expect(content(m.snapshot())).toEqual(content(a.snapshot()))
  })

  test('from the empty version: everything deleted (to the trash)', () => {
    const { m } = base()
    const empty = CollectionModel.open(new Y.Doc(), { readOnly: true })
    m.restoreAll(empty)
    expect(m.snapshot().items).toEqual([])
    expect(m.deletedItems().length).toBe(4)
  })

  test('syncs: the other replica converges with the restore applied', () => {
    const { m } = base()
    const a = version(m)
    const other = CollectionModel.open(fork(m.doc, 2))
    other.createRequest({ name: 'From Bob' })
    m.updateCollection({ name: 'Changed' })
    syncAll(m.doc, other.doc)
    m.restoreAll(a)
    syncAll(m.doc, other.doc)
    expect(content(other.snapshot())).toEqual(content(a.snapshot()))
    expect(content(other.snapshot())).toEqual(content(m.snapshot()))
  })

  test('concurrent with an edit on another replica: a conflict or a merge, nothing lost', () => {
    const { m, login, list } = base()
    const a = version(m)
    m.updateItem(login, { method: 'PUT' })
    const other = CollectionModel.open(fork(m.doc, 2), { actor: 'bob' })
    // Concurrently: the restore (method back to POST), and Bob's edits of the same field and of another item.
    m.restoreAll(a)
    other.updateItem(login, { method: 'PATCH' })
    other.updateItem(list, { method: 'HEAD' })
    syncAll(m.doc, other.doc)
    const conflict = m.conflicts().find((c) => c.entityId === login && c.field === 'method')
    expect(conflict?.alternatives.map((x) => x.value).sort()).toEqual(['PATCH', 'POST'])
    expect((m.get(list) as { method: string }).method).toBe('HEAD')
    expect(content(other.snapshot())).toEqual(content(m.snapshot()))
  })
})

describe('environments and sealing', () => {
  const sealed = (tag: string) => `${btoa(JSON.stringify({ alg: 'dir', enc: 'A256GCM', cty: 'apisync-value', kid: 'k1' })).replace(/=+$/, '')}..${tag}.${tag}.${tag}`

  test('restoreField value, name; restoreItem of a removed variable; restoreAll', () => {
    const env = EnvironmentModel.create(new Y.Doc(), { name: 'Dev', variables: [{ key: 'a', value: '1' }, { key: 'b', value: '2' }] })
    const [va, vb] = env.snapshot().variables
    const d = new Y.Doc()
    Y.applyUpdate(d, Y.encodeStateAsUpdate(env.doc))
    const a = EnvironmentModel.open(d, { readOnly: true })
    env.updateRow('variables', va!.id, { value: '9', key: 'aa' })
    env.removeRow('variables', vb!.id)
    env.update({ name: 'Prod' })
    env.restoreField(a, va!.id, 'value')
    expect(env.snapshot().variables[0]).toMatchObject({ key: 'aa', value: '1' })
    env.restoreField(a, va!.id, 'name')
    expect(env.snapshot().variables[0]).toMatchObject({ key: 'a', value: '1' })
    expect(modelError(() => env.restoreField(a, vb!.id, 'value')).code).toBe('DELETED')
    env.restoreItem(a, vb!.id)
    expect(env.snapshot().variables).toEqual(a.snapshot().variables)
    env.addRow('variables', { key: 'c' })
    env.restoreAll(a)
    const { conflicts: _1, problems: _2, ...now } = env.snapshot()
    const { conflicts: _3, problems: _4, ...then } = a.snapshot()
    expect(now).toEqual(then)
  })

  test('sealed values go back as the same ciphertext; a clear value is refused where sealing is required', () => {
    const doc = new Y.Doc()
    const env = EnvironmentModel.create(doc, { name: 'Dev', variables: [{ key: 'clear', value: 'plain' }] })
    const copy = () => {
      const d = new Y.Doc()
      Y.applyUpdate(d, Y.encodeStateAsUpdate(doc))
      return EnvironmentModel.open(d, { readOnly: true })
    }
    const old = copy()
    const [clear] = env.snapshot().variables
    requireSealedValues(doc)
    env.updateRow('variables', clear!.id, { value: sealed('aaaa') })
    env.addRow('variables', { key: 's', value: sealed('bbbb') })
    const s = env.snapshot().variables[1]!.id
    const withSealed = copy()
    env.updateRow('variables', s, { value: sealed('cccc') })
    env.restoreField(withSealed, s, 'value')
    expect(env.snapshot().variables[1]!.value).toBe(sealed('bbbb'))
    // Back to before sealing: the clear value is refused, nothing written.
    const before = Y.encodeStateAsUpdate(doc)
    expect(modelError(() => env.restoreAll(old)).code).toBe('NOT_SEALED')
    expect(modelError(() => env.restoreField(old, clear!.id, 'value')).code).toBe('NOT_SEALED')
    expect(Y.encodeStateAsUpdate(doc)).toEqual(before)
  })

  test('workspace: index rows restored; members are not restored', () => {
    const ws = WorkspaceModel.create(new Y.Doc(), { name: 'Team', collections: [{ docId: 'c1', name: 'Shop' }] })
    ws.addRow('members', { accountId: 'bob', name: 'Bob' })
    const d = new Y.Doc()
    Y.applyUpdate(d, Y.encodeStateAsUpdate(ws.doc))
    const a = WorkspaceModel.open(d, { readOnly: true })
    const [c1] = ws.snapshot().collections
    const [bob] = ws.snapshot().members
    ws.removeRow('collections', c1!.id)
    ws.removeRow('members', bob!.id)
    ws.restoreAll(a)
    expect(ws.snapshot().collections).toEqual(a.snapshot().collections)
    expect(ws.snapshot().members).toEqual([])
    expect(modelError(() => ws.restoreItem(a, bob!.id)).code).toBe('INVALID_VALUE')
  })
})
