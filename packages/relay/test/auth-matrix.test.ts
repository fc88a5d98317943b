/**
 * Every refusal of the auth matrix gets its exact close code and stores nothing, over real sockets. The
 * client of each row sends a sync step 1 and a real update straight after the socket opens, as a provider
 * would, so "nothing stored" is tested against an actual write attempt.
 */
import { SignJWT, base64url, generateKeyPair } from 'jose'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { accountSpaceId, signToken } from '@apisync/relay'
import { RawClient, SECRET, encodeSyncMessage, isPermissionDenied, someUpdate, startTestRelay, type TestRelay } from './helpers.js'

const ISSUER = 'https://auth.example.test'
const AUDIENCE = 'apisync'
const MAX_DEVICES = 2

let relay: TestRelay
const issued: string[] = []

beforeAll(async () => {
  relay = await startTestRelay({ auth: { secret: SECRET, issuer: ISSUER, audience: AUDIENCE }, maxDevices: MAX_DEVICES })
})
afterAll(async () => {
  // No log line ever carries a token (nor its signature).
  for (const token of issued) {
    const signature = token.split('.')[2]
    expect(relay.logs.filter((l) => l.includes(token) || (signature && l.includes(signature)))).toEqual([])
  }
  await relay.close()
})

const good = { issuer: ISSUER, audience: AUDIENCE }
const token = async (claims: Parameters<TestRelay['token']>[0] = {}, options: Parameters<TestRelay['token']>[1] = {}) => {
  const t = await relay.token(claims, { ...good, ...options })
  issued.push(t)
  return t
}

const until = async (check: () => Promise<boolean>, ms = 5_000) => {
  for (const end = Date.now() + ms; !(await check()); ) {
    if (Date.now() > end) throw new Error('timed out')
    await new Promise((r) => setTimeout(r, 20))
  }
}

/** Open a socket to `docName` with `tokenValue`, try to write, and return how it was closed. */
async function attempt(docName: string, tokenValue: string | null, extra = '') {
  const url =
    tokenValue === null ? `${relay.running.wsUrl}/sync/${docName}${extra}` : relay.syncUrl(docName, tokenValue, extra)
  const client = await RawClient.connect(url)
  client.send(encodeSyncMessage(0, new Uint8Array([0])))
  client.send(encodeSyncMessage(2, someUpdate('intruder')))
  return client
}

async function expectRefused(docName: string, tokenValue: string | null, code: number, reason?: RegExp) {
  const client = await attempt(docName, tokenValue)
  const closed = await client.closed
  expect(closed.code).toBe(code)
  if (reason) expect(closed.reason).toMatch(reason)
  expect(await relay.storedRows(docName)).toBe(0)
  return closed
}

describe('auth matrix: each refusal closes with its code and stores nothing', () => {
  it('no token → 4401', async () => {
    await expectRefused('w1/no-token', null, 4401, /missing/)
  })

  it('malformed token → 4401', async () => {
    await expectRefused('w1/malformed', 'not-a.jwt', 4401)
    await expectRefused('w1/malformed', 'garbage', 4401)
  })

  it('alg none (unsecured JWT) → 4401', async () => {
    const now = Math.floor(Date.now() / 1000)
    const enc = (o: object) => base64url.encode(JSON.stringify(o))
    const unsecured = `${enc({ alg: 'none', typ: 'JWT' })}.${enc({ sub: 'alice', sid: 'x', ws: { w1: 'owner' }, iss: ISSUER, aud: AUDIENCE, exp: now + 600 })}.`
    await expectRefused('w1/alg-none', unsecured, 4401)
  })

  it('signed with the wrong key → 4401', async () => {
    const forged = await signToken({ sub: 'alice', sid: 'x', ws: { w1: 'owner' } }, { secret: 'some-other-secret-of-sufficient-length!!' }, good)
    await expectRefused('w1/wrong-key', forged, 4401, /signature/)
  })

  it('an algorithm the relay does not accept (ES256 when configured for HS256) → 4401', async () => {
    const { privateKey } = await generateKeyPair('ES256')
    const es = await signToken({ sub: 'alice', sid: 'x', ws: { w1: 'owner' } }, { privateKey, alg: 'ES256' }, good)
    await expectRefused('w1/wrong-alg', es, 4401)
  })

  it('tampered payload (granting another workspace under the old signature) → 4401', async () => {
    const [header, , signature] = (await token({ ws: { w9: 'viewer' } })).split('.')
    const now = Math.floor(Date.now() / 1000)
    const payload = base64url.encode(JSON.stringify({ sub: 'alice', sid: 'alice-laptop', ws: { w1: 'owner' }, iss: ISSUER, aud: AUDIENCE, exp: now + 600 }))
    await expectRefused('w1/tampered', `${header}.${payload}.${signature}`, 4401)
  })

  it('expired → 4401', async () => {
    await expectRefused('w1/expired', await token({}, { expiresIn: -60 }), 4401, /expired/)
  })

  it('nbf in the future → 4401', async () => {
    await expectRefused('w1/nbf', await token({}, { notBefore: '1h' }), 4401, /not yet valid/)
  })

  it('wrong or missing iss → 4401', async () => {
    await expectRefused('w1/iss', await token({}, { issuer: 'https://evil.example.test' }), 4401, /issuer/)
    await expectRefused('w1/iss', await relay.token({}, { audience: AUDIENCE }), 4401)
  })

  it('wrong or missing aud → 4401', async () => {
    await expectRefused('w1/aud', await token({}, { audience: 'someone-else' }), 4401, /audience/)
    await expectRefused('w1/aud', await relay.token({}, { issuer: ISSUER }), 4401)
  })

  it('missing or malformed apisync claims (sid, ws) → 4401', async () => {
    const key = new TextEncoder().encode(SECRET)
    const base = () => new SignJWT({ ws: { w1: 'owner' } }).setProtectedHeader({ alg: 'HS256' }).setSubject('alice').setIssuer(ISSUER).setAudience(AUDIENCE).setExpirationTime('10m')
    await expectRefused('w1/claims', await base().sign(key), 4401, /sid/)
    const badRole = await new SignJWT({ sid: 's', ws: { w1: 'admin' } }).setProtectedHeader({ alg: 'HS256' }).setSubject('alice').setIssuer(ISSUER).setAudience(AUDIENCE).setExpirationTime('10m').sign(key)
    await expectRefused('w1/claims', badRole, 4401, /ws/)
    const noExp = await new SignJWT({ sid: 's', ws: { w1: 'owner' } }).setProtectedHeader({ alg: 'HS256' }).setSubject('alice').setIssuer(ISSUER).setAudience(AUDIENCE).sign(key)
    await expectRefused('w1/claims', noExp, 4401)
  })

  it('workspace not granted → 4403', async () => {
    await expectRefused('w1/not-granted', await token({ ws: { w2: 'owner' } }), 4403, /workspace/)
  })

  it('the account’s own space (~…): granted to that account without a ws claim; to nobody else, whatever ws says', async () => {
    const space = accountSpaceId('carol')
    expect(space).toMatch(/^~[A-Za-z0-9_-]{43}$/)
    const own = await attempt(`${space}/account`, await token({ sub: 'carol', sid: 'carol-1', ws: {} }))
    await own.next((f) => f[0] === 0 && f[1] === 0) // the relay's sync step 1: admitted
    await until(async () => (await relay.storedRows(`${space}/account`)) > 0)
    own.close()
    await expectRefused(`${accountSpaceId('dave')}/account`, await token({ sub: 'carol', sid: 'carol-2', ws: {} }), 4403, /workspace/)
    // A host that names another account's space in ws grants nothing.
    await expectRefused(`${accountSpaceId('dave')}/account`, await token({ sub: 'carol', sid: 'carol-3', ws: { [accountSpaceId('dave')]: 'owner' } }), 4403)
  })

  it('malformed doc name → 4400', async () => {
    await expectRefused('w1', await token(), 4400)
  })

  it('viewer write → refused with permission-denied, never applied or stored, connection stays open', async () => {
    const client = await attempt('w1/viewer', await token({ sub: 'bob', sid: 'bob-1', ws: { w1: 'viewer' } }))
    await client.next(isPermissionDenied)
    expect(client.socket.readyState).toBe(client.socket.OPEN)
    expect(await relay.storedRows('w1/viewer')).toBe(0)
    // A fresh owner sees an empty doc: the refused update was not applied in memory either.
    const owner = await RawClient.connect(relay.syncUrl('w1/viewer', await token()))
    owner.send(encodeSyncMessage(0, new Uint8Array([0])))
    const step2 = await owner.next((f) => f[0] === 0 && f[1] === 1)
    expect([...step2.slice(2)]).toEqual([2, 0, 0]) // varUint8Array of the empty update [0, 0]
    client.close()
    owner.close()
  })

  it('revoked session → 4410, and a live one is closed with 4410 at once', async () => {
    const live = await RawClient.connect(relay.syncUrl('w1/revoked', await token({ sub: 'carol', sid: 'carol-1', ws: { w1: 'owner' } })))
    const other = await token({ sub: 'carol', sid: 'carol-2', ws: { w1: 'owner' } })
    const res = await fetch(`${relay.running.url}/sessions/carol-1`, { method: 'DELETE', headers: { authorization: `Bearer ${other}` } })
    expect(res.status).toBe(200)
    expect((await live.closed).code).toBe(4410)
    await expectRefused('w1/revoked', await token({ sub: 'carol', sid: 'carol-1', ws: { w1: 'owner' } }), 4410, /revoked/)
  })

  it('device N+1 → 4409 with the session list in the reason', async () => {
    const devices = []
    for (let i = 1; i <= MAX_DEVICES; i++) {
      devices.push(await RawClient.connect(relay.syncUrl('w1/devices', await token({ sub: 'dave', sid: `d${i}`, name: `device ${i}` }))))
    }
    // A second connection of a session already connected is not a new device.
    const sameSession = await RawClient.connect(relay.syncUrl('w1/devices-2', await token({ sub: 'dave', sid: 'd1' })))
    await sameSession.next(() => true)
    const closed = await expectRefused('w1/devices-3', await token({ sub: 'dave', sid: 'd3' }), 4409)
    const reason = JSON.parse(closed.reason) as { limit: number; sessions: { sid: string; device?: string }[] }
    expect(reason.limit).toBe(MAX_DEVICES)
    expect(reason.sessions.map((s) => s.sid).sort()).toEqual(['d1', 'd2'])
    for (const d of [...devices, sameSession]) d.close()
  })

  it('token expiring during a live connection → closed with 4401 at expiry', async () => {
    const client = await RawClient.connect(relay.syncUrl('w1/expiring', await token({}, { expiresIn: 1 })))
    await client.next(() => true)
    const started = Date.now()
    const closed = await client.closed
    expect(closed.code).toBe(4401)
    expect(closed.reason).toMatch(/expired/)
    expect(Date.now() - started).toBeLessThan(2500)
  })

  it('HTTP API refuses the same tokens with a status and the matching code', async () => {
    const res = await fetch(`${relay.running.url}/sessions`, { headers: { authorization: `Bearer ${await token({}, { expiresIn: -5 })}` } })
    expect(res.status).toBe(401)
    expect(await res.json()).toMatchObject({ code: 4401, message: 'token expired' })
    const none = await fetch(`${relay.running.url}/sessions`)
    expect(none.status).toBe(401)
  })
})
