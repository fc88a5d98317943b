/** The account's key backup: opaque to the relay, readable only with the account's own token. */
import { request } from 'node:http'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import pg from 'pg'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { startTestRelay, type TestBackend, type TestRelay } from './helpers.js'
import { services } from './services.js'

const backends: TestBackend[] = (await services(['postgres'])) ? ['sqlite', 'postgres'] : ['sqlite']

describe.each(backends)('%s', (backend) => {
  let relay: TestRelay
  beforeEach(async () => {
    relay = await startTestRelay({ backend })
  })
  afterEach(async () => {
    await relay.close()
  })

  const storedBackups = async (account: string): Promise<number> => {
    if (relay.postgresUrl) {
      const client = new pg.Client({ connectionString: relay.postgresUrl })
      await client.connect()
      const { rows } = await client.query('SELECT count(*)::int AS n FROM apisync_key_backups WHERE account = $1', [account])
      await client.end()
      return rows[0].n
    }
    const db = new Database(join(relay.dir, 'apisync.sqlite'), { readonly: true })
    try {
      return (db.prepare('SELECT COUNT(*) AS n FROM key_backups WHERE account = ?').get(account) as { n: number }).n
    } finally {
      db.close()
    }
  }

  const jwe = 'eyJhbGciOiJQQkVTMiJ9.a2V5.aXY.Y2lwaGVy.dGFn'
  const call = (method: string, token: string | null, body?: unknown) =>
    fetch(`${relay.running.url}/account/key-backup`, {
      method,
      headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
    })

  describe('key backup', () => {
    it('stores one backup per account, returns it to that account only', async () => {
      const alice = await relay.token()
      const alicePhone = await relay.token({ sid: 'alice-phone' })
      const bob = await relay.token({ sub: 'bob', sid: 'bob-1' })
      expect((await call('GET', alice)).status).toBe(404)
      expect((await call('PUT', alice, { backup: jwe })).status).toBe(200)
      const got = await call('GET', alicePhone)
      expect(got.status).toBe(200)
      expect((await got.json()).backup).toBe(jwe)
      expect((await call('GET', bob)).status).toBe(404)
      const replaced = `${jwe}x`
      await call('PUT', alice, { backup: replaced })
      expect((await (await call('GET', alice)).json()).backup).toBe(replaced)
    })

    it('refuses missing tokens, non-JWE bodies, oversized bodies and revoked sessions', async () => {
      const alice = await relay.token()
      expect((await call('GET', null)).status).toBe(401)
      expect((await call('PUT', null, { backup: jwe })).status).toBe(401)
      expect((await call('PUT', alice, { backup: 'not a jwe' })).status).toBe(400)
      expect((await call('PUT', alice, { backup: 42 })).status).toBe(400)
      expect((await call('PUT', alice, '{"backup":')).status).toBe(400)
      expect((await call('PUT', alice, { backup: `${jwe}${'A'.repeat(40_000)}` })).status).toBe(413)
      expect((await call('GET', alice)).status).toBe(404)
      await fetch(`${relay.running.url}/sessions?all=1`, { method: 'DELETE', headers: { authorization: `Bearer ${alice}` } })
      expect((await call('GET', alice)).status).toBe(401)
    })

    it('is removed with the account', async () => {
      const alice = await relay.token()
      await call('PUT', alice, { backup: jwe })
      expect(await storedBackups('alice')).toBe(1)
      const res = await fetch(`${relay.running.url}/account`, { method: 'DELETE', headers: { authorization: `Bearer ${alice}` } })
      expect(res.status).toBe(200)
      expect(await storedBackups('alice')).toBe(0)
    })

    it('answers 413 for a backup over 16 KiB, sent whole or chunked, and reads no more of a huge chunked body than the limit', async () => {
      const alice = await relay.token()
      const big = `${jwe}${'A'.repeat(20 * 1024)}` // a valid-looking JWE of 20 KiB
      const whole = await call('PUT', alice, { backup: big })
      expect(whole.status).toBe(413)
      expect(await whole.json()).toMatchObject({ error: 'TooLarge', code: 4413 })
      // A backup just under the limit in a body just over it (JSON escapes) is refused as well, never half-read.
      expect((await call('PUT', alice, `{"backup":"${jwe}","pad":"${'\\u0041'.repeat(4000)}"}`)).status).toBe(413)

      // 300 MB chunked (no content-length): the relay answers 413 long before the upload ends, and its memory
      // does not follow the upload.
      const rssBefore = process.memoryUsage.rss()
      const { status, sentWhenAnswered } = await chunkedPut(`${relay.running.url}/account/key-backup`, alice, 300 * 1024 * 1024)
      expect(status).toBe(413)
      expect(sentWhenAnswered).toBeLessThan(32 * 1024 * 1024)
      expect(process.memoryUsage.rss() - rssBefore).toBeLessThan(200 * 1024 * 1024)
      expect((await call('GET', alice)).status).toBe(404)
    })

    it('every other route that reads a body has a limit too (POST /dev/token)', async () => {
      await relay.close()
      relay = await startTestRelay({ backend, devAuth: true })
      const res = await fetch(`${relay.running.url}/dev/token`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: 'a', pad: 'x'.repeat(100_000) }) })
      expect(res.status).toBe(413)
      const chunked = await chunkedPut(`${relay.running.url}/dev/token`, null, 50 * 1024 * 1024, 'POST')
      expect(chunked.status).toBe(413)
      expect(chunked.sentWhenAnswered).toBeLessThan(32 * 1024 * 1024)
    })
  })

  describe('key backup from another origin', () => {
    it('allows PUT in a CORS preflight, so a web app on another origin can upload its backup', async () => {
      const res = await fetch(`${relay.running.url}/account/key-backup`, {
        method: 'OPTIONS',
        headers: { origin: 'https://app.example', 'access-control-request-method': 'PUT', 'access-control-request-headers': 'authorization,content-type' },
      })
      expect(res.headers.get('access-control-allow-methods')).toContain('PUT')
    })
  })
})

/**
 * Stream `total` bytes (a JSON string that never ends) with chunked transfer encoding, as fast as the socket
 * takes them, until the server answers or the body is sent; resolves to the status and how much was sent then.
 */
function chunkedPut(url: string, token: string | null, total: number, method = 'PUT'): Promise<{ status: number; sentWhenAnswered: number }> {
  return new Promise((resolve, reject) => {
    let sent = 0
    let answered = false
    const req = request(url, {
      method,
      headers: { 'content-type': 'application/json', 'transfer-encoding': 'chunked', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    })
    const chunk = Buffer.alloc(64 * 1024, 'A')
    const pump = () => {
      while (!answered && sent < total) {
        const first = sent === 0
        const piece = first ? Buffer.concat([Buffer.from('{"backup":"'), chunk]) : chunk
        sent += piece.length
        if (!req.write(piece)) return void req.once('drain', pump)
      }
      if (!answered) req.end('"}')
    }
    req.on('response', (res) => {
      answered = true
      res.resume()
      resolve({ status: res.statusCode ?? 0, sentWhenAnswered: sent })
      req.destroy()
    })
    req.on('error', (err) => {
      if (!answered) reject(err)
    })
    pump()
  })
}
