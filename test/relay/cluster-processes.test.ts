/**
 * Three relay processes (the CLI, real child processes, each on its own port) sharing one Postgres and one
 * Redis, behind a round-robin TCP balancer: stock y-websocket providers and @apisync/client devices spread over
 * them converge; acks mean committed in Postgres; the device limit holds with five devices on three relays at
 * once; a revocation on relay A closes the socket on relay C; kill -9 of a relay mid-burst, a Redis restart
 * mid-burst and a Postgres restart lose nothing acked. Redis and Postgres are restarted as private servers of
 * this test's own (the shared ones serve other tests).
 */
import { signToken } from '@apisync/relay'
import WebSocket from 'ws'
import { WebsocketProvider } from 'y-websocket'
import * as Y from 'yjs'
import { afterEach, describe, expect, it } from 'vitest'
import { RawClient, eventually, readPostgresDoc, sleep } from '../../packages/relay/test/helpers.js'
import { REDIS_URL, postgresBinaries, privatePostgres, privateRedis, redisPrefix, services, testDatabase } from '../../packages/relay/test/services.js'
import { SECRET, device } from '../client/helpers.js'
import { BurstClient, balancer, relayCluster, type RelayCluster } from './cluster.js'

const ready = await services(['postgres', 'redis'])

const teardown: (() => Promise<void> | void)[] = []
afterEach(async () => {
  for (const t of teardown.splice(0).reverse()) await t()
})

const token = (sub: string, sid: string, ws: Record<string, 'owner' | 'editor' | 'viewer'> = { w1: 'owner' }, name?: string) =>
  signToken({ sub, sid, ws, ...(name ? { name } : {}) }, { secret: SECRET }, { expiresIn: '1h' })

async function threeRelays(options: { postgres?: string; redis?: string | null; extraArgs?: string[] } = {}) {
  let postgres = options.postgres
  if (!postgres) {
    const db = await testDatabase()
    teardown.push(() => db.drop())
    postgres = db.url
  }
  const cluster = await relayCluster(3, { postgres, redis: options.redis === undefined ? REDIS_URL : options.redis, prefix: redisPrefix(), secret: SECRET, extraArgs: options.extraArgs })
  teardown.push(() => cluster.stopAll())
  const lb = await balancer(() => cluster.relays.filter((r) => r !== null).map((r) => r!.port))
  teardown.push(() => lb.close())
  return { cluster, lb, postgres }
}

const log = (doc: Y.Doc) => doc.getArray<string>('log').toArray().slice().sort()

/** Burst writers on a few docs through the balancer; `during` runs mid-burst. */
async function burst(lbWsUrl: string, docs: string[], perDoc: number, writes: number, during: () => Promise<void>) {
  const clients: { doc: string; client: BurstClient }[] = []
  for (const doc of docs) {
    for (let k = 0; k < perDoc; k++) {
      const t = await token(`acct-${doc}-${k}`, `sid-${doc}-${k}`, { w1: 'editor' })
      clients.push({ doc, client: new BurstClient(() => `${lbWsUrl}/sync/w1/${doc}?token=${t}&ack=1`, 50) })
    }
  }
  teardown.push(() => clients.forEach(({ client }) => client.close()))
  let midDone: Promise<void> | null = null
  for (let i = 0; i < writes; i++) {
    for (const [n, { client }] of clients.entries()) client.write(`${n}:${i}`)
    if (i === Math.floor(writes / 3)) midDone = during()
    await sleep(5)
  }
  await midDone
  const ackedDuringBurst = new Map(clients.map(({ client }) => [client, new Set(client.ackedIds)]))
  return { clients, ackedDuringBurst }
}

describe.skipIf(!ready)('three relay processes on one Postgres and one Redis', () => {
  it('stock y-websocket providers and @apisync/client devices spread over the three converge; acks mean committed', async () => {
    const { cluster, lb, postgres } = await threeRelays()
    const relayUrl = (i: number) => cluster.relays[i]!.url
    // Stock providers, one per relay.
    const providers = await Promise.all(
      [0, 1, 2].map(async (i) => {
        const doc = new Y.Doc()
        const provider = new WebsocketProvider(`${cluster.relays[i]!.wsUrl}/sync`, 'w1/collection/shared', doc, {
          params: { token: await token(`stock-${i}`, `stock-${i}`) },
          WebSocketPolyfill: WebSocket as unknown as typeof globalThis.WebSocket,
          disableBc: true,
        })
        teardown.push(() => {
          provider.destroy()
          doc.destroy()
        })
        return { doc, provider }
      }),
    )
    await eventually(() => providers.every((p) => p.provider.synced), 15_000, 'providers synced')
    providers.forEach(({ doc }, i) => doc.getMap<string>('requests').set(`r${i}`, `GET /from-relay-${i}`))
    await eventually(() => providers.every(({ doc }) => doc.getMap('requests').size === 3), 15_000, 'providers converge')

    // @apisync/client devices of one account, each on another relay: a workspace made on relay 0 is renamed on 1, read on 2.
    const devices = [0, 1, 2].map((i) => device({ relayUrl: relayUrl(i), sub: 'alice', sid: `alice-${i}`, ws: { w2: 'owner' } }))
    teardown.push(...devices.map((d) => () => d.close()))
    const w0 = await (await devices[0].signIn()).createWorkspace('w2', { name: 'Team' })
    await w0.manifest.whenInSync()
    const w1 = await (await devices[1].signIn()).openWorkspace('w2')
    await eventually(() => w1.manifest.model.snapshot().name === 'Team', 15_000, 'device 1 sees the workspace')
    w1.manifest.model.update({ name: 'Team, renamed on relay 1' })
    await w1.manifest.whenInSync()
    // In sync = acked = committed: Postgres has it, read over a connection of our own.
    const stored = await readPostgresDoc(postgres, 'w2/manifest')
    expect(Buffer.from(Y.encodeStateAsUpdate(stored)).includes('Team, renamed on relay 1')).toBe(true)
    const w2 = await (await devices[2].signIn()).openWorkspace('w2')
    await eventually(() => w2.manifest.model.snapshot().name === 'Team, renamed on relay 1', 15_000, 'device 2 converges')
    void lb
  }, 90_000)

  it('the device limit of 3 holds when 5 devices of one account connect to the 3 relays at once', async () => {
    const { cluster } = await threeRelays({ extraArgs: ['--max-devices', '3'] })
    const tokens = await Promise.all([0, 1, 2, 3, 4].map((d) => token('bob', `bob-device-${d}`, { w1: 'editor' })))
    const sockets = await Promise.all(tokens.map((t, d) => RawClient.connect(`${cluster.relays[d % 3]!.wsUrl}/sync/w1/d${d}?token=${t}`)))
    teardown.push(() => sockets.forEach((s) => s.terminate()))
    const outcome = await Promise.all(
      sockets.map((s) => Promise.race([s.next(() => true, 15_000).then(() => 'in' as const), s.closed.then((c) => c.code)]).catch(() => s.closed.then((c) => c.code))),
    )
    expect(outcome.filter((o) => o === 'in')).toHaveLength(3)
    expect(outcome.filter((o) => o === 4409)).toHaveLength(2)
  }, 90_000)

  it('revoking a session on relay A closes its socket on relay C', async () => {
    const { cluster } = await threeRelays()
    const laptop = await token('carol', 'carol-laptop')
    const timings: number[] = []
    for (const sid of ['carol-phone', 'carol-tablet', 'carol-watch']) {
      const onC = await RawClient.connect(`${cluster.relays[2]!.wsUrl}/sync/w1/doc?token=${await token('carol', sid, { w1: 'owner' }, sid)}`)
      await onC.next(() => true)
      const started = performance.now()
      const res = await fetch(`${cluster.relays[0]!.url}/sessions/${sid}`, { method: 'DELETE', headers: { authorization: `Bearer ${laptop}` } })
      expect(res.status).toBe(200)
      expect((await onC.closed).code).toBe(4410)
      timings.push(performance.now() - started)
    }
    // Measured (the goal is 100 ms through Redis), not asserted: the machine is shared.
    console.log(`revoked on relay A, closed on relay C after ${timings.map((t) => t.toFixed(1)).join(', ')} ms`)
  }, 90_000)

  it('kill -9 of a relay mid-burst: its clients reconnect to another relay and no acked update is lost', async () => {
    const { cluster, lb, postgres } = await threeRelays()
    const { clients, ackedDuringBurst } = await burst(lb.wsUrl, ['k1', 'k2', 'k3'], 3, 150, () => cluster.kill(1))
    await eventually(() => clients.every(({ client }) => client.allAcked), 40_000, 'every write acked after reconnecting')
    expect(clients.some(({ client }) => client.closes.length > 0)).toBe(true) // some were on the killed relay
    for (const doc of ['k1', 'k2', 'k3']) {
      const mine = clients.filter((c) => c.doc === doc)
      const expected = mine.flatMap(({ client }) => [...client.ackedIds]).sort()
      expect(expected.length).toBe(3 * 150)
      const stored = log(await readPostgresDoc(postgres, `w1/${doc}`))
      for (const { client } of mine) for (const id of ackedDuringBurst.get(client)!) expect(stored).toContain(id)
      expect(stored).toEqual(expected)
      await eventually(() => mine.every(({ client }) => log(client.doc).length === expected.length), 20_000, `clients of ${doc} converge`)
      for (const { client } of mine) expect(log(client.doc)).toEqual(expected)
    }
  }, 120_000)

  it('Redis restarted mid-burst: every client converges and nothing acked is lost', async () => {
    const redis = await privateRedis()
    teardown.push(() => redis.kill())
    const { lb, postgres } = await threeRelays({ redis: redis.url })
    const { clients, ackedDuringBurst } = await burst(lb.wsUrl, ['r1', 'r2'], 3, 150, async () => {
      await redis.kill()
      await sleep(1_000)
      await redis.start()
    })
    await eventually(() => clients.every(({ client }) => client.allAcked), 40_000, 'every write acked')
    for (const doc of ['r1', 'r2']) {
      const mine = clients.filter((c) => c.doc === doc)
      const expected = mine.flatMap(({ client }) => [...client.ackedIds]).sort()
      const stored = log(await readPostgresDoc(postgres, `w1/${doc}`))
      for (const { client } of mine) for (const id of ackedDuringBurst.get(client)!) expect(stored).toContain(id)
      expect(stored).toEqual(expected)
      await eventually(() => mine.every(({ client }) => log(client.doc).length === expected.length), 20_000, `clients of ${doc} converge`)
    }
  }, 120_000)

  it.skipIf(!postgresBinaries())('Postgres restarted: acks pause, then resume, and nothing acked is lost', async () => {
    const pg = await privatePostgres()
    teardown.push(() => pg.destroy())
    const { lb, postgres } = await threeRelays({ postgres: pg.url })
    let down: [number, number] = [0, 0]
    const { clients, ackedDuringBurst } = await burst(lb.wsUrl, ['p1', 'p2'], 2, 200, async () => {
      await pg.stop()
      const stoppedAt = performance.now()
      await sleep(2_500)
      down = [stoppedAt, performance.now()]
      await pg.start()
    })
    await eventually(() => clients.every(({ client }) => client.allAcked), 60_000, 'every write acked once Postgres is back')
    // Acks paused: none arrived while Postgres was down (past the commits in flight at the stop) ...
    const ackTimes = clients.flatMap(({ client }) => client.ackTimes)
    expect(ackTimes.filter((t) => t > down[0] + 300 && t < down[1])).toEqual([])
    // ... and resumed once it was back.
    expect(ackTimes.filter((t) => t > down[1]).length).toBeGreaterThan(0)
    expect(ackTimes.filter((t) => t < down[0]).length).toBeGreaterThan(0)
    for (const doc of ['p1', 'p2']) {
      const mine = clients.filter((c) => c.doc === doc)
      const expected = mine.flatMap(({ client }) => [...client.ackedIds]).sort()
      expect(expected.length).toBe(2 * 200)
      const stored = log(await readPostgresDoc(postgres, `w1/${doc}`))
      for (const { client } of mine) for (const id of ackedDuringBurst.get(client)!) expect(stored).toContain(id)
      expect(stored).toEqual(expected)
    }
  }, 150_000)
})

export type { RelayCluster }
