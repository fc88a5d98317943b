import { afterEach, describe, expect, test } from 'vitest'
import * as Y from 'yjs'
import { CollectionModel, EnvironmentModel, MIGRATIONS, RunsModel, SCHEMA_VERSION, WorkspaceModel, type RequestSnapshot } from '@apisync/model'
import { MIGRATION_ORIGIN } from '../src/doc.js'
import { docs, expectRefused, fork, itemsById, syncAll } from './helpers.js'

/** A collection doc as a newer apisync would leave it: a higher schema number, maybe fields we do not know. */
const fromTheFuture = () => {
  const [d] = docs(1)
  const m = CollectionModel.create(d!, { id: 'c', name: 'Future' })
  const r = m.createRequest({ name: 'r', headers: [{ key: 'A' }] })
  d!.transact(() => {
    d!.getMap('meta').set('schema', SCHEMA_VERSION + 1)
    ;itemsById(d!).get(r)!.set('newField@1', { v: 'x', n: 1 })
  })
  m.destroy()
  return { doc: fork(d!, 2), r }
}

describe('schema version', () => {
  test('every doc records its kind and the schema version on first write', () => {
    const check = (d: Y.Doc, kind: string) => {
      expect(d.getMap('meta').get('schema')).toBe(SCHEMA_VERSION)
      expect(d.getMap('meta').get('kind')).toBe(kind)
    }
    const [a, b, c, e, g] = docs(5)
    CollectionModel.create(a!, { name: 'c' })
    check(a!, 'collection')
    EnvironmentModel.create(b!, { name: 'e' })
    check(b!, 'environment')
    WorkspaceModel.create(c!, { name: 'w' })
    check(c!, 'manifest')
    EnvironmentModel.createGlobals(g!)
    check(g!, 'globals')
    RunsModel.open(e!).append({ id: 'r', collectionId: 'c', environmentName: null, startedAt: 0, finishedAt: 1, totals: { requests: 0, failedRequests: 0, assertions: 0, failedAssertions: 0 }, executions: [], extra: {} })
    check(e!, 'runs')
  })

  test('a doc from a newer schema opens read-only: reads work, every write throws READ_ONLY and writes nothing', () => {
    const { doc, r } = fromTheFuture()
    const m = CollectionModel.open(doc)
    expect(m.openError).toMatchObject({ code: 'READ_ONLY' })
    expect(m.openError!.message).toMatch(/newer/)
    expect(m.snapshot().name).toBe('Future')
    expect((m.get(r) as RequestSnapshot).headers.map((h) => h.key)).toEqual(['A'])
    const h = (m.get(r) as RequestSnapshot).headers[0]!.id
    const writes: (() => unknown)[] = [
      () => m.updateCollection({ name: 'x' }),
      () => m.createRequest({ name: 'x' }),
      () => m.createFolder(),
      () => m.updateItem(r, { name: 'x' }),
      () => m.editText(r, 'test', 0, 0, 'x'),
      () => m.move(r, { parent: null }),
      () => m.delete(r),
      () => m.restore(r),
      () => m.addRow(r, 'headers', { key: 'x' }),
      () => m.updateRow(r, 'headers', h, { key: 'x' }),
      () => m.removeRow(r, 'headers', h),
      () => m.moveRow(r, 'headers', h, { index: 0 }),
      () => m.addResponse(r, {}),
      () => m.undo(),
      () => m.redo(),
    ]
    for (const w of writes) expectRefused(doc, w, 'READ_ONLY')
    expect(doc.getMap('meta').get('schema')).toBe(SCHEMA_VERSION + 1)
  })

  test('the other doc kinds open read-only too', () => {
    const bump = (d: Y.Doc) => d.getMap('meta').set('schema', SCHEMA_VERSION + 5)
    const [a, b, c] = docs(3)
    EnvironmentModel.create(a!, { name: 'e' }).destroy()
    bump(a!)
    const env = EnvironmentModel.open(a!)
    expect(env.snapshot().name).toBe('e')
    expectRefused(a!, () => env.update({ name: 'x' }), 'READ_ONLY')
    expectRefused(a!, () => env.addRow('variables', { key: 'x' }), 'READ_ONLY')
    WorkspaceModel.create(b!, { name: 'w' }).destroy()
    bump(b!)
    expectRefused(b!, () => WorkspaceModel.open(b!).update({ name: 'x' }), 'READ_ONLY')
    bump(c!)
    expectRefused(c!, () => RunsModel.open(c!).append({ id: 'r', collectionId: 'c', environmentName: null, startedAt: 0, finishedAt: 1, totals: { requests: 0, failedRequests: 0, assertions: 0, failedAssertions: 0 }, executions: [], extra: {} }), 'READ_ONLY')
  })

  test('an open doc whose schema a newer peer raises becomes read-only, and never lowers the version', () => {
    const [a, b] = docs(2)
    const ma = CollectionModel.create(a!, { name: 'S' })
    const r = ma.createRequest({ name: 'r' })
    syncAll(a!, b!)
    b!.getMap('meta').set('schema', SCHEMA_VERSION + 1) // what a newer apisync writes when it migrates
    syncAll(a!, b!)
    expectRefused(a!, () => ma.updateItem(r, { name: 'old app edit' }), 'READ_ONLY')
    expect(a!.getMap('meta').get('schema')).toBe(SCHEMA_VERSION + 1)
    expect(ma.openError?.code).toBe('READ_ONLY')
  })

  describe('migrations', () => {
    const saved = { ...MIGRATIONS }
    afterEach(() => {
      for (const k of Object.keys(MIGRATIONS)) delete MIGRATIONS[Number(k)]
      Object.assign(MIGRATIONS, saved)
    })

    test('an older doc migrates on open: each step once, in one transaction that undo does not touch', () => {
      const [d] = docs(1)
      const m0 = CollectionModel.create(d!, { name: 'old' })
      m0.createRequest({ name: 'r' })
      m0.destroy()
      d!.getMap('meta').set('schema', 0)
      const calls: string[] = []
      const origins: unknown[] = []
      MIGRATIONS[0] = (doc) => {
        calls.push('0→1')
        doc.getMap('collection').set(`name@${doc.clientID}`, { v: 'migrated', n: 99 })
      }
      d!.on('afterTransaction', (tr: Y.Transaction) => origins.push(tr.origin))
      const m = CollectionModel.open(d!)
      expect(calls).toEqual(['0→1'])
      expect(origins).toEqual([MIGRATION_ORIGIN])
      expect(d!.getMap('meta').get('schema')).toBe(SCHEMA_VERSION)
      expect(m.openError).toBeUndefined()
      expect(m.snapshot().name).toBe('migrated')
      expect(m.canUndo()).toBe(false)
      expect(m.undo()).toBe(false)
      expect(m.snapshot().name).toBe('migrated')
      // Opening again does not migrate again.
      CollectionModel.open(d!)
      expect(calls).toEqual(['0→1'])
    })

    test('a schema-1 doc (URL as one raw register) reads the same in schema 2, its URL conflict included', () => {
      const [d] = docs(1)
      const m1 = CollectionModel.create(d!, { name: 'v1' })
      const r = m1.createRequest({ name: 'r', url: { raw: 'https://x.test/a?q=1' } })
      m1.destroy()
      // What schema 1 stored: the raw URL register and untagged rows; here with a concurrent raw URL of a peer.
      d!.transact(() => {
        const item = itemsById(d!).get(r)!
        ;(item.get('query') as Y.Map<Y.Map<unknown>>).forEach((row) => {
          for (const key of [...row.keys()]) if (key.startsWith('tag@')) row.delete(key)
        })
        item.set('url@77', { v: 'https://x.test/b?q=1', n: 1, a: 'peer' })
        d!.getMap('meta').set('schema', 1)
      })
      const m = CollectionModel.open(d!)
      expect(d!.getMap('meta').get('schema')).toBe(SCHEMA_VERSION)
      const req = m.get(r) as RequestSnapshot
      expect(req.url.raw).toBe('https://x.test/b?q=1')
      expect(req.url.query.map((q) => [q.key, q.value])).toEqual([['q', '1']])
      const [c, ...rest] = m.conflicts()
      expect(rest).toEqual([])
      expect(c).toMatchObject({ field: 'url', entityId: r })
      expect(c!.alternatives.map((x) => (x.value as { raw: string }).raw).sort()).toEqual(['https://x.test/a?q=1', 'https://x.test/b?q=1'])
      // Resolving writes the parts; editing on works as in any schema-2 doc.
      m.resolve(c!.id, { pick: 1 })
      expect(m.conflicts()).toEqual([])
      m.updateItem(r, { url: { raw: 'https://x.test/c?q=2' } })
      expect((m.get(r) as RequestSnapshot).url.query.map((q) => [q.key, q.value])).toEqual([['q', '2']])
    })

    test('the unversioned layout (version 0) reads as is', () => {
      const [d] = docs(1)
      CollectionModel.create(d!, { name: 'v0' }).destroy()
      d!.getMap('meta').set('schema', 0)
      const m = CollectionModel.open(d!)
      expect(m.snapshot().name).toBe('v0')
      expect(d!.getMap('meta').get('schema')).toBe(SCHEMA_VERSION)
    })
  })
})
