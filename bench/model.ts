/**
 * Model benchmark (issue #2): the cost of the model's typed layer over raw Yjs.
 * 1. 10,000 request field edits through the model vs the same edits on raw Y.Map/Y.Text (goal ≤ 1.3×); and
 *    10,000 URL edits alone (the path, then a query value, in turn): the URL's parts and rows kept in agreement
 *    vs setting one string on raw Yjs.
 * 2. A synthetic 10,000-request collection: encoded size; cold load to first full snapshot vs raw
 *    Y.applyUpdate + toJSON of the same update (goal ≤ 1.5×); re-snapshot after one edit (goal ≤ 1 ms).
 * 3. The largest corpus collection (1,077 requests, imported once): cold open of its update to the first
 *    snapshot (goal well under 300 ms) vs raw Y.applyUpdate + toJSON; and a new device's first sync (the model
 *    open on an empty doc when the whole collection arrives as one update).
 * Sizes scale with APISYNC_BENCH_SCALE (default 1); APISYNC_BENCH_ONLY=edits,url,corpus,load runs some sections.
 *
 * Old vs new in one run: APISYNC_BENCH_BASELINE=<root of another built checkout> loads that checkout's
 * packages/model and packages/postman (dist) as well, and every figure is printed for both, measured in turn.
 * Such a checkout: `git worktree add --detach <dir> <commit>`, a node_modules in <dir> whose @apisync/model and
 * @apisync/postman point at <dir>/packages (everything else may point at this checkout's node_modules, so both
 * share one yjs), then `npx tsc -b packages/postman` in <dir>.
 */
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import * as Y from 'yjs'
import { CollectionModel } from '@apisync/model'
import { importCollection } from '@apisync/postman'
import { buildCollection } from './lib/synthetic-collection.js'

const scale = Number(process.env.APISYNC_BENCH_SCALE ?? 1)
const EDITS = Math.round(10_000 * scale)
const REQUESTS = Math.round(10_000 * scale)
const only = process.env.APISYNC_BENCH_ONLY?.split(',')
const runs = (section: 'edits' | 'url' | 'corpus' | 'load') => !only || only.includes(section)
const REPS = 5 // timed runs per figure (median), taken in turn across the models measured

/** What the bench needs of a model package: this checkout's, or a baseline's built one. */
interface Lib {
  readonly name: string
  readonly CollectionModel: typeof CollectionModel
  readonly importCollection: (text: string) => CollectionModel
}
const libs: Lib[] = [{ name: 'this tree', CollectionModel, importCollection }]
const baseline = process.env.APISYNC_BENCH_BASELINE
if (baseline) {
  const load = (pkg: string) => import(pathToFileURL(join(baseline, 'packages', pkg, 'dist', 'index.js')).href)
  const [m, p] = await Promise.all([load('model'), load('postman')])
  // Older checkouts' signatures differ in details the bench does not use.
  libs.push({ name: 'baseline', CollectionModel: m.CollectionModel as typeof CollectionModel, importCollection: p.importCollection as Lib['importCollection'] })
}

const time = (fn: () => void): number => {
  const t0 = performance.now()
  fn()
  return performance.now() - t0
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!
const fmt = (ms: number) => `${ms.toFixed(ms < 10 ? 3 : 1)} ms`
const us = (ms: number, n: number) => `${((ms / n) * 1000).toFixed(1)} µs`
const verdict = (ok: boolean) => (ok ? 'met' : 'NOT MET')

/** Runs every named runner once as warm-up, then REPS times in turn; the median of each. */
const measure = (runners: Record<string, () => number>): Record<string, number> => {
  const entries = Object.entries(runners)
  for (const [, run] of entries) run()
  const samples = entries.map(() => [] as number[])
  for (let r = 0; r < REPS; r++) entries.forEach(([, run], i) => samples[i]!.push(run()))
  return Object.fromEntries(entries.map(([k], i) => [k, median(samples[i]!)]))
}

// ------------------------------------------------------------------------------------------ 1. edits
const N = 100 // requests edited round-robin
const values = Array.from({ length: EDITS }, (_, i) => `v${i}`)
// Model: create N requests, then edit name/method/url/description/header value in turn, one action each.
const modelEdits = (lib: Lib) => () => {
  const doc = new Y.Doc()
  const model = lib.CollectionModel.create(doc, { name: 'bench' })
  const ids: string[] = []
  const headerIds: string[] = []
  for (let i = 0; i < N; i++) {
    const id = model.createRequest({ name: `r${i}`, url: { raw: `https://api.test/r/${i}` }, headers: [{ key: 'Accept', value: 'x' }] })
    ids.push(id)
    const item = model.get(id)
    headerIds.push(item?.kind === 'request' ? item.headers[0]!.id : '')
  }
  model.snapshot()
  return time(() => {
    for (let i = 0; i < EDITS; i++) {
      const id = ids[i % N]!
      const v = values[i]!
      switch (i % 5) {
        case 0: model.updateItem(id, { name: v }); break
        case 1: model.updateItem(id, { method: i % 2 ? 'POST' : 'PUT' }); break
        case 2: model.updateItem(id, { url: { raw: `https://api.test/${v}` } }); break
        case 3: model.editText(id, 'description', 0, 0, 'x'); break
        case 4: model.updateRow(id, 'headers', headerIds[i % N]!, { value: v }); break
      }
    }
  })
}
const rawEdits = (withUndo: boolean) => () => {
  const doc = new Y.Doc()
  const origin = {}
  const items = doc.getMap<Y.Map<unknown>>('items')
  const maps: Y.Map<unknown>[] = []
  const headers: Y.Map<unknown>[] = []
  doc.transact(() => {
    for (let i = 0; i < N; i++) {
      const m = new Y.Map<unknown>()
      items.set(`r${i}`, m)
      m.set('name', `r${i}`)
      m.set('url', `https://api.test/r/${i}`)
      m.set('description', new Y.Text())
      const hs = new Y.Map<unknown>()
      m.set('headers', hs)
      const h = new Y.Map<unknown>()
      hs.set('h', h)
      h.set('key', 'Accept')
      h.set('value', 'x')
      maps.push(m)
      headers.push(h)
    }
  })
  const undo = withUndo ? new Y.UndoManager([items], { trackedOrigins: new Set([origin]), captureTimeout: 0 }) : undefined
  const run = time(() => {
    for (let i = 0; i < EDITS; i++) {
      const m = maps[i % N]!
      const v = values[i]!
      doc.transact(() => {
        switch (i % 5) {
          case 0: m.set('name', v); break
          case 1: m.set('method', i % 2 ? 'POST' : 'PUT'); break
          case 2: m.set('url', `https://api.test/${v}`); break
          case 3: (m.get('description') as Y.Text).insert(0, 'x'); break
          case 4: headers[i % N]!.set('value', v); break
        }
      }, origin)
    }
  })
  undo?.destroy()
  return run
}

// ------------------------------------------------------------------------------------------ 1b. URL edits
const urls = Array.from({ length: EDITS }, (_, i) => (i % 2 ? `https://api.test/r/${i >> 1}?page=${i}&sort=asc` : `https://api.test/v${i}/r?page=${i - 1}&sort=asc`))
const modelUrlEdits = (lib: Lib) => () => {
  const model = lib.CollectionModel.create(new Y.Doc(), { name: 'bench' })
  const ids = Array.from({ length: N }, (_, i) => model.createRequest({ name: `r${i}`, url: { raw: `https://api.test/r/${i}?page=0&sort=asc` } }))
  model.snapshot()
  return time(() => {
    for (let i = 0; i < EDITS; i++) model.updateItem(ids[i % N]!, { url: { raw: urls[i]! } })
  })
}
const rawUrlEdits = () => {
  const doc = new Y.Doc()
  const origin = {}
  const items = doc.getMap<Y.Map<unknown>>('items')
  const maps: Y.Map<unknown>[] = []
  doc.transact(() => {
    for (let i = 0; i < N; i++) {
      const m = new Y.Map<unknown>()
      items.set(`r${i}`, m)
      m.set('url', `https://api.test/r/${i}?page=0&sort=asc`)
      maps.push(m)
    }
  })
  const undo = new Y.UndoManager([items], { trackedOrigins: new Set([origin]), captureTimeout: 0 })
  const t = time(() => {
    for (let i = 0; i < EDITS; i++) doc.transact(() => maps[i % N]!.set('url', urls[i]!), origin)
  })
  undo.destroy()
  return t
}

// ------------------------------------------------------------------------------------------ 2. load
const rawOpen = (update: Uint8Array) => () =>
  time(() => {
    const doc = new Y.Doc()
    Y.applyUpdate(doc, update)
    doc.getMap('meta').toJSON()
    doc.getMap('collection').toJSON()
    doc.getMap('items').toJSON()
    doc.getMap('responses').toJSON()
  })
const modelOpen = (lib: Lib, update: Uint8Array) => () =>
  time(() => {
    const doc = new Y.Doc()
    Y.applyUpdate(doc, update)
    lib.CollectionModel.open(doc).snapshot()
  })
// A new device: its model is open on an empty doc when the relay's first sync brings the whole collection in.
const modelFirstSync = (lib: Lib, update: Uint8Array) => () =>
  time(() => {
    const doc = new Y.Doc()
    const model = lib.CollectionModel.open(doc)
    Y.applyUpdate(doc, update)
    model.snapshot()
  })

const loadBench = (lib: Lib) => {
  const source = new Y.Doc()
  const t0 = performance.now()
  const model = lib.CollectionModel.create(source, { name: 'big' })
  buildCollection(model, REQUESTS)
  const buildMs = performance.now() - t0
  const update = Y.encodeStateAsUpdate(source)
  const { cold = NaN, raw = NaN } = measure({ cold: modelOpen(lib, update), raw: rawOpen(update) })

  // Re-snapshot after one edit: edit a deep request, then time snapshot() alone.
  const doc = new Y.Doc()
  Y.applyUpdate(doc, update)
  const m = lib.CollectionModel.open(doc)
  let snap = m.snapshot()
  const deepIds: string[] = []
  const walk = (items: typeof snap.items, depth: number) => {
    for (const it of items) {
      if (it.kind === 'folder') walk(it.items, depth + 1)
      else if (depth >= 4 && deepIds.length < 200) deepIds.push(it.id)
    }
  }
  walk(snap.items, 0)
  const resnaps: number[] = []
  for (let i = 0; i < 200; i++) {
    m.updateItem(deepIds[i % deepIds.length]!, { name: `edited ${i}` })
    resnaps.push(time(() => (snap = m.snapshot())))
  }
  return { buildMs, bytes: update.byteLength, cold, raw, ratio: cold / raw, resnap: median(resnaps), resnapMax: Math.max(...resnaps) }
}

// ------------------------------------------------------------------------------------------ 3. corpus
const CORPUS = 'SabreDevStudio__postman-collections__Booking_Management_API_v2026.04.postman_collection.json'
const corpusText = readFileSync(fileURLToPath(new URL(`../test/fixtures/postman/${CORPUS}`, import.meta.url)), 'utf8')
const corpusBench = (lib: Lib) => {
  const update = Y.encodeStateAsUpdate(lib.importCollection(corpusText).doc)
  const first = modelOpen(lib, update)() // the first open in this process for this model: cold JIT as well
  const { cold, raw, sync } = measure({ cold: modelOpen(lib, update), raw: rawOpen(update), sync: modelFirstSync(lib, update) })
  return { first, bytes: update.byteLength, cold: cold!, raw: raw!, sync: sync! }
}

// ------------------------------------------------------------------------------------------ run
const baseNote = baseline ? ` (baseline: ${baseline})` : ''

const printEdits = () => {
  const edits = measure({
    ...Object.fromEntries(libs.map((lib) => [lib.name, modelEdits(lib)])),
    'raw Yjs': rawEdits(false),
    'raw Yjs + UndoManager': rawEdits(true),
  })
  const raw = edits['raw Yjs']!
  const rawUndo = edits['raw Yjs + UndoManager']!
  console.log(`\n== model: ${EDITS} request field edits (name, method, url, description text, header value), one action each${baseNote}`)
  for (const lib of libs) {
    const t = edits[lib.name]!
    const ratio = t / raw
    console.log(`${lib.name.padEnd(9)} ${fmt(t)} (${us(t, EDITS)}/edit) | ratio to raw Yjs ${ratio.toFixed(2)}× (goal ≤ 1.3×: ${verdict(ratio <= 1.3)}) | to raw Yjs + Y.UndoManager ${(t / rawUndo).toFixed(2)}×`)
  }
  console.log(`raw Yjs ${fmt(raw)} (${us(raw, EDITS)}/edit); with a Y.UndoManager tracking the edits ${fmt(rawUndo)} (${us(rawUndo, EDITS)}/edit)`)
  if (libs.length > 1) console.log(`this tree / baseline: ${(edits[libs[0]!.name]! / edits[libs[1]!.name]!).toFixed(2)}×`)
}

const printUrlEdits = () => {
  const urlEdits = measure({ ...Object.fromEntries(libs.map((lib) => [lib.name, modelUrlEdits(lib)])), raw: rawUrlEdits })
  const raw = urlEdits.raw!
  console.log(`\n== model: ${EDITS} URL edits (path, then a query value, in turn), one action each${baseNote}`)
  for (const lib of libs) {
    const t = urlEdits[lib.name]!
    console.log(`${lib.name.padEnd(9)} ${fmt(t)} (${us(t, EDITS)}/edit) | ratio to a raw Yjs string + Y.UndoManager ${(t / raw).toFixed(2)}×`)
  }
  console.log(`raw Yjs string + Y.UndoManager ${fmt(raw)} (${us(raw, EDITS)}/edit)`)
  if (libs.length > 1) console.log(`this tree / baseline: ${(urlEdits[libs[0]!.name]! / urlEdits[libs[1]!.name]!).toFixed(2)}×`)
}

const printCorpus = () => {
  console.log(`\n== model: largest corpus collection (1,077 requests), imported once; cold open of its update to the first snapshot${baseNote}`)
  for (const lib of libs) {
    const c = corpusBench(lib)
    console.log(`${lib.name.padEnd(9)} ${(c.bytes / 1024).toFixed(0)} KiB | first open in the process ${fmt(c.first)} | median ${fmt(c.cold)} (goal well under 300 ms: ${verdict(c.cold < 150)}) | raw applyUpdate+toJSON ${fmt(c.raw)} | ratio ${(c.cold / c.raw).toFixed(2)}× | first sync into an open model ${fmt(c.sync)} (${(c.sync / c.raw).toFixed(2)}×)`)
  }
}

const printLoad = () => {
  console.log(`\n== model: synthetic ${REQUESTS}-request collection (5 folder levels, headers, bodies, scripts)${baseNote}`)
  for (const lib of libs) {
    const l = loadBench(lib)
    console.log(`${lib.name}: built in ${fmt(l.buildMs)}; encoded size ${(l.bytes / 1024 / 1024).toFixed(2)} MiB (${(l.bytes / REQUESTS).toFixed(0)} B/request)`)
    console.log(`  cold load to first snapshot ${fmt(l.cold)} | raw applyUpdate+toJSON ${fmt(l.raw)} | ratio ${l.ratio.toFixed(2)}× (goal ≤ 1.5×: ${verdict(l.ratio <= 1.5)})`)
    console.log(`  re-snapshot after one edit: median ${fmt(l.resnap)}, max ${fmt(l.resnapMax)} (goal ≤ 1 ms: ${verdict(l.resnap <= 1)})`)
  }
}

if (runs('edits')) printEdits()
if (runs('url')) printUrlEdits()
if (runs('corpus')) printCorpus()
if (runs('load')) printLoad()
