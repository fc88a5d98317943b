/** The ack extension: sent after the initial sync and after every commit, never before the data is on disk. */
import * as Y from 'yjs'
import { afterEach, describe, expect, it } from 'vitest'
import { SqliteDocStore, startRelay, silentLogger, type DocStore, type RunningRelay, type UpdateEntry } from '@apisync/relay'
import {
  RawClient,
  SECRET,
  encodeSyncMessage,
  SyncClient,
  eventually,
  isAck,
  readStoredDoc,
  startTestRelay,
  tempDir,
  type TestRelay,
} from './helpers.js'
import { readAck } from '@apisync/relay'
import { rm } from 'node:fs/promises'

let relay: TestRelay | null = null
afterEach(async () => {
  await relay?.close()
  relay = null
})

describe('ack', () => {
  it('reaches a client whose update was held back as pending once another client’s update completes it', async () => {
    relay = await startTestRelay()
    // u2 builds on u1. Client A has u2 only (e.g. it got u1 from a peer that had not sent it yet); B sends u1.
    const source = new Y.Doc()
    const [u1, u2] = [0, 1].map((i) => {
      const before = Y.encodeStateVector(source)
      source.getArray<string>('a').push([`item ${i}`])
      return Y.encodeStateAsUpdate(source, before)
    })
    const a = await RawClient.connect(relay.syncUrl('w1/pending', await relay.token({ sid: 'a' }), '&ack=1'))
    await a.next(isAck)
    a.send(encodeSyncMessage(2, u2))
    // Committed nothing of it yet: its content is pending (it needs u1).
    await new Promise((r) => setTimeout(r, 200))
    expect((await relay.storedDoc('w1/pending')).getArray('a').length).toBe(0)
    const acksBefore = a.frames.filter(isAck).length
    const b = await RawClient.connect(relay.syncUrl('w1/pending', await relay.token({ sid: 'b' }), '&ack=1'))
    await b.next(isAck)
    b.send(encodeSyncMessage(2, u1))
    // A sends nothing more, yet gets an ack that covers u2 (clock 2 of the source client) and its message.
    const covering = await a.next((f) => {
      const ack = readAck(f)
      return ack !== null && (Y.decodeStateVector(ack.stateVector).get(source.clientID) ?? 0) >= 2
    }, 5_000)
    expect(readAck(covering)!.committedMessages).toBe(1)
    expect(a.frames.filter(isAck).length).toBeGreaterThan(acksBefore)
    expect((await relay.storedDoc('w1/pending')).getArray('a').toArray()).toEqual(['item 0', 'item 1'])
    a.close()
    b.close()
  })

  it('when pending content stays incomplete, the relay asks its peers for what it lacks (sync step 1), and acks once it has it', async () => {
    relay = await startTestRelay()
    const source = new Y.Doc()
    const [u1, u2] = [0, 1].map((i) => {
      const before = Y.encodeStateVector(source)
      source.getArray<string>('a').push([`item ${i}`])
      return Y.encodeStateAsUpdate(source, before)
    })
    // B holds u1 (seen, say, in another relay's preview whose writer is gone) but has no reason to send it.
    const b = await SyncClient.connect(relay.syncUrl('w1/ask', await relay.token({ sid: 'b' })))
    await b.whenSynced()
    Y.applyUpdate(b.doc, u1, b) // origin = the client itself: not sent as an update
    const a = await RawClient.connect(relay.syncUrl('w1/ask', await relay.token({ sid: 'a' }), '&ack=1'))
    await a.next(isAck)
    a.send(encodeSyncMessage(2, u2))
    const covering = await a.next((f) => {
      const ack = readAck(f)
      return ack !== null && (Y.decodeStateVector(ack.stateVector).get(source.clientID) ?? 0) >= 2
    }, 8_000)
    expect(readAck(covering)!.committedMessages).toBe(1)
    expect((await relay.storedDoc('w1/ask')).getArray('a').toArray()).toEqual(['item 0', 'item 1'])
    a.close()
    b.close()
  })

  it('is not sent unless the client asks for it with ack=1', async () => {
    relay = await startTestRelay()
    const client = await SyncClient.connect(relay.syncUrl('w1/plain', await relay.token()))
    await client.whenSynced()
    client.doc.getText('t').insert(0, 'x')
    await relay.storedRows('w1/plain')
    await new Promise((r) => setTimeout(r, 50))
    expect(client.raw.frames.some(isAck)).toBe(false)
    client.close()
  })

  it('follows the initial sync messages with the stored state vector', async () => {
    relay = await startTestRelay()
    const writer = await SyncClient.connect(relay.syncUrl('w1/initial', await relay.token(), '&ack=1'))
    writer.doc.getText('t').insert(0, 'stored text')
    await writer.waitForAckCovering()
    writer.close()

    const reader = await RawClient.connect(relay.syncUrl('w1/initial', await relay.token({ sid: 's2' }), '&ack=1'))
    const ack = readAck(await reader.next(isAck))!
    // The first frames are the relay's sync step 1, then the ack (no awareness states in this doc).
    expect(reader.frames[0][0]).toBe(0)
    expect(isAck(reader.frames[1])).toBe(true)
    expect(ack.committedMessages).toBe(0)
    expect(Y.decodeStateVector(ack.stateVector)).toEqual(Y.decodeStateVector(Y.encodeStateVector(writer.doc)))
    reader.close()
  })

  it('arrives only once the update is committed: storage already holds it when the ack is received', async () => {
    relay = await startTestRelay()
    const client = await SyncClient.connect(relay.syncUrl('w1/commit', await relay.token(), '&ack=1'))
    await client.whenSynced()
    const checks: boolean[] = []
    for (let i = 0; i < 20; i++) {
      client.doc.getMap('m').set(`k${i}`, i)
      await client.waitForAckCovering()
      // Read the SQLite file through a separate connection, without asking the relay to flush.
      checks.push(readStoredDoc(relay.dir, 'w1/commit').getMap('m').get(`k${i}`) === i)
    }
    expect(checks.every(Boolean)).toBe(true)
    client.close()
  })

  it('batches a burst into few commits (group commit) and counts every message it covers', async () => {
    relay = await startTestRelay()
    const client = await SyncClient.connect(relay.syncUrl('w1/burst', await relay.token(), '&ack=1'))
    await client.whenSynced()
    const before = relay.running.relay.metrics.commits.get()
    const text = client.doc.getText('t')
    for (let i = 0; i < 300; i++) text.insert(text.length, 'x')
    const ack = await client.waitForAckCovering()
    await eventually(() => client.acks.at(-1)!.committedMessages === 301) // 300 updates + the sync step 2
    const commits = relay.running.relay.metrics.commits.get() - before
    expect(commits).toBeGreaterThan(0)
    expect(commits).toBeLessThan(100)
    expect(Y.decodeStateVector(ack.stateVector).get(client.doc.clientID)).toBe(300)
    expect(readStoredDoc(relay.dir, 'w1/burst').getText('t').length).toBe(300)
    client.close()
  })

  it('covers a delete-only change through its message count (deletions do not advance a state vector)', async () => {
    relay = await startTestRelay()
    const owner = await SyncClient.connect(relay.syncUrl('w1/deletes', await relay.token(), '&ack=1'))
    owner.doc.getText('t').insert(0, 'abc')
    await owner.waitForAckCovering()
    owner.close()

    const other = await SyncClient.connect(relay.syncUrl('w1/deletes', await relay.token({ sid: 's2' }), '&ack=1'))
    await other.whenSynced()
    await eventually(() => other.doc.getText('t').toString() === 'abc')
    const acksBefore = other.acks.length
    const sentBefore = 1 // its sync step 2
    other.doc.getText('t').delete(0, 1)
    await eventually(() => other.acks.length > acksBefore && other.acks.at(-1)!.committedMessages === sentBefore + 1)
    expect(readStoredDoc(relay.dir, 'w1/deletes').getText('t').toString()).toBe('bc')
    other.close()
  })
})

/** A store that can be made to fail, to show that a failed commit is never acked. */
class FlakyStore implements DocStore {
  failing = false
  /** Slow storage: each append takes this long before it writes. */
  delayMs = 0
  /** When the last append finished writing (ms, performance.now()). */
  lastWriteAt = 0
  appended = 0
  constructor(private readonly inner: SqliteDocStore) {}
  load(name: string, after?: number) {
    return this.inner.load(name, after)
  }
  async appendUpdates(entries: readonly UpdateEntry[]) {
    if (this.delayMs > 0) await new Promise((r) => setTimeout(r, this.delayMs))
    if (this.failing && entries.length > 0) throw new Error('disk on fire')
    this.appended += entries.length
    const ranges = await this.inner.appendUpdates(entries)
    if (entries.length > 0) this.lastWriteAt = performance.now()
    return ranges
  }
  compact(name: string, snapshot: Uint8Array, upTo: number) {
    return this.inner.compact(name, snapshot, upTo)
  }
  heads(names: readonly string[]) {
    return this.inner.heads(names)
  }
  deleteDoc(name: string) {
    return this.inner.deleteDoc(name)
  }
  deletePrefix(prefix: string) {
    return this.inner.deletePrefix(prefix)
  }
  listDocs(prefix?: string) {
    return this.inner.listDocs(prefix)
  }
  close() {
    return this.inner.close()
  }
}

describe('with slow or failing storage', () => {
  let running: RunningRelay | null = null
  let dir = ''
  afterEach(async () => {
    await running?.close()
    running = null
    await rm(dir, { recursive: true, force: true })
  })

  it('an ack waits for a slow commit, and updates arriving meanwhile go into the next batch', async () => {
    dir = await tempDir()
    const sqlite = new SqliteDocStore({ dataDir: dir })
    const store = new FlakyStore(sqlite)
    running = await startRelay({ auth: { secret: SECRET }, store, logger: silentLogger })
    const { signToken } = await import('@apisync/relay')
    const token = await signToken({ sub: 'a', sid: 's', ws: { w1: 'owner' } }, { secret: SECRET })
    const client = await SyncClient.connect(`${running.wsUrl}/sync/w1/slow?token=${token}&ack=1`)
    await client.whenSynced()
    store.delayMs = 150
    const acked: number[] = []
    client.raw.socket.on('message', (data: Buffer) => {
      if (isAck(new Uint8Array(data))) acked.push(performance.now())
    })
    for (let i = 0; i < 5; i++) {
      client.doc.getArray('a').push([i])
      await new Promise((r) => setTimeout(r, 40))
    }
    await client.waitForAckCovering(5000)
    expect(acked.length).toBeGreaterThan(0)
    // Every ack was received after a write had finished, and the last one after the last write.
    expect(acked.at(-1)!).toBeGreaterThanOrEqual(store.lastWriteAt)
    expect(readStoredDoc(dir, 'w1/slow').getArray('a').toJSON()).toEqual([0, 1, 2, 3, 4])
    // 5 updates 40 ms apart against 150 ms commits: batched into fewer transactions than updates.
    expect(acked.length).toBeLessThan(5)
    client.close()
    await running.close()
    running = null
    await sqlite.close()
  })

  it('a commit in flight holds up no broadcast: readers have the update before it is written, its ack comes after', async () => {
    dir = await tempDir()
    const sqlite = new SqliteDocStore({ dataDir: dir })
    const store = new FlakyStore(sqlite)
    running = await startRelay({ auth: { secret: SECRET }, store, logger: silentLogger })
    const { signToken } = await import('@apisync/relay')
    const url = async (sid: string) =>
      `${running!.wsUrl}/sync/w1/overlap?token=${await signToken({ sub: 'a', sid, ws: { w1: 'owner' } }, { secret: SECRET })}&ack=1`
    const writer = await SyncClient.connect(await url('w'))
    const reader = await SyncClient.connect(await url('r'))
    await Promise.all([writer.whenSynced(), reader.whenSynced()])
    store.delayMs = 300
    const received: number[] = []
    reader.doc.getArray('a').observe(() => received.push(performance.now()))
    for (let i = 0; i < 3; i++) writer.doc.getArray('a').push([i])
    await eventually(() => reader.doc.getArray('a').length === 3, 5000, 'reader has the updates')
    const ack = await writer.waitForAckCovering(5000)
    const ackedAt = performance.now()
    expect(Math.max(...received)).toBeLessThan(store.lastWriteAt)
    expect(ackedAt).toBeGreaterThanOrEqual(store.lastWriteAt)
    expect(Y.decodeStateVector(ack.stateVector).get(writer.doc.clientID)).toBe(3)
    for (const c of [writer, reader]) c.close()
    await running.close()
    running = null
    await sqlite.close()
  })

  it('a failed commit is never acked: the doc is dropped, its sockets close with 1011, and a resend after reconnecting is stored', async () => {
    dir = await tempDir()
    const sqlite = new SqliteDocStore({ dataDir: dir })
    const store = new FlakyStore(sqlite)
    running = await startRelay({ auth: { secret: SECRET }, store, logger: silentLogger })
    const { signToken } = await import('@apisync/relay')
    const token = await signToken({ sub: 'a', sid: 's', ws: { w1: 'owner' } }, { secret: SECRET })
    const url = `${running.wsUrl}/sync/w1/flaky?token=${token}&ack=1`

    const doc = new Y.Doc()
    const first = await SyncClient.connect(url, doc)
    await first.whenSynced()
    store.failing = true
    const acksBefore = first.acks.length
    doc.getText('t').insert(0, 'precious')
    expect((await first.raw.closed).code).toBe(1011)
    expect(first.acks.length).toBe(acksBefore)
    expect(readStoredDoc(dir, 'w1/flaky').getText('t').toString()).toBe('')

    store.failing = false
    const again = await SyncClient.connect(url, doc) // the same local doc: its change is still pending
    await again.waitForAckCovering()
    expect(readStoredDoc(dir, 'w1/flaky').getText('t').toString()).toBe('precious')
    again.close()
    await running.close()
    running = null
    await sqlite.close()
  })
})
