/** Doc lifecycle and operations: unload after the grace period, compaction, restart, health, metrics, shutdown. */
import Database from 'better-sqlite3'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { RawClient, SyncClient, eventually, readStoredDoc, startTestRelay, tempDir, type TestRelay } from './helpers.js'

let relay: TestRelay | null = null
afterEach(async () => {
  await relay?.close()
  relay = null
})

const rowsOf = (dir: string, doc: string) => {
  const db = new Database(join(dir, 'apisync.sqlite'), { readonly: true })
  try {
    // log: the rows a load reads after the snapshot; kept: every row (history keeps them after compaction).
    const after = 'SELECT COUNT(*) AS n FROM doc_updates WHERE doc = ?1 AND doc_seq > coalesce((SELECT seq FROM doc_snapshots WHERE doc = ?1), 0)'
    return {
      log: (db.prepare(after.replaceAll('?1', '@doc')).get({ doc }) as { n: number }).n,
      snapshot: (db.prepare('SELECT COUNT(*) AS n FROM doc_snapshots WHERE doc = ?').get(doc) as { n: number }).n,
      kept: (db.prepare('SELECT COUNT(*) AS n FROM doc_updates WHERE doc = ?').get(doc) as { n: number }).n,
    }
  } finally {
    db.close()
  }
}

describe('doc lifecycle', () => {
  it('unloads a doc once it has had no connection for the grace period, and reloads it from storage', async () => {
    relay = await startTestRelay({ unloadAfterMs: 150 })
    const token = await relay.token()
    const a = await SyncClient.connect(relay.syncUrl('w1/idle', token, '&ack=1'))
    a.doc.getText('t').insert(0, 'kept')
    await a.waitForAckCovering()
    expect(relay.running.relay.stats().docs).toBe(1)
    a.close()
    await a.raw.closed
    await new Promise((r) => setTimeout(r, 60))
    expect(relay.running.relay.stats().docs).toBe(1) // still within the grace period
    await eventually(() => relay!.running.relay.stats().docs === 0, 3000, 'unload')
    expect(relay.running.relay.metrics.docUnloads.get()).toBe(1)

    const b = await SyncClient.connect(relay.syncUrl('w1/idle', token))
    await b.whenSynced()
    expect(b.doc.getText('t').toString()).toBe('kept')
    b.close()
  })

  it('a connection within the grace period keeps the doc loaded', async () => {
    relay = await startTestRelay({ unloadAfterMs: 200 })
    const token = await relay.token()
    const a = await SyncClient.connect(relay.syncUrl('w1/grace', token))
    await a.whenSynced()
    a.close()
    await a.raw.closed
    const b = await SyncClient.connect(relay.syncUrl('w1/grace', token))
    await b.whenSynced()
    await new Promise((r) => setTimeout(r, 300))
    expect(relay.running.relay.stats().docs).toBe(1)
    expect(relay.running.relay.metrics.docLoads.get()).toBe(1)
    b.close()
  })

  it('compacts the update log into a snapshot in the background', async () => {
    relay = await startTestRelay({ compactAfterUpdates: 20, compactDelayMs: 20 })
    const c = await SyncClient.connect(relay.syncUrl('w1/compact', await relay.token(), '&ack=1'))
    await c.whenSynced()
    for (let i = 0; i < 30; i++) {
      c.doc.getArray<number>('a').push([i])
      await c.waitForAckCovering()
    }
    await eventually(() => rowsOf(relay!.dir, 'w1/compact').snapshot === 1, 3000, 'background compaction')
    expect(rowsOf(relay.dir, 'w1/compact').log).toBeLessThan(20)
    expect(readStoredDoc(relay.dir, 'w1/compact').getArray('a').toJSON()).toEqual([...Array(30).keys()])
    expect(relay.running.relay.stats().docs).toBe(1) // compacted while loaded and connected
    c.close()
  })

  it('compacts a long log when the doc is unloaded, and leaves a short one alone', async () => {
    relay = await startTestRelay({ compactAfterUpdates: 20, compactDelayMs: 60_000, unloadAfterMs: 30 })
    const token = await relay.token()
    for (const [name, count] of [['w1/long', 25], ['w1/short', 5]] as const) {
      const c = await SyncClient.connect(relay.syncUrl(name, token, '&ack=1'))
      for (let i = 0; i < count; i++) {
        c.doc.getArray<number>('a').push([i])
        await c.waitForAckCovering()
      }
      c.close()
    }
    await eventually(() => relay!.running.relay.stats().docs === 0, 3000, 'unload')
    expect(rowsOf(relay.dir, 'w1/long')).toEqual({ log: 0, snapshot: 1, kept: 25 })
    expect(rowsOf(relay.dir, 'w1/short')).toEqual({ log: 5, snapshot: 0, kept: 5 })
    expect(readStoredDoc(relay.dir, 'w1/long').getArray('a').toJSON()).toEqual([...Array(25).keys()])
    expect(readStoredDoc(relay.dir, 'w1/short').getArray('a').toJSON()).toEqual([...Array(5).keys()])
  })

  it('with history off, compaction drops the log it folded into the snapshot', async () => {
    relay = await startTestRelay({ compactAfterUpdates: 20, compactDelayMs: 60_000, unloadAfterMs: 30, history: false })
    const c = await SyncClient.connect(relay.syncUrl('w1/nohistory', await relay.token(), '&ack=1'))
    for (let i = 0; i < 25; i++) {
      c.doc.getArray<number>('a').push([i])
      await c.waitForAckCovering()
    }
    c.close()
    await eventually(() => relay!.running.relay.stats().docs === 0, 3000, 'unload')
    expect(rowsOf(relay.dir, 'w1/nohistory')).toEqual({ log: 0, snapshot: 1, kept: 0 })
    expect(readStoredDoc(relay.dir, 'w1/nohistory').getArray('a').toJSON()).toEqual([...Array(25).keys()])
    const res = await fetch(`${relay.running.url}/history?doc=w1%2Fnohistory`, { headers: { authorization: `Bearer ${await relay.token()}` } })
    expect(res.status).toBe(404)
    expect(await res.json()).toMatchObject({ code: 'HISTORY_OFF' })
  })

  it('loses nothing while clients come and go faster than the doc loads and unloads', async () => {
    relay = await startTestRelay({ unloadAfterMs: 0, compactAfterUpdates: 3, compactDelayMs: 0 })
    const token = await relay.token()
    for (let i = 0; i < 25; i++) {
      const c = await SyncClient.connect(relay.syncUrl('w1/churn', token, '&ack=1'))
      c.doc.getMap('m').set(`k${i}`, i)
      await c.waitForAckCovering()
      c.close()
      if (i % 3 === 0) await c.raw.closed
    }
    const reader = await SyncClient.connect(relay.syncUrl('w1/churn', token))
    await reader.whenSynced()
    expect(reader.doc.getMap('m').size).toBe(25)
    reader.close()
  })

  it('restores every doc after a restart on the same data directory (snapshot + later log)', async () => {
    const dir = await tempDir()
    relay = await startTestRelay({ dataDir: dir, compactAfterUpdates: 5, compactDelayMs: 0 })
    const token = await relay.token()
    const names = ['w1/manifest', 'w1/collection/a', 'w1/environment/e']
    for (const name of names) {
      const c = await SyncClient.connect(relay.syncUrl(name, token, '&ack=1'))
      for (let i = 0; i < 8; i++) {
        c.doc.getArray('a').push([`${name}:${i}`])
        await c.waitForAckCovering()
      }
      c.close()
    }
    await relay.running.close()
    relay = await startTestRelay({ dataDir: dir })
    for (const name of names) {
      const c = await SyncClient.connect(relay.syncUrl(name, token))
      await c.whenSynced()
      expect(c.doc.getArray('a').toJSON()).toEqual([...Array(8).keys()].map((i) => `${name}:${i}`))
      c.close()
    }
  })
})

describe('operations', () => {
  it('GET /healthz and GET /metrics (Prometheus text) reflect the traffic', async () => {
    relay = await startTestRelay()
    const health = await fetch(`${relay.running.url}/healthz`)
    expect(health.status).toBe(200)
    expect(await health.json()).toEqual({ status: 'ok', connections: 0, docs: 0, store: { kind: 'sqlite', ok: true }, bus: { kind: 'none', ok: true } })

    const c = await SyncClient.connect(relay.syncUrl('w1/m', await relay.token(), '&ack=1'))
    c.doc.getText('t').insert(0, 'metrics')
    await c.waitForAckCovering()
    const res = await fetch(`${relay.running.url}/metrics`)
    expect(res.headers.get('content-type')).toMatch(/^text\/plain/)
    const text = await res.text()
    const value = (name: string) => Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1])
    expect(value('apisync_connections')).toBe(1)
    expect(value('apisync_docs_loaded')).toBe(1)
    expect(value('apisync_updates_in_total')).toBeGreaterThanOrEqual(1)
    expect(value('apisync_updates_committed_total')).toBeGreaterThanOrEqual(1)
    expect(value('apisync_bytes_in_total')).toBeGreaterThan(0)
    expect(value('apisync_bytes_out_total')).toBeGreaterThan(0)
    expect(value('apisync_commit_seconds_count')).toBeGreaterThanOrEqual(1)
    expect(value('apisync_ack_latency_seconds_count')).toBeGreaterThanOrEqual(1)
    expect(text).toMatch(/^# TYPE apisync_ack_latency_seconds histogram$/m)
    expect(text).toMatch(/^apisync_ack_latency_seconds_bucket\{le="\+Inf"\} \d+$/m)
    c.close()
  })

  it('close(): commits what arrived, closes every socket with 1012, and keeps everything for the next start', async () => {
    const dir = await tempDir()
    relay = await startTestRelay({ dataDir: dir })
    const token = await relay.token()
    const clients = await Promise.all(['w1/a', 'w1/b'].map((n) => SyncClient.connect(relay!.syncUrl(n, token))))
    await Promise.all(clients.map((c) => c.whenSynced()))
    clients.forEach((c, i) => c.doc.getText('t').insert(0, `doc ${i}`))
    await new Promise((r) => setTimeout(r, 30))
    const closing = relay.running.close()
    expect((await Promise.all(clients.map((c) => c.raw.closed))).map((c) => c.code)).toEqual([1012, 1012])
    await closing
    expect(readStoredDoc(dir, 'w1/a').getText('t').toString()).toBe('doc 0')
    expect(readStoredDoc(dir, 'w1/b').getText('t').toString()).toBe('doc 1')
    relay = await startTestRelay({ dataDir: dir })
  })

  it('a message over maxMessageBytes closes that connection with 4413 and stores nothing; others carry on', async () => {
    relay = await startTestRelay({ maxMessageBytes: 4096 })
    const token = await relay.token()
    const bystander = await SyncClient.connect(relay.syncUrl('w1/big', token, '&ack=1'))
    await bystander.whenSynced()
    const big = await SyncClient.connect(relay.syncUrl('w1/big', await relay.token({ sid: 's2' })))
    await big.whenSynced()
    big.doc.getText('t').insert(0, 'x'.repeat(10_000))
    expect((await big.raw.closed).code).toBe(4413)
    bystander.doc.getText('t').insert(0, 'small')
    await bystander.waitForAckCovering()
    expect((await relay.storedDoc('w1/big')).getText('t').toString()).toBe('small')
    bystander.close()
  })

  it('never logs a token', async () => {
    relay = await startTestRelay({ devAuth: true })
    const token = await relay.token()
    const c = await RawClient.connect(relay.syncUrl('w1/log', token))
    await c.next(() => true)
    await fetch(`${relay.running.url}/sessions`, { headers: { authorization: `Bearer ${token}` } })
    const dev = (await (await fetch(`${relay.running.url}/dev/token`, { method: 'POST', body: JSON.stringify({ name: 'x' }) })).json()) as { token: string }
    await (await RawClient.connect(relay.syncUrl('w1/log', dev.token))).closed.catch(() => {})
    c.close()
    await c.closed
    expect(relay.logs.length).toBeGreaterThan(3)
    for (const t of [token, dev.token]) expect(relay.logs.some((l) => l.includes(t.split('.')[2]))).toBe(false)
  })
})
