/**
 * The SQLite DocStores, used directly (SqliteDocStore) and on a worker thread (WorkerDocStore, the relay's
 * default): append in one transaction, load in order, compact, delete, persist across reopen.
 */
import { rm } from 'node:fs/promises'
import * as Y from 'yjs'
import { afterEach, describe, expect, it } from 'vitest'
import { SqliteDocStore, WorkerDocStore, type DocStore } from '@apisync/relay'
import { tempDir } from './helpers.js'

const dirs: string[] = []
afterEach(async () => {
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true })
})
const kinds = {
  SqliteDocStore: (dataDir: string): DocStore => new SqliteDocStore({ dataDir }),
  WorkerDocStore: (dataDir: string): DocStore => new WorkerDocStore({ dataDir }),
}

const updatesOf = (fn: (doc: Y.Doc) => void) => {
  const doc = new Y.Doc()
  const updates: Uint8Array[] = []
  doc.on('update', (u: Uint8Array) => updates.push(u))
  fn(doc)
  return { doc, updates }
}

const rebuild = (updates: Uint8Array[]) => {
  const doc = new Y.Doc()
  for (const u of updates) Y.applyUpdate(doc, u)
  return doc
}

describe.each(Object.entries(kinds))('%s', (_kind, create) => {
  const open = async () => {
    const dir = await tempDir()
    dirs.push(dir)
    return { dir, store: create(dir) }
  }

  it('loads nothing for an unknown doc', async () => {
    const { store } = await open()
    expect(await store.load('w/x')).toEqual({ updates: [], logLength: 0 })
    await store.close()
  })

  it('appends updates of several docs in one call and loads each doc’s in order, after a reopen', async () => {
    const { dir, store } = await open()
    const a = updatesOf((d) => {
      for (let i = 0; i < 5; i++) d.getArray('a').push([i])
    })
    const b = updatesOf((d) => d.getText('t').insert(0, 'b'))
    await store.appendUpdates([...a.updates.map((update) => ({ docName: 'w/a', update })), ...b.updates.map((update) => ({ docName: 'w/b', update }))])
    await store.close()
    const reopened = create(dir)
    const loaded = await reopened.load('w/a')
    expect(loaded.logLength).toBe(5)
    expect(loaded.updates).toEqual(a.updates)
    expect(rebuild((await reopened.load('w/b')).updates).getText('t').toString()).toBe('b')
    expect(await reopened.listDocs()).toEqual(['w/a', 'w/b'])
    await reopened.close()
  })

  it('a failing batch stores none of its entries', async () => {
    const { store } = await open()
    const bad = [{ docName: 'w/a', update: new Uint8Array([1]) }, { docName: null as unknown as string, update: new Uint8Array([2]) }]
    await expect(store.appendUpdates(bad)).rejects.toThrow()
    expect(await store.load('w/a')).toEqual({ updates: [], logLength: 0 })
    await store.close()
  })

  it('compact replaces the log by a snapshot; later updates follow it', async () => {
    const { store } = await open()
    const { doc, updates } = updatesOf((d) => {
      for (let i = 0; i < 10; i++) d.getMap('m').set(`k${i}`, i)
    })
    await store.appendUpdates(updates.map((update) => ({ docName: 'w/c', update })))
    await store.compact('w/c', Y.encodeStateAsUpdate(doc))
    const compacted = Y.encodeStateVector(doc)
    doc.getMap('m').set('after', true)
    await store.appendUpdates([{ docName: 'w/c', update: Y.encodeStateAsUpdate(doc, compacted) }])
    const loaded = await store.load('w/c')
    expect(loaded.logLength).toBe(1)
    expect(loaded.updates.length).toBe(2)
    expect(rebuild(loaded.updates).getMap('m').toJSON()).toEqual(doc.getMap('m').toJSON())
    await store.close()
  })

  it('deleteDoc and deletePrefix remove snapshots and logs, and only under the prefix', async () => {
    const { store } = await open()
    const u = Y.encodeStateAsUpdate(updatesOf((d) => d.getText('t').insert(0, 'x')).doc)
    for (const docName of ['ws1/a', 'ws1/b/c', 'ws10/a', 'ws2/a']) await store.appendUpdates([{ docName, update: u }])
    await store.compact('ws1/a', u)
    expect(await store.deletePrefix('ws1/')).toBe(2)
    expect(await store.listDocs()).toEqual(['ws10/a', 'ws2/a'])
    await store.deleteDoc('ws2/a')
    expect(await store.listDocs()).toEqual(['ws10/a'])
    expect(await store.listDocs('ws1')).toEqual(['ws10/a'])
    await store.close()
  })

})

it('SqliteDocStore runs in WAL mode with synchronous=FULL', async () => {
  const dir = await tempDir()
  dirs.push(dir)
  const store = new SqliteDocStore({ dataDir: dir })
  expect(store.database.pragma('journal_mode', { simple: true })).toBe('wal')
  expect(store.database.pragma('synchronous', { simple: true })).toBe(2)
  await store.close()
})
