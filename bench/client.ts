/**
 * The client benchmark (issue #4, "Benchmark"):
 *
 *   1. reconnect after E offline edits: bytes the client sends vs the minimal diff
 *      (Y.encodeStateAsUpdate(doc, serverStateVector)), and time from coming online to `in-sync` (the relay
 *      has stored everything); beside it, a stock y-websocket provider on the same relay and edits (time to
 *      its `synced`, which only means the relay's answer arrived, not that it stored anything);
 *   2. cold open of an R-request collection from local storage to the first snapshot: this client over
 *      fake-indexeddb in Node, y-indexeddb on the same data, raw Yjs from bytes in memory (the floor), and the
 *      client in Chromium over real IndexedDB when /usr/bin/chromium exists;
 *   3. y-indexeddb's gaps, measured: rows added by re-opening a doc, and databases per workspace;
 *   4. tabs of one device (Chromium, two tabs of one profile): how long an edit takes to reach the other tab
 *      (BroadcastChannel, p50/p99 over a burst of BENCH_CLIENT_BURST edits), and the same burst on a bare
 *      BroadcastChannel as the floor;
 *   5. the demo with the 1,077-request corpus collection fully expanded (Chromium): a keystroke in the URL
 *      field, expanding a folder, opening the collection, a cold start (test/web/perf-measure.ts).
 *
 * Sizes: BENCH_CLIENT_EDITS (1000), BENCH_CLIENT_REQUESTS (10000), BENCH_CLIENT_REPEATS (3), BENCH_SCALE.
 */
import 'fake-indexeddb/auto'
import { existsSync } from 'node:fs'
import { createServer } from 'node:http'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { performance } from 'node:perf_hooks'
import { fileURLToPath } from 'node:url'
import { CollectionModel } from '@apisync/model'
import { signToken, silentLogger, startRelay } from '@apisync/relay'
import { IDBFactory } from 'fake-indexeddb'
import { WebSocket } from 'ws'
import { IndexeddbPersistence } from 'y-indexeddb'
import { WebsocketProvider } from 'y-websocket'
import * as Y from 'yjs'
import { createSyncClient, networkSwitch } from '../packages/client/src/index.js'
import { envInt } from './lib/env.js'
import * as fmt from './lib/format.js'
import { summarize } from './lib/stats.js'
import { buildCollection } from './lib/synthetic-collection.js'
import { startServer } from './lib/servers.js'
import { printTable } from './lib/table.js'

const config = {
  edits: envInt('CLIENT_EDITS', 1000),
  requests: envInt('CLIENT_REQUESTS', 10_000),
  repeats: envInt('CLIENT_REPEATS', 3, { scaled: false }),
  burst: envInt('CLIENT_BURST', 1000),
}
const SECRET = 'bench-client-secret-0123456789abcdef'
const now = () => performance.now()
const chromiumPath = '/usr/bin/chromium'

// ------------------------------------------------------------------------------------------ 1. reconnect

async function reconnect() {
  const dataDir = await mkdtemp(join(tmpdir(), 'apisync-bench-client-'))
  const relay = await startRelay({ auth: { secret: SECRET }, dataDir, port: 0, logger: silentLogger })
  const token = () => signToken({ sub: 'bench', sid: 'bench', ws: { w: 'owner' } }, { secret: SECRET })
  const rows: string[][] = []
  const ours = { bytes: [] as number[], changeBytes: [] as number[], minimal: [] as number[], ms: [] as number[], openMs: [] as number[] }
  const stock = { bytes: [] as number[], minimal: [] as number[], ms: [] as number[] }
  const ref = { bytes: [] as number[], minimal: [] as number[], ms: [] as number[] }
  const reference = await startServer('y-websocket')
  try {
    for (let run = 0; run <= config.repeats; run++) {
      // This client: offline through its network monitor, so the relay stays up and warm.
      const net = networkSwitch(true)
      const client = createSyncClient({ relayUrl: relay.url, getToken: token, indexedDB: new IDBFactory(), WebSocket, network: net })
      const account = await client.signIn()
      const ws = await account.createWorkspace('w', { name: 'bench' })
      const col = await ws.createCollection({ id: `c${run}`, name: 'bench' })
      const seed = col.model.createRequest({ name: 'seed' })
      await account.whenInSync()
      const serverSV = Y.encodeStateVector(col.doc)
      net.set(false)
      offlineEdits(col.model, seed)
      await col.whenStored()
      const minimal = Y.encodeStateAsUpdate(col.doc, serverSV).byteLength
      const before = { ...col.traffic! }
      let opened = 0
      const unsubscribe = col.status.subscribe(() => {
        if (!opened && col.status.getSnapshot().state === 'syncing') opened = now()
      })
      const t0 = now()
      net.set(true)
      await col.whenInSync()
      const ms = now() - t0
      unsubscribe()
      const after = { ...col.traffic! }
      await client.close()
      if (run > 0) {
        ours.ms.push(ms)
        ours.openMs.push(opened - t0)
        ours.bytes.push(after.bytesSent - before.bytesSent)
        ours.changeBytes.push(after.changeBytesSent - before.changeBytesSent)
        ours.minimal.push(minimal)
      }

      // A stock y-websocket provider, same edits: on the same relay, and on the reference server.
      const onRelay = await stockReconnect(`${relay.wsUrl}/sync`, `w/collection/s${run}`, { token: await token() })
      const onReference = await stockReconnect(reference.url('', {}), `w/collection/s${run}`, {})
      if (run === 0) continue // warm-up
      stock.ms.push(onRelay.ms)
      stock.bytes.push(onRelay.bytes)
      stock.minimal.push(onRelay.minimal)
      ref.ms.push(onReference.ms)
      ref.bytes.push(onReference.bytes)
      ref.minimal.push(onReference.minimal)
    }
  } finally {
    await relay.close()
    await reference.close()
    await rm(dataDir, { recursive: true, force: true })
  }
  const med = (xs: number[]) => summarize(xs).p50
  rows.push([
    '@apisync/client (to in-sync: stored)',
    fmt.bytes(med(ours.minimal)),
    fmt.bytes(med(ours.changeBytes)),
    fmt.ratio(med(ours.changeBytes) / med(ours.minimal)),
    fmt.bytes(med(ours.bytes)),
    fmt.ratio(med(ours.bytes) / med(ours.minimal)),
    fmt.ms(med(ours.ms)),
    fmt.ms(Math.max(...ours.ms)),
  ])
  rows.push([
    'stock y-websocket (to synced: received)',
    fmt.bytes(med(stock.minimal)),
    '-',
    '-',
    fmt.bytes(med(stock.bytes)),
    fmt.ratio(med(stock.bytes) / med(stock.minimal)),
    fmt.ms(med(stock.ms)),
    fmt.ms(Math.max(...stock.ms)),
  ])
  rows.push([
    'stock y-websocket, reference server',
    fmt.bytes(med(ref.minimal)),
    '-',
    '-',
    fmt.bytes(med(ref.bytes)),
    fmt.ratio(med(ref.bytes) / med(ref.minimal)),
    fmt.ms(med(ref.ms)),
    fmt.ms(Math.max(...ref.ms)),
  ])
  console.log(`\n1. reconnect after ${config.edits} offline edits (median of ${config.repeats}; goals ≤ 1.10×, ≤ 100 ms on loopback)`)
  printTable(['client', 'minimal diff', 'sync frames', 'ratio', 'all frames', 'ratio', 'time p50', 'max'], rows)
  console.log('   sync frames = the sync step 2 (+ updates) carrying the changes; all frames adds sync step 1 and awareness.')
  console.log(`   of our time, the WebSocket opening (token, TCP, upgrade, relay admission) took ${fmt.ms(med(ours.openMs))} (p50); the rest is`)
  console.log('   the sync exchange and the relay\'s commit (SQLite synchronous=FULL: an fsync) before its ack.')
}

/** A stock provider: synced, offline edits, reconnect; bytes it sends and time to its `synced`. */
async function stockReconnect(serverUrl: string, room: string, params: Record<string, string>) {
  const doc = new Y.Doc()
  let sent = 0
  class Counting extends WebSocket {
    override send(data: Parameters<WebSocket['send']>[0], ...rest: unknown[]) {
      sent += (data as Uint8Array).byteLength
      return (super.send as (...a: unknown[]) => void)(data, ...rest)
    }
  }
  const provider = new WebsocketProvider(serverUrl, room, doc, {
    WebSocketPolyfill: Counting as unknown as typeof globalThis.WebSocket,
    disableBc: true,
    params,
  })
  const model = CollectionModel.create(doc, { name: 'bench' })
  const seed = model.createRequest({ name: 'seed' })
  await synced(provider)
  await new Promise((r) => setTimeout(r, 50)) // let the seed reach the server
  const sv = Y.encodeStateVector(doc)
  provider.disconnect()
  offlineEdits(model, seed)
  const minimal = Y.encodeStateAsUpdate(doc, sv).byteLength
  sent = 0
  const t0 = now()
  provider.connect()
  await synced(provider)
  const ms = now() - t0
  provider.destroy()
  doc.destroy() // also stops the awareness the provider made (its interval keeps a process alive)
  return { ms, bytes: sent, minimal }
}

const synced = (provider: WebsocketProvider) =>
  new Promise<void>((resolve) => {
    if (provider.synced) return resolve()
    const on = (state: boolean) => {
      if (!state) return
      provider.off('sync', on)
      resolve()
    }
    provider.on('sync', on)
  })

/** `edits` user actions: new requests, renames, method changes, header rows. */
function offlineEdits(model: CollectionModel, seed: string) {
  for (let i = 0; i < config.edits; i++) {
    if (i % 4 === 0) model.createRequest({ name: `offline ${i}`, method: 'POST', url: { raw: `https://api/x/${i}` } })
    else if (i % 4 === 1) model.updateItem(seed, { name: `renamed ${i}` })
    else if (i % 4 === 2) model.updateItem(seed, { method: i % 8 === 2 ? 'PUT' : 'PATCH' })
    else model.addRow(seed, 'headers', { key: `X-${i}`, value: String(i) })
  }
}

// ------------------------------------------------------------------------------------------ 2. cold open

async function coldOpen() {
  const rows: string[][] = []
  // Prepare once: the collection stored by this client (one compacted row, as after compaction).
  const idb = new IDBFactory()
  const opts = { relayUrl: 'http://localhost:1', getToken: () => '', indexedDB: idb, WebSocket }
  const setup = createSyncClient(opts)
  const scratch = await setup.scratchPad()
  const col = await scratch.createCollection({ id: 'big', name: 'big' })
  const tBuild = now()
  buildCollection(col.model, config.requests)
  const built = now() - tBuild
  await col.whenStored()
  const state = Y.encodeStateAsUpdate(col.doc)
  await setup.close()
  // Compact the stored log (as a long session would have), then close.
  const again = createSyncClient(opts)
  await (await (await again.scratchPad()).collection('big')).whenStored()
  await again.close()
  console.log(`\n2. cold open of a ${config.requests}-request collection (${fmt.bytes(state.byteLength)} of Yjs state; built in ${fmt.ms(built)})`)

  const ourMs: number[] = []
  const ourLoaded: number[] = []
  for (let i = 0; i < config.repeats; i++) {
    const t0 = now()
    const client = createSyncClient(opts)
    const c = await (await client.scratchPad()).collection('big')
    ourLoaded.push(now() - t0)
    const items = c.model.snapshot().items.length
    ourMs.push(now() - t0)
    if (items === 0) throw new Error('cold open found no items')
    await client.close()
  }

  // y-indexeddb on the same content (global fake-indexeddb).
  const ydoc = new Y.Doc()
  Y.applyUpdate(ydoc, state)
  const writer = new IndexeddbPersistence('bench-y-indexeddb', ydoc)
  await writer.whenSynced
  await writer.destroy()
  const yMs: number[] = []
  const yLoaded: number[] = []
  for (let i = 0; i < config.repeats; i++) {
    const t0 = now()
    const doc = new Y.Doc()
    const p = new IndexeddbPersistence('bench-y-indexeddb', doc)
    await p.whenSynced
    yLoaded.push(now() - t0)
    CollectionModel.open(doc).snapshot()
    yMs.push(now() - t0)
    await p.destroy()
  }

  const rawMs: number[] = []
  const rawLoaded: number[] = []
  for (let i = 0; i < config.repeats; i++) {
    const t0 = now()
    const doc = new Y.Doc()
    Y.applyUpdate(doc, state)
    rawLoaded.push(now() - t0)
    CollectionModel.open(doc).snapshot()
    rawMs.push(now() - t0)
  }
  const p50 = (xs: number[]) => summarize(xs).p50
  const line = (name: string, loaded: number[], xs: number[], floor: number[]) => [
    name,
    fmt.ms(p50(loaded)),
    fmt.ms(p50(xs)),
    fmt.ms(summarize(xs).max),
    fmt.ratio(p50(xs) / p50(floor)),
  ]
  rows.push(line('@apisync/client, Node + fake-indexeddb', ourLoaded, ourMs, rawMs))
  rows.push(line('y-indexeddb, Node + fake-indexeddb', yLoaded, yMs, rawMs))
  rows.push(line('raw Yjs from memory (floor)', rawLoaded, rawMs, rawMs))
  const chromium = await coldOpenInChromium()
  if (chromium) {
    rows.push(line('@apisync/client, Chromium + IndexedDB', chromium.oursLoaded, chromium.ours, chromium.raw))
    rows.push(line('raw Yjs, Chromium, cold page (floor)', chromium.rawLoaded, chromium.raw, chromium.raw))
  }
  printTable(['open (p50)', 'doc loaded', 'first snapshot', 'max', 'vs raw Yjs'], rows)
  console.log('   doc loaded = the Y.Doc holds the stored state (usable); first snapshot adds the model reading all of it.')
  if (!chromium) console.log(`   (Chromium skipped: ${chromiumPath} not found)`)
}

async function coldOpenInChromium(): Promise<{ ours: number[]; oursLoaded: number[]; raw: number[]; rawLoaded: number[] } | null> {
  if (!existsSync(chromiumPath)) return null
  const { build } = await import('esbuild')
  const { chromium } = await import('playwright-core')
  const here = (p: string) => fileURLToPath(new URL(p, import.meta.url))
  const page = `
    import { createSyncClient } from ${JSON.stringify(here('../packages/client/src/index.ts'))}
    import { CollectionModel } from ${JSON.stringify(here('../packages/model/src/index.ts'))}
    import { buildCollection } from ${JSON.stringify(here('./lib/synthetic-collection.ts'))}
    import * as Y from 'yjs'
    const opts = { relayUrl: 'http://localhost:1', getToken: () => '' }
    window.prepare = async (n) => {
      const client = createSyncClient(opts)
      const col = await (await client.scratchPad()).createCollection({ id: 'big', name: 'big' })
      buildCollection(col.model, n)
      await col.whenStored()
      const bytes = Y.encodeStateAsUpdate(col.doc).byteLength
      await client.close()
      return bytes
    }
    window.coldOpen = async () => {
      const t0 = performance.now()
      const client = createSyncClient(opts)
      const col = await (await client.scratchPad()).collection('big')
      const loaded = performance.now() - t0
      const items = col.model.snapshot().items.length
      const ms = performance.now() - t0
      await client.close()
      return { ms, loaded, items }
    }
    // The floor on a cold page too: the stored rows read with plain IndexedDB (untimed), then Yjs + model.
    window.rawCold = async () => {
      const rows = await new Promise((resolve) => {
        const req = indexedDB.open('apisync-scratch:scratch/collection/big')
        req.onsuccess = () => {
          const all = req.result.transaction(['updates'], 'readonly').objectStore('updates').getAll()
          all.onsuccess = () => (req.result.close(), resolve(all.result))
        }
      })
      const t0 = performance.now()
      const doc = new Y.Doc()
      Y.transact(doc, () => rows.forEach((u) => Y.applyUpdate(doc, u)))
      const loaded = performance.now() - t0
      CollectionModel.open(doc).snapshot()
      return { ms: performance.now() - t0, loaded }
    }
  `
  const bundle = await build({
    stdin: { contents: page, loader: 'ts', resolveDir: here('.') },
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    write: false,
    alias: { '@apisync/model': here('../packages/model/src/index.ts') },
    logLevel: 'silent',
  })
  const js = bundle.outputFiles[0]!.text
  const server = createServer((req, res) => {
    if (req.url === '/page.js') res.writeHead(200, { 'content-type': 'text/javascript' }).end(js)
    else res.writeHead(200, { 'content-type': 'text/html' }).end('<!doctype html><script type="module" src="/page.js"></script>')
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  const url = `http://localhost:${(server.address() as { port: number }).port}/`
  const browser = await chromium.launch({
    executablePath: chromiumPath,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  })
  try {
    const p = await browser.newPage()
    type W = {
      prepare(n: number): Promise<number>
      coldOpen(): Promise<{ ms: number; loaded: number; items: number }>
      rawCold(): Promise<{ ms: number; loaded: number }>
    }
    await p.goto(url)
    await p.waitForFunction(() => 'prepare' in window)
    await p.evaluate((n) => (window as unknown as W).prepare(n), config.requests)
    const ours: number[] = []
    const oursLoaded: number[] = []
    for (let i = 0; i < config.repeats; i++) {
      await p.reload() // a cold page: nothing in memory, the data in IndexedDB
      await p.waitForFunction(() => 'coldOpen' in window)
      const { ms, loaded, items } = await p.evaluate(() => (window as unknown as W).coldOpen())
      if (items === 0) throw new Error('cold open in Chromium found no items')
      ours.push(ms)
      oursLoaded.push(loaded)
    }
    const raw: number[] = []
    const rawLoaded: number[] = []
    for (let i = 0; i < config.repeats; i++) {
      await p.reload()
      await p.waitForFunction(() => 'rawCold' in window)
      const { ms, loaded } = await p.evaluate(() => (window as unknown as W).rawCold())
      raw.push(ms)
      rawLoaded.push(loaded)
    }
    return { ours, oursLoaded, raw, rawLoaded }
  } finally {
    await browser.close()
    server.close()
  }
}

// ------------------------------------------------------------------------------------- 3. y-indexeddb gaps

async function yIndexeddbGaps() {
  const opens = 20
  // Re-opening: y-indexeddb writes the doc's state on every open; this client writes nothing.
  const doc = new Y.Doc()
  const first = new IndexeddbPersistence('gap-y', doc)
  await first.whenSynced
  doc.getText('t').insert(0, 'content')
  await new Promise((r) => setTimeout(r, 50))
  await first.destroy()
  const countRows = (name: string) =>
    new Promise<number>((resolve, reject) => {
      const req = indexedDB.open(name)
      req.onsuccess = () => {
        const tx = req.result.transaction(['updates'], 'readonly')
        const c = tx.objectStore('updates').count()
        c.onsuccess = () => {
          req.result.close()
          resolve(c.result)
        }
      }
      req.onerror = () => reject(req.error)
    })
  const yBefore = await countRows('gap-y')
  for (let i = 0; i < opens; i++) {
    const p = new IndexeddbPersistence('gap-y', new Y.Doc())
    await p.whenSynced
    await new Promise((r) => setTimeout(r, 5))
    await p.destroy()
  }
  const yAfter = await countRows('gap-y')

  const idb = new IDBFactory()
  const opts = { relayUrl: 'http://localhost:1', getToken: () => '', indexedDB: idb, WebSocket }
  const c0 = createSyncClient(opts)
  const col = await (await c0.scratchPad()).createCollection({ id: 'g', name: 'g' })
  col.model.createRequest({ name: 'x' })
  await col.whenStored()
  await c0.close()
  const ourRows = async () => {
    const c = createSyncClient(opts)
    const rows = await new Promise<number>((resolve) => {
      const req = idb.open('apisync-scratch:scratch/collection/g')
      req.onsuccess = () => {
        const cnt = req.result.transaction(['updates'], 'readonly').objectStore('updates').count()
        cnt.onsuccess = () => {
          req.result.close()
          resolve(cnt.result)
        }
      }
    })
    await c.close()
    return rows
  }
  const oursBefore = await ourRows()
  for (let i = 0; i < opens; i++) {
    const c = createSyncClient(opts)
    await (await c.scratchPad()).collection('g')
    await c.close()
  }
  const oursAfter = await ourRows()
  console.log(`\n3. y-indexeddb's gaps, measured`)
  printTable(
    ['rows in the updates store', 'before', `after ${opens} opens`],
    [
      ['y-indexeddb 9.0.12', String(yBefore), String(yAfter)],
      ['@apisync/client', String(oursBefore), String(oursAfter)],
    ],
  )
  console.log('   y-indexeddb: a database per doc (kept: its layout is shared), no write-completion signal (this client')
  console.log('   awaits each write transaction and exposes whenStored()/status.stored), trims only past 500 rows.')
}

// ----------------------------------------------------------------------------------- 4. tabs of one device

async function crossTab() {
  if (!existsSync(chromiumPath)) return console.log(`\n4. cross-tab propagation: skipped (${chromiumPath} not found)`)
  const { build } = await import('esbuild')
  const { chromium } = await import('playwright-core')
  const here = (p: string) => fileURLToPath(new URL(p, import.meta.url))
  const page = `
    import { createSyncClient } from ${JSON.stringify(here('../packages/client/src/index.ts'))}
    const now = () => performance.timeOrigin + performance.now()
    let col
    window.openCol = async (create) => {
      const client = createSyncClient({ relayUrl: 'http://localhost:1', getToken: () => '' })
      const ws = await client.scratchPad()
      col = create ? await ws.createCollection({ id: 'bench', name: 'bench' }) : await ws.collection('bench')
      await col.whenStored()
    }
    // Latency per edit, measured where it arrives (one clock: performance.timeOrigin is shared by the tabs).
    window.listen = (n) => new Promise((resolve) => {
      const map = col.doc.getMap('bench')
      const latencies = []
      map.observe((e) => {
        const t = now()
        for (const k of e.keysChanged) latencies.push(t - map.get(k))
        if (latencies.length >= n) resolve(latencies)
      })
    })
    window.burst = (n) => {
      const map = col.doc.getMap('bench')
      for (let i = 0; i < n; i++) col.doc.transact(() => map.set('k' + i + ':' + Math.random(), now()))
    }
    // The floor: the same burst on a bare BroadcastChannel.
    window.bareListen = (n) => new Promise((resolve) => {
      const ch = new BroadcastChannel('bare')
      const latencies = []
      ch.onmessage = (e) => {
        latencies.push(now() - e.data)
        if (latencies.length >= n) { ch.close(); resolve(latencies) }
      }
    })
    window.bareBurst = (n) => {
      const ch = new BroadcastChannel('bare')
      for (let i = 0; i < n; i++) ch.postMessage(now())
      ch.close()
    }
  `
  const bundle = await build({ stdin: { contents: page, loader: 'ts', resolveDir: here('.') }, bundle: true, format: 'esm', platform: 'browser', target: 'es2022', write: false, alias: { '@apisync/model': here('../packages/model/src/index.ts') }, logLevel: 'silent' })
  const js = bundle.outputFiles[0]!.text
  const server = createServer((req, res) => {
    if (req.url === '/page.js') res.writeHead(200, { 'content-type': 'text/javascript' }).end(js)
    else res.writeHead(200, { 'content-type': 'text/html' }).end('<!doctype html><script type="module" src="/page.js"></script>')
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  const url = `http://localhost:${(server.address() as { port: number }).port}/`
  const browser = await chromium.launch({ executablePath: chromiumPath, args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-renderer-backgrounding', '--disable-background-timer-throttling'] })
  type W = { openCol(create: boolean): Promise<void>; listen(n: number): Promise<number[]>; burst(n: number): void; bareListen(n: number): Promise<number[]>; bareBurst(n: number): void }
  try {
    const context = await browser.newContext()
    const [a, b] = [await context.newPage(), await context.newPage()]
    for (const p of [a, b]) {
      await p.goto(url)
      await p.waitForFunction(() => 'openCol' in window)
    }
    await a.evaluate(() => (window as unknown as W).openCol(true))
    await b.evaluate(() => (window as unknown as W).openCol(false))
    const rows: string[][] = []
    const ours: number[] = []
    const bare: number[] = []
    for (let run = 0; run < config.repeats; run++) {
      const arriving = b.evaluate((n) => (window as unknown as W).listen(n), config.burst)
      await a.evaluate((n) => (window as unknown as W).burst(n), config.burst)
      ours.push(...(await arriving))
      const bareArriving = b.evaluate((n) => (window as unknown as W).bareListen(n), config.burst)
      await new Promise((r) => setTimeout(r, 50))
      await a.evaluate((n) => (window as unknown as W).bareBurst(n), config.burst)
      bare.push(...(await bareArriving))
    }
    const line = (name: string, xs: number[]) => {
      const st = summarize(xs)
      return [name, fmt.ms(st.p50), fmt.ms(st.p99), fmt.ms(st.max)]
    }
    rows.push(line('@apisync/client: an edit in one tab, applied in the other', ours))
    rows.push(line('bare BroadcastChannel, same burst (floor)', bare))
    console.log(`\n4. cross-tab propagation, Chromium, two tabs of one profile: a burst of ${config.burst} edits (×${config.repeats})`)
    printTable(['path', 'p50', 'p99', 'max'], rows)
    console.log('   an edit = one Yjs transaction in tab A (stored there, posted on the account\'s BroadcastChannel); measured when tab B\'s')
    console.log('   doc has it. In a burst every edit waits behind the ones before it: p99 is the burst\'s tail, not one edit\'s cost.')
  } finally {
    await browser.close()
    server.close()
  }
}

// ----------------------------------------------------------------------------------- 5. big collection

async function bigCollection() {
  if (!existsSync(chromiumPath)) return console.log(`\n5. big collection in the demo: skipped (${chromiumPath} not found)`)
  const { site, device, signIn, FIXTURES } = await import('../test/web/helpers.js')
  const { measureBigCollection } = await import('../test/web/perf-measure.js')
  const web = await site()
  const d = await device(web.url, 'bench')
  try {
    await signIn(d, 'Bench', 'Laptop')
    await d.inState('in-sync')
    const f = await measureBigCollection(d, join(FIXTURES, 'SabreDevStudio__postman-collections__Booking_Management_API_v2026.04.postman_collection.json'))
    console.log(`\n5. the demo with the 1,077-request corpus collection fully expanded (${f.rows} tree rows, ${f.rowsBuilt} built), Chromium`)
    printTable(
      ['action', 'p50', 'p95', 'max', 'goal'],
      [
        ['keystroke in the URL field: work', fmt.ms(f.keystroke.p50), fmt.ms(f.keystroke.p95), fmt.ms(f.keystroke.max), '≤ 16 ms'],
        ['keystroke: to the next frame', fmt.ms(f.keystrokeFrame.p50), fmt.ms(f.keystrokeFrame.p95), fmt.ms(f.keystrokeFrame.max), ''],
        ['expanding a folder', fmt.ms(f.expand.p50), fmt.ms(f.expand.p95), fmt.ms(f.expand.max), '≤ 16 ms'],
        ['opening the collection', fmt.ms(f.open.p50), fmt.ms(f.open.p95), fmt.ms(f.open.max), '≤ 300 ms'],
        ['cold start to the tree on screen', fmt.ms(f.coldStart), '', '', ''],
      ],
    )
    console.log('   work = the input\'s handling (model write, storage and tabs scheduled) + the render it causes; "to the next frame"')
    console.log('   adds the wait for the frame (vsync). Cold start: reload until the expanded tree shows, data from IndexedDB.')
  } finally {
    await d.close()
    await web.close()
  }
}

await reconnect()
await coldOpen()
await yIndexeddbGaps()
await crossTab()
await bigCollection()
