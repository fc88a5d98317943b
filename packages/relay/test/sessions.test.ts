/** Sessions over HTTP and WebSocket: list, revoke one, revoke all, the device limit, account deletion, dev auth. */
import { afterEach, describe, expect, it } from 'vitest'
import { calculateJwkThumbprint, decodeJwt, exportJWK, generateKeyPair } from 'jose'
import pg from 'pg'
import { rm } from 'node:fs/promises'
import { accountSpaceId, silentLogger, startRelay } from '@apisync/relay'
import { RawClient, SyncClient, eventually, startTestRelay, tempDir, type TestBackend, type TestRelay } from './helpers.js'
import { services, testDatabase } from './services.js'

// Every test runs on the embedded SQLite registry and on the Postgres one (a database of its own).
const backends: TestBackend[] = (await services(['postgres'])) ? ['sqlite', 'postgres'] : ['sqlite']

let relay: TestRelay | null = null
afterEach(async () => {
  await relay?.close()
  relay = null
})

const api = async (r: TestRelay, method: string, path: string, token: string) => {
  const res = await fetch(`${r.running.url}${path}`, { method, headers: { authorization: `Bearer ${token}` } })
  return { status: res.status, body: (await res.json()) as Record<string, unknown> & { sessions?: { sid: string; device: string | null; connections: number; current: boolean }[] } }
}

describe.each(backends)('%s', (backend) => {
  describe('session API', () => {
    it('lists the account’s sessions with device names and live connections, and only its own', async () => {
      relay = await startTestRelay({ backend })
      const laptop = await relay.token({ sid: 'laptop', name: 'Laptop' })
      const phone = await relay.token({ sid: 'phone', name: 'Phone' })
      const a = await RawClient.connect(relay.syncUrl('w1/a', laptop))
      const b = await RawClient.connect(relay.syncUrl('w1/b', laptop))
      const c = await RawClient.connect(relay.syncUrl('w1/a', phone))
      await Promise.all([a, b, c].map((x) => x.next(() => true)))
      await RawClient.connect(relay.syncUrl('w1/x', await relay.token({ sub: 'mallory', sid: 'm1' })))

      const { status, body } = await api(relay, 'GET', '/sessions', laptop)
      expect(status).toBe(200)
      expect(body.account).toBe('alice')
      const byId = Object.fromEntries(body.sessions!.map((s) => [s.sid, s]))
      expect(Object.keys(byId).sort()).toEqual(['laptop', 'phone'])
      expect(byId.laptop).toMatchObject({ device: 'Laptop', connections: 2, current: true })
      expect(byId.phone).toMatchObject({ device: 'Phone', connections: 1, current: false })
      for (const x of [a, b, c]) x.close()
    })

    it('revokes one session (its sockets close 4410 at once), all but the caller’s, or all', async () => {
      relay = await startTestRelay({ backend, maxDevices: 0 })
      const tokens = await Promise.all(['s1', 's2', 's3', 's4'].map((sid) => relay!.token({ sid })))
      const clients = await Promise.all(tokens.map((t) => RawClient.connect(relay!.syncUrl('w1/doc', t))))
      await Promise.all(clients.map((c) => c.next(() => true)))

      expect((await api(relay, 'DELETE', '/sessions/s2', tokens[0])).body).toEqual({ revoked: ['s2'] })
      expect((await clients[1].closed).code).toBe(4410)
      expect((await api(relay, 'DELETE', '/sessions/s2', tokens[0])).status).toBe(404)
      expect((await api(relay, 'DELETE', '/sessions/nope', tokens[0])).status).toBe(404)
      // A revoked session's token no longer works anywhere.
      expect((await api(relay, 'GET', '/sessions', tokens[1])).body).toMatchObject({ code: 4410 })

      const allButMine = await api(relay, 'DELETE', '/sessions', tokens[0])
      expect((allButMine.body.revoked as string[]).sort()).toEqual(['s3', 's4'])
      expect((await clients[2].closed).code).toBe(4410)
      expect((await clients[3].closed).code).toBe(4410)
      expect(clients[0].socket.readyState).toBe(clients[0].socket.OPEN)

      expect((await api(relay, 'DELETE', '/sessions?all=1', tokens[0])).body).toEqual({ revoked: ['s1'] })
      expect((await clients[0].closed).code).toBe(4410)
      expect((await RawClient.connect(relay.syncUrl('w1/doc', tokens[0])).then((c) => c.closed)).code).toBe(4410)
    })

    it('does not let one account revoke another’s session', async () => {
      relay = await startTestRelay({ backend })
      const victim = await RawClient.connect(relay.syncUrl('w1/doc', await relay.token({ sub: 'bob', sid: 'bob-1' })))
      await victim.next(() => true)
      const mallory = await relay.token({ sub: 'mallory', sid: 'm1' })
      expect((await api(relay, 'DELETE', '/sessions/bob-1', mallory)).status).toBe(404)
      await api(relay, 'DELETE', '/sessions?all=1', mallory)
      expect(victim.socket.readyState).toBe(victim.socket.OPEN)
      // Re-using bob's session id in a token of another account is refused.
      const hijack = await RawClient.connect(relay.syncUrl('w1/doc', await relay.token({ sub: 'mallory', sid: 'bob-1' })))
      expect((await hijack.closed).code).toBe(4401)
      victim.close()
    })
  })

  describe('device limit', () => {
    it('refuse: the N+1th session gets 4409; once one disconnects, it gets in', async () => {
      relay = await startTestRelay({ backend, maxDevices: 2 })
      const one = await RawClient.connect(relay.syncUrl('w1/d', await relay.token({ sid: 'one' })))
      const two = await RawClient.connect(relay.syncUrl('w1/d', await relay.token({ sid: 'two' })))
      await Promise.all([one, two].map((c) => c.next(() => true)))
      const three = await relay.token({ sid: 'three' })
      expect((await (await RawClient.connect(relay.syncUrl('w1/d', three))).closed).code).toBe(4409)
      // The refused device can see what is connected (its token is valid), and sign one out.
      const list = await api(relay, 'GET', '/sessions', three)
      expect(list.body.sessions!.filter((s) => s.connections > 0).map((s) => s.sid).sort()).toEqual(['one', 'two'])
      one.close()
      await one.closed
      // Once the relay has seen the close, the place is free (on Postgres, before its offline write landed too).
      await eventually(() => relay!.running.relay.stats().sessions === 1)
      const again = await RawClient.connect(relay.syncUrl('w1/d', three))
      await again.next(() => true)
      expect(again.socket.readyState).toBe(again.socket.OPEN)
      two.close()
      again.close()
    })

    it.skipIf(backend !== 'postgres')('a close the relay has seen frees the place at once, even while its offline write waits on the database', async () => {
      relay = await startTestRelay({ backend, maxDevices: 1 })
      const one = await RawClient.connect(relay.syncUrl('w1/d', await relay.token({ sid: 'one' })))
      await one.next(() => true)
      // A slow database: the presence row of `one` is locked, so the relay's offline write (its DELETE) waits.
      const blocker = new pg.Client({ connectionString: relay.postgresUrl! })
      await blocker.connect()
      await blocker.query('BEGIN')
      await blocker.query("SELECT 1 FROM apisync_presence WHERE sid = 'one' FOR UPDATE")
      try {
        one.close()
        await one.closed
        await eventually(() => relay!.running.relay.stats().sessions === 0)
        expect((await blocker.query("SELECT count(*)::int AS n FROM apisync_presence WHERE sid = 'one'")).rows[0].n).toBe(1)
        // The same person's other device, now: it gets in (it used to get a 4409 the client takes as final).
        const two = await RawClient.connect(relay.syncUrl('w1/d', await relay.token({ sid: 'two' })))
        await two.next(() => true)
        expect(two.socket.readyState).toBe(two.socket.OPEN)
        // And the limit still holds for a third.
        expect((await (await RawClient.connect(relay.syncUrl('w1/d', await relay.token({ sid: 'three' })))).closed).code).toBe(4409)
        two.close()
      } finally {
        await blocker.query('ROLLBACK')
        await blocker.end()
      }
    })

    it('evict-lru: the least recently active session is signed out (4410) and its synced data is kept', async () => {
      relay = await startTestRelay({ backend, maxDevices: 2, devicePolicy: 'evict-lru' })
      const old = await SyncClient.connect(relay.syncUrl('w1/d', await relay.token({ sid: 'old' }), '&ack=1'))
      await old.whenSynced()
      old.doc.getText('t').insert(0, 'from the old device')
      await old.waitForAckCovering()
      await new Promise((r) => setTimeout(r, 20))
      const recent = await SyncClient.connect(relay.syncUrl('w1/d', await relay.token({ sid: 'recent' })))
      await recent.whenSynced()
      const newest = await SyncClient.connect(relay.syncUrl('w1/d', await relay.token({ sid: 'newest' })))
      await newest.whenSynced()
      const closed = await old.raw.closed
      expect(closed).toEqual({ code: 4410, reason: 'evicted: device limit' })
      expect(recent.raw.socket.readyState).toBe(recent.raw.socket.OPEN)
      expect(newest.doc.getText('t').toString()).toBe('from the old device')
      // The evicted session stays signed out.
      expect((await (await RawClient.connect(relay.syncUrl('w1/d', await relay.token({ sid: 'old' })))).closed).code).toBe(4410)
      recent.close()
      newest.close()
    })
  })

  describe('DELETE /account', () => {
    it('revokes the account’s sessions, deletes its personal (owned) workspaces, and keeps the rest', async () => {
      relay = await startTestRelay({ backend })
      const alice = await relay.token({ sub: 'alice', sid: 'a1', ws: { personal: 'owner', team: 'editor' } })
      const bob = await relay.token({ sub: 'bob', sid: 'b1', ws: { personal: 'viewer', team: 'owner' } })
      const space = accountSpaceId('alice')
      for (const doc of ['personal/manifest', 'personal/collection/c', 'team/manifest', `${space}/account`]) {
        const c = await SyncClient.connect(relay.syncUrl(doc, alice, '&ack=1'))
        c.doc.getText('t').insert(0, doc)
        await c.waitForAckCovering()
        c.close()
      }
      const aliceLive = await RawClient.connect(relay.syncUrl('team/manifest', alice))
      const bobLive = await RawClient.connect(relay.syncUrl('personal/manifest', bob))
      await Promise.all([aliceLive, bobLive].map((c) => c.next(() => true)))

      const res = await api(relay, 'DELETE', '/account', alice)
      expect(res.status).toBe(200)
      // Her own space (~…) goes too.
      expect(res.body).toMatchObject({ account: 'alice', deletedWorkspaces: ['personal'], deletedDocs: 3 })
      expect(await relay.storedRows(`${space}/account`)).toBe(0)
      expect((await aliceLive.closed).code).toBe(4410)
      expect((await bobLive.closed).code).toBe(4403)
      expect(await relay.storedRows('personal/manifest')).toBe(0)
      expect(await relay.storedRows('personal/collection/c')).toBe(0)
      expect((await relay.storedDoc('team/manifest')).getText('t').toString()).toBe('team/manifest')
      // Alice's old tokens are dead: 4410 (sign out), also on her own deleted workspace, where a 4403 would only
      // stop that doc; the deleted workspace cannot be brought back by anyone.
      expect((await api(relay, 'GET', '/sessions', alice)).status).toBe(401)
      for (const doc of ['personal/manifest', 'personal/collection/c', 'team/manifest']) {
        expect((await (await RawClient.connect(relay.syncUrl(doc, alice))).closed).code).toBe(4410)
      }
      const bobAgain = await SyncClient.connect(relay.syncUrl('personal/manifest', await relay.token({ sub: 'bob', sid: 'b1', ws: { personal: 'owner' } })))
      expect((await bobAgain.raw.closed).code).toBe(4403)
      expect(await relay.storedRows('personal/manifest')).toBe(0)
    })
  })

  describe('dev auth', () => {
    it('without a configured secret keeps its own in the store: a token still works after a restart', async () => {
      const database = backend === 'postgres' ? await testDatabase() : null
      const dir = await tempDir()
      const start = () => startRelay({ auth: {}, devAuth: true, dataDir: dir, logger: silentLogger, ...(database ? { store: database.url } : {}) })
      try {
        let running = await start()
        const res = await fetch(`${running.url}/dev/token`, { method: 'POST', body: JSON.stringify({ name: 'dana' }) })
        const issued = (await res.json()) as { token: string; personalWorkspace: string }
        const open = async () => {
          const c = await RawClient.connect(`${running.wsUrl}/sync/${issued.personalWorkspace}/manifest?token=${issued.token}`)
          await c.next(() => true)
          c.close()
        }
        await open()
        await running.close()
        running = await start()
        await open()
        // The same name gets the same account and workspace after the restart.
        const again = (await (await fetch(`${running.url}/dev/token`, { method: 'POST', body: JSON.stringify({ name: 'dana' }) })).json()) as { personalWorkspace: string }
        expect(again.personalWorkspace).toBe(issued.personalWorkspace)
        await running.close()
      } finally {
        await rm(dir, { recursive: true, force: true })
        await database?.drop()
      }
    })

    it('is off by default', async () => {
      relay = await startTestRelay({ backend })
      const res = await fetch(`${relay.running.url}/dev/token`, { method: 'POST', body: '{"name":"a"}' })
      expect(res.status).toBe(404)
    })

    it('issues tokens with a stable personal workspace, and lets a second account join it as viewer', async () => {
      relay = await startTestRelay({ backend, devAuth: true })
      const issue = async (body: object) => {
        const res = await fetch(`${relay!.running.url}/dev/token`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })
        return { status: res.status, body: (await res.json()) as { token: string; sub: string; sid: string; ws: Record<string, string>; personalWorkspace: string } }
      }
      const alice = (await issue({ name: 'alice', device: 'Laptop' })).body
      expect(alice.ws[alice.personalWorkspace]).toBe('owner')
      const aliceAgain = (await issue({ account: 'alice', device: 'Phone' })).body
      expect(aliceAgain.sub).toBe(alice.sub)
      expect(aliceAgain.personalWorkspace).toBe(alice.personalWorkspace)
      expect(aliceAgain.sid).not.toBe(alice.sid)
      // Refreshing a session's token keeps its sid; another account cannot take it.
      expect((await issue({ name: 'alice', sid: alice.sid })).body.sid).toBe(alice.sid)

      const bob = (await issue({ name: 'bob', device: 'Desktop', workspaces: { [alice.personalWorkspace]: 'viewer' } })).body
      expect(bob.ws[alice.personalWorkspace]).toBe('viewer')
      expect(bob.personalWorkspace).not.toBe(alice.personalWorkspace)

      const doc = `${alice.personalWorkspace}/manifest`
      const writer = await SyncClient.connect(relay.syncUrl(doc, alice.token, '&ack=1'))
      writer.doc.getMap('m').set('name', 'Alice’s APIs')
      await writer.waitForAckCovering()
      const reader = await SyncClient.connect(relay.syncUrl(doc, bob.token))
      await reader.whenSynced()
      expect(reader.doc.getMap('m').get('name')).toBe('Alice’s APIs')
      reader.doc.getMap('m').set('name', 'Bob was here')
      await reader.raw.next((f) => f[0] === 2)
      expect((await relay.storedDoc(doc)).getMap('m').get('name')).toBe('Alice’s APIs')
      writer.close()
      reader.close()

      expect((await issue({ name: 'bob', sid: alice.sid })).status).toBe(400)
      expect((await issue({ device: 'x' })).status).toBe(400)
      expect((await issue({ name: 'x', workspaces: { 'a/b': 'owner' } })).status).toBe(400)
    })

    it("endorses the account's first given signing key in every later token (RFC 7800 cnf.jkt), whatever key a caller gives next", async () => {
      relay = await startTestRelay({ backend, devAuth: true })
      const issue = async (body: object) => {
        const res = await fetch(`${relay!.running.url}/dev/token`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })
        return { status: res.status, body: (await res.json()) as { token: string; jkt?: string; message?: string; personalWorkspace: string } }
      }
      const publicJwk = async () => {
        const { publicKey } = await generateKeyPair('ES256', { extractable: true })
        return exportJWK(publicKey)
      }
      const cnf = (token: string) => decodeJwt(token).cnf
      // No key given yet: no claim.
      const before = (await issue({ name: 'erin' })).body
      expect(cnf(before.token)).toBeUndefined()
      expect(before.jkt).toBeUndefined()
      const first = await publicJwk()
      const jkt = await calculateJwkThumbprint(first, 'sha256')
      const bound = (await issue({ name: 'erin', device: 'Laptop', key: first })).body
      expect(cnf(bound.token)).toEqual({ jkt })
      expect(bound.jkt).toBe(jkt)
      // Another device giving another key (or none) gets the bound one: its keyring learns it holds the wrong key.
      expect(cnf((await issue({ name: 'erin', device: 'Phone', key: await publicJwk() })).body.token)).toEqual({ jkt })
      expect(cnf((await issue({ name: 'erin' })).body.token)).toEqual({ jkt })
      // Other accounts are their own.
      const frank = await publicJwk()
      expect(cnf((await issue({ name: 'frank', key: frank })).body.token)).toEqual({ jkt: await calculateJwkThumbprint(frank, 'sha256') })
      // A token with the claim is an ordinary token for the relay.
      const reader = await SyncClient.connect(relay.syncUrl(`${bound.personalWorkspace}/manifest`, bound.token))
      await reader.whenSynced()
      reader.close()
      // Only public P-256 keys.
      const { privateKey } = await generateKeyPair('ES256', { extractable: true })
      for (const key of [await exportJWK(privateKey), { kty: 'RSA', n: 'x', e: 'AQAB' }, { kty: 'EC', crv: 'P-256', x: 'short', y: 'short' }, 'jwk', null]) {
        const refused = await issue({ name: 'erin', key })
        expect(refused.status).toBe(400)
        expect(refused.body.message).toMatch(/key must/)
      }
    })
  })
})
