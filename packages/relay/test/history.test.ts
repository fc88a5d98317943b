/**
 * History kept by the relay (issue #14): the real relay on loopback, real SQLite (worker store) and real
 * Postgres, an injected clock to jump days. Every version is checked against copies the test took when the
 * change was acked.
 */
import { rm } from 'node:fs/promises'
import pg from 'pg'
import * as Y from 'yjs'
import { afterEach, describe, expect, it } from 'vitest'
import { accountSpaceId, DAY_MS, type DocStore, type PostgresDocStore, readHistoryState, signToken, type SqliteDocStore, type TokenClaims } from '@apisync/relay'
import { SECRET, startTestRelay, SyncClient, tempDir, type TestBackend, type TestRelay } from './helpers.js'
import { services, testDatabase } from './services.js'

const backends: TestBackend[] = (await services(['postgres'])) ? ['sqlite', 'postgres'] : ['sqlite']

const DAY0 = Date.UTC(2026, 0, 5) // a Monday, 00:00 UTC
const HOUR = 60 * 60 * 1000

/** Storage that outlives relay restarts: a data dir, or a Postgres database of the test's own. */
interface Storage {
  backend: TestBackend
  dir: string
  url: string | null
  drop(): Promise<void>
}

async function storage(backend: TestBackend): Promise<Storage> {
  const dir = await tempDir()
  const db = backend === 'postgres' ? await testDatabase() : null
  return {
    backend,
    dir,
    url: db?.url ?? null,
    drop: async () => {
      await rm(dir, { recursive: true, force: true })
      await db?.drop()
    },
  }
}

class Clock {
  constructor(public t: number) {}
  readonly now = () => this.t
}

const cleanup: (() => Promise<void>)[] = []
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn()
})

async function start(s: Storage, clock: Clock, extra: Record<string, unknown> = {}): Promise<TestRelay> {
  const relay = await startTestRelay({
    dataDir: s.dir,
    ...(s.url ? { store: s.url } : {}),
    now: clock.now,
    compactAfterUpdates: 4,
    compactDelayMs: 0,
    historySweepIntervalMs: 0,
    history: { checkpointEvery: 6 },
    ...extra,
  })
  return relay
}

/** Stop a relay but keep its storage (TestRelay.close would delete it). */
const stop = (relay: TestRelay) => relay.running.close()

const people: Record<string, Omit<TokenClaims, 'ws'>> = {
  alice: { sub: 'alice', sid: 'alice-laptop', name: 'Laptop' },
  bob: { sub: 'bob', sid: 'bob-desk', name: 'Desk' },
  carol: { sub: 'carol', sid: 'carol-phone', name: 'Phone' },
}
const tokenFor = (who: string, ws: TokenClaims['ws'] = { w1: 'editor' }) => signToken({ ...people[who], ws }, { secret: SECRET })

async function get(relay: TestRelay, path: string, token: string | null): Promise<Response> {
  return fetch(`${relay.running.url}${path}`, { headers: token ? { authorization: `Bearer ${token}` } : {} })
}

interface HistoryPage {
  versions: { seq: number; firstSeq: number; at: number; authors: { account: string; device: string | null; session: string }[]; changes: number }[]
  next: number | null
  oldest: number
  head: number
}

async function historyPage(relay: TestRelay, doc: string, token: string, query = ''): Promise<HistoryPage> {
  const res = await get(relay, `/history?doc=${encodeURIComponent(doc)}${query}`, token)
  expect(res.status, await res.clone().text()).toBe(200)
  return (await res.json()) as HistoryPage
}

async function allVersions(relay: TestRelay, doc: string, token: string, limit = 7): Promise<HistoryPage['versions']> {
  const out: HistoryPage['versions'] = []
  let before: number | null = null
  for (;;) {
    const page: HistoryPage = await historyPage(relay, doc, token, `&limit=${limit}${before !== null ? `&before=${before}` : ''}`)
    out.push(...page.versions)
    if (page.next === null) return out
    before = page.next
  }
}

/**
 * A version as the client opens it: the parts applied in one transaction, to a new doc, or (`from`: a doc
 * holding the state after `from.seq`) to that doc with `after`, when the relay answers with only the rows.
 */
async function stateAt(
  relay: TestRelay,
  doc: string,
  at: number,
  token: string,
  from?: { doc: Y.Doc; seq: number },
): Promise<{ status: number; doc?: Y.Doc; body?: unknown; base?: number; parts?: number }> {
  const res = await get(relay, `/history/state?doc=${encodeURIComponent(doc)}&at=${at}${from ? `&after=${from.seq}` : ''}`, token)
  if (res.status !== 200) return { status: res.status, body: await res.json() }
  expect(res.headers.get('content-type')).toBe('application/octet-stream')
  const { base, parts } = readHistoryState(new Uint8Array(await res.arrayBuffer()))
  expect([0, from?.seq ?? 0]).toContain(base)
  const d = base !== 0 && from ? from.doc : new Y.Doc({ gc: false })
  d.transact(() => {
    for (const part of parts) Y.applyUpdate(d, part)
  })
  return { status: 200, doc: d, base, parts: parts.length }
}

const contentOf = (d: Y.Doc) => ({ map: d.getMap('m').toJSON(), list: d.getArray('l').toJSON(), text: d.getText('t').toString() })

/** The state a copy holds, comparable exactly: content and state vector. */
function expectSame(actual: Y.Doc, copy: Uint8Array, what: string): void {
  const expected = new Y.Doc()
  Y.applyUpdate(expected, copy)
  expect(contentOf(actual), what).toEqual(contentOf(expected))
  expect(Y.decodeStateVector(Y.encodeStateVector(actual)), what).toEqual(Y.decodeStateVector(Y.encodeStateVector(expected)))
}

/** One session of one device: connect, make `edits` changes one by one (each acked), copy the doc after each. */
async function session(
  relay: TestRelay,
  doc: string,
  who: string,
  clock: Clock,
  edits: number,
  copies: Map<number, Uint8Array>,
  stepMs = 1_000,
): Promise<void> {
  const token = await tokenFor(who)
  const client = await SyncClient.connect(relay.syncUrl(doc, token, '&ack=1'))
  await client.whenSynced()
  const reader = await tokenFor('alice')
  for (let i = 0; i < edits; i++) {
    clock.t += stepMs
    const n = copies.size
    client.doc.transact(() => {
      if (n % 3 === 0) client.doc.getMap('m').set(`k${n % 5}`, `${who}-${n}`)
      else if (n % 3 === 1) client.doc.getArray('l').push([`${who}-${n}`])
      else {
        const t = client.doc.getText('t')
        if (t.length > 4 && n % 2 === 0) t.delete(0, 3)
        t.insert(t.length, `${who}${n} `)
      }
      // Some deletions, so that garbage collection would lose what history must keep.
      if (n % 7 === 6 && client.doc.getArray('l').length > 0) client.doc.getArray('l').delete(0, 1)
    })
    await client.waitForAckCovering()
    const { head } = await historyPage(relay, doc, reader, '&limit=1')
    copies.set(head, Y.encodeStateAsUpdate(client.doc))
  }
  client.close()
  await client.raw.closed
}

describe.each(backends)('history on %s', (backend) => {
  it('three devices over many sessions, compacted and restarted between them: every version opens exactly as it was', async () => {
    const s = await storage(backend)
    cleanup.push(s.drop)
    const clock = new Clock(DAY0 + 9 * HOUR)
    const doc = 'w1/collection-1'
    const copies = new Map<number, Uint8Array>()
    let relay = await start(s, clock)
    cleanup.push(() => stop(relay))
    const devices = ['alice', 'bob', 'carol']
    for (let round = 0; round < 4; round++) {
      for (const who of devices) {
        clock.t += 5 * 60_000 // a new session: a new version
        await session(relay, doc, who, clock, 4, copies)
      }
      await relay.running.relay.flush()
      await stop(relay)
      relay = await start(s, clock)
    }
    const reader = await tokenFor('carol')
    // Compaction ran (a snapshot past seq 0) and wrote checkpoints; the rows stayed.
    const stored = await storedHistory(s, doc)
    expect(stored.snapshotSeq).toBeGreaterThan(0)
    expect(stored.checkpoints).toBeGreaterThan(0)
    expect(stored.rows).toBe(copies.size)

    const head = Math.max(...copies.keys())
    expect(copies.size).toBe(48)
    for (const [seq, copy] of copies) {
      const opened = await stateAt(relay, doc, seq, reader)
      expect(opened.status).toBe(200)
      expectSame(opened.doc!, copy, `version ${seq}`)
    }
    expect((await stateAt(relay, doc, 0, reader)).doc!.getMap('m').size).toBe(0)
    expect((await stateAt(relay, doc, head + 1, reader)).status).toBe(404)

    // Moving forward from a version the client holds (after=): only the rows in between, unless a checkpoint
    // lies after it (then the checkpoint and its rows, base 0). Either way the version exactly as it was.
    const seqs = [...copies.keys()].sort((a, b) => a - b)
    const checkpointAtOrBefore = (at: number) => Math.max(0, ...stored.checkpointSeqs.filter((c) => c <= at))
    let cursor = (await stateAt(relay, doc, seqs[2], reader)).doc!
    let rowsOnly = 0
    for (const [i, step] of [[2, 3], [3, 9], [9, 10], [10, 25], [25, 47]].map(([a, b]) => [seqs[a], seqs[b]])) {
      const opened = await stateAt(relay, doc, step, reader, { doc: cursor, seq: i })
      expect(opened.status).toBe(200)
      if (i >= checkpointAtOrBefore(step)) {
        expect(opened.base, `${i} → ${step}`).toBe(i)
        expect(opened.parts, `${i} → ${step}: the rows only`).toBe(step - i)
        expect(opened.doc).toBe(cursor)
        rowsOnly++
      } else expect(opened.base, `${i} → ${step}: a checkpoint lies between`).toBe(0)
      expectSame(opened.doc!, copies.get(step)!, `version ${step} after ${i}`)
      cursor = opened.doc!
    }
    expect(rowsOnly).toBeGreaterThan(0)
    // after = at: nothing to add, and never from a cache (it asks whether the version is still granted and kept).
    expect(await stateAt(relay, doc, seqs[5], reader, { doc: new Y.Doc(), seq: seqs[5] })).toMatchObject({ status: 200, parts: 0, base: seqs[5] })
    expect((await get(relay, `/history/state?doc=${encodeURIComponent(doc)}&at=${seqs[5]}&after=${seqs[5]}`, reader)).headers.get('cache-control')).toBe('no-store')

    // Versions: one per session (4 edits 1 s apart), newest first, paged without gaps or repeats.
    const versions = await allVersions(relay, doc, reader)
    expect(versions).toHaveLength(12)
    expect(versions.map((v) => v.changes)).toEqual(Array(12).fill(4))
    expect(versions[0].seq).toBe(head)
    for (let i = 1; i < versions.length; i++) expect(versions[i].seq).toBe(versions[i - 1].firstSeq - 1)
    expect(versions.at(-1)!.firstSeq).toBe(1)
    expect(versions.map((v) => v.authors.map((a) => a.account)[0])).toEqual([...Array(4)].flatMap(() => ['carol', 'bob', 'alice']))
    expect(versions[0].authors).toEqual([{ account: 'carol', device: 'Phone', session: 'carol-phone' }])
    for (const v of versions) expectSame((await stateAt(relay, doc, v.seq, reader)).doc!, copies.get(v.seq)!, `version ${v.seq}`)
  })

  it('retention with the clock: keep-all, then one version per day, then gone (410); newer untouched, live doc unaffected', async () => {
    const s = await storage(backend)
    cleanup.push(s.drop)
    const clock = new Clock(DAY0)
    let relay = await start(s, clock, { history: { keepAllDays: 2, dailyDays: 3, checkpointEvery: 4 } })
    cleanup.push(() => stop(relay))
    const doc = 'w1/retained'
    const copies = new Map<number, Uint8Array>()
    const dayOf = new Map<number, number>()
    for (let day = 0; day < 7; day++) {
      for (const [hour, who] of [
        [6, 'alice'],
        [8, 'bob'],
        [10, 'alice'],
      ] as const) {
        clock.t = DAY0 + day * DAY_MS + hour * HOUR
        const before = new Set(copies.keys())
        await session(relay, doc, who, clock, 2, copies)
        for (const seq of copies.keys()) if (!before.has(seq)) dayOf.set(seq, day)
      }
    }
    const reader = await tokenFor('bob')
    const liveBefore = copies.get(Math.max(...copies.keys()))!
    const versionsBefore = await allVersions(relay, doc, reader, 200)
    expect(versionsBefore).toHaveLength(21)

    // Noon of day 7: keep all after day 5 noon, one per day after day 2 noon, nothing before.
    clock.t = DAY0 + 7 * DAY_MS + 12 * HOUR
    const done = await relay.running.relay.maintainHistory()
    expect(done.merged).toBe(3) // days 3, 4, 5
    const seqsOfDay = (d: number) => [...dayOf].filter(([, day]) => day === d).map(([seq]) => seq)
    const lastOfDay = (d: number) => Math.max(...seqsOfDay(d))
    expect(done.dropped).toBe(seqsOfDay(0).length + seqsOfDay(1).length + seqsOfDay(2).length)
    // Nothing newer is touched, and a second pass has nothing to do.
    expect(await relay.running.relay.maintainHistory()).toEqual({ dropped: 0, merged: 0 })

    const isKept = (seq: number) => {
      const day = dayOf.get(seq)!
      return day >= 6 || (day >= 3 && seq === lastOfDay(day)) || seq === lastOfDay(2)
    }
    const check = async (r: TestRelay) => {
      for (const [seq, copy] of copies) {
        const day = dayOf.get(seq)!
        const opened = await stateAt(r, doc, seq, reader)
        const kept = isKept(seq)
        if (kept) {
          expect(opened.status, `seq ${seq} of day ${day}`).toBe(200)
          expectSame(opened.doc!, copy, `seq ${seq} of day ${day}`)
        } else {
          expect(opened.status, `seq ${seq} of day ${day}`).toBe(410)
          expect(opened.body).toMatchObject({ error: 'HistoryGone', code: 'HISTORY_GONE', oldest: lastOfDay(2) })
        }
      }
      const page = await historyPage(r, doc, reader, '&limit=200')
      expect(page.oldest).toBe(lastOfDay(2))
      const days345 = page.versions.filter((v) => dayOf.get(v.seq)! >= 3 && dayOf.get(v.seq)! <= 5)
      expect(days345.map((v) => v.seq)).toEqual([lastOfDay(5), lastOfDay(4), lastOfDay(3)])
      for (const v of days345) {
        expect(v.changes).toBe(6)
        expect(v.firstSeq).toBe(Math.min(...seqsOfDay(dayOf.get(v.seq)!)))
        expect(v.authors.map((a) => a.account).sort()).toEqual(['alice', 'bob'])
      }
      // Moving forward from kept version to kept version (after=), across merged days and checkpoints.
      const kept = [...copies.keys()].filter(isKept).sort((a, b) => a - b)
      let held = (await stateAt(r, doc, kept[0], reader)).doc!
      for (let i = 1; i < kept.length; i++) {
        const opened = await stateAt(r, doc, kept[i], reader, { doc: held, seq: kept[i - 1] })
        expect(opened.status).toBe(200)
        expectSame(opened.doc!, copies.get(kept[i])!, `seq ${kept[i]} after ${kept[i - 1]}`)
        held = opened.doc!
      }
      // From a state older than what is kept: the whole version (base 0), not rows that are gone.
      const first = Math.min(...copies.keys())
      const older = new Y.Doc({ gc: false })
      Y.applyUpdate(older, copies.get(first)!)
      const whole = await stateAt(r, doc, kept.at(-1)!, reader, { doc: older, seq: first })
      expect(whole.base).toBe(0)
      expectSame(whole.doc!, copies.get(kept.at(-1)!)!, 'from before the oldest kept version')
      // Day 6 untouched: three sessions, two edits each.
      expect(page.versions.filter((v) => dayOf.get(v.seq) === 6).map((v) => v.changes)).toEqual([2, 2, 2])
      // The live doc loads identically.
      const live = await SyncClient.connect(r.syncUrl(doc, await tokenFor('carol')))
      await live.whenSynced()
      expectSame(live.doc, liveBefore, 'live doc')
      live.close()
      await live.raw.closed
    }
    await check(relay)
    await stop(relay)
    relay = await start(s, clock, { history: { keepAllDays: 2, dailyDays: 3, checkpointEvery: 4 } })
    await check(relay)
  })

  it('access: token required, granted workspace, viewers read, account space only for its account, clear 4xx', async () => {
    const s = await storage(backend)
    cleanup.push(s.drop)
    const clock = new Clock(DAY0)
    const relay = await start(s, clock)
    cleanup.push(() => stop(relay))
    const copies = new Map<number, Uint8Array>()
    await session(relay, 'w1/private', 'alice', clock, 2, copies)
    const mine = `${accountSpaceId('alice')}/workspaces`
    const aliceOwn = await signToken({ ...people.alice, ws: {} }, { secret: SECRET })
    const own = await SyncClient.connect(relay.syncUrl(mine, aliceOwn, '&ack=1'))
    await own.whenSynced()
    own.doc.getMap('m').set('joined', 'w1')
    await own.waitForAckCovering()
    own.close()

    const viewer = await tokenFor('bob', { w1: 'viewer' })
    const other = await tokenFor('carol', { w2: 'owner' })
    const expired = await signToken({ ...people.alice, ws: { w1: 'owner' } }, { secret: SECRET }, { expiresIn: -5 })
    const paths = ['/history?doc=w1%2Fprivate', '/history/state?doc=w1%2Fprivate&at=1', '/activity?workspace=w1']
    for (const path of paths) {
      expect((await get(relay, path, null)).status, path).toBe(401)
      expect((await get(relay, path, 'not-a-jwt')).status, path).toBe(401)
      expect((await get(relay, path, expired)).status, path).toBe(401)
      const refused = await get(relay, path, other)
      expect(refused.status, path).toBe(403)
      expect(await refused.json()).toMatchObject({ code: 4403 })
      expect((await get(relay, path, viewer)).status, path).toBe(200)
    }
    // The account's own space: its account only (whatever the token's ws claim says).
    const bobClaimingIt = await tokenFor('bob', { [accountSpaceId('alice')]: 'owner', w1: 'owner' })
    expect((await get(relay, `/history?doc=${encodeURIComponent(mine)}`, aliceOwn)).status).toBe(200)
    expect((await get(relay, `/history/state?doc=${encodeURIComponent(mine)}&at=1`, aliceOwn)).status).toBe(200)
    expect((await get(relay, `/history?doc=${encodeURIComponent(mine)}`, bobClaimingIt)).status).toBe(403)
    expect((await get(relay, `/activity?workspace=${encodeURIComponent(accountSpaceId('alice'))}`, bobClaimingIt)).status).toBe(403)

    const bad: [string, number][] = [
      ['/history', 400],
      ['/history?doc=nope', 400],
      ['/history?doc=w1%2Fprivate&before=abc', 400],
      ['/history?doc=w1%2Fprivate&before=-1', 400],
      ['/history?doc=w1%2Fprivate&limit=100000', 400],
      ['/history?doc=w1%2Fprivate&limit=0', 400],
      ['/history?doc=w1%2Funknown', 404],
      ['/history/state?doc=w1%2Fprivate', 400],
      ['/history/state?doc=w1%2Fprivate&at=x1', 400],
      ['/history/state?doc=w1%2Fprivate&at=1.5', 400],
      ['/history/state?doc=w1%2Fprivate&at=99', 404],
      ['/history/state?doc=w1%2Fprivate&at=1&after=2', 400],
      ['/history/state?doc=w1%2Fprivate&at=1&after=-1', 400],
      ['/history/state?doc=w1%2Fprivate&at=1&after=', 400],
      ['/history/state?doc=w1%2Fprivate&at=1&after=0x1', 400],
      ['/history/state?doc=w1%2Fprivate&at=1&after=1e400', 400],
      ['/history/state?doc=w1%2Fprivate&at=1&after=99999999999999999999', 400],
      ['/history/state?doc=w1%2Fprivate&at=99&after=98', 404],
      ['/history/state?doc=w1%2Fprivate&at=99999999999999999999', 400],
      ['/history/state?doc=w1%2Funknown&at=0', 404],
      ['/activity', 400],
      ['/activity?workspace=w1&before=garbage', 400],
      ['/activity?workspace=w1&limit=201', 400],
      ['/activity?workspace=w1&doc=w2%2Fx', 400],
    ]
    for (const [path, status] of bad) {
      const res = await get(relay, path, viewer)
      expect(res.status, path).toBe(status)
      const body = (await res.json()) as { error: string; code: unknown; message: string }
      expect(typeof body.error, path).toBe('string')
      expect(body.code, path).toBeDefined()
      expect(body.message.length, path).toBeGreaterThan(0)
    }
    // The relay is fine after all that.
    expect((await get(relay, '/healthz', null)).status).toBe(200)
  })

  it('activity feed: newest first, paged without gaps or repeats, filtered by account and by doc', async () => {
    const s = await storage(backend)
    cleanup.push(s.drop)
    const clock = new Clock(DAY0)
    const relay = await start(s, clock)
    cleanup.push(() => stop(relay))
    const copies = new Map<number, Uint8Array>()
    const plan: [string, string][] = [
      ['w1/c1', 'alice'],
      ['w1/c2', 'bob'],
      ['w1/c1', 'bob'],
      ['w1/manifest', 'carol'],
      ['w1/c2', 'alice'],
      ['w1/c1', 'alice'],
      ['w1/c2', 'carol'],
      ['w1/c1', 'bob'],
    ]
    for (let i = 0; i < 3; i++) {
      for (const [doc, who] of plan) {
        clock.t += 2 * 60_000
        copies.clear()
        await session(relay, doc, who, clock, 1 + (i % 2), copies)
      }
    }
    // Another workspace's doc never shows up.
    const w2 = await SyncClient.connect(relay.syncUrl('w2/x', await tokenFor('alice', { w2: 'owner' }), '&ack=1'))
    await w2.whenSynced()
    w2.doc.getMap('m').set('a', 1)
    await w2.waitForAckCovering()
    w2.close()

    type Entry = { doc: string; seq: number; firstSeq: number; at: number; account: string | null; device: string | null; changes: number }
    const reader = await tokenFor('carol', { w1: 'viewer' })
    const feed = async (query: string, limit: number) => {
      const out: Entry[] = []
      let before: string | null = null
      for (let pages = 0; pages < 100; pages++) {
        const res = await get(relay, `/activity?workspace=w1&limit=${limit}${query}${before ? `&before=${encodeURIComponent(before)}` : ''}`, reader)
        expect(res.status).toBe(200)
        const page = (await res.json()) as { entries: Entry[]; next: string | null }
        expect(page.entries.length).toBeLessThanOrEqual(limit)
        out.push(...page.entries)
        if (!page.next) return out
        before = page.next
      }
      throw new Error('too many pages')
    }
    const all = await feed('', 200)
    expect(all).toHaveLength(plan.length * 3)
    for (let i = 1; i < all.length; i++) expect(all[i].at).toBeLessThan(all[i - 1].at)
    expect(all.map((e) => [e.doc, e.account])).toEqual([...plan, ...plan, ...plan].reverse())
    expect(all.every((e) => e.doc.startsWith('w1/'))).toBe(true)
    expect(all.map((e) => e.changes)).toEqual([...plan.map(() => 1), ...plan.map(() => 2), ...plan.map(() => 1)].reverse())
    for (const limit of [1, 3, 5]) expect(await feed('', limit)).toEqual(all)
    expect(await feed('&account=bob', 2)).toEqual(all.filter((e) => e.account === 'bob'))
    expect(await feed('&doc=w1%2Fc1', 4)).toEqual(all.filter((e) => e.doc === 'w1/c1'))
    expect(await feed('&doc=w1%2Fc2&account=alice', 1)).toEqual(all.filter((e) => e.doc === 'w1/c2' && e.account === 'alice'))
    expect(all[0]).toMatchObject({ doc: 'w1/c1', account: 'bob', device: 'Desk', session: 'bob-desk' })
  })
})

/** What storage holds for a doc's history, read with a connection of the test's own. */
async function storedHistory(s: Storage, doc: string): Promise<{ rows: number; checkpoints: number; checkpointSeqs: number[]; snapshotSeq: number }> {
  if (s.url) {
    const client = new pg.Client({ connectionString: s.url })
    await client.connect()
    try {
      const { rows } = await client.query(
        `SELECT (SELECT count(*) FROM apisync_updates WHERE doc = $1)::int AS rows, (SELECT count(*) FROM apisync_checkpoints WHERE doc = $1)::int AS checkpoints,
           (SELECT snapshot_seq FROM apisync_docs WHERE doc = $1)::int AS snapshot_seq`,
        [doc],
      )
      const cps = await client.query<{ seq: string }>('SELECT seq FROM apisync_checkpoints WHERE doc = $1', [doc])
      return { rows: rows[0].rows, checkpoints: rows[0].checkpoints, checkpointSeqs: cps.rows.map((r) => Number(r.seq)), snapshotSeq: rows[0].snapshot_seq }
    } finally {
      await client.end()
    }
  }
  const { default: Database } = await import('better-sqlite3')
  const db = new Database(`${s.dir}/apisync.sqlite`, { readonly: true })
  try {
    const one = (sql: string) => (db.prepare(sql).get(doc) as { n: number } | undefined)?.n ?? 0
    return {
      rows: one('SELECT count(*) AS n FROM doc_updates WHERE doc = ?'),
      checkpoints: one('SELECT count(*) AS n FROM doc_checkpoints WHERE doc = ?'),
      checkpointSeqs: (db.prepare('SELECT seq FROM doc_checkpoints WHERE doc = ?').all(doc) as { seq: number }[]).map((r) => r.seq),
      snapshotSeq: one('SELECT seq AS n FROM doc_snapshots WHERE doc = ?'),
    }
  } finally {
    db.close()
  }
}

/**
 * A store as a relay from before history left it: compaction deleted the log it folded into the snapshot, and the
 * schema has none of the history columns. SQLite layout 2, Postgres schema 1.
 */
async function storeBeforeHistory(backend: TestBackend, build: (store: DocStore) => Promise<void>): Promise<() => Promise<SqliteDocStore | PostgresDocStore>> {
  const relay = await import('@apisync/relay')
  if (backend === 'sqlite') {
    const { default: Database } = await import('better-sqlite3')
    const dir = await tempDir()
    cleanup.push(() => rm(dir, { recursive: true, force: true }))
    const old = new relay.SqliteDocStore({ dataDir: dir, history: false })
    await build(old)
    await old.close()
    const db = new Database(`${dir}/apisync.sqlite`)
    db.exec('DROP TABLE doc_checkpoints; ALTER TABLE doc_updates DROP COLUMN first_seq; ALTER TABLE doc_updates DROP COLUMN changes; ALTER TABLE doc_updates DROP COLUMN authors')
    db.pragma('user_version = 2')
    db.close()
    return async () => new relay.SqliteDocStore({ dataDir: dir })
  }
  const database = await testDatabase()
  cleanup.push(() => database.drop())
  const old = new relay.PostgresDocStore({ url: database.url, history: false })
  await old.opened()
  await build(old)
  await old.close()
  const client = new pg.Client({ connectionString: database.url })
  await client.connect()
  await client.query('DROP TABLE apisync_checkpoints; ALTER TABLE apisync_updates DROP COLUMN first_seq, DROP COLUMN changes, DROP COLUMN authors; UPDATE apisync_schema SET version = 1')
  await client.end()
  return async () => {
    const store = new relay.PostgresDocStore({ url: database.url })
    await store.opened()
    return store
  }
}

describe.each(backends)('migration to history (%s: SQLite layout 2 → 3, Postgres schema 1 → 2)', (backend) => {
  it('a doc compacted before history existed starts its history at its snapshot; later updates are versions', async () => {
    const author = { account: 'alice', session: 'alice-laptop', device: 'Laptop' }
    const doc = new Y.Doc()
    const updates: Uint8Array[] = []
    doc.on('update', (u: Uint8Array) => updates.push(u))
    for (let i = 0; i < 6; i++) doc.getArray('l').push([i])
    const reopen = await storeBeforeHistory(backend, async (old) => {
      await old.appendUpdates(updates.slice(0, 4).map((update) => ({ docName: 'w1/old', update, author })))
      await old.compact('w1/old', Y.mergeUpdates(updates.slice(0, 4)), 4)
      await old.appendUpdates(updates.slice(4).map((update) => ({ docName: 'w1/old', update, author })))
    })

    const store = await reopen()
    try {
      expect(await store.historyBounds('w1/old')).toEqual({ head: 6, oldest: 4 })
      for (let at = 0; at <= 6; at++) {
        const state = await store.historyState('w1/old', at)
        if (at < 4) expect(state).toMatchObject({ ok: false, reason: 'gone' })
        else {
          if (!state.ok) throw new Error(`seq ${at}: ${state.reason}`)
          expect(state.base).toBe(0)
          const opened = new Y.Doc()
          for (const part of state.parts) Y.applyUpdate(opened, part)
          expect(opened.getArray('l').toJSON()).toEqual([...Array(at).keys()])
          // From a version it holds, history that began at a snapshot sends the rows only.
          if (at > 4) {
            const after = await store.historyState('w1/old', at, 4)
            expect(after).toMatchObject({ ok: true, base: 4 })
            if (after.ok) expect(after.parts).toHaveLength(at - 4)
          }
        }
      }
      const versions = await store.versions('w1/old', null, 10)
      expect(versions.map((v) => [v.firstSeq, v.seq])).toEqual([[5, 6]])
      const loaded = await store.load('w1/old')
      const live = new Y.Doc()
      for (const u of loaded.updates) Y.applyUpdate(live, u)
      expect(live.getArray('l').toJSON()).toEqual([0, 1, 2, 3, 4, 5])

      // The snapshot history began at is replaced by the next compaction: version 4 must not go with it.
      await store.compact('w1/old', Y.mergeUpdates(updates), 6)
      expect(await store.historyBounds('w1/old')).toEqual({ head: 6, oldest: 4 })
      for (let at = 4; at <= 6; at++) {
        const state = await store.historyState('w1/old', at)
        if (!state.ok) throw new Error(`seq ${at} after compaction: ${state.reason}`)
        const opened = new Y.Doc()
        for (const part of state.parts) Y.applyUpdate(opened, part)
        expect(opened.getArray('l').toJSON()).toEqual([...Array(at).keys()])
      }
    } finally {
      await store.close()
    }
  })
})
