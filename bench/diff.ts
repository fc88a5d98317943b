/**
 * History diff and restore benchmark (issue #14), the model's part (bench/history.ts measures the relay's).
 * Two versions of a synthetic 10,000-request collection, a "week of edits" apart (renames, method and URL
 * edits, headers, moves, deletions, new requests). Each version is opened read-only from its Yjs update, as
 * `openVersion` does.
 * 1. diffDocs of the two, snapshots already read (goal ≤ 300 ms), and with the versions' first snapshots
 *    included; peer: raw Yjs, `toJSON()` of both docs and a generic deep comparison of the two trees.
 * 2. restoreAll of the live doc back to the older version (one transaction), and its undo.
 * Sizes scale with APISYNC_BENCH_SCALE (default 1).
 */
import * as Y from 'yjs'
import { CollectionModel, diffDocs } from '@apisync/model'
import { buildCollection } from './lib/synthetic-collection.js'

const scale = Number(process.env.APISYNC_BENCH_SCALE ?? 1)
const REQUESTS = Math.round(10_000 * scale)
const EDITS = Math.round(500 * scale)

const time = <T>(fn: () => T): [T, number] => {
  const t0 = performance.now()
  const out = fn()
  return [out, performance.now() - t0]
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!
const fmt = (ms: number) => `${ms.toFixed(ms < 10 ? 2 : 1)} ms`

const live = CollectionModel.create(new Y.Doc(), { name: 'bench' })
buildCollection(live, REQUESTS)
const older = Y.encodeStateAsUpdate(live.doc)

// A week of edits, deterministic.
const requests = (): string[] => {
  const out: string[] = []
  const walk = (items: readonly { id: string; kind: string; items?: readonly unknown[] }[]) => {
    for (const i of items) i.kind === 'request' ? out.push(i.id) : walk(i.items as never)
  }
  walk(live.snapshot().items)
  return out
}
const ids = requests()
const folders = live.snapshot().items.map((f) => f.id)
for (let i = 0; i < EDITS; i++) {
  const id = ids[(i * 7919) % ids.length]!
  if (!live.get(id)) continue
  switch (i % 7) {
    case 0: live.updateItem(id, { name: `renamed ${i}` }); break
    case 1: live.updateItem(id, { method: 'PATCH' }); break
    case 2: live.updateItem(id, { url: { raw: `{{baseUrl}}/v2/resources/${i}?page=2` } }); break
    case 3: live.addRow(id, 'headers', { key: 'X-Trace', value: String(i) }); break
    case 4: live.move(id, { parent: folders[i % folders.length]! }); break
    case 5: live.delete(id); break
    case 6: live.createRequest({ name: `new ${i}`, url: { raw: `{{baseUrl}}/new/${i}` } }, { parent: folders[i % folders.length]! }); break
  }
}
const newer = Y.encodeStateAsUpdate(live.doc)

const open = (update: Uint8Array) => {
  const doc = new Y.Doc()
  Y.applyUpdate(doc, update)
  return CollectionModel.open(doc, { readOnly: true })
}

// ----------------------------------------------------------------------------------------------- 1. diff
const a = open(older)
const b = open(newer)
const [, firstSnapshots] = time(() => {
  a.snapshot()
  b.snapshot()
})
const warm: number[] = []
let diff = diffDocs(a, b)
for (let i = 0; i < 7; i++) {
  const [d, ms] = time(() => diffDocs(a, b))
  diff = d
  warm.push(ms)
}
const cold: number[] = []
for (let i = 0; i < 3; i++) {
  const va = open(older)
  const vb = open(newer)
  cold.push(time(() => diffDocs(va, vb))[1])
}

// Peer: raw Yjs, toJSON of both docs and a generic deep diff (counting differing leaves).
const deepDiff = (x: unknown, y: unknown): number => {
  if (x === y) return 0
  if (typeof x !== 'object' || typeof y !== 'object' || x === null || y === null) return 1
  let n = 0
  const keys = new Set([...Object.keys(x), ...Object.keys(y)])
  for (const k of keys) n += deepDiff((x as Record<string, unknown>)[k], (y as Record<string, unknown>)[k])
  return n
}
const peer: number[] = []
for (let i = 0; i < 3; i++) {
  const da = new Y.Doc()
  const db = new Y.Doc()
  Y.applyUpdate(da, older)
  Y.applyUpdate(db, newer)
  // A Y.Doc's toJSON lists only the root types that were asked for.
  for (const d of [da, db]) for (const name of ['meta', 'collection', 'items', 'responses']) d.getMap(name)
  peer.push(time(() => deepDiff(da.toJSON(), db.toJSON()))[1])
}

console.log(`collection: ${REQUESTS} requests, ${EDITS} edits between the versions`)
console.log(`diff: ${diff.changes.length} changes — ${diff.summary}`)
console.log(`versions' first snapshots (both): ${fmt(firstSnapshots)}`)
console.log(`diffDocs, snapshots read:          ${fmt(median(warm))} (goal ≤ 300 ms: ${median(warm) <= 300 ? 'met' : 'NOT MET'})`)
console.log(`diffDocs incl. first snapshots:    ${fmt(median(cold))}`)
console.log(`peer, raw Yjs toJSON + deep diff:  ${fmt(median(peer))} (diffDocs warm / peer: ${(median(warm) / median(peer)).toFixed(2)}×)`)

// -------------------------------------------------------------------------------------------- 2. restore
const [, restoreMs] = time(() => live.restoreAll(a))
const after = diffDocs(a, live)
const [, undoMs] = time(() => live.undo())
console.log(`restoreAll to the older version:   ${fmt(restoreMs)} (left after it: ${after.summary}); its undo: ${fmt(undoMs)}`)
