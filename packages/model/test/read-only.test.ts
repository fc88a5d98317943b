/** OpenOptions.readOnly: a view (an earlier version from history) refuses every write before writing anything. */
import * as Y from 'yjs'
import { describe, expect, test } from 'vitest'
import { CollectionModel, EnvironmentModel, RunsModel, WorkspaceModel } from '@apisync/model'
import { expectRefused } from './helpers.js'

const copy = (doc: Y.Doc): Y.Doc => {
  const d = new Y.Doc()
  Y.applyUpdate(d, Y.encodeStateAsUpdate(doc))
  return d
}

describe('readOnly', () => {
  test('a collection refuses every write, resolution, undo and redo with READ_ONLY', () => {
    const src = new Y.Doc()
    const live = CollectionModel.create(src, { name: 'Shop', variables: [{ key: 'base', value: 'x' }] })
    const folder = live.createFolder({ name: 'Auth' })
    const req = live.createRequest({ name: 'Login', url: { raw: 'https://x/:id?a=1' }, headers: [{ key: 'A', value: '1' }] }, { parent: folder })
    const resp = live.addResponse(req, { name: 'ok' })
    const gone = live.createRequest({ name: 'Gone' })
    live.delete(gone)
    const s = live.snapshot()
    const r = live.get(req) as { headers: { id: string }[]; url: { query: { id: string }[]; variables: { id: string }[] } }
    const header = r.headers[0]!.id
    const query = r.url.query[0]!.id
    const variable = s.variables[0]!.id

    const doc = copy(src)
    const view = CollectionModel.open(doc, { readOnly: true })
    expect(view.openError?.code).toBe('READ_ONLY')
    expect(view.snapshot().name).toBe('Shop')
    const writes: [string, () => unknown][] = [
      ['updateCollection', () => view.updateCollection({ name: 'X' })],
      ['createFolder', () => view.createFolder({ name: 'F' })],
      ['createRequest', () => view.createRequest({ name: 'R' })],
      ['updateItem', () => view.updateItem(req, { method: 'PUT' })],
      ['updateItem url', () => view.updateItem(req, { url: { raw: 'https://y' } })],
      ['editText', () => view.editText(req, 'test', 0, 0, 'x')],
      ['move', () => view.move(req, { parent: null })],
      ['delete', () => view.delete(req)],
      ['restore', () => view.restore(gone)],
      ['addRow', () => view.addRow(req, 'headers', { key: 'B' })],
      ['updateRow', () => view.updateRow(req, 'headers', header, { value: '2' })],
      ['removeRow', () => view.removeRow(req, 'headers', header)],
      ['moveRow', () => view.moveRow(req, 'headers', header, { before: header })],
      ['addRow query', () => view.addRow(req, 'query', { key: 'b' })],
      ['updateRow query', () => view.updateRow(req, 'query', query, { value: '2' })],
      ['removeRow query', () => view.removeRow(req, 'query', query)],
      ['collection variable', () => view.updateRow(view.id, 'variables', variable, { value: 'y' })],
      ['addResponse', () => view.addResponse(req, { name: 'r' })],
      ['updateResponse', () => view.updateResponse(resp, { name: 'r2' })],
      ['deleteResponse', () => view.deleteResponse(resp)],
      ['undo', () => view.undo()],
      ['redo', () => view.redo()],
      ['restoreItem', () => view.restoreItem(live, gone)],
      ['restoreField', () => view.restoreField(live, req, 'method')],
      ['restoreAll', () => view.restoreAll(live)],
    ]
    for (const [name, write] of writes) {
      const err = expectRefused(doc, write, 'READ_ONLY')
      expect(err.message, name).toMatch(/read-only/)
    }
  })

  test('a collection with a conflict: resolve is refused', () => {
    const a = new Y.Doc()
    const b = new Y.Doc()
    const ma = CollectionModel.create(a, { name: 'S' })
    const id = ma.createRequest({ name: 'R' })
    Y.applyUpdate(b, Y.encodeStateAsUpdate(a))
    const mb = CollectionModel.open(b)
    ma.updateItem(id, { method: 'PUT' })
    mb.updateItem(id, { method: 'POST' })
    Y.applyUpdate(a, Y.encodeStateAsUpdate(b))
    const view = CollectionModel.open(copy(a), { readOnly: true })
    const [conflict] = view.conflicts()
    expect(conflict).toBeDefined()
    expectRefused(view.doc, () => view.resolve(conflict!.id, { pick: 0 }), 'READ_ONLY')
  })

  test('environments, globals, the workspace and runs refuse writes', () => {
    const e = new Y.Doc()
    const env = EnvironmentModel.create(e, { name: 'Dev', variables: [{ key: 'k', value: 'v' }] })
    const row = env.snapshot().variables[0]!.id
    const envView = EnvironmentModel.open(copy(e), { readOnly: true })
    for (const write of [
      () => envView.update({ name: 'X' }),
      () => envView.addRow('variables', { key: 'k2' }),
      () => envView.updateRow('variables', row, { value: 'w' }),
      () => envView.removeRow('variables', row),
      () => envView.moveRow('variables', row, { before: row }),
      () => envView.restoreField(env, row, 'value'),
      () => envView.restoreAll(env),
    ])
      expectRefused(envView.doc, write, 'READ_ONLY')

    const g = new Y.Doc()
    EnvironmentModel.createGlobals(g, {})
    const globalsView = EnvironmentModel.openGlobals(copy(g), { readOnly: true })
    expectRefused(globalsView.doc, () => globalsView.update({ name: 'G' }), 'READ_ONLY')

    const w = new Y.Doc()
    WorkspaceModel.create(w, { name: 'Team' })
    const wsView = WorkspaceModel.open(copy(w), { readOnly: true })
    expectRefused(wsView.doc, () => wsView.update({ name: 'X' }), 'READ_ONLY')
    expectRefused(wsView.doc, () => wsView.addRow('collections', { docId: 'c', name: 'C' }), 'READ_ONLY')

    const runsView = RunsModel.open(new Y.Doc(), { readOnly: true })
    expectRefused(
      runsView.doc,
      () => runsView.start({ id: 'r', collectionId: 'c', environmentName: null, startedAt: 1, planned: 1, extra: {} }),
      'READ_ONLY',
    )
  })

  test('an older schema opened read-only is not migrated', () => {
    const doc = new Y.Doc()
    CollectionModel.create(doc, { name: 'Old' })
    doc.getMap('meta').set('schema', 1)
    const before = Y.encodeStateAsUpdate(doc)
    const view = CollectionModel.open(doc, { readOnly: true })
    expect(view.snapshot().name).toBe('Old')
    expect(Y.encodeStateAsUpdate(doc)).toEqual(before)
  })
})
