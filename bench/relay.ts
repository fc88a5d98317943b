/**
 * The relay benchmark: the apisync relay against @y/websocket-server 0.1.1 and
 * @hocuspocus/server 4 on the same machine, workload and client code (issue #3, "Benchmark").
 *
 *   1. fan-out: 1 writer, R readers; N small updates paced at a fixed interval (latency from
 *      the writer's send to each reader's receipt), then N more sent at once (throughput);
 *   2. initial sync: C fresh clients of a D-request doc seeded through one client;
 *   3. memory per idle connection: K synced, idle connections, server heap and RSS delta;
 *   4. durable updates/s on the relay: pipelined updates with `&ack=1`, until the final ack;
 *   5. cross-relay (scale-out): three relays on one Postgres and one Redis against three Hocuspocus
 *      instances with @hocuspocus/extension-redis on the same Redis: a writer on the first, readers
 *      spread over the other two (the fan-out of 1. across processes), and durable updates/s of one
 *      relay committing to Postgres (needs PostgreSQL and Redis: APISYNC_TEST_POSTGRES / _REDIS).
 *
 * Each server runs in a child process of its own (bench/servers/*.ts); the clients run here.
 * Sizes scale with BENCH_SCALE (e.g. 0.1 for a smoke run) or one by one: BENCH_READERS, BENCH_UPDATES,
 * BENCH_FANOUT_INTERVAL_MS, BENCH_SYNC_CLIENTS, BENCH_DOC_REQUESTS, BENCH_IDLE_CONNECTIONS,
 * BENCH_DURABLE_UPDATES, BENCH_DURABLE_WRITERS, ... (see `config`);
 * BENCH_SERVERS=apisync,y-websocket limits the servers, BENCH_SCENARIOS=fan-out,durable the
 * scenarios (fan-out, initial-sync, idle-memory, durable, cross-relay).
 */
import { createHash, randomUUID } from 'node:crypto'
import { cpus, loadavg } from 'node:os'
import { performance } from 'node:perf_hooks'
import * as Y from 'yjs'
import { connect, openClient, relayToken, type SyncClient } from './lib/client.js'
import { envInt, envList } from './lib/env.js'
import * as fmt from './lib/format.js'
import { startServer, serverKinds, type ServerKind, type ServerProcess } from './lib/servers.js'
import { summarize, type Summary } from './lib/stats.js'
import { printTable } from './lib/table.js'
import { buildRequestsDoc, buildRequestsUpdates, requestCount } from './lib/workload.js'
import { REDIS_URL, redisPrefix, services, testDatabase } from '../packages/relay/test/services.js'

const config = {
  readers: envInt('READERS', 50),
  updates: envInt('UPDATES', 2000),
  intervalMs: envInt('FANOUT_INTERVAL_MS', 5, { scaled: false }),
  warmupUpdates: envInt('WARMUP_UPDATES', 200),
  syncClients: envInt('SYNC_CLIENTS', 50),
  docRequests: envInt('DOC_REQUESTS', 10_000),
  idleConnections: envInt('IDLE_CONNECTIONS', 1000),
  durableUpdates: envInt('DURABLE_UPDATES', 10_000),
  ackLatencyUpdates: envInt('ACK_LATENCY_UPDATES', 300),
  durableWriters: envInt('DURABLE_WRITERS', 10, { scaled: false }),
  timeoutMs: envInt('TIMEOUT_MS', 120_000, { scaled: false }),
}

const kinds = (envList('SERVERS') ?? serverKinds).map((k) => {
  if (!serverKinds.includes(k as ServerKind)) throw new Error(`unknown server ${k}; known: ${serverKinds.join(', ')}`)
  return k as ServerKind
})

const peers = kinds.filter((k) => k !== 'apisync')

const scenarioNames = ['fan-out', 'initial-sync', 'idle-memory', 'durable', 'cross-relay'] as const
const scenarios = (envList('SCENARIOS') ?? scenarioNames).map((s) => {
  if (!scenarioNames.includes(s as (typeof scenarioNames)[number])) throw new Error(`unknown scenario ${s}; known: ${scenarioNames.join(', ')}`)
  return s
})

// ---------------------------------------------------------------------------------------------
// helpers

const now = () => performance.now()
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))
const range = (n: number) => Array.from({ length: n }, (_, i) => i)

const newDocName = (what: string) => `${randomUUID()}/collection/${what}`

/** Sign the relay tokens for `ids` up front (empty for the peers), so signing stays out of timings. */
const tokensFor = async (server: ServerProcess, docName: string, ids: string[]): Promise<(string | undefined)[]> =>
  server.kind === 'apisync' ? Promise.all(ids.map((id) => relayToken(server, docName, id))) : ids.map(() => undefined)

/** Connect `ids.length` clients, `batch` at a time, each synced before the call returns. */
const connectMany = async (
  server: ServerProcess,
  docName: string,
  ids: string[],
  batch = 50,
): Promise<SyncClient[]> => {
  const tokens = await tokensFor(server, docName, ids)
  const clients: SyncClient[] = []
  for (let i = 0; i < ids.length; i += batch) {
    const slice = ids.slice(i, i + batch)
    clients.push(
      ...(await Promise.all(slice.map((id, j) => connect({ target: server, docName, id, token: tokens[i + j] })))),
    )
  }
  return clients
}

const closeAll = (clients: SyncClient[]) => Promise.all(clients.map((c) => c.close()))

const withTimeout = <T>(what: string | (() => string), promise: Promise<T>, ms = config.timeoutMs): Promise<T> => {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${typeof what === 'string' ? what : what()}: timed out after ${ms} ms`)), ms)
  })
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer))
}

const clientCpu = () => {
  const { user, system } = process.cpuUsage()
  return (user + system) / 1000
}

/** Make sure a seeded doc reached the server (and, on the relay, its storage). */
const settle = async (server: ServerProcess, client: SyncClient) => {
  await client.roundtrip()
  if (server.kind === 'apisync') await client.whenAcked()
}

// ---------------------------------------------------------------------------------------------
// 1. fan-out

interface FanoutResult {
  readonly paced: Summary
  readonly burst: Summary
  readonly burstMs: number
  readonly updatesPerSecond: number
  readonly deliveriesPerSecond: number
  readonly serverCpuUsPerUpdate: number
  readonly serverCpuUsPerBurstUpdate: number
  readonly clientCpuShare: number
}

/** One writer on `server`, the readers spread over `readerServers` (default: the same server). */
const fanout = async (server: ServerProcess, readerServers: ServerProcess[] = [server]): Promise<FanoutResult> => {
  const docName = newDocName('fanout')
  const readerIds = range(config.readers).map((i) => `reader-${i}`)
  const readers = (
    await Promise.all(readerServers.map((s, k) => connectMany(s, docName, readerIds.filter((_, i) => i % readerServers.length === k))))
  ).flat()
  const [writer] = await connectMany(server, docName, ['writer'])
  const servers = [...new Set([server, ...readerServers])]
  const cpuOf = async () => ({ ms: (await Promise.all(servers.map((x) => x.cpu()))).reduce((n, c) => n + c.ms, 0) })
  const { warmupUpdates: warmup, updates } = config
  const total = warmup + 2 * updates
  const sentAt = new Float64Array(total).fill(Number.NaN)
  const receivedAt = readers.map(() => new Float64Array(total).fill(Number.NaN))
  const counts = new Int32Array(readers.length)

  let want = 0
  let reached: (() => void) | undefined
  const check = () => {
    if (reached !== undefined && counts.every((c) => c >= want)) {
      const done = reached
      reached = undefined
      done()
    }
  }
  const allReceived = (n: number, what: string) => {
    want = n
    const p = new Promise<void>((resolve) => {
      reached = resolve
    })
    check()
    return withTimeout(() => `${server.kind} fan-out ${what} (a reader received ${Math.min(...counts)} of ${n})`, p)
  }
  readers.forEach((reader, k) => {
    reader.doc.getArray<number>('log').observe((event) => {
      for (const op of event.changes.delta) {
        if (op.insert === undefined) continue
        for (const seq of op.insert as number[]) receivedAt[k][seq] = reader.receiptTime
        counts[k] += (op.insert as number[]).length
      }
      check()
    })
  })
  const log = writer.doc.getArray<number>('log')
  const send = (seq: number) => {
    sentAt[seq] = now()
    log.push([seq])
  }
  const latencies = (from: number, to: number) => {
    const out: number[] = []
    for (const arrivals of receivedAt) for (let s = from; s < to; s++) out.push(arrivals[s] - sentAt[s])
    return summarize(out)
  }

  // Warm-up (JIT, buffers), paced like the measured phase.
  for (let s = 0; s < warmup; s++) {
    send(s)
    await sleep(config.intervalMs)
  }
  await allReceived(warmup, 'warm-up')

  const cpu0 = await cpuOf()
  const client0 = clientCpu()
  const pacedStart = now()
  for (let i = 0; i < updates; i++) {
    const due = pacedStart + i * config.intervalMs
    const wait = due - now()
    if (wait >= 1) await sleep(wait)
    send(warmup + i)
  }
  await allReceived(warmup + updates, 'paced')
  const clientShare = (clientCpu() - client0) / (now() - pacedStart)
  const cpuPaced = await cpuOf()

  const burstStart = now()
  for (let i = 0; i < updates; i++) send(warmup + updates + i)
  await allReceived(total, 'burst')
  const burstMs = now() - burstStart
  const cpu1 = await cpuOf()

  await closeAll([writer, ...readers])
  return {
    paced: latencies(warmup, warmup + updates),
    burst: latencies(warmup + updates, total),
    burstMs,
    updatesPerSecond: (updates / burstMs) * 1000,
    deliveriesPerSecond: ((updates * readers.length) / burstMs) * 1000,
    serverCpuUsPerUpdate: ((cpuPaced.ms - cpu0.ms) * 1000) / updates,
    serverCpuUsPerBurstUpdate: ((cpu1.ms - cpuPaced.ms) * 1000) / updates,
    clientCpuShare: clientShare,
  }
}

// ---------------------------------------------------------------------------------------------
// 2. initial sync

interface SyncResult {
  readonly allMs: number
  readonly perClient: Summary
  readonly payloadBytes: number
  readonly serverCpuMs: number
  readonly clientCpuMs: number
}

const initialSync = async (server: ServerProcess, seed: Uint8Array[]): Promise<SyncResult> => {
  const docName = newDocName('big')
  // The seed goes up as updates of 500 requests each (under any message size limit). The seeding
  // client stays connected, so that every server keeps the doc loaded (Hocuspocus unloads, and
  // without persistence forgets, a doc with no connection).
  const seeder = await connect({ target: server, docName, id: 'seeder', ack: server.kind === 'apisync' })
  for (const update of seed) Y.applyUpdate(seeder.doc, update)
  await withTimeout(`${server.kind} seeding`, settle(server, seeder))

  // One untimed client first, so that every server has served this doc once (JIT, caches).
  const [warm] = await connectMany(server, docName, ['sync-warmup'])
  if (requestCount(warm.doc) !== config.docRequests) throw new Error(`${server.kind}: warm-up client got ${requestCount(warm.doc)} requests`)
  await warm.close()

  const ids = range(config.syncClients).map((i) => `sync-${i}`)
  const tokens = await tokensFor(server, docName, ids)
  const cpu0 = await server.cpu()
  const client0 = clientCpu()
  const start = now()
  const clients = await Promise.all(
    ids.map((id, i) => openClient({ target: server, docName, id, token: tokens[i], apply: false })),
  )
  await withTimeout(`${server.kind} initial sync`, Promise.all(clients.map((c) => c.synced)))
  const allMs = Math.max(...clients.map((c) => c.syncedAt)) - start
  const clientCpuMs = clientCpu() - client0
  const cpu1 = await server.cpu()

  // Verify what each client received (untimed): every payload applies to the full doc.
  const verified = new Set<string>()
  let payloadBytes = 0
  for (const client of clients) {
    const hash = createHash('sha256')
    for (const update of client.received) hash.update(update)
    const key = hash.digest('hex')
    payloadBytes = Math.max(payloadBytes, client.received.reduce((n, u) => n + u.length, 0))
    if (verified.has(key)) continue
    const doc = new Y.Doc()
    for (const update of client.received) Y.applyUpdate(doc, update)
    if (requestCount(doc) !== config.docRequests) {
      throw new Error(`${server.kind}: a client synced ${requestCount(doc)} of ${config.docRequests} requests`)
    }
    verified.add(key)
  }
  await closeAll([...clients, seeder])
  return {
    allMs,
    perClient: summarize(clients.map((c) => c.syncedAt - start)),
    payloadBytes,
    serverCpuMs: cpu1.ms - cpu0.ms,
    clientCpuMs,
  }
}

// ---------------------------------------------------------------------------------------------
// 3. memory per idle connection

interface IdleResult {
  readonly heapPerConnection: number
  readonly rssPerConnection: number
}

const idleMemory = async (server: ServerProcess): Promise<IdleResult> => {
  const docName = newDocName('idle')
  const seedDoc = buildRequestsDoc(20)
  const seeder = await connect({ target: server, docName, id: 'idle-seeder', doc: seedDoc, ack: server.kind === 'apisync' })
  await settle(server, seeder)
  // Warm the connection path (and let the server grow its pools) before the baseline.
  await closeAll(await connectMany(server, docName, range(50).map((i) => `idle-warmup-${i}`)))
  await sleep(300)
  const before = await server.memory()
  const clients = await connectMany(server, docName, range(config.idleConnections).map((i) => `idle-${i}`), 100)
  await sleep(1000)
  const after = await server.memory()
  const open = clients.filter((c) => c.ws.readyState === c.ws.OPEN).length
  if (open !== clients.length) throw new Error(`${server.kind}: only ${open} of ${clients.length} idle connections stayed open`)
  await closeAll([...clients, seeder])
  const n = clients.length
  return {
    heapPerConnection: (after.heapUsed + after.external - before.heapUsed - before.external) / n,
    rssPerConnection: (after.rss - before.rss) / n,
  }
}

// ---------------------------------------------------------------------------------------------
// 4. durable updates per second (the relay), and the same pipelined workload on the peers,
//    confirmed by a sync round trip: in memory, not durable.

interface DurableResult {
  readonly updatesPerSecond: number
  readonly manyWritersPerSecond: number
  readonly ackLatency?: Summary
}

const durable = async (server: ServerProcess): Promise<DurableResult> => {
  const relay = server.kind === 'apisync'
  const workspace = randomUUID()
  const open = (i: number) =>
    connect({ target: server, docName: `${workspace}/collection/durable-${i}`, id: `durable-writer-${i}`, ack: relay })
  const confirmed = (writer: SyncClient) =>
    withTimeout(`${server.kind} durable`, relay ? writer.whenAcked() : writer.roundtrip())
  const push = (writer: SyncClient, count: number) => {
    const log = writer.doc.getArray<number>('log')
    for (let i = 0; i < count; i++) log.push([i])
  }

  const writer = await open(0)
  push(writer, 200) // warm-up
  await confirmed(writer)

  let start = now()
  push(writer, config.durableUpdates)
  await confirmed(writer)
  const updatesPerSecond = (config.durableUpdates / (now() - start)) * 1000

  let ackLatency: Summary | undefined
  if (relay) {
    const samples: number[] = []
    for (let i = 0; i < config.ackLatencyUpdates; i++) {
      const t = now()
      push(writer, 1)
      await confirmed(writer)
      samples.push(now() - t)
    }
    ackLatency = summarize(samples)
  }

  // Several writers, each on a doc of its own, at once: what group commit is for.
  const writers = [writer, ...(await Promise.all(range(config.durableWriters - 1).map((i) => open(i + 1))))]
  const each = Math.ceil(config.durableUpdates / writers.length)
  start = now()
  for (const w of writers) push(w, each)
  await Promise.all(writers.map(confirmed))
  const manyWritersPerSecond = ((each * writers.length) / (now() - start)) * 1000

  await closeAll(writers)
  return { updatesPerSecond, manyWritersPerSecond, ackLatency }
}

// ---------------------------------------------------------------------------------------------
// 5. cross-relay: three processes of a kind on one Redis (the relays also on one Postgres)

type ClusterKind = 'apisync' | 'hocuspocus'

interface CrossResult {
  fanout?: FanoutResult
  /** One relay committing to Postgres (apisync only). */
  durable?: DurableResult
}

/** Three servers of `kind` sharing Redis (and, for the relay, a fresh Postgres database); `run` gets them. */
const withCluster = async <T>(kind: ClusterKind, run: (servers: ServerProcess[]) => Promise<T>): Promise<T> => {
  const prefix = redisPrefix()
  const db = kind === 'apisync' ? await testDatabase() : null
  const env: NodeJS.ProcessEnv =
    kind === 'apisync'
      ? { BENCH_RELAY_STORE: db!.url, BENCH_RELAY_REDIS: REDIS_URL, BENCH_RELAY_PREFIX: prefix, BENCH_RELAY_SECRET: randomUUID() }
      : { BENCH_HOCUSPOCUS_REDIS: REDIS_URL, BENCH_HOCUSPOCUS_PREFIX: prefix.replace(/:$/, '') }
  const servers: ServerProcess[] = []
  try {
    // One at a time: the first relay migrates the schema (the others would wait for its lock anyway).
    for (let i = 0; i < 3; i++) servers.push(await startServer(kind, env))
    return await run(servers)
  } finally {
    await Promise.all(servers.map((x) => x.close()))
    await db?.drop()
  }
}

const crossRelay = async (kind: ClusterKind, errors: string[]): Promise<CrossResult> => {
  const result: CrossResult = {}
  const t = now()
  try {
    result.fanout = await withCluster(kind, ([a, b, c]) => fanout(a, [b, c]))
    process.stderr.write(`  ${kind.padEnd(12)} ${'cross fan-out'.padEnd(14)} ${fmt.ms(now() - t)}\n`)
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error)
    errors.push(`cross-relay fan-out: ${message}`)
    process.stderr.write(`  ${kind.padEnd(12)} ${'cross fan-out'.padEnd(14)} FAILED: ${message.split('\n')[0]}\n`)
  }
  if (kind === 'apisync') {
    const t2 = now()
    try {
      // Durable on Postgres: one relay of the cluster takes the writers (what one relay can commit).
      result.durable = await withCluster(kind, ([a]) => durable(a))
      process.stderr.write(`  ${kind.padEnd(12)} ${'pg durable'.padEnd(14)} ${fmt.ms(now() - t2)}\n`)
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error)
      errors.push(`durable on Postgres: ${message}`)
      process.stderr.write(`  ${kind.padEnd(12)} ${'pg durable'.padEnd(14)} FAILED: ${message.split('\n')[0]}\n`)
    }
  }
  return result
}

const reportCross = (cross: Map<ClusterKind, CrossResult>) => {
  const a = cross.get('apisync')
  const h = cross.get('hocuspocus')
  const ratio = (x: number | undefined, y: number | undefined) => (x === undefined || y === undefined ? undefined : x / y)
  const met = (r: number | undefined, goal: number) => (r === undefined ? 'n/a' : r <= goal ? 'met' : 'NOT MET')
  const rows: string[][] = []
  const add = (label: string, x: number | undefined, y: number | undefined, format: (v: number | undefined) => string, goal?: number) => {
    const r = ratio(x, y)
    rows.push([label, format(x), format(y), fmt.ratio(r), goal === undefined ? '' : `≤ ${goal.toFixed(1)}×`, goal === undefined ? '' : met(r, goal)])
  }
  add(`cross-relay fan-out p50 (paced, ${config.intervalMs} ms apart)`, a?.fanout?.paced.p50, h?.fanout?.paced.p50, fmt.ms, 1)
  add('cross-relay fan-out p99 (paced)', a?.fanout?.paced.p99, h?.fanout?.paced.p99, fmt.ms, 1)
  add(`cross-relay burst: ${config.updates} updates delivered to all`, a?.fanout?.burstMs, h?.fanout?.burstMs, fmt.ms)
  add('cross-relay burst throughput (deliveries)', a?.fanout?.deliveriesPerSecond, h?.fanout?.deliveriesPerSecond, (x) => fmt.rate(x))
  add('cross-relay server CPU per update, 3 processes (paced)', a?.fanout?.serverCpuUsPerUpdate, h?.fanout?.serverCpuUsPerUpdate, (x) => (x === undefined ? '-' : `${x.toFixed(0)} µs`))
  const durablePg = a?.durable?.manyWritersPerSecond
  rows.push([`durable updates/s on Postgres, ${config.durableWriters} writers`, fmt.rate(durablePg), '-', '', '≥ 5,000/s', durablePg === undefined ? 'n/a' : durablePg >= 5000 ? 'met' : 'NOT MET'])
  rows.push(['durable updates/s on Postgres, 1 writer (pipelined)', fmt.rate(a?.durable?.updatesPerSecond), '-', '', '', ''])
  rows.push(['durable ack latency on Postgres p50 / p99', a?.durable?.ackLatency ? `${fmt.ms(a.durable.ackLatency.p50)} / ${fmt.ms(a.durable.ackLatency.p99)}` : '-', '-', '', '', ''])
  console.log('')
  printTable(['scale-out (3 processes, one Redis)', 'apisync (Postgres + Redis)', 'hocuspocus + extension-redis', 'apisync / hocuspocus', 'goal', 'met'], rows)
  console.log(`
- apisync: three relays on one Postgres (a fresh database) and one Redis; every update is committed to Postgres
  (one transaction per group commit) before it is published to the other relays. Hocuspocus: three instances
  with @hocuspocus/extension-redis 4.7 on the same Redis, no persistence. Writer on the first process, the
  ${config.readers} readers alternate between the other two; latency from the writer's send to a reader's receipt.`)
}

// ---------------------------------------------------------------------------------------------
// run

interface Results {
  fanout?: FanoutResult
  sync?: SyncResult
  idle?: IdleResult
  durable?: DurableResult
  errors: string[]
}

/** Run one scenario against a fresh server process, so that scenarios do not share state. */
const scenario = async <T>(kind: ServerKind, name: string, results: Results, run: (s: ServerProcess) => Promise<T>) => {
  const t = now()
  let server: ServerProcess | undefined
  try {
    server = await startServer(kind)
    const value = await run(server)
    process.stderr.write(`  ${kind.padEnd(12)} ${name.padEnd(14)} ${fmt.ms(now() - t)}\n`)
    return value
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error)
    results.errors.push(`${name}: ${message}`)
    process.stderr.write(`  ${kind.padEnd(12)} ${name.padEnd(14)} FAILED: ${message.split('\n')[0]}\n`)
    return undefined
  } finally {
    await server?.close()
  }
}

const loadAverage = () => loadavg().map((l) => l.toFixed(1)).join(' ')

const main = async () => {
  const started = now()
  const startLoad = loadAverage()
  console.log(`relay benchmark: ${kinds.join(', ')} on ${cpus().length}× ${cpus()[0]?.model ?? 'cpu'}, Node ${process.version}`)
  console.log(
    `sizes: fan-out ${config.updates} updates × ${config.readers} readers (paced every ${config.intervalMs} ms, then a burst); ` +
      `initial sync ${config.syncClients} clients × ${config.docRequests}-request doc; ` +
      `${config.idleConnections} idle connections; ${config.durableUpdates} durable updates`,
  )
  const t = now()
  const seed = scenarios.includes('initial-sync') ? buildRequestsUpdates(config.docRequests) : []
  const seedBytes = Y.mergeUpdates(seed).length
  process.stderr.write(`  built the ${config.docRequests}-request doc (${fmt.bytes(seedBytes)}) in ${fmt.ms(now() - t)}\n`)

  const results = new Map<ServerKind, Results>(kinds.map((k) => [k, { errors: [] }]))
  // Scenario by scenario, each server in turn: a comparison is made over a few seconds, so that
  // load from elsewhere on the machine hits the servers it compares alike.
  const each = async (run: (kind: ServerKind, r: Results) => Promise<void>) => {
    for (const kind of kinds) await run(kind, results.get(kind)!)
  }
  if (scenarios.includes('fan-out')) await each(async (k, r) => void (r.fanout = await scenario(k, 'fan-out', r, fanout)))
  if (scenarios.includes('initial-sync')) await each(async (k, r) => void (r.sync = await scenario(k, 'initial sync', r, (s) => initialSync(s, seed))))
  if (scenarios.includes('idle-memory')) await each(async (k, r) => void (r.idle = await scenario(k, 'idle memory', r, idleMemory)))
  if (scenarios.includes('durable')) await each(async (k, r) => void (r.durable = await scenario(k, 'durable', r, durable)))
  if (scenarios.some((x) => x !== 'cross-relay')) report(results, seedBytes)
  if (scenarios.includes('cross-relay')) {
    const clusterKinds = kinds.filter((k): k is ClusterKind => k === 'apisync' || k === 'hocuspocus')
    if (!(await services(['postgres', 'redis']))) console.log('\ncross-relay: SKIPPED (PostgreSQL and Redis are needed)')
    else if (clusterKinds.length > 0) {
      const cross = new Map<ClusterKind, CrossResult>()
      for (const kind of clusterKinds) cross.set(kind, await crossRelay(kind, results.get(kind)!.errors))
      reportCross(cross)
      for (const [kind, r] of results) for (const e of r.errors.filter((x) => x.startsWith('cross') || x.startsWith('durable on'))) console.log(`- ${kind} failed: ${e}`)
      if ([...results.values()].some((r) => r.errors.length > 0)) process.exitCode = 1
    }
  }
  console.log(`\n(run took ${fmt.ms(now() - started)}; load average ${loadAverage()} at the end, ${startLoad} at the start)`)
}

// ---------------------------------------------------------------------------------------------
// report

type Better = 'lower' | 'higher'

interface Row {
  readonly label: string
  readonly value: (r: Results) => number | undefined
  readonly format: (x: number | undefined) => string
  readonly better: Better
  /** the goal for apisync: a ratio to the best peer, or an absolute bound */
  readonly goal?: { ratio: number } | { max: number; text: string } | { min: number; text: string }
  /** the peers do not do what this row measures: no ratio */
  readonly apisyncOnly?: boolean
}

const report = (results: Map<ServerKind, Results>, seedBytes: number) => {
  const us = (x: number | undefined) => (x === undefined || Number.isNaN(x) ? '-' : `${x.toFixed(0)} µs`)
  const pct = (x: number | undefined) => (x === undefined || Number.isNaN(x) ? '-' : `${(x * 100).toFixed(0)}%`)
  const rows: Row[] = [
    { label: `fan-out latency p50 (paced, ${config.intervalMs} ms apart)`, value: (r) => r.fanout?.paced.p50, format: fmt.ms, better: 'lower', goal: { ratio: 1 } },
    { label: 'fan-out latency p99 (paced)', value: (r) => r.fanout?.paced.p99, format: fmt.ms, better: 'lower', goal: { ratio: 1 } },
    { label: `fan-out burst: ${config.updates} updates delivered to all`, value: (r) => r.fanout?.burstMs, format: fmt.ms, better: 'lower' },
    { label: 'fan-out burst throughput (updates)', value: (r) => r.fanout?.updatesPerSecond, format: (x) => fmt.rate(x), better: 'higher' },
    { label: 'fan-out burst throughput (deliveries)', value: (r) => r.fanout?.deliveriesPerSecond, format: (x) => fmt.rate(x), better: 'higher' },
    { label: 'fan-out burst latency p50', value: (r) => r.fanout?.burst.p50, format: fmt.ms, better: 'lower' },
    { label: 'fan-out burst latency p99', value: (r) => r.fanout?.burst.p99, format: fmt.ms, better: 'lower' },
    { label: 'fan-out server CPU per update (paced)', value: (r) => r.fanout?.serverCpuUsPerUpdate, format: us, better: 'lower' },
    { label: 'fan-out server CPU per update (burst)', value: (r) => r.fanout?.serverCpuUsPerBurstUpdate, format: us, better: 'lower' },
    { label: 'fan-out client-process CPU (paced)', value: (r) => r.fanout?.clientCpuShare, format: pct, better: 'lower' },
    { label: `initial sync: all ${config.syncClients} clients synced`, value: (r) => r.sync?.allMs, format: fmt.ms, better: 'lower', goal: { ratio: 1 } },
    { label: 'initial sync per client p50', value: (r) => r.sync?.perClient.p50, format: fmt.ms, better: 'lower' },
    { label: 'initial sync per client p99', value: (r) => r.sync?.perClient.p99, format: fmt.ms, better: 'lower' },
    { label: 'initial sync bytes per client', value: (r) => r.sync?.payloadBytes, format: fmt.bytes, better: 'lower' },
    { label: 'initial sync server CPU', value: (r) => r.sync?.serverCpuMs, format: fmt.ms, better: 'lower' },
    { label: 'initial sync client-process CPU', value: (r) => r.sync?.clientCpuMs, format: fmt.ms, better: 'lower' },
    { label: `idle connection: heap+external each (${config.idleConnections})`, value: (r) => r.idle?.heapPerConnection, format: fmt.bytes, better: 'lower', goal: { max: 8192, text: '≤ 8 KB' } },
    { label: 'idle connection: RSS each', value: (r) => r.idle?.rssPerConnection, format: fmt.bytes, better: 'lower', goal: { max: 8192, text: '≤ 8 KB' } },
    { label: 'durable updates/s (ack=1, pipelined)', value: (r) => (r === results.get('apisync') ? r.durable?.updatesPerSecond : undefined), format: (x) => fmt.rate(x), better: 'higher', goal: { min: 5000, text: '≥ 5,000/s' }, apisyncOnly: true },
    { label: `durable updates/s, ${config.durableWriters} writers on own docs`, value: (r) => (r === results.get('apisync') ? r.durable?.manyWritersPerSecond : undefined), format: (x) => fmt.rate(x), better: 'higher', apisyncOnly: true },
    { label: 'durable ack latency p50 (one at a time)', value: (r) => r.durable?.ackLatency?.p50, format: fmt.ms, better: 'lower', apisyncOnly: true },
    { label: 'durable ack latency p99 (one at a time)', value: (r) => r.durable?.ackLatency?.p99, format: fmt.ms, better: 'lower', apisyncOnly: true },
    { label: 'pipelined updates/s, confirmed (peers: in memory)', value: (r) => r.durable?.updatesPerSecond, format: (x) => fmt.rate(x), better: 'higher' },
    { label: `  same, ${config.durableWriters} writers on own docs`, value: (r) => r.durable?.manyWritersPerSecond, format: (x) => fmt.rate(x), better: 'higher' },
  ]

  const header = ['', ...kinds, 'apisync / best peer', 'goal', 'met']
  const apisync = results.get('apisync')
  const table = rows.map((row) => {
    const cells = kinds.map((k) => row.format(row.value(results.get(k)!)))
    const mine = apisync ? row.value(apisync) : undefined
    const peerValues = peers.map((k) => row.value(results.get(k)!)).filter((x): x is number => x !== undefined && !Number.isNaN(x))
    const best = peerValues.length === 0 ? undefined : row.better === 'lower' ? Math.min(...peerValues) : Math.max(...peerValues)
    const r = mine !== undefined && best !== undefined && !row.apisyncOnly ? mine / best : undefined
    let goal = ''
    let met = ''
    if (row.goal !== undefined) {
      if ('ratio' in row.goal) {
        goal = `≤ ${row.goal.ratio.toFixed(1)}× best peer`
        met = r === undefined ? 'n/a' : r <= row.goal.ratio ? 'met' : 'NOT MET'
      } else if ('max' in row.goal) {
        goal = row.goal.text
        met = mine === undefined ? 'n/a' : mine <= row.goal.max ? 'met' : 'NOT MET'
      } else {
        goal = row.goal.text
        met = mine === undefined ? 'n/a' : mine >= row.goal.min ? 'met' : 'NOT MET'
      }
    }
    return [row.label, ...cells, fmt.ratio(r), goal, met]
  })
  console.log('')
  printTable(header, table)
  console.log(`
Notes:
- Same client code for every server (bench/lib/client.ts: y-protocols sync, Hocuspocus framing for Hocuspocus),
  clients in this process, each server alone in a child process (${cpus().length} CPUs shared by both).
- The apisync relay commits every update to SQLite (WAL); @y/websocket-server (no YPERSISTENCE) and
  @hocuspocus/server (no extensions) keep documents in memory only and persist nothing: their
  "pipelined updates/s, confirmed" is an in-memory apply rate (confirmed by a sync round trip), not durable.
- Latency: writer's send to a reader's receipt of the frame (same clock). Burst: ${config.updates} updates sent at
  once, timed until every reader has all of them; "updates" = updates/s, "deliveries" = updates × readers /s.
- Initial sync: ${config.syncClients} fresh clients connect at once to a ${config.docRequests}-request doc (${fmt.bytes(seedBytes)} as one update, seeded as updates of 500 requests),
  held in memory by a connected seeding client; "synced" = the server's full sync step 2 received (each payload
  is applied afterwards, untimed, and checked to hold all ${config.docRequests} requests).
- Idle memory: server-process delta (after forced GC) from ${config.idleConnections} synced, idle connections to one small doc,
  over a warmed-up baseline. The 8 KB goal is judged on both heap+external and RSS.`)
  for (const [kind, r] of results) for (const e of r.errors) console.log(`- ${kind} failed: ${e}`)
  if ([...results.values()].some((r) => r.errors.length > 0)) process.exitCode = 1
}

await main()
