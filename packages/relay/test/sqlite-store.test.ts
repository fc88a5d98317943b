/**
 * The DocStore contract, on every store: SqliteDocStore (direct), WorkerDocStore (the relay's default) and
 * PostgresDocStore (a database of its own on the real local Postgres): per-doc sequence numbers, loading after
 * a sequence number, compaction up to one, deletion, persistence across reopen. Then what is SQLite's own:
 * WAL/FULL, and migrating a file of the layout before sequence numbers.
 */
import { rm } from 'node:fs/promises'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import pg from 'pg'
import * as Y from 'yjs'
import { afterAll, afterEach, describe, expect, it } from 'vitest'
import { PostgresDocStore, SqliteDocStore, WorkerDocStore, type DocStore } from '@apisync/relay'
import { tempDir } from './helpers.js'
import { services, testDatabase } from './services.js'

const cleanups: (() => Promise<void>)[] = []
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c()
})

const hasPostgres = await services(['postgres'])
const pgDatabases: { drop(): Promise<void> }[] = []
afterAll(async () => {
  for (const db of pgDatabases) await db.drop()
})

interface Opened {
  store: DocStore
  reopen(): Promise<DocStore>
  /** Attribution columns of the doc's logged updates, in sequence order. */
  attribution(doc: string): Promise<{ seq: number; account: string | null; session: string | null; device: string | null }[]>
}

const kinds: Record<string, () => Promise<Opened>> = {
  SqliteDocStore: async () => {
    const dir = await tempDir()
    cleanups.push(() => rm(dir, { recursive: true, force: true }))
    return { store: new SqliteDocStore({ dataDir: dir }), reopen: async () => new SqliteDocStore({ dataDir: dir }), attribution: async (doc) => sqliteAttribution(dir, doc) }
  },
  WorkerDocStore: async () => {
    const dir = await tempDir()
    cleanups.push(() => rm(dir, { recursive: true, force: true }))
    return { store: new WorkerDocStore({ dataDir: dir }), reopen: async () => new WorkerDocStore({ dataDir: dir }), attribution: async (doc) => sqliteAttribution(dir, doc) }
  },
  ...(hasPostgres
    ? {
        PostgresDocStore: async (): Promise<Opened> => {
          const db = await testDatabase()
          pgDatabases.push(db)
          const open = async () => {
            const store = new PostgresDocStore({ url: db.url, poolSize: 4 })
            await store.opened()
            return store
          }
          return {
            store: await open(),
            reopen: open,
            attribution: async (doc) => {
              const client = new pg.Client({ connectionString: db.url })
              await client.connect()
              const { rows } = await client.query('SELECT seq, account, session, device FROM apisync_updates WHERE doc = $1 ORDER BY seq', [doc])
              await client.end()
              return rows.map((r) => ({ ...r, seq: Number(r.seq) }))
            },
          }
        },
      }
    : {}),
}

function sqliteAttribution(dir: string, doc: string) {
  const db = new Database(join(dir, 'apisync.sqlite'), { readonly: true })
  try {
    return db.prepare('SELECT doc_seq AS seq, account, session, device FROM doc_updates WHERE doc = ? ORDER BY doc_seq').all(doc) as {
      seq: number
      account: string | null
      session: string | null
      device: string | null
    }[]
  } finally {
    db.close()
  }
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

const entries = (docName: string, updates: Uint8Array[]) => updates.map((update) => ({ docName, update }))

describe.each(Object.entries(kinds))('%s', (_kind, open) => {
  it('loads nothing for an unknown doc', async () => {
    const { store } = await open()
    expect(await store.load('w/x')).toEqual({ updates: [], seq: 0, snapshotSeq: 0 })
    expect(await store.heads(['w/x'])).toEqual(new Map())
    await store.close()
  })

  it('numbers each doc’s updates 1, 2, 3… in the order given, across calls, and loads them in order after a reopen', async () => {
    const { store, reopen } = await open()
    const a = updatesOf((d) => {
      for (let i = 0; i < 5; i++) d.getArray('a').push([i])
    })
    const b = updatesOf((d) => d.getText('t').insert(0, 'b'))
    const interleaved = [...entries('w/a', a.updates.slice(0, 2)), ...entries('w/b', b.updates), ...entries('w/a', a.updates.slice(2, 3))]
    expect(await store.appendUpdates(interleaved)).toEqual([
      { docName: 'w/a', first: 1, last: 3 },
      { docName: 'w/b', first: 1, last: 1 },
    ])
    expect(await store.appendUpdates(entries('w/a', a.updates.slice(3)))).toEqual([{ docName: 'w/a', first: 4, last: 5 }])
    await store.close()
    const reopened = await reopen()
    const loaded = await reopened.load('w/a')
    expect(loaded.seq).toBe(5)
    expect(loaded.snapshotSeq).toBe(0)
    expect(loaded.updates).toEqual(a.updates)
    expect(rebuild((await reopened.load('w/b')).updates).getText('t').toString()).toBe('b')
    expect(await reopened.listDocs()).toEqual(['w/a', 'w/b'])
    expect(await reopened.heads(['w/a', 'w/b', 'w/none'])).toEqual(new Map([['w/a', 5], ['w/b', 1]]))
    await reopened.close()
  })

  it('keeps who wrote each update (account, session, device) with its sequence number', async () => {
    const { store, attribution } = await open()
    const { updates } = updatesOf((d) => {
      for (let i = 0; i < 3; i++) d.getArray('a').push([i])
    })
    await store.appendUpdates([
      { docName: 'w/h', update: updates[0], author: { account: 'alice', session: 's1', device: 'Laptop' } },
      { docName: 'w/h', update: updates[1], author: { account: 'bob', session: 's2', device: null } },
      { docName: 'w/h', update: updates[2], author: null },
    ])
    await store.close()
    expect(await attribution('w/h')).toEqual([
      { seq: 1, account: 'alice', session: 's1', device: 'Laptop' },
      { seq: 2, account: 'bob', session: 's2', device: null },
      { seq: 3, account: null, session: null, device: null },
    ])
  })

  it('loads only what follows a sequence number', async () => {
    const { store } = await open()
    const { updates } = updatesOf((d) => {
      for (let i = 0; i < 6; i++) d.getArray('a').push([i])
    })
    await store.appendUpdates(entries('w/l', updates))
    const after = await store.load('w/l', 4)
    expect(after).toEqual({ updates: updates.slice(4), seq: 6, snapshotSeq: 0 })
    expect((await store.load('w/l', 6)).updates).toEqual([])
    await store.close()
  })

  it('a failing batch stores none of its entries and takes no sequence numbers', async () => {
    const { store } = await open()
    const bad = [{ docName: 'w/a', update: new Uint8Array([1]) }, { docName: null as unknown as string, update: new Uint8Array([2]) }]
    await expect(store.appendUpdates(bad)).rejects.toThrow()
    expect(await store.load('w/a')).toEqual({ updates: [], seq: 0, snapshotSeq: 0 })
    expect(await store.appendUpdates(entries('w/a', [new Uint8Array([0, 0])]))).toEqual([{ docName: 'w/a', first: 1, last: 1 }])
    await store.close()
  })

  it('compacts up to a sequence number: later updates stay in the log, a load after it skips the snapshot', async () => {
    const { store } = await open()
    const { doc, updates } = updatesOf((d) => {
      for (let i = 0; i < 10; i++) d.getMap('m').set(`k${i}`, i)
    })
    await store.appendUpdates(entries('w/c', updates.slice(0, 6)))
    const snapshotDoc = rebuild(updates.slice(0, 6))
    // Appended by "another relay" after this one took its snapshot.
    await store.appendUpdates(entries('w/c', updates.slice(6)))
    expect(await store.compact('w/c', Y.encodeStateAsUpdate(snapshotDoc), 6)).toBe(true)
    const loaded = await store.load('w/c')
    expect(loaded.seq).toBe(10)
    expect(loaded.snapshotSeq).toBe(6)
    expect(loaded.updates.length).toBe(1 + 4)
    expect(rebuild(loaded.updates).getMap('m').toJSON()).toEqual(doc.getMap('m').toJSON())
    // A relay that holds up to 7 gets the updates after 7 only; one that holds up to 3 gets the snapshot too.
    expect((await store.load('w/c', 7)).updates).toEqual(updates.slice(7))
    const behind = await store.load('w/c', 3)
    expect(behind.updates.length).toBe(1 + 4)
    expect(rebuild(behind.updates).getMap('m').toJSON()).toEqual(doc.getMap('m').toJSON())
    await store.close()
  })

  it('a compaction that covers less than the stored snapshot changes nothing', async () => {
    const { store } = await open()
    const { doc, updates } = updatesOf((d) => {
      for (let i = 0; i < 8; i++) d.getArray('a').push([i])
    })
    await store.appendUpdates(entries('w/k', updates))
    expect(await store.compact('w/k', Y.encodeStateAsUpdate(doc), 8)).toBe(true)
    expect(await store.compact('w/k', Y.encodeStateAsUpdate(rebuild(updates.slice(0, 5))), 5)).toBe(false)
    const loaded = await store.load('w/k')
    expect(loaded).toMatchObject({ seq: 8, snapshotSeq: 8 })
    expect(rebuild(loaded.updates).getArray('a').length).toBe(8)
    // Numbering goes on after compaction.
    expect(await store.appendUpdates(entries('w/k', [Y.encodeStateAsUpdate(doc)]))).toEqual([{ docName: 'w/k', first: 9, last: 9 }])
    await store.close()
  })

  it('deleteDoc and deletePrefix remove snapshots and logs, and only under the prefix', async () => {
    const { store } = await open()
    const u = Y.encodeStateAsUpdate(updatesOf((d) => d.getText('t').insert(0, 'x')).doc)
    for (const docName of ['ws1/a', 'ws1/b/c', 'ws10/a', 'ws2/a']) await store.appendUpdates([{ docName, update: u }])
    await store.compact('ws1/a', u, 1)
    expect(await store.deletePrefix('ws1/')).toBe(2)
    expect(await store.listDocs()).toEqual(['ws10/a', 'ws2/a'])
    expect(await store.load('ws1/a')).toEqual({ updates: [], seq: 0, snapshotSeq: 0 })
    await store.deleteDoc('ws2/a')
    expect(await store.listDocs()).toEqual(['ws10/a'])
    expect(await store.listDocs('ws1')).toEqual(['ws10/a'])
    await store.close()
  })
})

describe.skipIf(!hasPostgres)('PostgresDocStore with several relays', () => {
  it('appends from many pools at once never collide: every doc’s sequence is 1…n without holes', async () => {
    const db = await testDatabase()
    pgDatabases.push(db)
    const stores = await Promise.all(
      [0, 1, 2].map(async () => {
        const s = new PostgresDocStore({ url: db.url, poolSize: 3 })
        await s.opened() // three at once: the migration runs once, the others wait for it
        return s
      }),
    )
    const docs = ['w/p1', 'w/p2', 'w/p3']
    const writes: Promise<unknown>[] = []
    for (let round = 0; round < 20; round++) {
      for (const [i, store] of stores.entries()) {
        // Each batch touches the docs in a different order: the store locks them in name order.
        const order = i === 1 ? [...docs].reverse() : docs
        writes.push(store.appendUpdates(order.flatMap((d) => [{ docName: d, update: new Uint8Array([0, 0]) }, { docName: d, update: new Uint8Array([0, 0]) }])))
      }
    }
    const ranges = (await Promise.all(writes)).flat() as { docName: string; first: number; last: number }[]
    for (const doc of docs) {
      const mine = ranges.filter((r) => r.docName === doc).sort((a, b) => a.first - b.first)
      expect(mine.map((r) => [r.first, r.last])).toEqual(mine.map((_, i) => [2 * i + 1, 2 * i + 2]))
      expect((await stores[0].load(doc)).seq).toBe(120)
    }
    await Promise.all(stores.map((s) => s.close()))
  })

  it('two relays compacting one doc at once: the larger snapshot stays and nothing appended after it is lost', async () => {
    const db = await testDatabase()
    pgDatabases.push(db)
    const [a, b] = [new PostgresDocStore({ url: db.url }), new PostgresDocStore({ url: db.url })]
    await Promise.all([a.opened(), b.opened()])
    const { doc, updates } = updatesOf((d) => {
      for (let i = 0; i < 30; i++) d.getArray('a').push([i])
    })
    await a.appendUpdates(entries('w/cc', updates.slice(0, 20)))
    const snapshot = (n: number) => Y.encodeStateAsUpdate(rebuild(updates.slice(0, n)))
    for (let round = 0; round < 10; round++) {
      // Relay A compacts up to 10+round, relay B up to 15+round, while A appends one more update.
      const results = await Promise.all([
        a.compact('w/cc', snapshot(10 + round), 10 + round),
        b.compact('w/cc', snapshot(15 + round), 15 + round),
        a.appendUpdates(entries('w/cc', [updates[20 + round]])),
      ])
      expect(results[2]).toEqual([{ docName: 'w/cc', first: 21 + round, last: 21 + round }])
      const loaded = await a.load('w/cc')
      expect(loaded.snapshotSeq).toBe(15 + round)
      expect(rebuild(loaded.updates).getArray('a').toJSON()).toEqual(updates.slice(0, 21 + round).map((_, i) => i))
    }
    expect(rebuild((await b.load('w/cc')).updates).getArray('a').length).toBe(30)
    void doc
    await Promise.all([a.close(), b.close()])
  })
})

it('SqliteDocStore runs in WAL mode with synchronous=FULL', async () => {
  const dir = await tempDir()
  cleanups.push(() => rm(dir, { recursive: true, force: true }))
  const store = new SqliteDocStore({ dataDir: dir })
  expect(store.database.pragma('journal_mode', { simple: true })).toBe('wal')
  expect(store.database.pragma('synchronous', { simple: true })).toBe(2)
  await store.close()
})

it('SqliteDocStore migrates a file of the layout before sequence numbers: logs numbered in commit order, snapshots at 0', async () => {
  const dir = await tempDir()
  cleanups.push(() => rm(dir, { recursive: true, force: true }))
  const { doc, updates } = updatesOf((d) => {
    for (let i = 0; i < 4; i++) d.getArray('a').push([i])
  })
  const legacy = new Database(join(dir, 'apisync.sqlite'))
  legacy.exec(`
    CREATE TABLE doc_snapshots (doc TEXT PRIMARY KEY, snapshot BLOB NOT NULL, updated_at INTEGER NOT NULL);
    CREATE TABLE doc_updates (seq INTEGER PRIMARY KEY, doc TEXT NOT NULL, data BLOB NOT NULL);
    CREATE INDEX doc_updates_by_doc ON doc_updates (doc, seq);
  `)
  legacy.prepare('INSERT INTO doc_snapshots VALUES (?, ?, 0)').run('w/old', Y.encodeStateAsUpdate(rebuild(updates.slice(0, 2))))
  const insert = legacy.prepare('INSERT INTO doc_updates (doc, data) VALUES (?, ?)')
  insert.run('w/old', updates[2])
  insert.run('w/other', updates[0])
  insert.run('w/old', updates[3])
  legacy.close()

  const store = new SqliteDocStore({ dataDir: dir })
  const loaded = await store.load('w/old')
  expect(loaded).toMatchObject({ seq: 2, snapshotSeq: 0 })
  expect(rebuild(loaded.updates).getArray('a').toJSON()).toEqual(doc.getArray('a').toJSON())
  expect((await store.load('w/old', 1)).updates).toEqual([updates[3]])
  expect(await store.appendUpdates(entries('w/old', [updates[3]]))).toEqual([{ docName: 'w/old', first: 3, last: 3 }])
  expect(await store.heads(['w/other'])).toEqual(new Map([['w/other', 1]]))
  await store.close()
  // Opening it again is a no-op.
  const again = new SqliteDocStore({ dataDir: dir })
  expect((await again.load('w/old')).seq).toBe(3)
  await again.close()
})
