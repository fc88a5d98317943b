/** diffDocs, case by case: each kind of change on each kind of entity. */
import * as Y from 'yjs'
import { describe, expect, test } from 'vitest'
import { type Change, CollectionModel, EnvironmentModel, type RequestSnapshot, RunsModel, WorkspaceModel, diffDocs } from '@apisync/model'

/** A read-only copy of a model's doc as it is now: a "version". */
const version = <M extends { doc: Y.Doc }>(model: M, open: (doc: Y.Doc, o: { readOnly: true }) => M): M => {
  const d = new Y.Doc()
  Y.applyUpdate(d, Y.encodeStateAsUpdate(model.doc))
  return open(d, { readOnly: true })
}
const v = (m: CollectionModel) => version(m, CollectionModel.open)
const ve = (m: EnvironmentModel) => version(m, EnvironmentModel.open)
const brief = (c: Change) => `${c.entity} ${c.kind}${c.field ? ` ${c.field}` : ''} ${c.name}`

const base = () => {
  const m = CollectionModel.create(new Y.Doc(), { name: 'Shop', variables: [{ key: 'base', value: 'https://x' }] })
  const auth = m.createFolder({ name: 'Auth' })
  const login = m.createRequest(
    { name: 'Login', method: 'POST', url: { raw: '{{base}}/login?v=1' }, headers: [{ key: 'Accept', value: 'json' }] },
    { parent: auth },
  )
  const logout = m.createRequest({ name: 'Logout' }, { parent: auth })
  const list = m.createRequest({ name: 'List' })
  const ok = m.addResponse(login, { name: 'ok', code: 200 })
  return { m, auth, login, logout, list, ok }
}

describe('diffDocs: collections', () => {
  test('no changes', () => {
    const { m } = base()
    const d = diffDocs(v(m), m)
    expect(d.changes).toEqual([])
    expect(d.summary).toBe('no changes')
  })

  test('fields of a request, with old and new values', () => {
    const { m, login } = base()
    const a = v(m)
    m.updateItem(login, { method: 'PUT', url: { raw: '{{base}}/login?v=2' }, scripts: { test: 'pm.test()' }, auth: { type: 'bearer' } })
    const header = (m.get(login) as RequestSnapshot).headers[0]!.id
    m.updateRow(login, 'headers', header, { value: 'xml' })
    m.updateItem(login, { body: { mode: 'raw', raw: '{}' } })
    const d = diffDocs(a, m)
    expect(d.changes.map(brief).sort()).toEqual(
      ['request changed method Login', 'request changed url Login', 'request changed headers Login', 'request changed body Login', 'request changed auth Login', 'request changed scripts.test Login'].sort(),
    )
    const method = d.changes.find((c) => c.field === 'method')!
    expect([method.before, method.after, method.id, method.where]).toEqual(['POST', 'PUT', login, ['Auth']])
    const url = d.changes.find((c) => c.field === 'url')!
    expect([(url.before as { raw: string }).raw, (url.after as { raw: string }).raw]).toEqual(['{{base}}/login?v=1', '{{base}}/login?v=2'])
    expect(d.counts).toEqual({ 'request.changed': 1 })
    expect(d.summary).toBe('1 request changed')
  })

  test('added, removed, renamed, moved to another folder, reordered in its folder', () => {
    const { m, auth, login, logout, list } = base()
    const a = v(m)
    const users = m.createFolder({ name: 'Users' })
    m.createRequest({ name: 'Me' }, { parent: users })
    m.updateItem(logout, { name: 'Sign out' })
    m.move(list, { parent: auth })
    m.move(logout, { parent: auth, placement: { before: login } })
    m.delete(login)
    const d = diffDocs(a, m)
    expect(d.changes.map(brief).sort()).toEqual(
      [
        'folder added Users',
        'request added Me',
        'request renamed name Sign out',
        'request moved List',
        'request removed Login',
        'response removed ok',
      ].sort(),
    )
    const moved = d.changes.find((c) => c.kind === 'moved')!
    expect(moved.before).toEqual({ parentId: null, where: [], index: 1 })
    expect(moved.after).toEqual({ parentId: auth, where: ['Auth'], index: 1 })
    expect(moved.reordered).toBeUndefined()
    const removed = d.changes.find((c) => c.kind === 'removed' && c.entity === 'request')!
    expect(removed.where).toEqual(['Auth'])
    expect(d.changes.find((c) => c.entity === 'response')!.where).toEqual(['Auth', 'Login'])
    expect(d.summary).toBe('1 folder added, 1 request added, 1 request removed, 1 request moved, 1 request renamed, 1 saved response removed')
  })

  test('a reorder within one folder names only the item moved', () => {
    const m = CollectionModel.create(new Y.Doc(), { name: 'S' })
    const ids = ['A', 'B', 'C', 'D', 'E'].map((name) => m.createRequest({ name }))
    const a = v(m)
    m.move(ids[4]!, { parent: null, placement: { index: 0 } }) // E A B C D
    const d = diffDocs(a, m)
    expect(d.changes).toHaveLength(1)
    expect(d.changes[0]).toMatchObject({ kind: 'moved', id: ids[4], reordered: true, before: { parentId: null, index: 4 }, after: { parentId: null, index: 0 } })
    // An insertion shifts others' indexes: not a move.
    const b = v(m)
    m.createRequest({ name: 'F' }, { placement: { index: 0 } })
    expect(diffDocs(b, m).changes.map(brief)).toEqual(['request added F'])
  })

  test('a deleted folder lists what went with it; restoring it is an addition', () => {
    const { m, auth } = base()
    const a = v(m)
    m.delete(auth)
    const d = diffDocs(a, m)
    expect(d.counts).toEqual({ 'folder.removed': 1, 'request.removed': 2, 'response.removed': 1 })
    const b = v(m)
    m.restore(auth)
    expect(diffDocs(b, m).counts).toEqual({ 'folder.added': 1, 'request.added': 2, 'response.added': 1 })
    expect(diffDocs(a, m).changes).toEqual([])
  })

  test('saved responses and folder fields, collection fields and variables', () => {
    const { m, auth, ok } = base()
    const a = v(m)
    m.updateResponse(ok, { code: 201, name: 'created' })
    m.updateItem(auth, { description: 'sign in' })
    m.addRow(auth, 'variables', { key: 'token', value: 't' })
    m.updateCollection({ name: 'Shop v2', description: 'the shop' })
    const variable = m.snapshot().variables[0]!.id
    m.updateRow(m.id, 'variables', variable, { value: 'https://y', key: 'host' })
    m.addRow(m.id, 'variables', { key: 'extra', value: '1' })
    const d = diffDocs(a, m)
    expect(d.changes.map(brief).sort()).toEqual(
      [
        'collection renamed name Shop v2',
        'collection changed description Shop v2',
        'variable renamed name host',
        'variable changed value host',
        'variable added extra',
        'response renamed name created',
        'response changed code created',
        'folder changed description Auth',
        'folder changed variables Auth',
      ].sort(),
    )
    expect(d.changes.find((c) => c.entity === 'variable' && c.field === 'value')).toMatchObject({ id: variable, before: 'https://x', after: 'https://y' })
    expect(d.changes[0]).toMatchObject({ entity: 'collection', id: '' })
  })

  test('another kind or another doc is refused', () => {
    const { m } = base()
    const env = EnvironmentModel.create(new Y.Doc(), { name: 'E' })
    expect(() => diffDocs(m, env)).toThrow(/cannot compare/)
    const other = CollectionModel.create(new Y.Doc(), { name: 'Other' })
    expect(() => diffDocs(m, other)).toThrow(/two different/)
    // The empty version (before the doc was made) is a version of every doc.
    const empty = CollectionModel.open(new Y.Doc(), { readOnly: true })
    const d = diffDocs(empty, m)
    expect(d.counts['request.added']).toBe(3)
    // The collection itself was made between the two: added, not renamed from nothing.
    expect(d.changes.filter((c) => c.entity === 'collection').map(brief)).toEqual([`collection added ${m.snapshot().name}`])
    expect(d.summary).toContain('1 collection added')
  })
})

describe('diffDocs: environments, workspace, runs', () => {
  const SEALED_A = `${btoa(JSON.stringify({ alg: 'dir', enc: 'A256GCM', cty: 'apisync-value', kid: 'k1' })).replace(/=+$/, '')}..aaaa.bbbb.cccc`
  const SEALED_B = `${btoa(JSON.stringify({ alg: 'dir', enc: 'A256GCM', cty: 'apisync-value', kid: 'k1' })).replace(/=+$/, '')}..dddd.eeee.ffff`

  test('variables added, removed, renamed, value changed (sealed stays ciphertext)', () => {
    const env = EnvironmentModel.create(new Y.Doc(), { name: 'Dev', variables: [{ key: 'a', value: SEALED_A }, { key: 'b', value: '1' }, { key: 'c', value: '2' }] })
    const [va, vb, vc] = env.snapshot().variables
    const a = ve(env)
    env.updateRow('variables', va!.id, { value: SEALED_B })
    env.updateRow('variables', vb!.id, { key: 'bb', enabled: false })
    env.removeRow('variables', vc!.id)
    env.addRow('variables', { key: 'd', value: '3' })
    env.update({ name: 'Development' })
    const d = diffDocs(a, env)
    expect(d.changes.map(brief).sort()).toEqual(
      ['environment renamed name Development', 'variable changed value a', 'variable renamed name bb', 'variable changed enabled bb', 'variable removed c', 'variable added d'].sort(),
    )
    const sealed = d.changes.find((c) => c.field === 'value')!
    expect(sealed).toMatchObject({ sealed: true, before: SEALED_A, after: SEALED_B, id: va!.id })
    expect(d.summary).toBe('2 variables changed, 1 environment renamed, 1 variable added, 1 variable removed, 1 variable renamed')
  })

  test('workspace: collections and environments added, removed, renamed; presets; members', () => {
    const ws = WorkspaceModel.create(new Y.Doc(), { name: 'Team', collections: [{ docId: 'c1', name: 'Shop' }, { docId: 'c2', name: 'Old' }] })
    const [c1, c2] = ws.snapshot().collections
    const a = version(ws, WorkspaceModel.open)
    ws.updateRow('collections', c1!.id, { name: 'Shop API' })
    ws.removeRow('collections', c2!.id)
    ws.addRow('environments', { docId: 'e1', name: 'Dev' })
    ws.addRow('headerPresets', { name: 'JSON', headers: [{ key: 'Accept', value: 'json' }] })
    ws.addRow('members', { accountId: 'bob', name: 'Bob' })
    const d = diffDocs(a, ws)
    expect(d.changes.map(brief).sort()).toEqual(
      ['collection renamed name Shop API', 'collection removed Old', 'environment added Dev', 'headerPreset added JSON', 'member added Bob'].sort(),
    )
  })

  test('runs added', () => {
    const runs = RunsModel.open(new Y.Doc())
    const a = version(runs, RunsModel.open)
    const run = {
      id: 'r1',
      collectionId: 'c',
      environmentName: 'Dev',
      startedAt: 0,
      finishedAt: 1,
      totals: { requests: 0, failedRequests: 0, assertions: 0, failedAssertions: 0 },
      executions: [],
      extra: {},
    }
    runs.append(run)
    const d = diffDocs(a, runs)
    expect(d.changes).toEqual([{ kind: 'added', entity: 'run', id: 'r1', name: 'Dev, 1970-01-01T00:00:00.000Z', where: [], after: run }])
    expect(d.summary).toBe('1 run added')
  })
})
