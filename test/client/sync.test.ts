/**
 * Sync status against a real relay on loopback: the states a doc passes, pending counts that follow what
 * the relay has stored (not what it received), reconnects, and two devices converging after an outage.
 */
import { networkSwitch } from '@apisync/client'
import * as Y from 'yjs'
import { afterEach, expect, test } from 'vitest'
import { device, gatedStore, proxy, relay, trace, until, untilEach } from './helpers.js'

const cleanups: (() => Promise<void>)[] = []
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c()
})
const later = <T extends { close(): Promise<void> }>(x: T): T => (cleanups.push(() => x.close()), x)

const ws = { w1: 'owner' } as const

test('a doc passes connecting → syncing → in-sync, and each edit is pending until the relay acks it', async () => {
  const r = later(await relay())
  const a = later(device({ relayUrl: r.url, sub: 'alice', sid: 'a1', ws }))
  const account = await a.signIn()
  const w = await account.createWorkspace('w1', { name: 'Team' })
  const states = trace(w.manifest.status)
  await w.manifest.whenInSync()
  expect(states).toEqual(['connecting', 'syncing', 'in-sync'])

  const counts: number[] = []
  w.manifest.status.subscribe(() => counts.push(w.manifest.status.getSnapshot().pending))
  w.manifest.model.update({ name: 'Team 2' })
  expect(w.manifest.status.getSnapshot()).toMatchObject({ state: 'syncing', pending: 1 })
  await w.manifest.whenInSync()
  expect(counts).toContain(1)
  expect(w.manifest.status.getSnapshot().pending).toBe(0)
})

test('received is not stored: pending stays 1 while the relay has the edit but not on disk, until a restart stores it', async () => {
  let gate!: ReturnType<typeof gatedStore>
  const r = later(await relay({ firstStore: (dir) => (gate = gatedStore(dir)) }))
  const a = later(device({ relayUrl: r.url, sub: 'alice', sid: 'a1', ws }))
  const b = later(device({ relayUrl: r.url, sub: 'bob', sid: 'b1', ws: { w1: 'editor' } }))
  const wa = await (await a.signIn()).createWorkspace('w1', { name: 'Team' })
  await wa.manifest.whenInSync()
  const wb = await (await b.signIn()).openWorkspace('w1')
  await wb.manifest.whenInSync()

  gate.hold()
  wa.manifest.model.update({ name: 'Renamed' })
  // Bob gets the edit (the relay broadcasts what it received) while Alice's copy is not acked.
  await until(wb.manifest.status, () => wb.manifest.model.snapshot().name === 'Renamed')
  expect(gate.held()).toBeGreaterThan(0)
  expect(wa.manifest.status.getSnapshot()).toMatchObject({ state: 'syncing', pending: 1 })

  // The relay dies before committing: its disk fails, it stops. Alice keeps her change as pending.
  gate.fail()
  await r.stop()
  await gate.close()
  // Retrying with backoff: between attempts the status says when the next one starts.
  const waiting = await until(wa.manifest.status, (s) => s.state === 'connecting' && s.retryAt !== null)
  expect(waiting.pending).toBe(1)
  expect(waiting.retryAt! - Date.now()).toBeLessThanOrEqual(200)

  await r.restart()
  await until(wa.manifest.status, (s) => s.state === 'in-sync', 15_000)
  expect(wa.manifest.status.getSnapshot().pending).toBe(0)
  // On disk now: a new device reads it from the relay.
  const c = later(device({ relayUrl: r.url, sub: 'carol', sid: 'c1', ws: { w1: 'viewer' } }))
  const wc = await (await c.signIn()).openWorkspace('w1')
  await wc.manifest.whenInSync()
  expect(wc.manifest.model.snapshot().name).toBe('Renamed')
})

test('an open socket is not in-sync: a stalled network keeps the edit pending; after the outage it syncs', async () => {
  const r = later(await relay())
  const p = later(await proxy(() => r.running.port))
  const a = later(device({ relayUrl: p.url, sub: 'alice', sid: 'a1', ws }))
  const w = await (await a.signIn()).createWorkspace('w1', { name: 'Team' })
  await w.manifest.whenInSync()

  p.stall()
  w.manifest.model.update({ name: 'Stalled' })
  await new Promise((res) => setTimeout(res, 300))
  expect(w.manifest.status.getSnapshot()).toMatchObject({ state: 'syncing', pending: 1 })

  p.cut()
  await r.stop()
  await until(w.manifest.status, (s) => s.state === 'connecting')
  await r.restart()
  p.open()
  await until(w.manifest.status, (s) => s.state === 'in-sync', 15_000)
  expect(w.manifest.status.getSnapshot().pending).toBe(0)
})

test('two devices edit the same collection while the relay is down; both converge and show in-sync', async () => {
  const r = later(await relay())
  const a = later(device({ relayUrl: r.url, sub: 'alice', sid: 'a1', ws }))
  const b = later(device({ relayUrl: r.url, sub: 'bob', sid: 'b1', ws: { w1: 'editor' } }))
  const accountA = await a.signIn()
  const wa = await accountA.createWorkspace('w1', { name: 'Team' })
  const colA = await wa.createCollection({ name: 'API' })
  const shared = colA.model.createRequest({ name: 'list users', method: 'GET', url: { raw: 'https://x/users' } })
  await accountA.whenInSync()

  const accountB = await b.signIn()
  const wb = await accountB.openWorkspace('w1')
  await wb.manifest.whenInSync()
  const colB = await wb.collection(wb.manifest.model.snapshot().collections[0]!.docId)
  await colB.whenInSync()
  expect(colB.model.get(shared)?.name).toBe('list users')

  await r.stop()
  await until(accountA.status, (s) => s.state === 'connecting')
  await until(accountB.status, (s) => s.state === 'connecting')
  const fromA = colA.model.createRequest({ name: 'from A', method: 'POST' })
  colA.model.updateItem(shared, { name: 'users (A)' })
  const fromB = colB.model.createRequest({ name: 'from B', method: 'PUT' })
  colB.model.updateItem(shared, { method: 'HEAD' })
  await Promise.all([colA.whenStored(), colB.whenStored()])
  expect(colA.status.getSnapshot().pending).toBe(2)
  expect(colB.status.getSnapshot().pending).toBe(2)

  await r.restart()
  await Promise.all([until(accountA.status, (s) => s.state === 'in-sync', 15_000), until(accountB.status, (s) => s.state === 'in-sync', 15_000)])
  // Each side is in-sync once its own changes are stored; the other side's arrive as they are relayed.
  await until(colA.status, () => colA.model.get(fromB) !== undefined)
  await until(colB.status, () => colB.model.get(fromA) !== undefined)
  for (const col of [colA, colB]) {
    expect(col.model.get(shared)).toMatchObject({ name: 'users (A)', method: 'HEAD' })
    expect(col.model.get(fromA)?.name).toBe('from A')
    expect(col.model.get(fromB)?.name).toBe('from B')
  }
  expect(colA.model.snapshot()).toEqual(colB.model.snapshot())
})

test('offline by the network monitor: no connection attempts, status offline; online reconnects at once', async () => {
  const r = later(await relay())
  const net = networkSwitch(true)
  const a = later(device({ relayUrl: r.url, sub: 'alice', sid: 'a1', ws, network: net, backoff: { initialMs: 60_000, maxMs: 60_000 } }))
  const account = await a.signIn()
  const w = await account.createWorkspace('w1', { name: 'Team' })
  await account.whenInSync()

  net.set(false)
  expect(account.status.getSnapshot().state).toBe('offline')
  w.manifest.model.update({ name: 'offline edit' })
  await w.manifest.whenStored()
  expect(account.status.getSnapshot()).toMatchObject({ state: 'offline', pending: 1, stored: true })
  const col = await w.createCollection({ name: 'made offline' })
  expect(col.status.getSnapshot().state).toBe('offline')

  // Coming online skips the (here very long) backoff.
  net.set(true)
  await until(account.status, (s) => s.state === 'in-sync', 5_000)
  expect(account.status.getSnapshot()).toMatchObject({ pending: 0, docs: 2 })
})

test('a change that only deletes text is pending until the relay stores the frame that carried it', async () => {
  const r = later(await relay())
  const a = later(device({ relayUrl: r.url, sub: 'alice', sid: 'a1', ws }))
  const account = await a.signIn()
  const w = await account.createWorkspace('w1', { name: 'Team' })
  const col = await w.createCollection({ name: 'API' })
  const req = col.model.createRequest({ name: 'r', description: 'hello world' })
  await col.whenInSync()
  const clock = () => Y.decodeStateVector(Y.encodeStateVector(col.doc)).get(col.doc.clientID)
  const before = clock()

  // An editor bound to the Y.Text deletes " world": no new clock, only a delete set.
  col.model.text(req, 'description').delete(5, 6)
  expect(clock()).toBe(before)
  expect(col.status.getSnapshot()).toMatchObject({ state: 'syncing', pending: 1 })
  await col.whenInSync()

  const b = later(device({ relayUrl: r.url, sub: 'alice', sid: 'a2', ws }))
  const colB = await (await (await b.signIn()).openWorkspace('w1')).collection(col.model.id)
  await colB.whenInSync()
  expect(colB.model.get(req)?.description).toBe('hello')
})

test('after an outage the whole account is in sync as soon as the relay is back, not when each doc’s backoff ends', async () => {
  const r = later(await relay())
  const net = later(await proxy(() => r.running.port))
  // Long, jittered backoff: each doc waits 1.5–3 s before its next try, each a different time.
  const a = later(device({ relayUrl: net.url, sub: 'alice', sid: 'a1', ws, backoff: { initialMs: 3_000, maxMs: 3_000 } }))
  const account = await a.signIn()
  const w = await account.createWorkspace('w1', { name: 'Team' })
  const docs = [w.manifest, await w.createCollection({ name: 'A' }), await w.createEnvironment({ name: 'E' }), await w.globals()]
  await account.whenInSync()
  net.cut()
  // Every doc waiting out its backoff at once (checked on every doc's change: each goes through an attempt
  // between two waits).
  const statuses = docs.map((d) => d.status)
  await untilEach(statuses, () => docs.every((d) => d.status.getSnapshot().retryAt !== null))
  net.open()
  // The first doc to retry finds the relay; the others go at once instead of waiting out their timers.
  await untilEach(statuses, () => docs.some((d) => d.status.getSnapshot().state === 'in-sync'), 10_000)
  const first = performance.now()
  await until(account.status, (s) => s.state === 'in-sync', 10_000)
  expect(performance.now() - first).toBeLessThan(500)
})
