/**
 * Local storage: y-indexeddb's layout (either library opens the other's data), writes that resolve only
 * once committed, no growth when a doc is opened again and again, compaction that loses nothing.
 */
import 'fake-indexeddb/auto'
import { IDBFactory } from 'fake-indexeddb'
import { IndexeddbPersistence } from 'y-indexeddb'
import * as Y from 'yjs'
import { expect, test } from 'vitest'
import { LocalDocStore } from '../src/local-store.js'
import { PersistedDoc } from '../src/persisted-doc.js'

const text = (doc: Y.Doc) => doc.getText('t').toString()

test('data written by y-indexeddb opens here, and ours opens in y-indexeddb', async () => {
  const theirs = new Y.Doc()
  const p = new IndexeddbPersistence('compat-a', theirs)
  await p.whenSynced
  theirs.getText('t').insert(0, 'from y-indexeddb')
  await new Promise((r) => setTimeout(r, 50)) // y-indexeddb gives no signal for a write; give it time
  await p.destroy()
  const ours = await PersistedDoc.open(indexedDB, 'compat-a')
  expect(text(ours.doc)).toBe('from y-indexeddb')
  ours.doc.getText('t').insert(0, 'and ours: ')
  await ours.whenStored()
  await ours.close()

  const again = new Y.Doc()
  const p2 = new IndexeddbPersistence('compat-a', again)
  await p2.whenSynced
  expect(text(again)).toBe('and ours: from y-indexeddb')
  await p2.destroy()
})

test('whenStored resolves when the change is committed: another connection reads it at once', async () => {
  const idb = new IDBFactory()
  const d = await PersistedDoc.open(idb, 'stored')
  d.doc.getText('t').insert(0, 'x')
  expect(d.stored).toBe(false)
  await d.whenStored()
  expect(d.stored).toBe(true)
  const other = await LocalDocStore.open(idb, 'stored')
  const loaded = await other.load()
  const check = new Y.Doc()
  loaded.updates.forEach((u) => Y.applyUpdate(check, u))
  expect(text(check)).toBe('x')
  // The pending ledger was written in the same transaction as the update.
  expect([...loaded.actions.values()]).toEqual([{ v: 2, c: [d.doc.clientID, 1], d: 0 }])
  other.close()
  await d.close()
})

test('opening a doc again and again adds no rows (y-indexeddb adds one per open)', async () => {
  const idb = new IDBFactory()
  const d = await PersistedDoc.open(idb, 'reopen')
  d.doc.getText('t').insert(0, 'content')
  await d.whenStored()
  const rows = await d.rowCount()
  await d.close()
  for (let i = 0; i < 20; i++) await (await PersistedDoc.open(idb, 'reopen')).close()
  const last = await PersistedDoc.open(idb, 'reopen')
  expect(await last.rowCount()).toBe(rows)
  expect(text(last.doc)).toBe('content')
  await last.close()
})

test('many small writes are compacted into one row without losing a change', async () => {
  const idb = new IDBFactory()
  const d = await PersistedDoc.open(idb, 'compact')
  for (let i = 0; i < 300; i++) {
    d.doc.getArray<number>('a').push([i])
    await d.whenStored() // one write per change: the log grows until compaction
  }
  expect(await d.rowCount()).toBeLessThan(300)
  await d.close()
  const reopened = await PersistedDoc.open(idb, 'compact')
  expect(reopened.doc.getArray<number>('a').toArray()).toEqual([...Array(300).keys()])
  await reopened.close()
})

test('changes made in the same tick are written as one row (and, made to one field, are one action)', async () => {
  const idb = new IDBFactory()
  const d = await PersistedDoc.open(idb, 'batch')
  for (let i = 0; i < 50; i++) d.doc.getArray<number>('a').push([i])
  d.doc.getArray<number>('b').push([0])
  await d.whenStored()
  expect(await d.rowCount()).toBe(1)
  expect(d.ledger.count).toBe(2)
  await d.close()
})

test('pending actions of the older layout (one record per doc instance) are read, then stored anew', async () => {
  const idb = new IDBFactory()
  const store = await LocalDocStore.open(idb, 'legacy')
  const src = new Y.Doc()
  src.getText('t').insert(0, 'ab')
  const tx = (store as unknown as { db: IDBDatabase }).db.transaction(['updates', 'custom'], 'readwrite')
  tx.objectStore('updates').add(Y.encodeStateAsUpdate(src))
  tx.objectStore('custom').put({ v: 1, changes: [[0, src.clientID, 2], [1]], acked: null }, `apisync:ledger:${src.clientID}`)
  await new Promise((r) => (tx.oncomplete = r))
  store.close()
  const d = await PersistedDoc.open(idb, 'legacy')
  expect(d.ledger.count).toBe(2)
  await d.whenStored()
  await d.close()
  const again = await LocalDocStore.open(idb, 'legacy')
  const loaded = await again.load()
  expect(loaded.legacy.size).toBe(0)
  expect(loaded.actions.size).toBe(2)
  again.close()
})

test('a doc with a long stored log is compacted when opened', async () => {
  const idb = new IDBFactory()
  const store = await LocalDocStore.open(idb, 'long')
  const src = new Y.Doc()
  src.on('update', (u: Uint8Array) => void store.write(u, null))
  for (let i = 0; i < 100; i++) src.getArray<number>('a').push([i])
  await new Promise((r) => setTimeout(r, 20))
  expect(await store.rowCount()).toBe(100)
  store.close()
  const d = await PersistedDoc.open(idb, 'long')
  await d.whenStored()
  expect(await d.rowCount()).toBe(1)
  expect(d.doc.getArray('a').length).toBe(100)
  await d.close()
})
