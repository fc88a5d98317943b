/**
 * The client's history API against a real relay on loopback: versions with authors, a version opened as a
 * read-only model equal to a copy taken when it was acked, diffs between versions and with the live doc,
 * the activity feed, and the errors a host shows (GONE, NOT_FOUND, OFFLINE, viewers allowed).
 */
import { HistoryError, type Workspace } from '@apisync/client'
import { type CollectionModel, diffDocs, ModelError } from '@apisync/model'
import * as Y from 'yjs'
import { afterEach, expect, test } from 'vitest'
import { device, relay } from './helpers.js'

const cleanups: (() => Promise<void>)[] = []
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c()
})
const later = <T extends { close(): Promise<void> }>(x: T): T => (cleanups.push(() => x.close()), x)

const DAY = 24 * 60 * 60 * 1000

test('history, openVersion, diffVersions and activity across two devices; GONE after retention, OFFLINE without the relay', async () => {
  let now = Date.UTC(2026, 2, 2, 9)
  const r = later(await relay({ now: () => now, history: { keepAllDays: 1, dailyDays: 0 }, historySweepIntervalMs: 0 }))
  const a = later(device({ relayUrl: r.url, sub: 'alice', sid: 'alice-laptop', ws: { w1: 'owner' } }))
  const b = later(device({ relayUrl: r.url, sub: 'bob', sid: 'bob-desk', ws: { w1: 'editor' } }))
  const c = later(device({ relayUrl: r.url, sub: 'carol', sid: 'carol-tablet', ws: { w1: 'viewer' } }))
  const wa = await (await a.signIn()).createWorkspace('w1', { name: 'Team' })
  const col = await wa.createCollection({ name: 'API' })
  const reqId = col.model.createRequest({ name: 'List users', method: 'GET', url: { raw: 'https://api.test/users' } })
  await col.whenInSync()
  const copies = new Map<number, ReturnType<CollectionModel['snapshot']>>()
  const record = async (w: Workspace) => {
    const page = await w.history(col.name, { limit: 1 })
    copies.set(page.versions[0].seq, (await w.collection(col.model.snapshot().id)).model.snapshot())
    return page.versions[0].seq
  }
  const v1 = await record(wa)

  now += 5 * 60_000
  const wb = await (await b.signIn()).openWorkspace('w1')
  const colB = await wb.collection(col.model.snapshot().id)
  await colB.whenInSync()
  colB.model.updateItem(reqId, { name: 'List all users', method: 'POST' })
  const folder = colB.model.createFolder({ name: 'Admin' })
  await colB.whenInSync()
  await col.whenInSync()
  const v2 = await record(wb)

  // Alice has Bob's changes before she deletes (acked is not received: a delete concurrent with his edit
  // would be a delete-vs-edit conflict, another test).
  for (let i = 0; col.model.get(reqId)?.name !== 'List all users' || !col.model.get(folder); i++) {
    if (i > 200) throw new Error("Bob's changes never reached Alice")
    await new Promise((r) => setTimeout(r, 25))
  }
  now += 5 * 60_000
  col.model.delete(reqId)
  await col.whenInSync()
  const v3 = await record(wa)

  // Versions: newest first, one per session, with who made them.
  const wc = await (await c.signIn()).openWorkspace('w1')
  const page = await wc.history(col.name)
  expect(page.versions.slice(0, 3).map((v) => [v.seq, v.authors])).toEqual([
    [v3, [{ account: 'alice', device: 'alice-laptop' }]],
    [v2, [{ account: 'bob', device: 'bob-desk' }]],
    [v1, [{ account: 'alice', device: 'alice-laptop' }]],
  ])
  expect(page.oldest).toBe(0)
  const paged = await wc.history(col, { limit: 1, before: page.versions[0].firstSeq })
  expect(paged.versions.map((v) => v.seq)).toEqual([v2])

  // Each version opens (for a viewer too) exactly as it was when acked, read-only.
  for (const [seq, copy] of copies) {
    const opened = await wc.openVersion(col.name, seq)
    expect(opened.snapshot()).toEqual(copy)
  }
  const old = await wa.openVersion(col, v1)
  expect(old.get(reqId)).toMatchObject({ name: 'List users' })
  expect(() => old.updateItem(reqId, { name: 'nope' })).toThrow(ModelError)
  expect(() => old.updateItem(reqId, { name: 'nope' })).toThrow(expect.objectContaining({ code: 'READ_ONLY' }))

  // Diffs in a person's terms.
  const d12 = await wa.diffVersions(col, v1, v2)
  expect(d12.changes).toEqual(
    expect.arrayContaining([
      expect.objectContaining({ kind: 'renamed', entity: 'request', id: reqId, before: 'List users', after: 'List all users' }),
      expect.objectContaining({ kind: 'changed', entity: 'request', id: reqId, field: 'method', before: 'GET', after: 'POST' }),
      expect.objectContaining({ kind: 'added', entity: 'folder', id: folder }),
    ]),
  )
  const dLive = await wa.diffVersions(col.name, v2, 'live')
  expect(dLive.changes).toEqual([expect.objectContaining({ kind: 'removed', entity: 'request', id: reqId })])

  // Activity: newest first, by person, by collection.
  const feed = await wc.activity()
  expect(feed.entries[0]).toMatchObject({ doc: col.name, kind: 'collection', collectionId: col.model.snapshot().id, seq: v3, account: 'alice' })
  expect(feed.entries.map((e) => e.kind)).toContain('manifest')
  const bobs = await wc.activity({ account: 'bob' })
  expect(bobs.entries.length).toBeGreaterThan(0)
  expect(bobs.entries.every((e) => e.account === 'bob')).toBe(true)
  const onlyCol = await wc.activity({ collection: col.model.snapshot().id, limit: 2 })
  expect(onlyCol.entries.map((e) => e.seq)).toEqual([v3, v2])
  expect(onlyCol.next).not.toBeNull()
  expect((await wc.activity({ collection: col.model.snapshot().id, before: onlyCol.next! })).entries.map((e) => e.seq)).toEqual([v1])

  // Errors a host shows.
  await expect(wa.openVersion(col, v3 + 100)).rejects.toMatchObject({ name: 'HistoryError', code: 'NOT_FOUND' })
  await expect(wa.history('w2/collection/x')).rejects.toMatchObject({ code: 'NOT_FOUND' })
  const scratch = await a.scratchPad()
  await expect(scratch.history(`${scratch.id}/manifest`)).rejects.toBeInstanceOf(HistoryError)

  // Two days on, retention (keep all 1 day, no daily window) drops everything older than a day.
  now += 2 * DAY
  col.model.updateCollection({ name: 'API v2' })
  await col.whenInSync()
  await r.running.relay.maintainHistory()
  await expect(wa.openVersion(col, v2)).rejects.toMatchObject({ code: 'GONE', oldest: v3 })
  expect((await wa.openVersion(col, v3)).snapshot()).toEqual(copies.get(v3))
  expect((await wa.history(col)).oldest).toBe(v3)

  await r.stop()
  await expect(wa.history(col)).rejects.toMatchObject({ code: 'OFFLINE' })
})

test('versions through one warm doc: diffs equal those of two cold opens, the cursor moves forward by updates only, a held version never changes', async () => {
  let now = Date.UTC(2026, 2, 2, 9)
  const r = later(await relay({ now: () => now, historySweepIntervalMs: 0 }))
  const a = later(device({ relayUrl: r.url, sub: 'alice', sid: 'alice-laptop', ws: { w1: 'owner' } }))
  const c = later(device({ relayUrl: r.url, sub: 'carol', sid: 'carol-tablet', ws: { w1: 'viewer' } }))
  const wa = await (await a.signIn()).createWorkspace('w1', { name: 'Team' })
  const col = await wa.createCollection({ name: 'API' })
  const ids = [0, 1, 2].map((i) => col.model.createRequest({ name: `R${i}`, method: 'GET', url: { raw: `https://api.test/${i}` } }))
  await col.whenInSync()
  const seqs: number[] = []
  const copies = new Map<number, ReturnType<CollectionModel['snapshot']>>()
  const record = async () => {
    const seq = (await wa.history(col, { limit: 1 })).versions[0].seq
    seqs.push(seq)
    copies.set(seq, col.model.snapshot())
  }
  await record()
  const edits: (() => void)[] = [
    () => col.model.updateItem(ids[0], { name: 'R0 renamed', method: 'POST' }),
    () => col.model.createFolder({ name: 'Admin' }),
    () => col.model.delete(ids[1]),
    () => col.model.updateItem(ids[2], { url: { raw: 'https://api.test/two' } }),
    () => col.model.updateCollection({ name: 'API v2' }),
  ]
  for (const edit of edits) {
    now += 5 * 60_000 // a new version each
    edit()
    await col.whenInSync()
    await record()
  }

  // The URLs the warm workspace asks for (its history client is made on first use, after this).
  const asked: string[] = []
  const realFetch = globalThis.fetch
  globalThis.fetch = ((input: RequestInfo | URL, init?: RequestInit) => {
    const url = String(input instanceof Request ? input.url : input)
    if (url.includes('/history/state')) asked.push(new URL(url).search)
    return realFetch(input, init)
  }) as typeof fetch
  cleanups.push(async () => {
    globalThis.fetch = realFetch
  })
  const warm = await (await c.signIn()).openWorkspace('w1')
  const cold = async (seq: number) => (await wa.openVersion(col.name, seq)) as CollectionModel
  const versions = warm.versionCursors()

  // Forward through the history: after the first version, each step fetches only the updates since.
  const [v0, v1, v2, v3, v4, v5] = seqs
  for (const [from, to] of [
    [v0, v1],
    [v1, v2],
    [v2, v4],
    [v0, v4], // both seen: no fetch
    [v4, v1], // reversed, both seen
    [v4, v5], // v4 seen, the cursor there
  ] as const) {
    const d = await warm.diffVersions(col.name, from, to)
    expect(d, `${from} → ${to}`).toEqual(diffDocs(await cold(from), await cold(to)))
  }
  // Versions already seen are only confirmed (after = at: the relay sends no updates, but says GONE or 403).
  const q = (at: number, after?: number) => `?doc=${encodeURIComponent(col.name)}&at=${at}${after === undefined ? '' : `&after=${after}`}`
  expect(asked).toEqual([q(v0), q(v1, v0), q(v1, v1), q(v2, v1), q(v2, v2), q(v4, v2), q(v0, v0), q(v4, v4), q(v1, v1), q(v4, v4), q(v4, v4), q(v5, v4)])
  expect(versions.cursorSeq(col.name)).toBe(v5)
  // Backwards to a version not seen: a new doc there (Yjs cannot go back).
  expect(await warm.diffVersions(col.name, v1, v3)).toEqual(diffDocs(await cold(v1), await cold(v3)))
  expect(versions.cursorSeq(col.name)).toBe(v3)
  // To the live doc.
  const live = await warm.collection(col.model.snapshot().id)
  await live.whenInSync()
  expect(await warm.diffVersions(live, v2, 'live')).toEqual(diffDocs(await cold(v2), col.model))

  // openVersion hands the cursor (at v3 ≤ v4) over: moved forward by the updates since, then the caller's.
  asked.length = 0
  const held = await warm.openVersion(live, v4)
  expect(asked).toEqual([q(v4, v3)])
  expect(versions.cursorSeq(col.name)).toBeNull()
  const heldSnapshot = held.snapshot()
  expect(heldSnapshot).toEqual(copies.get(v4))
  const heldState = Y.encodeStateVector(held.doc)
  // Whatever comes next, the held version stays as it was.
  await warm.diffVersions(live, v4, v5)
  await warm.openVersion(live, v5)
  await warm.diffVersions(live, v0, v5)
  expect(await warm.diffVersions(live, v2, v5)).toEqual(diffDocs(await cold(v2), await cold(v5)))
  expect(held.snapshot()).toBe(heldSnapshot)
  expect(Y.encodeStateVector(held.doc)).toEqual(heldState)
  expect(held.snapshot()).toEqual(copies.get(v4))
  for (const seq of seqs) expect((await warm.openVersion(live, seq)).snapshot(), `version ${seq}`).toEqual(copies.get(seq))
})
