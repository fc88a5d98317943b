/**
 * Model benchmark (issue #2): the cost of the model's typed layer over raw Yjs.
 * 1. 10,000 request field edits through the model vs the same edits on raw Y.Map/Y.Text (goal ≤ 1.3×); and
 *    10,000 URL edits alone (the path, then a query value, in turn): the URL's parts and rows kept in agreement
 *    vs setting one string on raw Yjs.
 * 2. A synthetic 10,000-request collection: encoded size; cold load to first full snapshot vs raw
 *    Y.applyUpdate + toJSON of the same update (goal ≤ 1.5×); re-snapshot after one edit (goal ≤ 1 ms).
 * Sizes scale with APISYNC_BENCH_SCALE (default 1).
 */
import * as Y from 'yjs'
import { CollectionModel } from '@apisync/model'
import { buildCollection } from './lib/synthetic-collection.js'

const scale = Number(process.env.APISYNC_BENCH_SCALE ?? 1)
const EDITS = Math.round(10_000 * scale)
const REQUESTS = Math.round(10_000 * scale)

const time = (fn: () => void): number => {
  const t0 = performance.now()
  fn()
  return performance.now() - t0
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!
const fmt = (ms: number) => `${ms.toFixed(ms < 10 ? 3 : 1)} ms`
const verdict = (ok: boolean) => (ok ? 'met' : 'NOT MET')

// ------------------------------------------------------------------------------------------ 1. edits
const editBench = () => {
  const N = 100 // requests edited round-robin
  const values = Array.from({ length: EDITS }, (_, i) => `v${i}`)
  // Model: create N requests, then edit name/method/url/description/header value in turn, one action each.
  const modelRun = () => {
    const doc = new Y.Doc()
    const model = CollectionModel.create(doc, { name: 'bench' })
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
  const rawRun = (withUndo = false) => {
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
  modelRun(); rawRun(); rawRun(true) // warm up the JIT
  const model = median([modelRun(), modelRun(), modelRun()])
  const raw = median([rawRun(), rawRun(), rawRun()])
  const rawUndo = median([rawRun(true), rawRun(true), rawRun(true)])
  return { model, raw, rawUndo, ratio: model / raw }
}

// ------------------------------------------------------------------------------------------ 1b. URL edits
const urlBench = () => {
  const N = 100
  const raws = Array.from({ length: EDITS }, (_, i) => (i % 2 ? `https://api.test/r/${i >> 1}?page=${i}&sort=asc` : `https://api.test/v${i}/r?page=${i - 1}&sort=asc`))
  const modelRun = () => {
    const model = CollectionModel.create(new Y.Doc(), { name: 'bench' })
    const ids = Array.from({ length: N }, (_, i) => model.createRequest({ name: `r${i}`, url: { raw: `https://api.test/r/${i}?page=0&sort=asc` } }))
    model.snapshot()
    return time(() => {
      for (let i = 0; i < EDITS; i++) model.updateItem(ids[i % N]!, { url: { raw: raws[i]! } })
    })
  }
  const rawRun = () => {
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
      for (let i = 0; i < EDITS; i++) doc.transact(() => maps[i % N]!.set('url', raws[i]!), origin)
    })
    undo.destroy()
    return t
  }
  modelRun(); rawRun()
  const model = median([modelRun(), modelRun(), modelRun()])
  const raw = median([rawRun(), rawRun(), rawRun()])
  return { model, raw, ratio: model / raw }
}

// ------------------------------------------------------------------------------------------ 2. load
const loadBench = () => {
  const source = new Y.Doc()
  const t0 = performance.now()
  const model = CollectionModel.create(source, { name: 'big' })
  buildCollection(model, REQUESTS)
  const buildMs = performance.now() - t0
  const update = Y.encodeStateAsUpdate(source)

  const coldModel = () =>
    time(() => {
      const doc = new Y.Doc()
      Y.applyUpdate(doc, update)
      CollectionModel.open(doc).snapshot()
    })
  const coldRaw = () =>
    time(() => {
      const doc = new Y.Doc()
      Y.applyUpdate(doc, update)
      doc.getMap('meta').toJSON()
      doc.getMap('collection').toJSON()
      doc.getMap('items').toJSON()
      doc.getMap('responses').toJSON()
    })
  coldModel(); coldRaw()
  const cold = median([coldModel(), coldModel(), coldModel()])
  const raw = median([coldRaw(), coldRaw(), coldRaw()])

  // Re-snapshot after one edit: edit a deep request, then time snapshot() alone.
  const doc = new Y.Doc()
  Y.applyUpdate(doc, update)
  const m = CollectionModel.open(doc)
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

const e = editBench()
console.log(`\n== model: ${EDITS} request field edits (name, method, url, description text, header value), one action each`)
console.log(`model ${fmt(e.model)} (${((e.model / EDITS) * 1000).toFixed(1)} µs/edit) | raw Yjs ${fmt(e.raw)} (${((e.raw / EDITS) * 1000).toFixed(1)} µs/edit) | ratio ${e.ratio.toFixed(2)}× (goal ≤ 1.3×: ${verdict(e.ratio <= 1.3)})`)
console.log(`  for scale: raw Yjs with a Y.UndoManager tracking the edits ${fmt(e.rawUndo)} (${((e.rawUndo / EDITS) * 1000).toFixed(1)} µs/edit); model / that ${(e.model / e.rawUndo).toFixed(2)}×`)

const u = urlBench()
console.log(`\n== model: ${EDITS} URL edits (path, then a query value, in turn), one action each`)
console.log(`model ${fmt(u.model)} (${((u.model / EDITS) * 1000).toFixed(1)} µs/edit: parts, query rows and raw kept in agreement) | raw Yjs string + Y.UndoManager ${fmt(u.raw)} (${((u.raw / EDITS) * 1000).toFixed(1)} µs/edit) | ratio ${u.ratio.toFixed(2)}×`)

const l = loadBench()
console.log(`\n== model: synthetic ${REQUESTS}-request collection (5 folder levels, headers, bodies, scripts)`)
console.log(`built in ${fmt(l.buildMs)}; encoded size ${(l.bytes / 1024 / 1024).toFixed(2)} MiB (${(l.bytes / REQUESTS).toFixed(0)} B/request)`)
console.log(`cold load to first snapshot ${fmt(l.cold)} | raw applyUpdate+toJSON ${fmt(l.raw)} | ratio ${l.ratio.toFixed(2)}× (goal ≤ 1.5×: ${verdict(l.ratio <= 1.5)})`)
console.log(`re-snapshot after one edit: median ${fmt(l.resnap)}, max ${fmt(l.resnapMax)} (goal ≤ 1 ms: ${verdict(l.resnap <= 1)})`)
