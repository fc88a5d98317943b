/**
 * History benchmark (issue #14):
 *
 *   1. storage per 10,000 edits: bytes in the SQLite store with history (log rows kept, checkpoints) against
 *      the same edits with history off (the compacted doc alone: snapshot + the rows after it), compacting
 *      every 500 updates as the relay does;
 *   2. opening a version of a 10,000-request collection from a week of edits (an injected clock, compaction and
 *      checkpoints as the relay makes them), with the client's own code against a real relay on loopback:
 *      cold (GET /history/state, apply the parts in one transaction, open the read-only model, first
 *      snapshot) next to the floor in the same run (raw Yjs: the same state as one update into a new doc, and
 *      its toJSON), and warm (the doc's cursor at an earlier version: only the updates since) — goal ≤ 1 s;
 *   3. the diff of two versions of it through the cursors: cold (one doc: the older version, then the updates
 *      up to the newer one) against two cold opens, and warm — goal ≤ 300 ms.
 *
 * Sizes: BENCH_EDITS (10000), BENCH_REQUESTS (10000), BENCH_WEEK_EDITS (7000); BENCH_SCALE scales them.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { performance } from 'node:perf_hooks'
import { CollectionModel, diffDocs, diffSnapshots, type ItemSnapshot } from '@apisync/model'
import { DAY_MS, encodeHistoryState, signToken, silentLogger, SqliteDocStore, startRelay, type UpdateEntry } from '@apisync/relay'
import * as Y from 'yjs'
import { envInt } from './lib/env.js'
import * as fmt from './lib/format.js'
import { summarize } from './lib/stats.js'
import type { ConnectionContext } from '../packages/client/src/doc-connection.js'
import { RelayHistory } from '../packages/client/src/history.js'
import { applyVersion, VersionCursors } from '../packages/client/src/version-cursor.js'
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
    // In a function of its own, so that the editing doc is garbage once written (several 10k-request docs at
    // once would measure the garbage collector).
    const endOfDay = await (async () => {
      const built = performance.now()
      const e = editor(config.requests)
      console.log(`\n2. A ${config.requests}-request collection (built in ${fmt.ms(performance.now() - built)}, ${fmt.bytes(e.base.byteLength)}) and ${config.weekEdits} edits over 7 days`)
      await store.appendUpdates([{ docName, update: e.base, author }])
      sinceCompaction = 0
      const perDay = Math.ceil(config.weekEdits / 7)
      const ends: number[] = []
      for (let day = 0; day < 7; day++) {
        clock.t = start + day * DAY_MS + 8 * 60 * 60 * 1000
        ends.push(await writeEdits(store, docName, e, perDay, clock, Math.floor((10 * 60 * 60 * 1000) / perDay)))
      }
      return ends
    })()
    clock.t = start + 7 * DAY_MS
    await store.maintainHistory(docName, clock.t)
    const b = await storeBytes(store)
    console.log(`store: log ${fmt.bytes(b.log)}, checkpoints ${fmt.bytes(b.checkpoints)}, snapshot ${fmt.bytes(b.snapshot)}`)

    relay = await startRelay({ auth: { secret: SECRET }, store, logger: silentLogger, now: () => clock.t, historySweepIntervalMs: 0 })
    const token = await signToken({ sub: 'alice', sid: 'alice-laptop', ws: { w: 'viewer' } }, { secret: SECRET })
    // The client's own code: its history client over HTTP, and its per-doc cursors.
    const connection = { syncUrl: `${relay.url.replace(/^http/, 'ws')}/sync`, httpUrl: relay.url, token: async () => token, refreshToken: async () => token }
    // The relay runs in this process, whose event loop the applies block for seconds: a kept-alive socket may
    // be closed under the next request (ECONNRESET). A browser retries that by itself; here, once.
    const retrying: typeof fetch = (input, init) => fetch(input, init).catch(() => fetch(input, init))
    const source = new RelayHistory(connection as unknown as ConnectionContext, retrying)
    const openModel = (_name: string, doc: Y.Doc) => CollectionModel.open(doc, { readOnly: true })
    // Mid-week, between two checkpoints: the worst case is a checkpoint plus up to a few thousand rows.
    const A = endOfDay[2]! - 250
    const B = endOfDay[5]!

    // Cold: what openVersion does with no cursor, stage by stage; the floor: the same state as ONE update into
    // a new doc, and Yjs's own toJSON of it; and what the relay used to do first (Y.mergeUpdates of the parts).
    const cold = async (seq: number, collect = true) => {
      if (collect) global.gc?.()
      const t0 = performance.now()
      const { parts } = await source.state(docName, seq)
      const t1 = performance.now()
      const doc = new Y.Doc({ gc: false })
      applyVersion(doc, parts)
      const t2 = performance.now()
      const model = CollectionModel.open(doc, { readOnly: true })
      const t3 = performance.now()
      model.snapshot()
      const t4 = performance.now()
      return { doc, model, parts, fetch: t1 - t0, apply: t2 - t1, open: t3 - t2, snapshot: t4 - t3, total: t4 - t0 }
    }
    const floor = (state: Uint8Array) => {
      global.gc?.()
      const t0 = performance.now()
      const doc = new Y.Doc({ gc: false })
      Y.applyUpdate(doc, state)
      const t1 = performance.now()
      // Every root type as plain JSON (the types as the model defines them: an untyped root reads as nothing).
      for (const [key, type] of roots) doc.get(key, type as typeof Y.AbstractType<unknown>).toJSON()
      const t2 = performance.now()
      return { apply: t1 - t0, read: t2 - t1, total: t2 - t0 }
    }
    // Warm-up, and the state for the floor: the same version as one update, the root types as the model has them.
    const { merged, parts, roots } = await cold(A).then((first) => ({ merged: Y.encodeStateAsUpdate(first.doc), parts: first.parts, roots: [...first.doc.share].map(([k, t]) => [k, t.constructor] as const) }))
    floor(merged)
    type Timing = Omit<Awaited<ReturnType<typeof cold>>, 'doc' | 'model' | 'parts'>
    const ours: Timing[] = []
    const raw: ReturnType<typeof floor>[] = []
    for (let i = 0; i < config.runs; i++) {
      const { doc: _doc, model: _model, parts: _parts, ...timing } = await cold(A)
      ours.push(timing)
      raw.push(floor(merged))
    }
    const t0 = performance.now()
    Y.mergeUpdates([...parts])
    const mergeMs = performance.now() - t0
    const p50 = <T>(xs: T[], k: keyof T) => summarize(xs.map((x) => x[k] as number)).p50
    const partBytes = parts.reduce((n, p) => n + p.byteLength, 0)
    console.log(`\nCold open of version ${A}: ${parts.length} parts (${fmt.bytes(parts[0]!.byteLength)} checkpoint + ${parts.length - 1} rows, ${fmt.bytes(partBytes)}); p50 of ${config.runs}`)
    printTable(
      ['', 'fetch', 'apply', 'open', 'first snapshot / toJSON', 'total', 'goal'],
      [
        ['openVersion, cold', fmt.ms(p50(ours, 'fetch')), fmt.ms(p50(ours, 'apply')), fmt.ms(p50(ours, 'open')), fmt.ms(p50(ours, 'snapshot')), fmt.ms(p50(ours, 'total')), '≤ 1 s'],
        ['floor: raw Yjs, one update', '-', fmt.ms(p50(raw, 'apply')), '-', fmt.ms(p50(raw, 'read')), fmt.ms(p50(raw, 'total')), ''],
        ['ratio', '', fmt.ratio(p50(ours, 'apply') / p50(raw, 'apply')), '', fmt.ratio(p50(ours, 'snapshot') / p50(raw, 'read')), fmt.ratio(p50(ours, 'total') / p50(raw, 'total')), ''],
      ],
    )
    console.log(`(before: the relay merged the parts into one update first: Y.mergeUpdates took ${fmt.ms(mergeMs)} here, on top of the same apply)`)
    // Where the fetch goes: the store's read and the framing; the rest is HTTP on loopback and reading the body.
    global.gc?.()
    const r0 = performance.now()
    const read = await store.historyState(docName, A)
    const r1 = performance.now()
    if (read.ok) encodeHistoryState(read.base, read.parts)
    const r2 = performance.now()
    console.log(`fetch = store read ${fmt.ms(r1 - r0)} + framing ${fmt.ms(r2 - r1)} + HTTP on loopback and reading the body`)

    // Warm: the doc's cursor at A; a later version is the rows since A, applied, and an incremental snapshot.
    const cursors = () => new VersionCursors(source, openModel)
    const warmOpen = async (to: number) => {
      const c = cursors()
      await c.snapshot(docName, A)
      const t0 = performance.now()
      await c.open(docName, to)
      const ms = performance.now() - t0
      c.clear() // its idle timer would keep the doc for two minutes
      return ms
    }
    const next = A + 20
    const warm: [string, number, number[]][] = [
      [`next version (${next}, +20 updates)`, next, []],
      [`a day later (${endOfDay[3]}, +${endOfDay[3]! - A} updates)`, endOfDay[3]!, []],
    ]
    for (let i = 0; i < config.runs; i++) for (const w of warm) w[2].push(await warmOpen(w[1]))
    console.log(`\nWarm open: the cursor at ${A}, openVersion of a later version (fetch after= + apply + snapshot); p50 of ${config.runs}`)
    printTable(
      ['version', 'openVersion (p50)', 'max', 'vs cold'],
      warm.map(([label, , xs]) => [label, fmt.ms(summarize(xs).p50), fmt.ms(summarize(xs).max), fmt.ratio(summarize(xs).p50 / p50(ours, 'total'))]),
    )

    console.log(`\n3. Diff of two versions (day 3 ${A} vs day 6 ${B}); diffVersions through the cursors`)
    const diffCold: number[] = []
    const diffWarm: number[] = []
    const diffWarmNext: number[] = []
    let summary = ''
    for (let i = 0; i < config.runs; i++) {
      const c = cursors()
      global.gc?.()
      let t = performance.now()
      summary = (await c.diff(docName, 'collection', A, B)).summary
      diffCold.push(performance.now() - t)
      t = performance.now()
      await c.diff(docName, 'collection', A, B)
      diffWarm.push(performance.now() - t)
      t = performance.now()
      await c.diff(docName, 'collection', B, B + 30 + i)
      diffWarmNext.push(performance.now() - t)
      c.clear()
    }
    // The way before the cursor: two cold opens and diffDocs (once: it costs two cold opens).
    global.gc?.()
    let t = performance.now()
    const [sa, sb] = await (async () => {
      const ma = (await cold(A, false)).model
      const mb = (await cold(B, false)).model
      diffDocs(ma, mb)
      return [ma.snapshot(), mb.snapshot()]
    })()
    const twoCold = performance.now() - t
    const pure: number[] = []
    for (let i = 0; i < config.runs; i++) {
      t = performance.now()
      diffSnapshots('collection', sa, sb)
      pure.push(performance.now() - t)
    }
    printTable(
      ['diff', 'p50', 'max', 'goal'],
      [
        ['cold, one doc (open A, rows to B)', fmt.ms(summarize(diffCold).p50), fmt.ms(summarize(diffCold).max), '≤ 300 ms'],
        ['cold, two docs + diffDocs (before; once)', fmt.ms(twoCold), '', ''],
        ['warm, both versions seen', fmt.ms(summarize(diffWarm).p50), fmt.ms(summarize(diffWarm).max), '≤ 300 ms'],
        ['warm, B vs a newer version (cursor at B)', fmt.ms(summarize(diffWarmNext).p50), fmt.ms(summarize(diffWarmNext).max), '≤ 300 ms'],
        ['diffDocs alone, snapshots read', fmt.ms(summarize(pure).p50), fmt.ms(summarize(pure).max), '≤ 300 ms'],
      ],
    )
    console.log(`summary: ${summary.slice(0, 100)}`)
  } finally {
    await relay?.close()
    await store.close()
    await rm(dir, { recursive: true, force: true })
  }
}

await storage()
await weekOfEdits()
