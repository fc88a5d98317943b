/** The account's key backup: opaque to the relay, readable only with the account's own token. */
import { join } from 'node:path'
import Database from 'better-sqlite3'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { startTestRelay, type TestRelay } from './helpers.js'

let relay: TestRelay
beforeEach(async () => {
  relay = await startTestRelay()
})
afterEach(async () => {
  await relay.close()
})

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
    const res = await fetch(`${relay.running.url}/account`, { method: 'DELETE', headers: { authorization: `Bearer ${alice}` } })
    expect(res.status).toBe(200)
    const db = new Database(join(relay.dir, 'apisync.sqlite'), { readonly: true })
    try {
      expect(db.prepare('SELECT COUNT(*) AS n FROM key_backups WHERE account = ?').get('alice')).toEqual({ n: 0 })
    } finally {
      db.close()
    }
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
