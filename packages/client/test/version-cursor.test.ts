/**
 * The client's warm versions (version-cursor.ts) over a source of real Yjs updates kept in memory the way the
 * relay keeps them (a base, then one update per seq; `after` gets the updates since): memory bounds, calls at
 * once on one doc, and a failure that leaves no half-applied version behind.
 */
import { CollectionModel, diffDocs } from '@apisync/model'
import { expect, test, vi } from 'vitest'
import * as Y from 'yjs'
import type { HistoryStateBody } from '../src/protocol.js'
import { VersionCursors, type VersionSource } from '../src/version-cursor.js'

/** A doc edited `edits` times: the update of each seq (seq 1 = the collection made). */
function history(edits: number) {
  const doc = new Y.Doc()
  const updates: Uint8Array[] = []
  doc.on('update', (u: Uint8Array) => updates.push(u))
  const live = CollectionModel.create(doc, { name: 'C' })
  const id = live.createRequest({ name: 'R', method: 'GET', url: { raw: 'https://x.test/0' } })
  const merged = Y.mergeUpdates(updates.splice(0))
  updates.push(merged)
  for (let i = 1; i <= edits; i++) live.updateItem(id, { name: `R${i}` })
  const asked: string[] = []
  let failNext = false
  const source: VersionSource = {
    async state(_doc: string, seq: number, after?: number): Promise<HistoryStateBody> {
      asked.push(after === undefined ? `${seq}` : `${seq}>${after}`)
      if (failNext) {
        failNext = false
        return { base: after ?? 0, parts: [new Uint8Array([1, 2, 3])] } // not an update
      }
      return after === undefined ? { base: 0, parts: updates.slice(0, seq) } : { base: after, parts: updates.slice(after, seq) }
    },
  }
  const open = (seq: number) => {
    const d = new Y.Doc({ gc: false })
    for (const u of updates.slice(0, seq)) Y.applyUpdate(d, u)
    return CollectionModel.open(d, { readOnly: true })
  }
  return { source, asked, open, fail: () => (failNext = true) }
}

const openModel = (_name: string, doc: Y.Doc) => CollectionModel.open(doc, { readOnly: true })

test('one doc with a cursor at a time; dropped when idle', async () => {
  vi.useFakeTimers()
  try {
    const h = history(6)
    const cursors = new VersionCursors(h.source, openModel, { idleMs: 1_000 })
    await cursors.diff('w/collection/a', 'collection', 2, 4)
    expect(cursors.cursorSeq('w/collection/a')).toBe(4)
    await cursors.diff('w/collection/b', 'collection', 3, 5)
    expect(cursors.cursorSeq('w/collection/a')).toBeNull() // replaced by b's
    expect(cursors.cursorSeq('w/collection/b')).toBe(5)
    vi.advanceTimersByTime(999)
    expect(cursors.cursorSeq('w/collection/b')).toBe(5)
    vi.advanceTimersByTime(1)
    expect(cursors.cursorSeq('w/collection/b')).toBeNull()
    // A doc seen again starts over: a cold open (no `after`).
    h.asked.length = 0
    await cursors.snapshot('w/collection/b', 5)
    expect(h.asked).toEqual(['5'])
  } finally {
    vi.useRealTimers()
  }
})

test('calls at once on one doc take turns: each answer is the version it asked for', async () => {
  const h = history(8)
  const cursors = new VersionCursors(h.source, openModel)
  const name = 'w/collection/a'
  const [d13, d57, m6, d28] = await Promise.all([
    cursors.diff(name, 'collection', 1, 3),
    cursors.diff(name, 'collection', 5, 7),
    cursors.open(name, 6),
    cursors.diff(name, 'collection', 2, 8),
  ])
  expect(d13).toEqual(diffDocs(h.open(1), h.open(3)))
  expect(d57).toEqual(diffDocs(h.open(5), h.open(7)))
  expect(m6.snapshot()).toEqual(h.open(6).snapshot())
  expect(d28).toEqual(diffDocs(h.open(2), h.open(8)))
})

test('an update that does not apply drops the cursor: the next call starts over, right', async () => {
  const h = history(5)
  const cursors = new VersionCursors(h.source, openModel)
  const name = 'w/collection/a'
  await cursors.snapshot(name, 2)
  h.fail()
  await expect(cursors.snapshot(name, 4)).rejects.toThrow()
  expect(cursors.cursorSeq(name)).toBeNull()
  expect(await cursors.diff(name, 'collection', 2, 4)).toEqual(diffDocs(h.open(2), h.open(4)))
})
