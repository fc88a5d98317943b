/**
 * Postman benchmark (issue #6): import and export of the largest corpus collection (3.2 MB, 1,077 requests,
 * 196 folders) against plain JSON.parse / JSON.stringify of the same file. Goals: import ≤ 300 ms, export
 * ≤ 200 ms.
 *
 * Times: median of BENCH_POSTMAN_RUNS runs (default 7) after 2 warm-up runs, in this process. Import is
 * split into its phases (checking the input, reading it into init objects, writing the model in one
 * transaction); export into the model's snapshot and the writing of Postman JSON from it.
 * Memory: each operation runs once more in a fresh child process (`--expose-gc`): the peak RSS above the
 * settled baseline (sampled every millisecond from a worker thread), and the heap still held afterwards.
 */
import { spawnSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { Worker } from 'node:worker_threads'
import type { CollectionModel, CollectionSnapshot } from '@apisync/model'
import { envInt } from './lib/env.js'
import * as fmt from './lib/format.js'
import { printTable } from './lib/table.js'
import { exportCollection, importCollection } from '@apisync/postman'

const FILE = 'SabreDevStudio__postman-collections__Booking_Management_API_v2026.04.postman_collection.json'
const path = fileURLToPath(new URL(`../test/fixtures/postman/${FILE}`, import.meta.url))
const text = readFileSync(path, 'utf8')
const GOALS = { import: 300, export: 200 }

type Op = 'parse' | 'import' | 'stringify' | 'export'

// --------------------------------------------------------------------------------------- memory (child)

/** Peak process RSS while `fn` runs, sampled from a worker thread (the main thread is busy). */
const withPeakRss = <T>(fn: () => T): { result: T; peak: number } => {
  const shared = new Float64Array(new SharedArrayBuffer(16))
  const worker = new Worker(
    `const { workerData } = require('node:worker_threads')
     const s = new Float64Array(workerData)
     const tick = () => { const r = process.memoryUsage.rss(); if (r > s[0]) s[0] = r; if (s[1] === 0) setTimeout(tick, 1) }
     tick()`,
    { eval: true, workerData: shared.buffer },
  )
  // Let the worker start sampling before the work begins.
  const until = Date.now() + 200
  while (shared[0] === 0 && Date.now() < until) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 5)
  const result = fn()
  shared[0] = Math.max(shared[0]!, process.memoryUsage.rss())
  shared[1] = 1
  void worker.terminate()
  return { result, peak: shared[0]! }
}

const childMain = (op: Op) => {
  const gc = (globalThis as { gc?: () => void }).gc!
  let keep: unknown
  let model: CollectionModel | undefined
  let exported: unknown
  if (op === 'export') model = importCollection(text)
  if (op === 'stringify') exported = exportCollection(importCollection(text))
  for (let i = 0; i < 4; i++) gc()
  const baseRss = process.memoryUsage.rss()
  const baseHeap = process.memoryUsage().heapUsed
  const { result, peak } = withPeakRss(() => {
    if (op === 'parse') return JSON.parse(text)
    if (op === 'import') return importCollection(text)
    if (op === 'stringify') return JSON.stringify(exported)
    return exportCollection(model!)
  })
  keep = result
  for (let i = 0; i < 4; i++) gc()
  const retained = process.memoryUsage().heapUsed - baseHeap
  process.stdout.write(JSON.stringify({ peak: peak - baseRss, retained: keep ? retained : 0 }))
}

const measureMemory = (op: Op): { peak: number; retained: number } => {
  const self = fileURLToPath(import.meta.url)
  const child = spawnSync(process.execPath, [...process.execArgv, '--expose-gc', self, '--child', op], {
    env: process.env,
    encoding: 'utf8',
    maxBuffer: 1 << 20,
  })
  if (child.status !== 0) throw new Error(`memory child for ${op} failed: ${child.stderr}`)
  return JSON.parse(child.stdout.trim().split('\n').at(-1)!)
}

// ------------------------------------------------------------------------------------------ time (parent)

const median = (xs: readonly number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!

const timeRuns = <T>(runs: number, fn: () => T): { median: number; min: number; last: T } => {
  let last!: T
  for (let i = 0; i < 2; i++) last = fn()
  const times: number[] = []
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now()
    last = fn()
    times.push(performance.now() - t0)
  }
  return { median: median(times), min: Math.min(...times), last }
}

const main = () => {
  const runs = envInt('POSTMAN_RUNS', 7)
  console.log(`${FILE}: ${fmt.bytes(Buffer.byteLength(text))}; ${runs} runs after 2 warm-up runs; node ${process.version}`)

  const parse = timeRuns(runs, () => JSON.parse(text))
  // Import, with its phases timed through the progress callback (read ends, write starts and ends).
  const phases = { read: [] as number[], write: [] as number[] }
  const imp = timeRuns(runs, () => {
    const t0 = performance.now()
    let readEnd = 0
    const model = importCollection(text, {
      onProgress: (p) => {
        if (p.phase === 'read' && p.done === p.total) readEnd = performance.now()
      },
    })
    phases.read.push(readEnd - t0)
    phases.write.push(performance.now() - readEnd)
    return model
  })
  // Export from a freshly imported model: the model's first snapshot, then the Postman JSON.
  const snapshotTimes: number[] = []
  const encodeTimes: number[] = []
  let exported: unknown
  for (let i = 0; i < runs + 2; i++) {
    const model = importCollection(text)
    const t0 = performance.now()
    const snap: CollectionSnapshot = model.snapshot()
    const t1 = performance.now()
    exported = exportCollection(snap)
    const t2 = performance.now()
    if (i >= 2) {
      snapshotTimes.push(t1 - t0)
      encodeTimes.push(t2 - t1)
    }
  }
  const exportTotals = snapshotTimes.map((s, i) => s + encodeTimes[i]!)
  const stringify = timeRuns(runs, () => JSON.stringify(exported))
  // From a model whose snapshot is already built (an app showing the collection has one): only the writing.
  const model = imp.last
  model.snapshot()
  const exportWarm = timeRuns(runs, () => exportCollection(model))

  const mem = Object.fromEntries((['parse', 'import', 'stringify', 'export'] as const).map((op) => [op, measureMemory(op)])) as Record<Op, { peak: number; retained: number }>

  const readMs = median(phases.read)
  const writeMs = median(phases.write)
  printTable(
    ['operation', 'median', 'min', 'vs JSON', 'peak RSS', 'heap kept', 'goal'],
    [
      ['JSON.parse', fmt.ms(parse.median), fmt.ms(parse.min), '1.00×', fmt.bytes(mem.parse.peak), fmt.bytes(mem.parse.retained), ''],
      [
        'importCollection',
        fmt.ms(imp.median),
        fmt.ms(imp.min),
        fmt.ratio(imp.median / parse.median),
        fmt.bytes(mem.import.peak),
        fmt.bytes(mem.import.retained),
        `≤ ${GOALS.import} ms: ${imp.median <= GOALS.import ? 'met' : 'NOT MET'}`,
      ],
      ['  check + read the file', fmt.ms(readMs), '', fmt.ratio(readMs / parse.median), '', '', ''],
      ['  write the model (1 transaction)', fmt.ms(writeMs), '', '', '', '', ''],
      ['JSON.stringify', fmt.ms(stringify.median), fmt.ms(stringify.min), '1.00×', fmt.bytes(mem.stringify.peak), '', ''],
      [
        'exportCollection (fresh model)',
        fmt.ms(median(exportTotals)),
        fmt.ms(Math.min(...exportTotals)),
        fmt.ratio(median(exportTotals) / stringify.median),
        fmt.bytes(mem.export.peak),
        '',
        `≤ ${GOALS.export} ms: ${median(exportTotals) <= GOALS.export ? 'met' : 'NOT MET'}`,
      ],
      ['  model.snapshot()', fmt.ms(median(snapshotTimes)), '', '', '', '', ''],
      ['  write Postman JSON', fmt.ms(median(encodeTimes)), '', fmt.ratio(median(encodeTimes) / stringify.median), '', '', ''],
      [
        'exportCollection (snapshot built)',
        fmt.ms(exportWarm.median),
        fmt.ms(exportWarm.min),
        fmt.ratio(exportWarm.median / stringify.median),
        '',
        '',
        `≤ ${GOALS.export} ms: ${exportWarm.median <= GOALS.export ? 'met' : 'NOT MET'}`,
      ],
    ],
  )
  console.log('peak RSS: above the settled baseline of a fresh process; heap kept: held after the operation and a GC (the model and its Y.Doc).')
}

const childAt = process.argv.indexOf('--child')
if (childAt >= 0) childMain(process.argv[childAt + 1] as Op)
else main()
