/**
 * Tokens and sessions against a real relay: a token that expires mid-session is replaced without the person
 * noticing; the device limit and a missing grant stop syncing with the reason (local data kept); revocation
 * signs the device out, keeping what the relay lacked as a backup.
 */
import { type SyncProblem, accountPrefix, createSyncClient, decodeBackup, networkSwitch } from '@apisync/client'
import { IDBFactory } from 'fake-indexeddb'
import { WebSocket } from 'ws'
import { afterEach, expect, test } from 'vitest'
import { device, relay, sleep, token, until } from './helpers.js'

const cleanups: (() => Promise<void>)[] = []
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c()
})
const later = <T extends { close(): Promise<void> }>(x: T): T => (cleanups.push(() => x.close()), x)
const ws = { w1: 'owner' } as const

test('a token that expires mid-session is refreshed once and the doc syncs on', async () => {
  const r = later(await relay())
  const a = later(device({ relayUrl: r.url, sub: 'alice', sid: 'a1', ws, expiresIn: 2 }))
  const account = await a.signIn()
  const w = await account.createWorkspace('w1', { name: 'Team' })
  await w.manifest.whenInSync()
  const calls = a.tokenCalls
  const errors: (SyncProblem | null)[] = []
  w.manifest.status.subscribe(() => errors.push(w.manifest.status.getSnapshot().error))

  // The relay closes the socket with 4401 when the 2 s token lapses; the client gets a new one and goes on.
  await sleep(2_600)
  w.manifest.model.update({ name: 'after expiry' })
  await until(w.manifest.status, (s) => s.state === 'in-sync' && s.pending === 0, 5_000)
  expect(a.tokenCalls).toBeGreaterThan(calls)
  expect(errors.filter(Boolean)).toEqual([])
  const b = later(device({ relayUrl: r.url, sub: 'bob', sid: 'b1', ws }))
  const wb = await (await b.signIn()).openWorkspace('w1')
  await wb.manifest.whenInSync()
  expect(wb.manifest.model.snapshot().name).toBe('after expiry')
})

test('a 4401 with a fresh token is final: error unauthorized, no retry loop', async () => {
  const r = later(await relay())
  const idb = new IDBFactory()
  // getToken keeps returning tokens the relay refuses (signed with another secret).
  const { signToken } = await import('@apisync/relay')
  let calls = 0
  const client = later(
    createSyncClient({
      relayUrl: r.url,
      WebSocket,
      indexedDB: idb,
      backoff: { initialMs: 10, maxMs: 50 },
      getToken: async () => {
        calls++
        return signToken({ sub: 'mallory', sid: 'm1', ws }, { secret: 'not-the-relays-secret-at-all-0123456789' })
      },
    }),
  )
  const account = await client.signIn()
  const w = await account.openWorkspace('w1')
  const s = await until(w.manifest.status, (st) => st.state === 'error')
  expect(s.error).toMatchObject({ reason: 'unauthorized', closeCode: 4401 })
  const before = calls
  await sleep(300)
  expect(calls).toBe(before)
  expect(w.manifest.status.getSnapshot().state).toBe('error')
})

test('a revoked session signs the device out: its data is deleted, unacked changes kept as a backup that restores them', async () => {
  const r = later(await relay())
  const net = networkSwitch(true)
  const laptop = later(device({ relayUrl: r.url, sub: 'alice', sid: 'laptop', ws, network: net }))
  const phone = later(device({ relayUrl: r.url, sub: 'alice', sid: 'phone', ws }))
  const onLaptop = await laptop.signIn()
  const w = await onLaptop.createWorkspace('w1', { name: 'Team' })
  const col = await w.createCollection({ name: 'API' })
  await onLaptop.whenInSync()
  const onPhone = await phone.signIn()
  await (await onPhone.openWorkspace('w1')).manifest.whenInSync()

  const listed = await onPhone.sessions.list()
  expect(listed.map((s) => s.sid).sort()).toEqual(['laptop', 'phone'])
  expect(listed.find((s) => s.sid === 'phone')?.current).toBe(true)
  // The laptop edits offline; meanwhile the phone signs it out.
  net.set(false)
  col.model.createRequest({ name: 'made before the revocation' })
  await col.whenStored()
  await onPhone.sessions.revoke('laptop')
  net.set(true)

  const end = await until(onLaptop.ended, (e) => e?.done === true)
  expect(end).toMatchObject({ reason: 'revoked', pending: 1, problem: { reason: 'revoked', closeCode: 4410 } })
  expect(col.status.getSnapshot().error?.reason).toBe('revoked')
  // The account's data is gone from the laptop, but not the unacked change: it is kept as a backup.
  expect((await laptop.idb.databases()).map((d) => d.name!).filter((n) => n.startsWith(accountPrefix('alice')))).toEqual([])
  expect(laptop.getSnapshot().accounts).toEqual([])
  const kept = await laptop.keptBackups()
  expect(kept.map((k) => [k.id, k.reason, k.pending])).toEqual([[end!.backupId, 'revoked', 1]])
  expect(decodeBackup(kept[0]!.bytes).docs.map((d) => d.name)).toEqual([`w1/collection/${col.model.id}`])
  // A change made after the end is stored nowhere and never sent: it is offered as a backup of its own.
  col.model.createRequest({ name: 'too late' })
  await expect(col.whenStored()).rejects.toMatchObject({ code: 'CLOSED' })
  expect(onLaptop.lateChanges()).not.toBeNull()
  expect((await onPhone.sessions.list()).map((x) => x.sid)).toEqual(['phone'])

  // Signing in again (a new session) and restoring the kept backup: the change reaches the phone.
  const again = await laptop.signIn(await token('alice', 'laptop-2', ws))
  expect(await again.importBackup(kept[0]!.bytes)).toEqual([`w1/collection/${col.model.id}`])
  await laptop.discardKeptBackup(kept[0]!.id)
  expect(await laptop.keptBackups()).toEqual([])
  await again.whenInSync()
  const onPhoneCol = await (await onPhone.openWorkspace('w1')).collection(col.model.id)
  await until(onPhoneCol.status, (s) => s.state === 'in-sync' && onPhoneCol.model.snapshot().items.length === 1)
  expect(onPhoneCol.model.snapshot().items.map((i) => i.name)).toEqual(['made before the revocation'])
})

test('device limit: the next device gets error device-limit with the connected sessions; revoking one lets it in', async () => {
  const r = later(await relay({ maxDevices: 1 }))
  const first = later(device({ relayUrl: r.url, sub: 'alice', sid: 'desk', ws }))
  const second = later(device({ relayUrl: r.url, sub: 'alice', sid: 'tablet', ws }))
  const one = await first.signIn()
  await (await one.createWorkspace('w1', { name: 'Team' })).manifest.whenInSync()

  const two = await second.signIn()
  const w2 = await two.openWorkspace('w1')
  const s = await until(two.status, (st) => st.state === 'error' && st.error?.sessions !== undefined)
  expect(s.error).toMatchObject({ reason: 'device-limit', closeCode: 4409 })
  expect(s.error!.sessions!.map((x) => x.sid)).toEqual(['desk'])

  // The person signs the desk out from the tablet, then retries.
  await two.sessions.revoke('desk')
  await until(one.status, (st) => st.error?.reason === 'revoked')
  two.reconnect()
  await w2.manifest.whenInSync()
  expect(w2.manifest.model.snapshot().name).toBe('Team')
})

test('device limit is not forever: once the other device has gone, the refused one gets in by itself, the error shown until then', async () => {
  const r = later(await relay({ maxDevices: 1 }))
  const first = device({ relayUrl: r.url, sub: 'alice', sid: 'desk', ws })
  const second = later(device({ relayUrl: r.url, sub: 'alice', sid: 'tablet', ws, deviceLimitRetryMs: 200 }))
  const one = await first.signIn()
  const team = await one.createWorkspace('w1', { name: 'Team' })
  await team.manifest.whenInSync()
  const col = await team.createCollection({ name: 'API' })
  await col.whenInSync()

  const two = await second.signIn()
  const w2 = await two.openWorkspace('w1')
  await until(two.status, (st) => st.state === 'error' && st.error?.reason === 'device-limit')
  const seen: { state: string; at: number }[] = []
  two.status.subscribe(() => seen.push({ state: two.status.getSnapshot().state, at: Date.now() }))
  // It keeps trying quietly while the desk is connected: the device-limit error stays, nothing flickers.
  const refused = () => r.running.relay.metrics.closes.get({ code: '4409' })
  const before = refused()
  await sleep(1_000)
  expect(refused() - before).toBeGreaterThanOrEqual(2) // one doc tried again, every 200 ms, and was refused
  expect(r.running.relay.stats().sessions).toBe(1)
  const gone = Date.now()
  await first.close()
  await until(w2.manifest.status, (st) => st.state === 'in-sync', 10_000)
  expect(w2.manifest.model.snapshot().name).toBe('Team')
  expect(seen.filter((x) => x.at < gone).map((x) => x.state).filter((x) => x !== 'error')).toEqual([])
  expect(two.status.getSnapshot().error).toBeNull()
  // Every doc of the account reconnected, not only the one that tried.
  const colOnTablet = await (await two.openWorkspace('w1')).collection(col.model.id)
  await colOnTablet.whenInSync()
  expect(colOnTablet.model.snapshot().name).toBe('API')
})

test('a workspace the token does not grant: error forbidden for that doc only', async () => {
  const r = later(await relay())
  const a = later(device({ relayUrl: r.url, sub: 'alice', sid: 'a1', ws }))
  const account = await a.signIn()
  const granted = await account.createWorkspace('w1', { name: 'Mine' })
  const other = await account.openWorkspace('w2')
  const s = await until(other.manifest.status, (st) => st.state === 'error')
  expect(s.error).toMatchObject({ reason: 'forbidden', closeCode: 4403 })
  await granted.manifest.whenInSync()
  expect(account.status.getSnapshot().state).toBe('error')
})

test('plain ws:// and http:// are refused except for localhost unless allowed', () => {
  const base = { getToken: () => 'x', indexedDB: new IDBFactory(), WebSocket }
  expect(() => createSyncClient({ ...base, relayUrl: 'http://relay.example.com' })).toThrow(expect.objectContaining({ code: 'INSECURE_URL' }))
  expect(() => createSyncClient({ ...base, relayUrl: 'ws://10.0.0.5:8080' })).toThrow(expect.objectContaining({ code: 'INSECURE_URL' }))
  expect(() => createSyncClient({ ...base, relayUrl: 'ftp://relay.example.com' })).toThrow(expect.objectContaining({ code: 'INVALID_URL' }))
  const ok = [
    createSyncClient({ ...base, relayUrl: 'https://relay.example.com/base/' }),
    createSyncClient({ ...base, relayUrl: 'http://localhost:1234' }),
    createSyncClient({ ...base, relayUrl: 'http://relay.lan', allowInsecure: true }),
  ]
  expect(ok.map((c) => c.relay)).toEqual([
    { http: 'https://relay.example.com/base', sync: 'wss://relay.example.com/base/sync' },
    { http: 'http://localhost:1234', sync: 'ws://localhost:1234/sync' },
    { http: 'http://relay.lan', sync: 'ws://relay.lan/sync' },
  ])
  return Promise.all(ok.map((c) => c.close()))
})

test('signIn refuses a token without an account', async () => {
  const client = later(createSyncClient({ relayUrl: 'http://localhost:1', getToken: () => 'x', indexedDB: new IDBFactory(), WebSocket }))
  await expect(client.signIn('not a jwt')).rejects.toMatchObject({ code: 'INVALID_TOKEN' })
  const noSub = await token('', 's', {})
  await expect(client.signIn(noSub)).rejects.toMatchObject({ code: 'INVALID_TOKEN' })
})

test('revokeAll signs the other sessions out and keeps this one; evict-lru revokes the least recently used', async () => {
  const r = later(await relay({ maxDevices: 2, devicePolicy: 'evict-lru' }))
  const [one, two, three] = ['one', 'two', 'three'].map((sid) => later(device({ relayUrl: r.url, sub: 'alice', sid, ws })))
  const a1 = await one!.signIn()
  await (await a1.createWorkspace('w1', { name: 'Team' })).manifest.whenInSync()
  const a2 = await two!.signIn()
  await (await a2.openWorkspace('w1')).manifest.whenInSync()

  // A third device pushes the least recently active one (one) out.
  const a3 = await three!.signIn()
  await (await a3.openWorkspace('w1')).manifest.whenInSync()
  const evicted = await until(a1.status, (s) => s.state === 'error')
  expect(evicted.error).toMatchObject({ reason: 'revoked', closeCode: 4410, message: 'evicted: device limit' })

  await a3.sessions.revokeAll()
  expect((await until(a2.status, (s) => s.state === 'error')).error?.reason).toBe('revoked')
  expect((await a3.sessions.list()).map((s) => s.sid)).toEqual(['three'])
  expect(a3.status.getSnapshot().state).toBe('in-sync')
})

test('a viewer’s local edit is refused by the relay: error read-only, the edit stays local, updates keep coming', async () => {
  const r = later(await relay())
  const owner = later(device({ relayUrl: r.url, sub: 'alice', sid: 'a1', ws }))
  const viewer = later(device({ relayUrl: r.url, sub: 'vic', sid: 'v1', ws: { w1: 'viewer' } }))
  const wo = await (await owner.signIn()).createWorkspace('w1', { name: 'Team' })
  await wo.manifest.whenInSync()
  const wv = await (await viewer.signIn()).openWorkspace('w1')
  expect(wv.role).toBe('viewer')
  await wv.manifest.whenInSync()

  wv.manifest.model.update({ name: 'vandalised' })
  const s = await until(wv.manifest.status, (st) => st.state === 'error')
  expect(s).toMatchObject({ pending: 1, error: { reason: 'read-only' } })
  wo.manifest.model.update({ name: 'Team 2' })
  await wo.manifest.whenInSync()
  await until(wv.manifest.status, () => wv.manifest.model.snapshot().conflicts.length > 0 || wv.manifest.model.snapshot().name === 'Team 2')
  // The relay never took the viewer's write: a fresh reader sees the owner's name only.
  const reader = later(device({ relayUrl: r.url, sub: 'alice', sid: 'a2', ws }))
  const wr = await (await reader.signIn()).openWorkspace('w1')
  await wr.manifest.whenInSync()
  expect(wr.manifest.model.snapshot().name).toBe('Team 2')
})

test('device limit with a session list too long for the close reason: the client fetches it from the relay', async () => {
  const r = later(await relay({ maxDevices: 2 }))
  const sid = (n: number) => `a-rather-long-session-identifier-for-device-number-${n}`
  const devices = [1, 2, 3].map((n) => later(device({ relayUrl: r.url, sub: 'alice', sid: sid(n), ws })))
  for (const d of devices.slice(0, 2)) await (await (await d.signIn()).createWorkspace('w1', { name: 'Team' })).manifest.whenInSync()
  const third = await devices[2]!.signIn()
  await third.openWorkspace('w1')
  const s = await until(third.status, (st) => st.state === 'error' && st.error?.sessions !== undefined)
  expect(s.error?.reason).toBe('device-limit')
  expect(s.error?.message).toContain('GET /sessions')
  const listed = s.error!.sessions!
  expect(listed.filter((x) => (x.connections ?? 0) > 0).map((x) => x.sid).sort()).toEqual([sid(1), sid(2)])
  expect(listed.find((x) => x.current)?.sid).toBe(sid(3))
})
