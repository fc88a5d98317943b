/**
 * History benchmark (issue #14):
 *
 *   1. storage per 10,000 edits: bytes in the SQLite store with history (log rows kept, checkpoints) against
 *      the same edits with history off (the compacted doc alone: snapshot + the rows after it), compacting
 *      every 500 updates as the relay does;
 *   2. opening a version of a 10,000-request collection from a week of edits (an injected clock, compaction and
 *      checkpoints as the relay makes them): GET /history/state from a real relay on loopback, apply, open
 *      the read-only model, snapshot() — goal ≤ 1 s;
 *   3. the diff of two versions of it (diffDocs) — goal ≤ 300 ms.
 *
 * Sizes: BENCH_EDITS (10000), BENCH_REQUESTS (10000), BENCH_WEEK_EDITS (7000); BENCH_SCALE scales them.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { performance } from 'node:perf_hooks'
import { CollectionModel, diffDocs, type ItemSnapshot } from '@apisync/model'
import { DAY_MS, signToken, silentLogger, SqliteDocStore, startRelay, type UpdateEntry } from '@apisync/relay'
import * as Y from 'yjs'
import { envInt } from './lib/env.js'
import * as fmt from './lib/format.js'
import { summarize } from './lib/stats.js'
import { printTable } from './lib/table.js'
import { buildCollection } from './lib/synthetic-collection.js'

const config = {
  edits: envInt('EDITS', 10_000),
  requests: envInt('REQUESTS', 10_000),
  weekEdits: envInt('WEEK_EDITS', 7_000),
  compactEvery: 500,
  runs: envInt('RUNS', 5, { scaled: false }),
}
const SECRET = 'bench-history-secret-at-least-32-bytes!'
const author = { account: 'alice', session: 'alice-laptop', device: 'Laptop' }

/** A collection doc that records each transaction's update, and a way to make one edit. */
function editor(requests: number) {
  const doc = new Y.Doc()
  const model = CollectionModel.create(doc, { name: 'bench' })
  buildCollection(model, requests)
  const ids: string[] = []
  const walk = (items: readonly ItemSnapshot[]): void => {
    for (const item of items) {
      if (item.kind === 'request') ids.push(item.id)
      else walk(item.items)
    }
  }
  walk(model.snapshot().items)
  const base = Y.encodeStateAsUpdate(doc)
  const pending: Uint8Array[] = []
  doc.on('update', (u: Uint8Array) => pending.push(u))
  let n = 0
  const edit = (): void => {
    const id = ids[(n * 7919) % ids.length]!
    if (n % 3 === 0) model.updateItem(id, { name: `renamed ${n}` })
    else if (n % 3 === 1) model.editText(id, 'description', 0, n % 2 === 0 ? 0 : 1, `${n % 10}`)
    else model.updateItem(id, { method: ['GET', 'POST', 'PUT'][n % 3]! })
    n++
  }
  return { doc, model, base, pending, edit }
}

async function storeBytes(store: SqliteDocStore): Promise<{ log: number; checkpoints: number; snapshot: number; total: number }> {
  const db = store.database
  const one = (sql: string) => (db.prepare(sql).get() as { n: number | null }).n ?? 0
  const log = one('SELECT sum(length(data)) AS n FROM doc_updates')
  const checkpoints = one('SELECT sum(length(data)) AS n FROM doc_checkpoints')
  const snapshot = one('SELECT sum(length(snapshot)) AS n FROM doc_snapshots')
  return { log, checkpoints, snapshot, total: log + checkpoints + snapshot }
}

/** Write `edits` edits as the relay would: one row each, grouped commits, compaction every 500. */
let sinceCompaction = 0
async function writeEdits(store: SqliteDocStore, docName: string, e: ReturnType<typeof editor>, edits: number, clock: { t: number }, stepMs: number) {
  let seq = (await store.load(docName)).seq
  for (let i = 0; i < edits; i++) {
    e.edit()
    clock.t += stepMs
    if (e.pending.length >= 20 || (i === edits - 1 && e.pending.length > 0)) {
      const entries: UpdateEntry[] = e.pending.splice(0).map((update) => ({ docName, update, author }))
      const [range] = await store.appendUpdates(entries)
      seq = range!.last
      sinceCompaction += entries.length
      if (sinceCompaction >= config.compactEvery) {
        await store.compact(docName, Y.encodeStateAsUpdate(e.doc), seq)
        sinceCompaction = 0
      }
    }
  }
  return seq
}

async function storage(): Promise<void> {
  const rows: string[][] = []
  const results: Record<string, number> = {}
  for (const history of [true, false]) {
    const dir = await mkdtemp(join(tmpdir(), 'apisync-bench-history-'))
    const clock = { t: Date.UTC(2026, 0, 5) }
    const store = new SqliteDocStore({ dataDir: dir, history: history ? {} : false, now: () => clock.t })
    try {
      sinceCompaction = 0
      const e = editor(100)
      await store.appendUpdates([{ docName: 'w/collection/c', update: e.base, author }])
      await writeEdits(store, 'w/collection/c', e, config.edits, clock, 1_000)
      const b = await storeBytes(store)
      results[history ? 'with' : 'without'] = b.total
      rows.push([history ? 'history on' : 'history off', fmt.bytes(b.log), fmt.bytes(b.checkpoints), fmt.bytes(b.snapshot), fmt.bytes(b.total)])
    } finally {
      await store.close()
      await rm(dir, { recursive: true, force: true })
    }
  }
  console.log(`\n1. Storage of ${config.edits} edits of a 100-request collection (compaction every ${config.compactEvery})`)
  printTable(['store', 'log rows', 'checkpoints', 'snapshot', 'total'], rows)
  const extra = results.with! - results.without!
  console.log(
    `history costs ${fmt.bytes(extra)} per ${config.edits} edits (${fmt.ratio(results.with! / results.without!)} the compacted doc alone; ${(extra / config.edits).toFixed(0)} B per edit)`,
  )
}

async function weekOfEdits(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'apisync-bench-history-'))
  const start = Date.UTC(2026, 0, 5)
  const clock = { t: start }
  const store = new SqliteDocStore({ dataDir: dir, now: () => clock.t })
  const docName = 'w/collection/big'
  let relay: Awaited<ReturnType<typeof startRelay>> | null = null
  try {
    const built = performance.now()
    const e = editor(config.requests)
    console.log(`\n2. A ${config.requests}-request collection (built in ${fmt.ms(performance.now() - built)}, ${fmt.bytes(e.base.byteLength)}) and ${config.weekEdits} edits over 7 days`)
    await store.appendUpdates([{ docName, update: e.base, author }])
    sinceCompaction = 0
    const perDay = Math.ceil(config.weekEdits / 7)
    const endOfDay: number[] = []
    for (let day = 0; day < 7; day++) {
      clock.t = start + day * DAY_MS + 8 * 60 * 60 * 1000
      endOfDay.push(await writeEdits(store, docName, e, perDay, clock, Math.floor((10 * 60 * 60 * 1000) / perDay)))
    }
    clock.t = start + 7 * DAY_MS
    await store.maintainHistory(docName, clock.t)
    const b = await storeBytes(store)
    console.log(`store: log ${fmt.bytes(b.log)}, checkpoints ${fmt.bytes(b.checkpoints)}, snapshot ${fmt.bytes(b.snapshot)}`)

    relay = await startRelay({ auth: { secret: SECRET }, store, logger: silentLogger, now: () => clock.t, historySweepIntervalMs: 0 })
    const token = await signToken({ sub: 'alice', sid: 'alice-laptop', ws: { w: 'viewer' } }, { secret: SECRET })
    // Mid-week, between two checkpoints: the worst case is a checkpoint plus up to 499 rows.
    const targets = [endOfDay[2]! - 250, endOfDay[5]!]
    const open = async (seq: number) => {
      const t0 = performance.now()
      const res = await fetch(`${relay!.url}/history/state?doc=${encodeURIComponent(docName)}&at=${seq}`, { headers: { authorization: `Bearer ${token}` } })
      if (!res.ok) throw new Error(`GET /history/state: ${res.status}`)
      const bytes = new Uint8Array(await res.arrayBuffer())
      const t1 = performance.now()
      const doc = new Y.Doc({ gc: false })
      Y.applyUpdate(doc, bytes)
      const t2 = performance.now()
      const model = CollectionModel.open(doc, { readOnly: true })
      const t3 = performance.now()
      model.snapshot()
      const t4 = performance.now()
      return { model, bytes: bytes.byteLength, fetch: t1 - t0, apply: t2 - t1, open: t3 - t2, snapshot: t4 - t3, total: t4 - t0 }
    }
    const samples: Awaited<ReturnType<typeof open>>[] = []
    await open(targets[0]!) // warm-up
    for (let i = 0; i < config.runs; i++) samples.push(await open(targets[0]!))
    const med = (k: 'fetch' | 'apply' | 'open' | 'snapshot' | 'total') => summarize(samples.map((s) => s[k])).p50
    printTable(
      ['version', 'state', 'fetch', 'apply', 'open', 'snapshot', 'total (p50)', 'goal'],
      [[String(targets[0]), fmt.bytes(samples[0]!.bytes), fmt.ms(med('fetch')), fmt.ms(med('apply')), fmt.ms(med('open')), fmt.ms(med('snapshot')), fmt.ms(med('total')), '≤ 1 s']],
    )

    console.log(`\n3. Diff of two versions of it (day 3 vs day 6, diffDocs)`)
    const [a, b2] = [(await open(targets[0]!)).model, (await open(targets[1]!)).model]
    const diffs: number[] = []
    let summary = ''
    for (let i = 0; i < config.runs; i++) {
      const t0 = performance.now()
      summary = diffDocs(a, b2).summary
      diffs.push(performance.now() - t0)
    }
    printTable(['diff (p50)', 'max', 'goal', 'summary'], [[fmt.ms(summarize(diffs).p50), fmt.ms(summarize(diffs).max), '≤ 300 ms', summary.slice(0, 80)]])
  } finally {
    await relay?.close()
    await store.close()
    await rm(dir, { recursive: true, force: true })
  }
}

await storage()
await weekOfEdits()
