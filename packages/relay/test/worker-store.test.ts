/**
 * WorkerDocStore beyond the DocStore contract (sqlite-store.test.ts): errors cross the thread as
 * StorageErrors, the main thread shares the file safely, and a worker that dies fails only what it held.
 */
import { rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { Worker } from 'node:worker_threads'
import * as Y from 'yjs'
import { afterEach, expect, it } from 'vitest'
import { StorageError, WorkerDocStore } from '@apisync/relay'
import { openDatabase } from '../src/sqlite.js'
import { readStoredDoc, tempDir } from './helpers.js'

const dirs: string[] = []
const stores: WorkerDocStore[] = []
afterEach(async () => {
  for (const s of stores.splice(0)) await s.close().catch(() => {})
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true })
})
const open = async () => {
  const dir = await tempDir()
  dirs.push(dir)
  const store = new WorkerDocStore({ dataDir: dir })
  stores.push(store)
  await store.opened()
  return { dir, store }
}

const pushes = (n: number) => {
  const doc = new Y.Doc()
  const updates: Uint8Array[] = []
  doc.on('update', (u: Uint8Array) => updates.push(u))
  for (let i = 0; i < n; i++) doc.getArray('a').push([i])
  return updates
}

it('reports a database that cannot be opened through opened(), as a StorageError', async () => {
  const dir = await tempDir()
  dirs.push(dir)
  const file = join(dir, 'not-a-directory')
  await writeFile(file, 'x')
  const store = new WorkerDocStore({ dataDir: file })
  stores.push(store)
  await expect(store.opened()).rejects.toBeInstanceOf(StorageError)
})

it('a failed transaction rejects with a StorageError carrying the SQLite code; the store keeps working', async () => {
  const { dir, store } = await open()
  const [update] = pushes(1)
  const error = await store.appendUpdates([{ docName: null as unknown as string, update }]).catch((e: unknown) => e)
  expect(error).toBeInstanceOf(StorageError)
  expect((error as StorageError).code).toMatch(/^SQLITE_CONSTRAINT/)
  await store.appendUpdates([{ docName: 'w/a', update }])
  expect(readStoredDoc(dir, 'w/a').getArray('a').toJSON()).toEqual([0])
})

it('shares its file with a main-thread connection: writes on both sides interleave without SQLITE_BUSY', async () => {
  const { dir, store } = await open()
  const db = openDatabase(dir)
  db.exec('CREATE TABLE IF NOT EXISTS registry (k INTEGER PRIMARY KEY, v TEXT)')
  const insert = db.prepare('INSERT INTO registry (k, v) VALUES (?, ?)')
  const updates = pushes(300)
  const commits: Promise<unknown>[] = []
  for (let i = 0; i < updates.length; i++) {
    commits.push(store.appendUpdates([{ docName: 'w/shared', update: updates[i] }]))
    if (i % 10 === 0) insert.run(i, `row ${i}`) // while worker commits are in flight
  }
  await Promise.all(commits)
  expect((db.prepare('SELECT COUNT(*) AS n FROM registry').get() as { n: number }).n).toBe(30)
  expect(readStoredDoc(dir, 'w/shared').getArray('a').length).toBe(300)
  db.close()
})

it('a worker that dies fails the calls it held; the next call starts a new worker on the same file', async () => {
  const { dir, store } = await open()
  const [first, second] = pushes(2)
  await store.appendUpdates([{ docName: 'w/d', update: first }])
  // Nothing public stops the worker (it only stops by crashing); reach it to kill it with a call in flight.
  const worker = (store as unknown as { worker: Worker }).worker
  const stopped = worker.terminate()
  const pending = store.load('w/d')
  await stopped
  await expect(pending).rejects.toBeInstanceOf(StorageError)
  await store.appendUpdates([{ docName: 'w/d', update: second }])
  expect((await store.load('w/d')).seq).toBe(2)
  expect(readStoredDoc(dir, 'w/d').getArray('a').toJSON()).toEqual([0, 1])
})

it('refuses calls after close', async () => {
  const { store } = await open()
  await store.close()
  await expect(store.load('w/x')).rejects.toBeInstanceOf(StorageError)
})
