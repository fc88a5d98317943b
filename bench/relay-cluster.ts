/**
 * Load test of several relays as one (issue #13): three relay processes (the CLI) on one Postgres and one
 * Redis behind a round-robin balancer on loopback, clients spread over docs writing steadily, one relay killed
 * with -9 halfway. At the end: every acked update must be in Postgres (0 lost), every doc identical on every
 * client and in Postgres, and the relays' memory flat after warm-up. Prints its figures; exits non-zero if an
 * acked update is lost or a doc diverges.
 *
 *   npm run bench (short: 15 s, 300 clients over 60 docs)        BENCH_CLUSTER_FULL=1: 60 s, 1,500 clients over 300 docs
 *
 * Sizes one by one: BENCH_CLUSTER_SECONDS, BENCH_CLUSTER_CLIENTS, BENCH_CLUSTER_DOCS, BENCH_CLUSTER_WRITE_MS
 * (each client writes once per this interval, jittered), BENCH_CLUSTER_KILL_AT (seconds). Needs PostgreSQL and
 * Redis (APISYNC_TEST_POSTGRES / APISYNC_TEST_REDIS, default the local ones); every request stays on loopback
 * and the run stops by itself.
 */
import { randomBytes } from 'node:crypto'
import { cpus, loadavg } from 'node:os'
import { monitorEventLoopDelay } from 'node:perf_hooks'
import v8 from 'node:v8'
import vm from 'node:vm'
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import pg from 'pg'
import * as Y from 'yjs'
import { signToken } from '@apisync/relay'
import { REDIS_URL, redisPrefix, services, testDatabase } from '../packages/relay/test/services.js'
import { BurstClient, balancer, relayCluster } from '../test/relay/cluster.js'
import { envInt } from './lib/env.js'
import * as fmt from './lib/format.js'
import { summarize } from './lib/stats.js'

const full = process.env.BENCH_CLUSTER_FULL === '1'
const config = {
  seconds: envInt('CLUSTER_SECONDS', full ? 60 : 15, { scaled: false }),
  clients: envInt('CLUSTER_CLIENTS', full ? 1500 : 300),
  docs: envInt('CLUSTER_DOCS', full ? 300 : 60),
  writeMs: envInt('CLUSTER_WRITE_MS', 4000, { scaled: false }),
  killAt: envInt('CLUSTER_KILL_AT', full ? 30 : 7, { scaled: false }),
  relays: 3,
}
const warmupSeconds = Math.min(10, Math.floor(config.killAt / 2))

/** CPU seconds (user + system) a process has used so far, from /proc. */
const cpuSeconds = (pid: number): number => {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ')
    return (Number(fields[11]) + Number(fields[12])) / 100
  } catch {
    return Number.NaN
  }
}

/** A counter's value and a histogram's approximate quantile from Prometheus text. */
const metric = (text: string, name: string): number => Number(new RegExp(`^${name} (\\S+)`, 'm').exec(text)?.[1] ?? Number.NaN)
const histogramQuantile = (text: string, name: string, q: number): number => {
  const buckets = [...text.matchAll(new RegExp(`^${name}_bucket\\{le="([^"]+)"\\} (\\d+)`, 'gm'))].map((m) => ({ le: Number(m[1]), n: Number(m[2]) }))
  const total = buckets.at(-1)?.n ?? 0
  if (total === 0) return Number.NaN
  return buckets.find((b) => b.n >= q * total)?.le ?? Number.NaN
}

/**
 * What the docs themselves take: heap per write of `docs` plain Y.Docs, each written by `writers` clients in
 * turn (one array push each, like the load), measured after full collections. The peer figure for the relays'
 * heap growth: a relay holds these docs, and should hold little else per write.
 */
const yjsBytesPerWrite = (docs: number, writers: number, writes: number): number => {
  v8.setFlagsFromString('--expose-gc')
  const gc = vm.runInNewContext('gc') as () => void
  const heap = () => {
    gc()
    gc()
    return process.memoryUsage().heapUsed
  }
  const targets = Array.from({ length: docs }, () => new Y.Doc())
  const sources = targets.map((doc) =>
    Array.from({ length: writers }, () => {
      const w = new Y.Doc()
      w.on('update', (u: Uint8Array, origin: unknown) => origin !== doc && Y.applyUpdate(doc, u, w))
      return w
    }),
  )
  targets.forEach((doc, d) => doc.on('update', (u: Uint8Array, origin: unknown) => sources[d].forEach((w) => w !== origin && Y.applyUpdate(w, u, doc))))
  let n = 0
  const write = (count: number) => {
    for (let i = 0; i < count; i++, n++) sources[n % docs][Math.floor(Math.random() * writers)].getArray<string>('log').push([`${n % (docs * writers)}:${n}`])
  }
  const size = () => {
    const before = heap()
    const copies = targets.map((doc) => {
      const copy = new Y.Doc()
      Y.applyUpdate(copy, Y.encodeStateAsUpdate(doc))
      return copy
    })
    const after = heap()
    if (copies.length !== docs) throw new Error('unreachable') // keeps the copies alive until measured
    return after - before
  }
  write(Math.floor(writes / 4))
  const first = size()
  write(writes - Math.floor(writes / 4))
  return (size() - first) / (writes - Math.floor(writes / 4))
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))
const now = () => performance.now()
const load = () => loadavg().map((l) => l.toFixed(1)).join(' ')

async function main(): Promise<void> {
  if (!(await services(['postgres', 'redis']))) {
    console.log('relay-cluster: SKIPPED (PostgreSQL and Redis are needed)')
    return
  }
  console.log(
    `relay cluster load test: ${config.relays} relays (Postgres + Redis), ${config.clients} clients over ${config.docs} docs, ` +
      `one write per client every ~${config.writeMs} ms, ${config.seconds} s, relay 2 killed (-9) at ${config.killAt} s; ` +
      `${cpus().length} CPUs, load ${load()} at the start`,
  )
  const db = await testDatabase()
  const secret = randomBytes(32).toString('base64url')
  // Each relay answers SIGUSR2 with its heap after a full collection (bench/lib/gc-probe.cjs).
  const probe = fileURLToPath(new URL('./lib/gc-probe.cjs', import.meta.url))
  const cluster = await relayCluster(config.relays, {
    postgres: db.url,
    redis: REDIS_URL,
    prefix: redisPrefix(),
    secret,
    extraArgs: ['--max-devices', '0'],
    env: { NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --require ${probe}`.trim() },
  })
  const lb = await balancer(() => cluster.relays.filter((r) => r !== null).map((r) => r!.port))
  const clients: { doc: string; client: BurstClient }[] = []
  let failed = false
  try {
    // Connect, 100 at a time.
    const t0 = now()
    const tokens = await Promise.all(
      Array.from({ length: config.clients }, (_, i) => signToken({ sub: `load-${i}`, sid: `load-${i}`, ws: { w1: 'editor' } }, { secret }, { expiresIn: '1h' })),
    )
    for (let i = 0; i < config.clients; i += 100) {
      const batch = tokens.slice(i, i + 100).map((t, k) => {
        // Consecutive clients share a doc; the balancer sends consecutive connections to different relays,
        // so each doc has clients on every relay (cross-relay fan-out for every write).
        const perDoc = Math.max(1, Math.floor(config.clients / config.docs))
        const doc = `w1/collection/load-${Math.floor((i + k) / perDoc) % config.docs}`
        const client = new BurstClient(() => `${lb.wsUrl}/sync/${doc}?token=${t}&ack=1`, 100 + Math.random() * 200)
        clients.push({ doc, client })
        return client.firstSync
      })
      await Promise.all(batch)
    }
    console.log(`connected ${clients.length} clients in ${fmt.ms(now() - t0)}`)

    // Steady writes; memory samples every 5 s; the kill halfway.
    const rss: { t: number; relays: (number | null)[] }[] = []
    const pids = cluster.relays.map((r) => r!.child.pid!)
    const cpuAtStart = pids.map(cpuSeconds)
    const afterGc: { t: number; relays: (number | null)[]; writes: number }[] = []
    const heapAfterGc = async (i: number): Promise<number | null> => {
      const r = cluster.relays[i]
      if (!r) return null
      const seen = r.stdout.length
      r.child.kill('SIGUSR2')
      const deadline = now() + 5_000
      while (now() < deadline) {
        for (const line of r.stdout.slice(seen)) if (line.includes('bench.heap-after-gc')) return (JSON.parse(line) as { heapUsed: number }).heapUsed
        await sleep(20)
      }
      return null
    }
    const sample = async (t: number) => {
      const relays = await Promise.all(
        cluster.relays.map(async (r) => {
          if (!r) return null
          try {
            const text = await (await fetch(`${r.url}/metrics`)).text()
            return Number(/^process_resident_memory_bytes (\d+)/m.exec(text)?.[1] ?? Number.NaN)
          } catch {
            return null
          }
        }),
      )
      rss.push({ t, relays })
      const writesNow = writes
      afterGc.push({ t, relays: await Promise.all(cluster.relays.map((_, i) => heapAfterGc(i))), writes: writesNow })
    }
    const loopDelay = monitorEventLoopDelay({ resolution: 10 })
    loopDelay.enable()
    let writes = 0
    let ackedBeforeKill = 0
    let killedAt = 0
    const start = now()
    const timers = clients.map(({ client }, n) => {
      let i = 0
      const tick = () => {
        if (now() - start >= config.seconds * 1000) return
        client.write(`${n}:${i++}`)
        writes++
        timer = setTimeout(tick, config.writeMs * (0.5 + Math.random()))
      }
      let timer = setTimeout(tick, Math.random() * config.writeMs)
      return () => clearTimeout(timer)
    })
    await sample(0)
    for (let s = 5; s <= config.seconds; s += 5) {
      const killNow = killedAt === 0 && s > config.killAt
      if (killNow) {
        await sleep(Math.max(0, start + config.killAt * 1000 - now()))
        ackedBeforeKill = clients.reduce((n, { client }) => n + client.ackedIds.size, 0)
        killedAt = now() - start
        await cluster.kill(1)
        console.log(`killed relay 2 at ${(killedAt / 1000).toFixed(1)} s (${ackedBeforeKill} updates acked so far)`)
      }
      await sleep(Math.max(0, start + s * 1000 - now()))
      await sample(s)
    }
    const ackedAtKill = new Map(clients.map(({ client }) => [client, new Set(client.ackedIds)]))
    await sleep(Math.max(0, start + config.seconds * 1000 - now()))
    for (const stop of timers) stop()
    const writeEnd = now()

    // Everything acked, then converged.
    const deadline = writeEnd + 90_000
    while (!clients.every(({ client }) => client.allAcked) && now() < deadline) await sleep(100)
    const allAckedMs = now() - writeEnd
    const acked = clients.reduce((n, { client }) => n + client.ackedIds.size, 0)
    const byDoc = new Map<string, BurstClient[]>()
    for (const { doc, client } of clients) byDoc.set(doc, [...(byDoc.get(doc) ?? []), client])
    const expected = new Map([...byDoc].map(([doc, cs]) => [doc, cs.flatMap((c) => [...c.ackedIds]).sort()]))
    const sorted = (c: BurstClient) => c.ids().slice().sort()
    const converged = () => [...byDoc].every(([doc, cs]) => cs.every((c) => c.doc.getArray('log').length === expected.get(doc)!.length))
    while (!converged() && now() < deadline) await sleep(100)
    const convergedMs = now() - writeEnd

    // Postgres, read over a connection of our own: every acked update is there; every client equals it.
    const client = new pg.Client({ connectionString: db.url })
    await client.connect()
    let lost = 0
    let lostBeforeKill = 0
    let diverged = 0
    for (const [doc, cs] of byDoc) {
      const stored = new Y.Doc()
      const snap = await client.query('SELECT snapshot FROM apisync_docs WHERE doc = $1 AND snapshot IS NOT NULL', [doc])
      if (snap.rows[0]) Y.applyUpdate(stored, snap.rows[0].snapshot)
      for (const row of (await client.query('SELECT data FROM apisync_updates WHERE doc = $1 ORDER BY seq', [doc])).rows) Y.applyUpdate(stored, row.data)
      const storedIds = new Set(stored.getArray<string>('log').toArray())
      for (const c of cs) {
        for (const id of c.ackedIds) if (!storedIds.has(id)) lost++
        for (const id of ackedAtKill.get(c)!) if (!storedIds.has(id)) lostBeforeKill++
      }
      const want = [...storedIds].sort().join(',')
      for (const c of cs) if (sorted(c).join(',') !== want) diverged++
    }
    await client.end()

    loopDelay.disable()
    const cpuUsed = pids.map((pid, i) => cpuSeconds(pid) - cpuAtStart[i])
    const relayMetrics = await Promise.all(
      cluster.relays.map(async (r) => (r ? await (await fetch(`${r.url}/metrics`)).text().catch(() => null) : null)),
    )
    const latencies = summarize(clients.flatMap(({ client }) => client.ackLatencies))
    const latencyOf = (from: number, to: number) =>
      summarize(clients.flatMap(({ client }) => client.ackLatencies.filter((_, i) => client.ackLatencyAt[i] >= start + from && client.ackLatencyAt[i] < start + to)))
    const beforeKillLatency = latencyOf(warmupSeconds * 1000, killedAt)
    const afterKillLatency = latencyOf(killedAt + 10_000, config.seconds * 1000)
    const reconnected = clients.filter(({ client }) => client.closes.length > 0).length
    console.log('')
    console.log(`writes: ${writes} in ${config.seconds} s (${fmt.rate(writes / config.seconds)}); acked: ${acked} (${ackedBeforeKill} before the kill)`)
    console.log(`acked updates missing from Postgres: ${lost} (of those acked before the kill: ${lostBeforeKill})`)
    console.log(`clients whose doc differs from Postgres at the end: ${diverged} of ${clients.length}`)
    console.log(`clients that lost their relay and reconnected to another: ${reconnected}`)
    console.log(`after the writes stopped: all acked in ${fmt.ms(allAckedMs)}, all converged in ${fmt.ms(convergedMs)}`)
    console.log(`ack latency (write → covering ack): p50 ${fmt.ms(latencies.p50)}, p99 ${fmt.ms(latencies.p99)}, max ${fmt.ms(latencies.max)}`)
    console.log(`  writes from warm-up end to the kill: p50 ${fmt.ms(beforeKillLatency.p50)}, p99 ${fmt.ms(beforeKillLatency.p99)}; from 10 s after the kill: p50 ${fmt.ms(afterKillLatency.p50)}, p99 ${fmt.ms(afterKillLatency.p99)}`)
    console.log(`event-loop delay of this (client) process: p50 ${fmt.ms(loopDelay.percentile(50) / 1e6)}, p99 ${fmt.ms(loopDelay.percentile(99) / 1e6)}, max ${fmt.ms(loopDelay.max / 1e6)}`)
    console.log(`relay CPU over the run (s): ${cpuUsed.map((c, i) => (cluster.relays[i] ? c.toFixed(1) : `${Number.isNaN(c) ? '-' : c.toFixed(1)} (killed)`)).join(', ')}`)
    relayMetrics.forEach((text, i) => {
      if (!text) return
      console.log(
        `relay ${i + 1}: commits ${metric(text, 'apisync_commits_total')}, updates committed ${metric(text, 'apisync_updates_committed_total')}, ` +
          `bus published ${metric(text, 'apisync_bus_published_total')}, received ${metric(text, 'apisync_bus_received_total')}, bus lag p50 ≤ ${histogramQuantile(text, 'apisync_bus_lag_seconds', 0.5) * 1000} ms / p99 ≤ ${histogramQuantile(text, 'apisync_bus_lag_seconds', 0.99) * 1000} ms, ` +
          `gap repairs ${metric(text, 'apisync_gap_repairs_total')}, ack latency p50 ≤ ${histogramQuantile(text, 'apisync_ack_latency_seconds', 0.5) * 1000} ms / p99 ≤ ${histogramQuantile(text, 'apisync_ack_latency_seconds', 0.99) * 1000} ms`,
      )
    })
    console.log('relay RSS (MB) every 5 s:')
    for (const { t, relays } of rss) console.log(`  ${String(t).padStart(3)} s  ${relays.map((r) => (r === null ? '   -  ' : (r / 2 ** 20).toFixed(1).padStart(6))).join('  ')}`)
    const at = (t: number) => rss.find((x) => x.t >= t)
    const warm = at(warmupSeconds)
    const beforeKill = [...rss].reverse().find((x) => x.t <= config.killAt)
    const settled = at(config.killAt + 10)
    const end = rss.at(-1)
    const growth = (a: typeof warm, b: typeof warm) =>
      a && b ? a.relays.map((r, i) => (r === null || b.relays[i] === null ? '-' : `${(((b.relays[i] as number) - r) / 2 ** 20).toFixed(1)} MB`)).join(', ') : '-'
    console.log(`RSS growth per relay, warm-up end (${warmupSeconds} s) → kill (${config.killAt} s): ${growth(warm, beforeKill)}`)
    console.log(`RSS growth per relay, 10 s after the kill → end (its clients moved in before): ${growth(settled, end)}`)
    console.log('relay heap after a full collection (MB) every 5 s:')
    for (const { t, relays } of afterGc) console.log(`  ${String(t).padStart(3)} s  ${relays.map((r) => (r === null ? '   -  ' : (r / 2 ** 20).toFixed(1).padStart(6))).join('  ')}`)
    const heapAt = (t: number) => afterGc.find((x) => x.t >= t)
    const heapGrowth = (a: typeof warm, b: typeof warm) =>
      a && b ? a.relays.map((r, i) => (r === null || b.relays[i] === null ? '-' : `${(((b.relays[i] as number) - r) / 2 ** 20).toFixed(1)} MB`)).join(', ') : '-'
    console.log(`heap growth per relay, warm-up end → kill: ${heapGrowth(heapAt(warmupSeconds), [...afterGc].reverse().find((x) => x.t <= config.killAt))}; 10 s after the kill → end: ${heapGrowth(heapAt(config.killAt + 10), afterGc.at(-1))}`)
    // Every relay holds every doc (each doc has clients on every relay), so each applies every write.
    const [from, to] = [heapAt(config.killAt + 10), afterGc.at(-1)]
    if (from && to && to.writes > from.writes) {
      const perWrite = from.relays
        .map((r, i) => (r === null || to.relays[i] === null ? null : ((to.relays[i] as number) - r) / (to.writes - from.writes)))
        .filter((x): x is number => x !== null)
      const yjs = yjsBytesPerWrite(config.docs, Math.max(1, Math.floor(config.clients / config.docs)), to.writes - from.writes)
      const mean = perWrite.reduce((a, b) => a + b, 0) / perWrite.length
      console.log(
        `heap growth per write after the kill: ${perWrite.map((x) => `${x.toFixed(0)} B`).join(', ')}; the docs alone (raw Yjs, same writes): ${yjs.toFixed(0)} B ` +
          `(relay / raw Yjs ${(mean / yjs).toFixed(2)}×: what grows is the docs' content)`,
      )
    }
    console.log(`load average at the end: ${load()}`)
    if (lost > 0 || diverged > 0 || !converged()) {
      failed = true
      console.log('FAILED: acked updates lost or docs diverged')
    }
  } finally {
    for (const { client } of clients) client.close()
    await lb.close()
    await cluster.stopAll()
    await db.drop()
  }
  if (failed) process.exitCode = 1
}

await main()
