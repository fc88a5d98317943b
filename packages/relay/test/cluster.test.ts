/**
 * Several relays as one, in this process: three relays on one Postgres (a database of its own) and one Redis
 * (a channel prefix of its own). Fan-out between relays, gap repair when a bus message is lost, catch-up with
 * no bus at all, the device limit across relays, revocation and deletion reaching every relay, health.
 * (test/relay/cluster-processes.test.ts does the same with real child processes, kill -9 and restarts.)
 */
import * as Y from 'yjs'
import { afterEach, describe, expect, it } from 'vitest'
import { PostgresDocStore, PostgresRegistry, RedisBus, silentLogger, startRelay, type Bus, type DocStore, type BusHandlers, type ControlEvent, type DocMessage, type RunningRelay, type StartRelayOptions } from '@apisync/relay'
import { RawClient, SECRET, SyncClient, eventually, readPostgresDoc } from './helpers.js'
import { REDIS_URL, redisPrefix, services, testDatabase } from './services.js'

const ready = await services(['postgres', 'redis'])

interface Cluster {
  relays: RunningRelay[]
  url: string
  prefix: string
  token(claims: { sub?: string; sid: string; ws?: Record<string, 'owner' | 'editor' | 'viewer'>; name?: string }): Promise<string>
  sync(i: number, doc: string, token: string, extra?: string): string
}

const teardown: (() => Promise<void>)[] = []
afterEach(async () => {
  for (const t of teardown.splice(0).reverse()) await t()
})

async function cluster(n: number, options: Partial<StartRelayOptions> & { buses?: (i: number, prefix: string) => Bus } = {}): Promise<Cluster> {
  const db = await testDatabase()
  teardown.push(() => db.drop())
  const prefix = redisPrefix()
  const { buses, ...rest } = options
  const relays = await Promise.all(
    Array.from({ length: n }, (_, i) =>
      startRelay({
        auth: { secret: SECRET },
        store: db.url,
        bus: buses ? buses(i, prefix) : REDIS_URL,
        busPrefix: prefix,
        relayId: `relay-${i}`,
        logger: silentLogger,
        ...rest,
      }),
    ),
  )
  teardown.push(async () => {
    await Promise.all(relays.map((r) => r.close()))
  })
  const { signToken } = await import('@apisync/relay')
  return {
    relays,
    url: db.url,
    prefix,
    token: ({ sub = 'alice', sid, ws = { w1: 'owner' }, name }) => signToken({ sub, sid, ws, ...(name ? { name } : {}) }, { secret: SECRET }),
    sync: (i, doc, token, extra = '') => `${relays[i].wsUrl}/sync/${doc}?token=${encodeURIComponent(token)}${extra}`,
  }
}

/** A bus that loses messages: every doc message for which `drop` says so never leaves this relay. */
class LossyBus implements Bus {
  readonly kind = 'lossy-redis'
  dropped = 0
  private n = 0
  constructor(
    private readonly inner: Bus,
    private readonly drop: (n: number, message: DocMessage) => boolean,
  ) {}
  get connected() {
    return this.inner.connected
  }
  start(handlers: BusHandlers) {
    return this.inner.start(handlers)
  }
  publish(message: DocMessage) {
    if (this.drop(this.n++, message)) this.dropped++
    else this.inner.publish(message)
  }
  subscribe(doc: string) {
    return this.inner.subscribe(doc)
  }
  unsubscribe(doc: string) {
    this.inner.unsubscribe(doc)
  }
  announce(event: ControlEvent) {
    this.inner.announce(event)
  }
  ping() {
    return this.inner.ping()
  }
  close() {
    return this.inner.close()
  }
}

/** A database and a Redis prefix of the test's own, and a store on that database (for relays given a store). */
async function ownPostgres(): Promise<{ db: { url: string }; prefix: string; pgStore: PostgresDocStore }> {
  const db = await testDatabase()
  teardown.push(() => db.drop())
  const pgStore = new PostgresDocStore({ url: db.url })
  await pgStore.opened()
  teardown.push(() => pgStore.close())
  return { db, prefix: redisPrefix(), pgStore }
}

/** A Postgres store whose commits each take `ms` longer (a slow disk, a busy database), with hooks around them. */
function slowCommits(store: PostgresDocStore, ms: number, on: { started?: () => void; landed?: () => void } = {}): DocStore {
  return {
    load: (name, after) => store.load(name, after),
    appendUpdates: async (entries) => {
      on.started?.()
      await new Promise((r) => setTimeout(r, ms))
      const ranges = await store.appendUpdates(entries)
      on.landed?.()
      return ranges
    },
    compact: (name, snapshot, upTo) => store.compact(name, snapshot, upTo),
    heads: (names) => store.heads(names),
    deleteDoc: (name) => store.deleteDoc(name),
    deletePrefix: (prefix) => store.deletePrefix(prefix),
    listDocs: (prefix) => store.listDocs(prefix),
    close: async () => {},
  }
}

const words = (doc: Y.Doc) => doc.getArray<string>('log').toArray().sort()

describe.skipIf(!ready)('three relays on one Postgres and one Redis', () => {
  it('an update written on any relay reaches the clients of the others, and is committed once with its sequence number', async () => {
    const c = await cluster(3)
    const clients = await Promise.all([0, 1, 2].map(async (i) => SyncClient.connect(c.sync(i, 'w1/collection/a', await c.token({ sid: `s${i}` }), '&ack=1'))))
    await Promise.all(clients.map((x) => x.whenSynced()))
    clients.forEach((x, i) => {
      for (let k = 0; k < 20; k++) x.doc.getArray<string>('log').push([`${i}-${k}`])
    })
    await Promise.all(clients.map((x) => x.waitForAckCovering(10_000)))
    const all = [0, 1, 2].flatMap((i) => Array.from({ length: 20 }, (_, k) => `${i}-${k}`)).sort()
    await eventually(() => clients.every((x) => words(x.doc).length === 60), 10_000, 'every client has every update')
    for (const x of clients) expect(words(x.doc)).toEqual(all)
    // Acked means committed: a connection of our own to Postgres reads it all.
    expect(words(await readPostgresDoc(c.url, 'w1/collection/a'))).toEqual(all)
    const received = c.relays.map((r) => r.relay.metrics.busReceived.get())
    expect(received.every((n) => n > 0)).toBe(true)
    for (const x of clients) x.close()
  })

  it('a reader on another relay gets a change as soon as a local reader does, before its commit, and only once', async () => {
    const { db, prefix, pgStore } = await ownPostgres()
    // Relay A's commits take 400 ms.
    let lastCommitAt = 0
    const slow = slowCommits(pgStore, 400, { landed: () => (lastCommitAt = performance.now()) })
    const registry = new PostgresRegistry({ pool: pgStore.pool, relayId: 'slow-a', aliveForMs: 10_000, logger: silentLogger })
    await registry.start()
    const a = await startRelay({ auth: { secret: SECRET }, store: slow, registry, bus: REDIS_URL, busPrefix: prefix, relayId: 'slow-a', logger: silentLogger })
    const b = await startRelay({ auth: { secret: SECRET }, store: db.url, bus: REDIS_URL, busPrefix: prefix, relayId: 'b', logger: silentLogger })
    teardown.push(async () => {
      await Promise.all([a.close(), b.close()])
      await registry.close()
    })
    const { signToken } = await import('@apisync/relay')
    const url = async (r: typeof a, sid: string) => `${r.wsUrl}/sync/w1/doc?token=${await signToken({ sub: sid, sid, ws: { w1: 'owner' } }, { secret: SECRET })}&ack=1`
    const writer = await SyncClient.connect(await url(a, 'writer'))
    const remote = await SyncClient.connect(await url(b, 'remote'))
    await Promise.all([writer.whenSynced(), remote.whenSynced()])
    const updateFrames = () => remote.raw.frames.filter((f) => f[0] === 0 && f[1] === 2).length
    const before = updateFrames()
    for (let i = 0; i < 5; i++) {
      const sentAt = performance.now()
      writer.doc.getArray<number>('a').push([i])
      await eventually(() => remote.doc.getArray('a').length === i + 1, 5_000, 'the remote reader has it')
      // It arrived well before relay A's 400 ms commit could have finished.
      expect(performance.now() - sentAt).toBeLessThan(350)
      await writer.waitForAckCovering()
      expect(lastCommitAt).toBeGreaterThan(sentAt + 350)
    }
    // Each change reached the remote reader once: as a preview, not again with its commit.
    await new Promise((r) => setTimeout(r, 300))
    expect(updateFrames() - before).toBe(5)
    expect(b.relay.metrics.busPreviewsReceived.get()).toBeGreaterThanOrEqual(5)
    // Relay B's own doc holds only committed content: what it stores and serves is what Postgres has.
    const late = await SyncClient.connect(await url(b, 'late'))
    await late.whenSynced()
    expect(late.doc.getArray('a').toArray()).toEqual([0, 1, 2, 3, 4])
    for (const x of [writer, remote, late]) x.close()
  })

  it('a lost bus message is read from Postgres (gap repair): every client converges', async () => {
    const lossy: LossyBus[] = []
    const c = await cluster(3, {
      buses: (i, prefix) => {
        const inner = new RedisBus({ url: REDIS_URL, prefix, relayId: `relay-${i}`, logger: silentLogger })
        const bus = new LossyBus(inner, (n) => i === 0 && n % 3 === 1) // relay 0 loses a third of what it publishes
        lossy.push(bus)
        teardown.push(() => bus.close())
        return bus
      },
      gapRepairDelayMs: 50,
    })
    const writer = await SyncClient.connect(c.sync(0, 'w1/collection/g', await c.token({ sid: 'w' }), '&ack=1'))
    const readers = await Promise.all([1, 2].map(async (i) => SyncClient.connect(c.sync(i, 'w1/collection/g', await c.token({ sid: `r${i}` })))))
    await Promise.all([writer, ...readers].map((x) => x.whenSynced()))
    for (let k = 0; k < 30; k++) {
      writer.doc.getArray<string>('log').push([`w-${k}`])
      await writer.waitForAckCovering() // one commit (and one bus message) per update
    }
    await eventually(() => readers.every((r) => words(r.doc).length === 30), 10_000, 'readers converge')
    expect(lossy[0].dropped).toBeGreaterThan(5)
    expect(c.relays[1].relay.metrics.gapRepairs.get() + c.relays[2].relay.metrics.gapRepairs.get()).toBeGreaterThan(0)
    for (const x of [writer, ...readers]) x.close()
  })

  it('a lost last message (no later one shows the gap) arrives through the periodic catch-up', async () => {
    const c = await cluster(2, {
      buses: (i, prefix) => {
        const bus = new LossyBus(new RedisBus({ url: REDIS_URL, prefix, relayId: `relay-${i}`, logger: silentLogger }), () => i === 0)
        teardown.push(() => bus.close())
        return bus
      },
      catchUpIntervalMs: 200,
    })
    const writer = await SyncClient.connect(c.sync(0, 'w1/collection/t', await c.token({ sid: 'w' }), '&ack=1'))
    const reader = await SyncClient.connect(c.sync(1, 'w1/collection/t', await c.token({ sid: 'r' })))
    await Promise.all([writer.whenSynced(), reader.whenSynced()])
    writer.doc.getText('t').insert(0, 'only message')
    await writer.waitForAckCovering()
    await eventually(() => reader.doc.getText('t').toString() === 'only message', 5_000, 'catch-up delivers it')
    writer.close()
    reader.close()
  })

  it('with no bus at all, relays on one Postgres still converge through catch-up reads', async () => {
    const db = await testDatabase()
    teardown.push(() => db.drop())
    const relays = await Promise.all([0, 1].map((i) => startRelay({ auth: { secret: SECRET }, store: db.url, relayId: `nb-${i}`, catchUpIntervalMs: 100, logger: silentLogger })))
    teardown.push(async () => {
      await Promise.all(relays.map((r) => r.close()))
    })
    const { signToken } = await import('@apisync/relay')
    const url = async (i: number, sid: string) => `${relays[i].wsUrl}/sync/w1/doc?token=${await signToken({ sub: 'a', sid, ws: { w1: 'owner' } }, { secret: SECRET })}&ack=1`
    const a = await SyncClient.connect(await url(0, 'a'))
    const b = await SyncClient.connect(await url(1, 'b'))
    await Promise.all([a.whenSynced(), b.whenSynced()])
    a.doc.getMap('m').set('from', 'a')
    b.doc.getMap('m').set('also', 'b')
    await eventually(() => a.doc.getMap('m').size === 2 && b.doc.getMap('m').size === 2, 5_000, 'both have both')
    a.close()
    b.close()
  })

  it('the device limit holds across relays: 5 devices of one account connecting to 3 relays at once, limit 3', async () => {
    const c = await cluster(3, { maxDevices: 3 })
    for (let round = 0; round < 3; round++) {
      const tokens = await Promise.all([0, 1, 2, 3, 4].map((d) => c.token({ sub: `acct-${round}`, sid: `dev-${round}-${d}`, ws: { w1: 'editor' } })))
      const sockets = await Promise.all(tokens.map((t, d) => RawClient.connect(c.sync(d % 3, `w1/doc-${d}`, t))))
      // Admitted ones get the relay's greeting; refused ones are closed with 4409.
      const outcome = await Promise.all(
        sockets.map((s) =>
          Promise.race([s.next(() => true, 10_000).then(() => 'in' as const), s.closed.then((x) => x.code)]).catch(() => s.closed.then((x) => x.code)),
        ),
      )
      expect(outcome.filter((o) => o === 'in').length).toBe(3)
      expect(outcome.filter((o) => o === 4409).length).toBe(2)
      for (const s of sockets) s.close()
    }
  })

  it('the sessions of a relay that died (its heartbeat stopped) stop counting toward the device limit', async () => {
    const db = await testDatabase()
    teardown.push(() => db.drop())
    const store = new PostgresDocStore({ url: db.url })
    await store.opened()
    teardown.push(() => store.close())
    // A relay with three live sessions of one account, killed: it never heartbeats again.
    const ghost = new PostgresRegistry({ pool: store.pool, relayId: 'ghost', aliveForMs: 1_000, logger: silentLogger })
    await ghost.start()
    const { signToken } = await import('@apisync/relay')
    for (const sid of ['g1', 'g2', 'g3']) {
      const result = await ghost.sessions.comeOnline({ sub: 'erin', sid, ws: { w1: 'owner' }, exp: 2e9 }, null, { maxDevices: 3, devicePolicy: 'refuse' })
      expect(result.ok).toBe(true)
    }
    const relay = await startRelay({ auth: { secret: SECRET }, store: db.url, maxDevices: 3, logger: silentLogger })
    teardown.push(() => relay.close())
    const fourth = async () => (await RawClient.connect(`${relay.wsUrl}/sync/w1/doc?token=${await signToken({ sub: 'erin', sid: 'e4', ws: { w1: 'owner' } }, { secret: SECRET })}`))
    const refused = await fourth()
    expect((await refused.closed).code).toBe(4409)
    await new Promise((r) => setTimeout(r, 1_200))
    const admitted = await fourth()
    await admitted.next(() => true)
    expect(admitted.socket.readyState).toBe(admitted.socket.OPEN)
    admitted.close()
  })

  it('revoking a session on relay A closes its socket on relay C at once (bus), and refuses it everywhere', async () => {
    const c = await cluster(3, { recheckIntervalMs: 60_000 })
    const phone = await c.token({ sid: 'phone', name: 'Phone' })
    const laptop = await c.token({ sid: 'laptop' })
    const onC = await RawClient.connect(c.sync(2, 'w1/doc', phone))
    await onC.next(() => true)
    const started = performance.now()
    const res = await fetch(`${c.relays[0].url}/sessions/phone`, { method: 'DELETE', headers: { authorization: `Bearer ${laptop}` } })
    expect(res.status).toBe(200)
    const closed = await onC.closed
    const ms = performance.now() - started
    expect(closed.code).toBe(4410)
    // The re-check is 60 s away here: only the bus can have done it. (The 100 ms goal is measured, not asserted.)
    expect(ms).toBeLessThan(5_000)
    console.log(`revocation on relay A closed the socket on relay C after ${ms.toFixed(1)} ms`)
    for (const i of [0, 1, 2]) expect((await (await RawClient.connect(c.sync(i, 'w1/doc', phone))).closed).code).toBe(4410)
  })

  it('a revocation whose bus message is lost still takes effect within the re-check interval', async () => {
    // No Redis at all between these two: only the periodic re-check from Postgres can close the socket.
    const db = await testDatabase()
    teardown.push(() => db.drop())
    const relays = await Promise.all([0, 1].map((i) => startRelay({ auth: { secret: SECRET }, store: db.url, relayId: `rc-${i}`, recheckIntervalMs: 300, logger: silentLogger })))
    teardown.push(async () => {
      await Promise.all(relays.map((r) => r.close()))
    })
    const { signToken } = await import('@apisync/relay')
    const tok = (sid: string) => signToken({ sub: 'a', sid, ws: { w1: 'owner' } }, { secret: SECRET })
    const victim = await RawClient.connect(`${relays[1].wsUrl}/sync/w1/doc?token=${await tok('v')}`)
    await victim.next(() => true)
    const started = performance.now()
    await fetch(`${relays[0].url}/sessions/v`, { method: 'DELETE', headers: { authorization: `Bearer ${await tok('x')}` } })
    expect((await victim.closed).code).toBe(4410)
    expect(performance.now() - started).toBeLessThan(5_000)
  })

  it('deleting an account on relay A closes its sockets (4410) and its workspace’s (4403) on relay C', async () => {
    const c = await cluster(3, { recheckIntervalMs: 60_000 })
    const alice = await c.token({ sid: 'a1', ws: { personal: 'owner', team: 'editor' } })
    const bob = await c.token({ sub: 'bob', sid: 'b1', ws: { personal: 'viewer' } })
    const writer = await SyncClient.connect(c.sync(1, 'personal/manifest', alice, '&ack=1'))
    writer.doc.getText('t').insert(0, 'mine')
    await writer.waitForAckCovering()
    const aliceOnC = await RawClient.connect(c.sync(2, 'team/manifest', alice))
    const bobOnC = await RawClient.connect(c.sync(2, 'personal/manifest', bob))
    await Promise.all([aliceOnC, bobOnC].map((x) => x.next(() => true)))
    const res = await fetch(`${c.relays[0].url}/account`, { method: 'DELETE', headers: { authorization: `Bearer ${alice}` } })
    expect(res.status).toBe(200)
    expect((await aliceOnC.closed).code).toBe(4410)
    expect((await bobOnC.closed).code).toBe(4403)
    expect((await writer.raw.closed).code).toBe(4410)
    expect((await (await RawClient.connect(c.sync(1, 'personal/manifest', alice))).closed).code).toBe(4410)
    expect((await (await RawClient.connect(c.sync(2, 'personal/manifest', bob))).closed).code).toBe(4403)
    expect((await readPostgresDoc(c.url, 'personal/manifest')).getText('t').toString()).toBe('')
  })

  it('a commit in flight on relay B when relay A deletes the workspace leaves nothing behind in Postgres', async () => {
    const { db, prefix, pgStore } = await ownPostgres()
    // Relay B's commits take 600 ms: one of them is still running when relay A deletes the workspace.
    let committing = 0
    let landedAt = 0
    const slow = slowCommits(pgStore, 600, {
      started: () => committing++,
      landed: () => {
        committing--
        landedAt = performance.now()
      },
    })
    const registry = new PostgresRegistry({ pool: pgStore.pool, relayId: 'slow-b', aliveForMs: 10_000, logger: silentLogger })
    await registry.start()
    const a = await startRelay({ auth: { secret: SECRET }, store: db.url, bus: REDIS_URL, busPrefix: prefix, relayId: 'a', logger: silentLogger, recheckIntervalMs: 60_000 })
    const b = await startRelay({ auth: { secret: SECRET }, store: slow, registry, bus: REDIS_URL, busPrefix: prefix, relayId: 'slow-b', logger: silentLogger, recheckIntervalMs: 60_000 })
    teardown.push(async () => {
      await Promise.all([a.close(), b.close()])
      await registry.close()
    })
    const { signToken } = await import('@apisync/relay')
    const alice = await signToken({ sub: 'alice', sid: 'a1', ws: { w1: 'owner' } }, { secret: SECRET })
    const writer = await SyncClient.connect(`${b.wsUrl}/sync/w1/collection/a?token=${alice}&ack=1`)
    await writer.whenSynced()
    writer.doc.getArray<string>('log').push(['kept until deleted'])
    await writer.waitForAckCovering(5_000)
    writer.doc.getArray<string>('log').push(['in flight'])
    await eventually(() => committing === 1, 5_000, "relay B's commit under way")
    const deletedAt = performance.now()
    const res = await fetch(`${a.url}/account`, { method: 'DELETE', headers: { authorization: `Bearer ${alice}` } })
    expect(res.status).toBe(200)
    await eventually(() => committing === 0, 5_000, "relay B's commit landed")
    expect(landedAt).toBeGreaterThan(deletedAt) // after relay A's delete: the race this test is about
    const rows = async () => {
      const [docs, updates, checkpoints] = await Promise.all(
        ['apisync_docs', 'apisync_updates', 'apisync_checkpoints'].map(async (table) => {
          const { rows } = await pgStore.pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${table} WHERE starts_with(doc, 'w1/')`)
          return rows[0]!.n
        }),
      )
      return { docs, updates, checkpoints }
    }
    await eventually(async () => (await rows()).updates === 0, 5_000, "the late commit's rows deleted")
    expect(await rows()).toEqual({ docs: 0, updates: 0, checkpoints: 0 })
    expect((await writer.raw.closed).code).toBe(4410) // the account is gone
  })

  it('GET /healthz names Postgres and Redis and whether they answer; /metrics has the bus series', async () => {
    const c = await cluster(1)
    const health = await fetch(`${c.relays[0].url}/healthz`)
    expect(health.status).toBe(200)
    expect(await health.json()).toMatchObject({ status: 'ok', store: { kind: 'postgres', ok: true }, bus: { kind: 'redis', ok: true } })
    const metrics = await (await fetch(`${c.relays[0].url}/metrics`)).text()
    for (const series of ['apisync_bus_lag_seconds_bucket', 'apisync_gap_repairs_total', 'apisync_store_up 1', 'apisync_bus_up 1', 'process_resident_memory_bytes'])
      expect(metrics).toContain(series)
  })

  it('with Redis unreachable the relay still starts, reports "degraded", and relays through the store', async () => {
    const db = await testDatabase()
    teardown.push(() => db.drop())
    const relays = await Promise.all(
      [0, 1].map((i) => startRelay({ auth: { secret: SECRET }, store: db.url, bus: 'redis://127.0.0.1:1', relayId: `dr-${i}`, catchUpIntervalMs: 100, logger: silentLogger })),
    )
    teardown.push(async () => {
      await Promise.all(relays.map((r) => r.close()))
    })
    const health = await fetch(`${relays[0].url}/healthz`)
    expect(health.status).toBe(200)
    expect(await health.json()).toMatchObject({ status: 'degraded', store: { ok: true }, bus: { kind: 'redis', ok: false } })
    const { signToken } = await import('@apisync/relay')
    const url = async (i: number, sid: string) => `${relays[i].wsUrl}/sync/w1/doc?token=${await signToken({ sub: 'a', sid, ws: { w1: 'owner' } }, { secret: SECRET })}`
    const a = await SyncClient.connect(await url(0, 'a'))
    const b = await SyncClient.connect(await url(1, 'b'))
    await Promise.all([a.whenSynced(), b.whenSynced()])
    a.doc.getText('t').insert(0, 'via the store')
    await eventually(() => b.doc.getText('t').toString() === 'via the store', 5_000, 'catch-up')
    a.close()
    b.close()
  })
})
